"""Staff sign in with their password and a TOTP code, postpone a meeting in the
admin, and the registrant's notice is in the outbox."""

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from alliance.models import OutgoingEmail
from tests.factories.members import PASSWORD

from .checks import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_staff_postpone_a_meeting_and_the_notice_is_queued(page, console, live_server, member):
    secret = generate_totp_secret()
    TOTP.activate(member.staff, secret)
    main = page.locator("main")

    log_in(page, member.staff.email, PASSWORD)
    page.locator("input[name=code]").fill(current_code(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign In").click()

    page.goto("/admin/meetings/meeting/")
    row = page.locator("tr").filter(has_text=member.meeting.title)
    row.locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option("postpone")
    with page.expect_navigation():
        page.get_by_role("button", name="Go").click()
    if page.locator("form input[name=post], form button[name=apply]").count():
        # An intermediate page (new date, note): postpone until further notice.
        with page.expect_navigation():
            page.locator("#content form [type=submit]").first.click()
    expect(main).to_contain_text("postponed")

    page.goto("/admin/alliance/outgoingemail/?kind=meeting_change")
    expect(page.locator("#result_list")).to_contain_text(member.member.email)
    with scopes_disabled():
        notice = OutgoingEmail.objects.get(kind="meeting_change")
    assert notice.recipient == member.member.email
    assert member.meeting.title in notice.subject
    assert console.problems == []
