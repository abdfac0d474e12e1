"""Calendars: the per-meeting .ics, the personal feed and the "add to" links.

Every calendar is parsed back with icalendar: the tests check what a calendar
app will read, not the text the view happened to write.
"""

import datetime
import json
import re
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from members.models import Membership, Role
from members.services import membership_deactivate
from sessions import calendars, services
from sessions.models import Audience, Guest, Meeting, Registration
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    RegistrationFactory,
    RoundtableFactory,
    RoundtableRegistrationFactory,
    SpeakerFactory,
)

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
LONDON = zoneinfo.ZoneInfo("Europe/London")


# Helpers
# ------------------------------------------------------------------------------


def ics_url(tenant, meeting=None) -> str:
    meeting = meeting or tenant.meeting
    return reverse(
        "meetings:ics", kwargs={"alliance_slug": tenant.alliance.slug, "meeting_id": meeting.pk}
    )


def feed_path(membership) -> str:
    return reverse("calendar_feed", args=[calendars.feed_token(membership)])


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def the_event(calendar) -> icalendar.Event:
    (event,) = calendar.events
    return event


def unfolded(response) -> str:
    # iCalendar folds long lines; a link split over two lines is still there.
    return response.content.decode().replace("\r\n ", "")


def events_by_uid(calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.events}


def uid_of(meeting) -> str:
    return f"{meeting.uid}@alliance-portal"


def download(client, tenant, meeting=None) -> icalendar.Event:
    return the_event(parse(client.get(ics_url(tenant, meeting))))


def reloaded(meeting) -> Meeting:
    with scope(alliance=meeting.alliance):
        return Meeting.objects.select_related("alliance").get(pk=meeting.pk)


def member_of(tenant, role=Role.CEO) -> Membership:
    return MembershipFactory(alliance=tenant.alliance, organization=tenant.organization, role=role)


# The per-meeting download
# ------------------------------------------------------------------------------


def test_meeting_ics_is_one_calendar_with_a_stable_uid(client, tenant_a):
    client.force_login(tenant_a.member)
    first = client.get(ics_url(tenant_a))
    second = client.get(ics_url(tenant_a))
    assert first["Content-Disposition"].startswith("attachment; filename=")
    assert first["Content-Disposition"].endswith('.ics"')
    calendar = parse(first)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == calendars.PRODID
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == tenant_a.meeting.title
    assert [tz.tz_name for tz in calendar.timezones] == ["America/New_York"]
    event = the_event(calendar)
    assert str(event["UID"]) == uid_of(tenant_a.meeting)
    assert str(the_event(parse(second))["UID"]) == str(event["UID"])
    assert first.content == second.content  # nothing changed, nothing differs
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == tenant_a.meeting.title
    assert str(event["URL"]).endswith(
        reverse("meetings:detail", args=[tenant_a.alliance.slug, tenant_a.meeting.pk])
    )
    assert event.start == tenant_a.meeting.starts_at
    assert event.end == tenant_a.meeting.ends_at


def test_meeting_ics_of_another_alliance_is_not_found(client, tenant_a, tenant_b):
    client.force_login(tenant_a.member)
    assert client.get(ics_url(tenant_a, tenant_b.meeting)).status_code == 404
    assert client.get(ics_url(tenant_b)).status_code == 404


def test_description_names_host_guests_and_topic(client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        meeting = MeetingFactory(
            alliance=tenant_a.alliance,
            program_year=tenant_a.program_year,
            host_organization=tenant_a.organization,
            discussion_topic="Physician engagement",
            description="Bring your game plan.",
            address="1 Harbor Way\nBoston, MA",
        )
        Guest.objects.create(meeting=meeting, speaker=tenant_a.speaker, joins_dinner=True)
    client.force_login(tenant_a.member)
    event = download(client, tenant_a, meeting)
    description = str(event["DESCRIPTION"])
    assert "Bring your game plan." in description
    assert f"Host: {tenant_a.organization.name}" in description
    assert f"Featured guest: {tenant_a.speaker.name}" in description
    assert "Discussion topic: Physician engagement" in description
    assert (
        str(event["LOCATION"]) == "Harbor Conference Center, 1 Harbor Way, Boston, MA (or online)"
    )


def test_sequence_rises_with_every_change_and_the_uid_stays(client, tenant_a):
    client.force_login(tenant_a.member)
    before = download(client, tenant_a)
    with scope(alliance=tenant_a.alliance):
        later = tenant_a.meeting.starts_at + datetime.timedelta(days=7)
        services.meeting_postpone(
            meeting=tenant_a.meeting,
            by=tenant_a.staff,
            starts_at=later,
            ends_at=later + datetime.timedelta(hours=2),
        )
    postponed = download(client, tenant_a)
    with scope(alliance=tenant_a.alliance):
        services.meeting_move_virtual(meeting=tenant_a.meeting, by=tenant_a.staff)
    virtual = download(client, tenant_a)
    assert before["SEQUENCE"] < postponed["SEQUENCE"] < virtual["SEQUENCE"]
    assert {str(e["UID"]) for e in (before, postponed, virtual)} == {uid_of(tenant_a.meeting)}
    assert postponed.start == later
    assert str(postponed["STATUS"]) == str(virtual["STATUS"]) == "CONFIRMED"
    assert str(virtual["LOCATION"]) == "Online"


def test_cancelled_meeting_is_status_cancelled(client, tenant_a):
    client.force_login(tenant_a.member)
    before = download(client, tenant_a)
    with scope(alliance=tenant_a.alliance):
        services.meeting_cancel(meeting=tenant_a.meeting, by=tenant_a.staff)
    event = download(client, tenant_a)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(before["UID"])
    assert event["SEQUENCE"] > before["SEQUENCE"]
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    assert tenant_a.meeting.join_url not in unfolded(client.get(ics_url(tenant_a)))
    # Nobody should add a cancelled meeting to their calendar.
    meeting = reloaded(tenant_a.meeting)
    assert calendars.google_calendar_url(meeting) is None
    assert calendars.outlook_calendar_url(meeting) is None


def test_postponed_until_further_notice_drops_the_old_date_then_comes_back(client, tenant_a):
    """The documented choice: CANCELLED at the original date, same UID, higher SEQUENCE."""
    client.force_login(tenant_a.member)
    original = tenant_a.meeting.starts_at
    with scope(alliance=tenant_a.alliance):
        services.meeting_postpone(meeting=tenant_a.meeting, by=tenant_a.staff)
    response = client.get(ics_url(tenant_a))
    event = the_event(parse(response))
    assert str(event["UID"]) == uid_of(tenant_a.meeting)
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert event.start == original
    assert str(event["SUMMARY"]).startswith("Postponed: ")
    assert "postponed until further notice" in str(event["DESCRIPTION"])
    assert tenant_a.meeting.join_url not in unfolded(response)
    assert calendars.google_calendar_url(reloaded(tenant_a.meeting)) is None
    # The feed keeps it too, so subscribed calendars drop the old date.
    feed = parse(client.get(feed_path(tenant_a.membership)))
    assert str(events_by_uid(feed)[uid_of(tenant_a.meeting)]["STATUS"]) == "CANCELLED"

    new_start = original + datetime.timedelta(days=60)
    with scope(alliance=tenant_a.alliance):
        services.meeting_postpone(
            meeting=tenant_a.meeting,
            by=tenant_a.staff,
            starts_at=new_start,
            ends_at=new_start + datetime.timedelta(hours=3),
        )
    event = download(client, tenant_a)
    assert str(event["UID"]) == uid_of(tenant_a.meeting)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 2
    assert event.start == new_start


def test_a_meeting_that_never_had_a_date_has_no_calendar(client, tenant_a):
    with scope(alliance=tenant_a.alliance):
        meeting = MeetingFactory(
            alliance=tenant_a.alliance,
            program_year=tenant_a.program_year,
            status=Meeting.Status.POSTPONED,
            starts_at=None,
            ends_at=None,
        )
    client.force_login(tenant_a.member)
    assert client.get(ics_url(tenant_a, meeting)).status_code == 404
    feed = parse(client.get(feed_path(tenant_a.membership)))
    assert uid_of(meeting) not in events_by_uid(feed)


# Time zones
# ------------------------------------------------------------------------------


def test_times_stay_in_the_meeting_zone_across_daylight_saving(client, tenant_a):
    """US clocks go forward on 14 March 2027; the UK's not until 28 March."""
    days = [datetime.date(2027, 3, 13), datetime.date(2027, 3, 15)]
    meetings = []
    with scope(alliance=tenant_a.alliance):
        for day in days:
            start = datetime.datetime.combine(day, datetime.time(9), tzinfo=NEW_YORK)
            meetings.append(
                MeetingFactory(
                    alliance=tenant_a.alliance,
                    program_year=tenant_a.program_year,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(hours=2),
                    time_zone="America/New_York",
                )
            )
    client.force_login(tenant_a.member)
    response = client.get(feed_path(tenant_a.membership))
    calendar = parse(response)
    assert "DTSTART;TZID=America/New_York:20270313T090000" in unfolded(response)
    assert "DTSTART;TZID=America/New_York:20270315T090000" in unfolded(response)
    (vtimezone,) = calendar.timezones
    assert vtimezone.tz_name == "America/New_York"
    assert calendar.get_missing_tzids() == set()
    # Convert with the VTIMEZONE the file carries, as a calendar app without
    # its own tz database would.
    carried = vtimezone.to_tz(lookup_tzid=False)
    events = events_by_uid(calendar)
    expected = [(14, 14), (13, 13)]  # (UTC hour, London hour): London is still on GMT
    for meeting, day, (utc_hour, london_hour) in zip(meetings, days, expected, strict=True):
        event = events[uid_of(meeting)]
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert event.start.replace(tzinfo=None) == datetime.datetime.combine(day, datetime.time(9))
        in_file_zone = event.start.replace(tzinfo=carried)
        assert in_file_zone.astimezone(datetime.UTC) == datetime.datetime.combine(
            day, datetime.time(utc_hour), tzinfo=datetime.UTC
        )
        assert event.start.astimezone(datetime.UTC).hour == utc_hour
        assert event.start.astimezone(LONDON).hour == london_hour
        assert in_file_zone.astimezone(LONDON).hour == london_hour


def test_a_meeting_in_another_zone_carries_that_zone(client, tenant_a):
    start = datetime.datetime(2027, 4, 20, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    with scope(alliance=tenant_a.alliance):
        meeting = MeetingFactory(
            alliance=tenant_a.alliance,
            program_year=tenant_a.program_year,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
            time_zone="Europe/Berlin",
        )
    client.force_login(tenant_a.member)
    calendar = parse(client.get(ics_url(tenant_a, meeting)))
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Berlin"]
    event = the_event(calendar)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.start.hour == 10
    assert event.start.astimezone(NEW_YORK).hour == 4


def test_calendars_carry_the_vtimezones_icalendar_would_add():
    """calendar_of writes each zone's VTIMEZONE once per process: the same bytes."""

    def event(uid, zone, day):
        start = datetime.datetime(2027, 3, day, 9, tzinfo=zoneinfo.ZoneInfo(zone))
        component = icalendar.Event()
        component.add("uid", uid)
        component.add("dtstart", start)
        component.add("dtend", start + datetime.timedelta(hours=2))
        return component

    def events():
        return [event("a@x", "Europe/Berlin", 20), event("b@x", "America/New_York", 28)]

    for _ in range(2):  # made, then from the cache
        ours = icalendar.Calendar.from_ical(calendars.calendar_of(events(), name="X"))
        theirs = icalendar.Calendar()
        for component in events():
            theirs.add_component(component)
        theirs.add_missing_timezones(
            first_date=datetime.date(2026, 1, 1), last_date=datetime.date(2029, 1, 1)
        )
        assert sorted(tz.to_ical() for tz in ours.timezones) == sorted(
            tz.to_ical() for tz in theirs.timezones
        )
        assert [c.name for c in ours.subcomponents] == ["VTIMEZONE"] * 2 + ["VEVENT"] * 2
        assert [e.start for e in ours.events] == [e.start for e in theirs.events]
        assert ours["X-WR-CALNAME"] == "X"


# Join links
# ------------------------------------------------------------------------------


def test_join_link_only_for_a_registered_attending_member(client, tenant_a):
    join_url = tenant_a.meeting.join_url
    not_registered = member_of(tenant_a)
    declined = member_of(tenant_a)
    RegistrationFactory(
        alliance=tenant_a.alliance,
        meeting=tenant_a.meeting,
        membership=declined,
        response=Registration.Response.NOT_ATTENDING,
    )
    uid = uid_of(tenant_a.meeting)

    client.force_login(tenant_a.member)  # registered, attending in person
    response = client.get(ics_url(tenant_a))
    assert join_url in str(the_event(parse(response))["DESCRIPTION"])
    feed = parse(client.get(feed_path(tenant_a.membership)))
    assert join_url in str(events_by_uid(feed)[uid]["DESCRIPTION"])

    for membership in (not_registered, declined):
        client.force_login(membership.user)
        response = client.get(ics_url(tenant_a))
        assert join_url not in str(the_event(parse(response))["DESCRIPTION"])
        assert join_url not in unfolded(response)
        client.logout()
        response = client.get(feed_path(membership))
        assert uid in events_by_uid(parse(response))
        assert join_url not in unfolded(response)


def test_add_to_google_and_outlook_links_have_no_join_link(tenant_a):
    meeting = reloaded(tenant_a.meeting)
    start = meeting.starts_at.astimezone(datetime.UTC)
    end = meeting.ends_at.astimezone(datetime.UTC)
    with scope(alliance=tenant_a.alliance):
        google = calendars.google_calendar_url(meeting)
        outlook = calendars.outlook_calendar_url(meeting)
    for url in (google, outlook):
        assert meeting.join_url not in url
        assert not re.search(r"[\s<>\"]", url), "not URL-encoded"
        decoded = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert meeting.join_url not in " ".join(decoded.values())
        assert "meet.example.org" not in " ".join(decoded.values())

    parts = urlsplit(google)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["action"] == "TEMPLATE"
    assert query["text"] == meeting.title
    assert query["dates"] == f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    assert query["location"] == "Harbor Conference Center (or online)"
    assert f"Host: {tenant_a.organization.name}" in query["details"]

    parts = urlsplit(outlook)
    assert (parts.netloc, parts.path) == (
        "outlook.live.com",
        "/calendar/0/deeplink/compose",
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["path"] == "/calendar/action/compose"
    assert query["rru"] == "addevent"
    assert query["subject"] == meeting.title
    assert datetime.datetime.fromisoformat(query["startdt"]) == start
    assert datetime.datetime.fromisoformat(query["enddt"]) == end
    assert query["location"] == "Harbor Conference Center (or online)"
    assert "Meeting page: " in query["body"]


# The personal feed
# ------------------------------------------------------------------------------


def test_feed_works_without_a_session_and_sets_no_cookie(client, tenant_a):
    response = client.get(feed_path(tenant_a.membership))
    calendar = parse(response)
    assert response["Cache-Control"] == "private, max-age=300"
    assert not response.cookies
    assert str(calendar["X-WR-CALNAME"]) == f"{tenant_a.alliance.short_name} meetings"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert calendar.timezones
    assert uid_of(tenant_a.meeting) in events_by_uid(calendar)


def test_feed_link_is_refused_after_revocation(client, tenant_a):
    old = feed_path(tenant_a.membership)
    assert client.get(old).status_code == 200
    with scope(alliance=tenant_a.alliance):
        services.calendar_feed_revoke(membership=tenant_a.membership)
    assert client.get(old).status_code == 404
    assert client.get(feed_path(tenant_a.membership)).status_code == 200


def test_calendar_page_shows_the_link_and_revokes_it(client, tenant_a, settings):
    settings.SITE_BASE_URL = "https://portal.example.org"
    url = reverse("meetings:calendar", args=[tenant_a.alliance.slug])
    client.force_login(tenant_a.member)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "no-cache" in page["Cache-Control"]
    old_link = re.search(r'value="(https://portal\.example\.org/calendar/[^"]+\.ics)"', text)[1]
    assert f'href="webcal://portal.example.org{urlsplit(old_link).path}"' in text
    assert "Revoke and make a new link" in text
    assert old_link in client.get(url).content.decode()  # the same link on every visit

    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == url
    text = client.get(url).content.decode()
    assert "no longer works" in text
    new_link = re.search(r'value="(https://portal\.example\.org/calendar/[^"]+\.ics)"', text)[1]
    assert new_link != old_link
    client.logout()
    assert client.get(urlsplit(old_link).path).status_code == 404
    assert client.get(urlsplit(new_link).path).status_code == 200


def test_tampered_or_forged_feed_tokens_are_refused(client, tenant_a, tenant_b):
    token = calendars.feed_token(tenant_a.membership)
    value, signature = token.rsplit(":", 1)
    forged_payload = signing.b64_encode(
        json.dumps({"m": tenant_b.membership.pk, "a": tenant_b.alliance.pk, "v": 0}).encode()
    ).decode()
    other_salt = signing.Signer(salt="members.invitation").sign_object(
        {"m": tenant_a.membership.pk, "a": tenant_a.alliance.pk, "v": 0}
    )
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (
        f"{forged_payload}:{signature}",
        f"{value}:{flipped}",
        value,
        other_salt,
        "not-a-token",
        f"{token}x",
    ):
        response = client.get(reverse("calendar_feed", args=[bad]))
        assert response.status_code == 404, bad
        assert calendars.membership_from_feed_token(bad) is None


def test_a_token_of_alliance_a_never_lists_b(client, tenant_a, tenant_b):
    # The same person in both alliances: each token lists its own alliance only.
    in_b = MembershipFactory(
        user=tenant_a.member, alliance=tenant_b.alliance, organization=tenant_b.organization
    )
    a_feed = events_by_uid(parse(client.get(feed_path(tenant_a.membership))))
    b_feed = events_by_uid(parse(client.get(feed_path(in_b))))
    assert uid_of(tenant_a.meeting) in a_feed
    assert uid_of(tenant_b.meeting) not in a_feed
    assert uid_of(tenant_b.meeting) in b_feed
    assert uid_of(tenant_a.meeting) not in b_feed
    # Even a correctly signed token (which only the server can make) naming B's
    # alliance with A's membership finds nothing: the lookup runs in B's scope.
    crossed = signing.Signer(salt=calendars.FEED_SALT).sign_object(
        {"m": tenant_a.membership.pk, "a": tenant_b.alliance.pk, "v": 0}
    )
    assert client.get(reverse("calendar_feed", args=[crossed])).status_code == 404


def test_a_deactivated_membership_loses_its_feed(client, tenant_a):
    path = feed_path(tenant_a.membership)
    assert client.get(path).status_code == 200
    with scope(alliance=tenant_a.alliance):
        membership_deactivate(membership=tenant_a.membership)
    assert client.get(path).status_code == 404


def test_feed_lists_only_meetings_the_member_is_invited_to(client, tenant_a):
    now = timezone.now()
    with scope(alliance=tenant_a.alliance):

        def meeting(**kwargs):
            return MeetingFactory(
                alliance=tenant_a.alliance, program_year=tenant_a.program_year, **kwargs
            )

        ceos_only = meeting(audience=Audience.CEOS, substitutes_allowed=False)
        ceos_delegates = meeting(audience=Audience.CEOS, substitutes_allowed=True)
        ceos_and_quality = meeting(audience=Audience.CEOS_AND_QUALITY, substitutes_allowed=False)
        last_year = meeting(
            starts_at=now - datetime.timedelta(days=400),
            ends_at=now - datetime.timedelta(days=400) + datetime.timedelta(hours=2),
        )
        recent = meeting(
            starts_at=now - datetime.timedelta(days=100),
            ends_at=now - datetime.timedelta(days=100) + datetime.timedelta(hours=2),
        )
    trustee = member_of(tenant_a, Role.TRUSTEE)
    quality = member_of(tenant_a, Role.QUALITY_LEAD)

    def listed(membership) -> set[str]:
        return set(events_by_uid(parse(client.get(feed_path(membership)))))

    # Roundtable webinars are open to every member.
    everyone = {
        uid_of(tenant_a.meeting),
        uid_of(recent),
        uid_of(ceos_delegates),
        uid_of(tenant_a.roundtable),
    }
    assert listed(tenant_a.membership) == everyone | {uid_of(ceos_only), uid_of(ceos_and_quality)}
    assert listed(trustee) == everyone
    assert listed(quality) == everyone | {uid_of(ceos_and_quality)}
    assert listed(tenant_a.staff_membership) == listed(tenant_a.membership)
    assert uid_of(last_year) not in listed(tenant_a.membership)


def test_feed_query_count_does_not_grow_with_meetings(
    client, tenant_a, django_assert_max_num_queries
):
    with scope(alliance=tenant_a.alliance):
        for n in range(10):
            meeting = MeetingFactory(
                alliance=tenant_a.alliance,
                program_year=tenant_a.program_year,
                host_organization=tenant_a.organization,
            )
            Guest.objects.create(
                meeting=meeting, speaker=SpeakerFactory(alliance=tenant_a.alliance, name=f"G{n}")
            )
            RegistrationFactory(
                alliance=tenant_a.alliance, meeting=meeting, membership=tenant_a.membership
            )
            roundtable = RoundtableFactory(
                alliance=tenant_a.alliance,
                program_year=tenant_a.program_year,
                facilitators=[tenant_a.speaker],
            )
            RoundtableRegistrationFactory(
                alliance=tenant_a.alliance, roundtable=roundtable, membership=tenant_a.membership
            )
    # The member; meetings, their guests, the member's registrations; the same
    # three for roundtables.
    with django_assert_max_num_queries(7):
        response = client.get(feed_path(tenant_a.membership))
    assert len(parse(response).events) == 11 + 11
