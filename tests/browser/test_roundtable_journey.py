"""A member registers for the next roundtable, sees its facilitators, sends a
question, gets the join link when the lead time begins, and afterwards finds
the recording."""

import datetime

import pytest
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from tests.factories.members import PASSWORD

from .checks import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_registers_asks_joins_and_watches(page, console, live_server, member):
    slug, roundtable = member.alliance.slug, member.roundtable
    with scope(alliance=member.alliance):
        # Not yet registered: the fixture's registration is withdrawn.
        member.roundtable_registration.delete()
    main = page.locator("main")
    log_in(page, member.member.email, PASSWORD)

    page.goto(f"/{slug}/roundtables/")
    with page.expect_navigation():
        main.get_by_role("link", name=roundtable.title).click()
    expect(main.get_by_role("heading", name="Facilitated by")).to_be_visible()
    expect(main).to_contain_text(member.speaker.name)
    with page.expect_navigation():
        main.get_by_role("button", name="Register").click()
    expect(page.locator(".alert-success")).to_contain_text("You are registered")
    # A month ahead: no join link yet, and the page says when it comes.
    expect(main).not_to_contain_text(roundtable.join_url)
    expect(main).to_contain_text("The join link and passcode appear here from")

    main.get_by_label("Your question for the facilitators").fill(
        "How did you protect staff during the surge?"
    )
    with page.expect_navigation():
        main.get_by_role("button", name="Send my question").click()
    expect(main.get_by_role("list").filter(has_text="protect staff")).to_be_visible()

    # The day before: the join link and passcode are there.
    with scope(alliance=member.alliance):
        roundtable.starts_at = timezone.now() + datetime.timedelta(hours=3)
        roundtable.ends_at = roundtable.starts_at + datetime.timedelta(minutes=90)
        roundtable.save()
    page.reload()
    expect(main.get_by_role("link", name="Join the webinar")).to_have_attribute(
        "href", roundtable.join_url
    )
    expect(main).to_contain_text(roundtable.passcode)

    # After the event staff add the recording and summary.
    with scope(alliance=member.alliance):
        roundtable.starts_at = timezone.now() - datetime.timedelta(days=2)
        roundtable.ends_at = roundtable.starts_at + datetime.timedelta(minutes=90)
        roundtable.status = roundtable.Status.COMPLETED
        roundtable.recording_url = "https://video.example.org/watch/roundtable-1"
        roundtable.summary = "Members shared how they kept staff safe."
        roundtable.save()
    page.goto(f"/{slug}/roundtables/")
    with page.expect_navigation():
        main.get_by_role("link", name=roundtable.title).click()
    expect(main.get_by_role("link", name="Watch the recording")).to_have_attribute(
        "href", "https://video.example.org/watch/roundtable-1"
    )
    expect(main).to_contain_text("Members shared how they kept staff safe.")
    expect(main).not_to_contain_text(roundtable.join_url)
    assert console.problems == []
