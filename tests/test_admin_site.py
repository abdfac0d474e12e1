"""The staff admin carries the portal's name and lists apps in the order staff work in."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_index_groups_apps_under_clear_names_in_working_order(client, tenant_a, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    page = client.get(reverse("admin:index")).content.decode()
    assert f"{settings.PORTAL_NAME} — staff" in page
    captions = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', page)
    assert captions[:5] == ["Meetings", "Roundtables", "Workgroups", "Members", "Alliances"]
    assert 'href="/"' in page  # back to the portal


def test_a_staff_change_is_in_the_admin_history_with_who(client, tenant_a, tenant_b, totp_for):
    totp_for(tenant_a.staff)
    client.force_login(tenant_a.staff)
    client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "postpone", "_selected_action": [str(tenant_a.meeting.pk)]},
    )
    history = reverse("admin:meetings_meeting_history", args=[tenant_a.meeting.pk])
    page = client.get(history).content.decode()
    assert tenant_a.staff.email in page or tenant_a.staff.full_name in page
    assert "Postponed" in page or "postponed" in page
    other = reverse("admin:meetings_meeting_history", args=[tenant_b.meeting.pk])
    assert client.get(other).status_code == 404
