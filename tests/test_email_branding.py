"""Reminders and change notices carry the alliance's logo inline, as digests do."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from alliance.models import OutgoingEmail
from alliance.notifications.branding import LOGO_CID
from alliance.notifications.content import content_of
from alliance.notifications.reminders import reminders_dispatch
from sessions import services
from tests.test_pages import PNG

pytestmark = pytest.mark.django_db


@pytest.fixture
def branded(tenant_a):
    tenant_a.alliance.logo.save("logo.png", SimpleUploadedFile("logo.png", PNG))
    return tenant_a


def inline_logo(row: OutgoingEmail) -> bool:
    content = content_of(row)
    parts = [a for a in content.attachments if a.get("cid") == LOGO_CID]
    return len(parts) == 1 and f"cid:{LOGO_CID}" in content.html


def test_a_reminder_shows_the_logo(branded):
    with scope(alliance=branded.alliance):
        reminders_dispatch(
            alliance=branded.alliance,
            now=branded.meeting.starts_at - datetime.timedelta(hours=23),
        )
    with scopes_disabled():
        row = OutgoingEmail.objects.get(kind="meeting_reminder")
    assert inline_logo(row)
    assert any(a["filename"].endswith(".ics") for a in content_of(row).attachments)


def test_a_change_notice_shows_the_logo(branded):
    with scope(alliance=branded.alliance):
        services.meeting_postpone(meeting=branded.meeting, by=branded.staff)
    with scopes_disabled():
        row = OutgoingEmail.objects.get(kind="meeting_change")
    assert inline_logo(row)


def test_without_a_logo_the_name_alone(tenant_a):
    with scope(alliance=tenant_a.alliance):
        services.meeting_cancel(meeting=tenant_a.meeting, by=tenant_a.staff)
    with scopes_disabled():
        row = OutgoingEmail.objects.get(kind="meeting_change")
    assert row.attachments and not any(a.get("cid") for a in row.attachments)
    assert "cid:" not in row.html_body and tenant_a.alliance.name in row.html_body
