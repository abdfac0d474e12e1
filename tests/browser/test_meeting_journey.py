"""A CEO RSVPs to the next session and finds it in their calendar feed; staff postpone it."""

from urllib.parse import urlsplit

import icalendar
import pytest
from django_scopes import scope
from playwright.sync_api import expect

from sessions import services
from tests.factories.members import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def feed_events(page, feed_path):
    response = page.request.get(feed_path)
    assert response.status == 200
    calendar = icalendar.Calendar.from_ical(response.body())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_ceo_rsvps_and_finds_the_meeting_in_the_feed(page, console, live_server, member):
    slug, meeting = member.alliance.slug, member.meeting
    main = page.locator("main")
    page.goto("/accounts/login/")
    main.locator("input[name=login]").fill(member.member.email)
    main.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        main.get_by_role("button", name="Sign in").click()

    page.goto(f"/{slug}/schedule/")
    with page.expect_navigation():
        main.get_by_role("link", name=meeting.title).click()
    expect(main).to_contain_text(member.organization.name)  # the host
    main.get_by_label("Attending virtually").check()
    with page.expect_navigation():
        main.get_by_role("button", name="Change my answer").click()
    expect(page.locator(".alert-success")).to_contain_text("Attending virtually")
    expect(main.get_by_role("link", name=meeting.join_url)).to_be_visible()

    with page.expect_navigation():
        main.get_by_role("link", name="Subscribe to all my meetings").click()
    feed_path = urlsplit(main.locator("#calendar-feed-url").input_value()).path
    event = feed_events(page, feed_path)[f"{meeting.uid}@alliance-portal"]
    assert str(event["SUMMARY"]) == meeting.title
    assert meeting.join_url in str(event["DESCRIPTION"])
    sequence = int(event["SEQUENCE"])

    with scope(alliance=member.alliance):
        services.meeting_postpone(meeting=meeting, by=member.staff, note="Snowstorm")
    event = feed_events(page, feed_path)[f"{meeting.uid}@alliance-portal"]
    assert int(event["SEQUENCE"]) > sequence
    assert str(event["STATUS"]) == "CANCELLED"  # the old date leaves the calendar
    assert console.problems == []
