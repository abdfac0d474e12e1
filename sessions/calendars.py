"""iCalendar output for meetings: a download per meeting, a personal feed, add-to links.

Every event keeps the meeting's stable UID and its SEQUENCE (raised by the
services on every change), so a calendar that already holds the event replaces
it instead of adding a second one. Times are written in the meeting's own IANA
zone (TZID, with its VTIMEZONE), so a viewer's calendar converts them to the
viewer's zone correctly across daylight-saving changes.

A meeting postponed "until further notice" has no start. It stays in the
calendar as STATUS:CANCELLED, under the same UID, at its last known date: a
calendar that imported or subscribed to it drops the old date instead of
keeping a meeting that will not happen then. When staff set a new date the
meeting is CONFIRMED again with a higher SEQUENCE and comes back.

The join link is written only for members registered as attending (it is a
credential of sorts), and never into the Google and Outlook "add event" links,
which would keep it in those services' history.
"""

import datetime
import zoneinfo
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, urlencode

import icalendar
from django.conf import settings
from django.core import signing
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from alliance.events import ScheduledEvent
from members.models import Membership

from .models import Guest, Meeting, Registration
from .services import is_invited

PRODID = "-//Alliance portal//Meetings//EN"
UID_DOMAIN = "alliance-portal"
FEED_SALT = "meetings.calendar-feed"
# The model allows a meeting without an end; calendars need one.
DEFAULT_DURATION = datetime.timedelta(hours=1)
# The personal feed: meetings from this long ago on (and every later one).
FEED_HISTORY = datetime.timedelta(days=365)
# How often a subscribed calendar should fetch the feed again (honoured by
# Apple and Outlook; Google refreshes on its own schedule).
FEED_REFRESH = datetime.timedelta(hours=1)


# Times
# ------------------------------------------------------------------------------


def event_span(meeting: ScheduledEvent) -> tuple[datetime.datetime, datetime.datetime] | None:
    """(start, end) in UTC as calendars should show them; None without any date.

    A meeting postponed until further notice has no start: its last known
    date (the original one) stands in for the cancelled entry.
    """
    start = meeting.starts_at or meeting.original_starts_at
    if start is None:
        return None
    end = meeting.ends_at if meeting.starts_at and meeting.ends_at else None
    return start, end or start + DEFAULT_DURATION


def is_confirmed(event: ScheduledEvent) -> bool:
    """On the calendar as happening: scheduled (or completed) with a start."""
    return event.starts_at is not None and event.status in (
        ScheduledEvent.Status.SCHEDULED,
        ScheduledEvent.Status.COMPLETED,
    )


def _local(moment: datetime.datetime, zone: str) -> datetime.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


# Text
# ------------------------------------------------------------------------------


def meeting_page_url(meeting: Meeting) -> str:
    # Reversed once per meeting object (0.15 ms each): a reminder batch asks
    # for it in each of a meeting's shapes and twice in its calendar.
    url = meeting.__dict__.get("_page_url")
    if url is None:
        path = reverse(
            "meetings:detail",
            kwargs={"alliance_slug": meeting.alliance.slug, "meeting_id": meeting.pk},
        )
        url = meeting.__dict__["_page_url"] = settings.SITE_BASE_URL + path
    return url


def event_location(meeting: Meeting) -> str:
    if meeting.format == Meeting.Format.VIRTUAL:
        return "Online"
    parts = [meeting.venue.strip()] + [
        line.strip() for line in meeting.address.splitlines() if line.strip()
    ]
    place = ", ".join(part for part in parts if part)
    if meeting.format == Meeting.Format.HYBRID:
        return f"{place} (or online)" if place else "Online"
    return place


def event_summary(meeting: Meeting) -> str:
    if meeting.status == Meeting.Status.CANCELLED:
        return f"Cancelled: {meeting.title}"
    if meeting.starts_at is None:
        return f"Postponed: {meeting.title}"
    return meeting.title


def event_details(meeting: Meeting, *, show_join_link: bool) -> str:
    """The event's description: plain text, one paragraph per fact."""
    lines = []
    if meeting.status == Meeting.Status.CANCELLED:
        lines.append("This meeting is cancelled.")
    elif meeting.starts_at is None:
        lines.append(
            "This meeting is postponed until further notice. When it has a new date, "
            "it comes back to your calendar."
        )
    if meeting.description.strip():
        lines.append(meeting.description.strip())
    lines.append(f"Format: {meeting.get_format_display()}")
    if meeting.host_organization_id:
        lines.append(f"Host: {meeting.host_organization.name}")
    guests = [link.speaker.name for link in meeting.guest_links.all()]
    if guests:
        lines.append(f"Featured guest{'s' if len(guests) > 1 else ''}: {', '.join(guests)}")
    if meeting.discussion_topic:
        lines.append(f"Discussion topic: {meeting.discussion_topic}")
    if meeting.dinner_at:
        dinner = f"{_local(meeting.dinner_at, meeting.time_zone):%-I:%M %p %Z}"
        place = f" at {meeting.dinner_place}" if meeting.dinner_place else ""
        lines.append(f"Dinner: {dinner}{place}")
    if show_join_link and meeting.join_url and is_confirmed(meeting):
        lines.append(f"Join online: {meeting.join_url}")
    lines.append(f"Meeting page: {meeting_page_url(meeting)}")
    return "\n\n".join(lines)


# iCalendar
# ------------------------------------------------------------------------------


def event_uid(meeting: Meeting) -> str:
    return f"{meeting.uid}@{UID_DOMAIN}"


def meeting_event(meeting: Meeting, *, show_join_link: bool) -> icalendar.Event:
    """One VEVENT; the meeting must have a date (`event_span` is not None).

    Needs `alliance`, `host_organization` and `guest_links__speaker` loaded to avoid queries.
    """
    span = event_span(meeting)
    if span is None:
        raise ValueError(f"Meeting {meeting.pk} has no date to put in a calendar.")
    start, end = span
    event = icalendar.Event()
    event.add("uid", event_uid(meeting))
    event.add("sequence", meeting.sequence)
    # DTSTAMP: when this version of the event was made, so repeated downloads match.
    event.add("dtstamp", meeting.updated_at.astimezone(datetime.UTC))
    event.add("created", meeting.created_at.astimezone(datetime.UTC))
    event.add("last-modified", meeting.updated_at.astimezone(datetime.UTC))
    event.add("dtstart", _local(start, meeting.time_zone))
    event.add("dtend", _local(end, meeting.time_zone))
    event.add("summary", event_summary(meeting))
    event.add("status", "CONFIRMED" if is_confirmed(meeting) else "CANCELLED")
    location = event_location(meeting)
    if location:
        event.add("location", location)
    event.add("description", event_details(meeting, show_join_link=show_join_link))
    event.add("url", meeting_page_url(meeting))
    event.add("transp", "OPAQUE" if is_confirmed(meeting) else "TRANSPARENT")
    return event


def calendar_of(
    events: Iterable[icalendar.Event],
    *,
    name: str,
    refresh: datetime.timedelta | None = None,
) -> bytes:
    """One VCALENDAR of these events, with the VTIMEZONEs they use."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh)
    dates = []
    for event in events:
        dates += [event.start.date(), event.end.date()]
        calendar.add_component(event)
    if not dates:
        return calendar.to_ical()
    # Only the transitions around the events: the default range (1970–2038)
    # would make every download many times larger.
    first = datetime.date(min(dates).year - 1, 1, 1)
    last = datetime.date(max(dates).year + 2, 1, 1)
    zones = b"".join(_vtimezone(tzid, first, last) for tzid in sorted(calendar.get_missing_tzids()))
    # What add_missing_timezones gives (VTIMEZONEs before the events), with each
    # zone made and written once per process: two thirds of a one-event
    # calendar's cost, and a reminder sweep attaches one to each meeting.
    content = calendar.to_ical()
    events_start = content.index(b"\r\nBEGIN:") + 2
    return content[:events_start] + zones + content[events_start:]


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first: datetime.date, last: datetime.date) -> bytes:
    """A zone's VTIMEZONE with its transitions from `first` to `last`; empty if unknown."""
    try:
        return icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last).to_ical()
    except ValueError:
        return b""


def calendar_for(
    meetings: Iterable[Meeting],
    *,
    registered_ids: set[int],
    name: str,
    refresh: datetime.timedelta | None = None,
) -> bytes:
    """One VCALENDAR of these meetings; join links for the ids in `registered_ids`.

    `registered_ids`: meetings the viewer is registered for *and attending*.
    Meetings without any date cannot be calendar events and are left out.
    """
    return calendar_of(
        meeting_events(meetings, registered_ids=registered_ids), name=name, refresh=refresh
    )


def meeting_events(meetings: Iterable[Meeting], *, registered_ids: set[int]):
    return [
        meeting_event(meeting, show_join_link=meeting.pk in registered_ids)
        for meeting in meetings
        if event_span(meeting) is not None
    ]


# "Add to my calendar" links (no join link: it would stay in their history)
# ------------------------------------------------------------------------------


def _addable(meeting: Meeting) -> tuple[datetime.datetime, datetime.datetime] | None:
    return event_span(meeting) if is_confirmed(meeting) else None


def google_url(*, title, span, zone: str, details: str, location: str) -> str:
    """Google Calendar's "add event" page for one event."""
    start, end = (moment.astimezone(datetime.UTC) for moment in span)
    params = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
        "ctz": zone,
        "details": details,
        "location": location,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(params, quote_via=quote)


def outlook_url(*, title, span, details: str, location: str) -> str:
    """Outlook on the web's "add event" page for one event."""
    start, end = (moment.astimezone(datetime.UTC) for moment in span)
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
        "body": details,
        "location": location,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        params, quote_via=quote
    )


def google_calendar_url(meeting: Meeting) -> str | None:
    """None for a meeting with no date or cancelled."""
    span = _addable(meeting)
    if span is None:
        return None
    return google_url(
        title=meeting.title,
        span=span,
        zone=meeting.time_zone,
        details=event_details(meeting, show_join_link=False),
        location=event_location(meeting),
    )


def outlook_calendar_url(meeting: Meeting) -> str | None:
    """None for a meeting with no date or cancelled."""
    span = _addable(meeting)
    if span is None:
        return None
    return outlook_url(
        title=meeting.title,
        span=span,
        details=event_details(meeting, show_join_link=False),
        location=event_location(meeting),
    )


# The personal feed
# ------------------------------------------------------------------------------


def _feed_signer() -> signing.Signer:
    # No timestamp: the link stays the same on every visit until it is revoked.
    return signing.Signer(salt=FEED_SALT)


def feed_token(membership: Membership) -> str:
    """The secret in a member's feed URL: membership, alliance and feed version, signed."""
    return _feed_signer().sign_object(
        {
            "m": membership.pk,
            "a": membership.alliance_id,
            "v": membership.calendar_feed_version,
        }
    )


def feed_url(membership: Membership) -> str:
    return settings.SITE_BASE_URL + reverse("calendar_feed", args=[feed_token(membership)])


def membership_from_feed_token(token: str) -> Membership | None:
    """The active membership a feed token names; None if forged, revoked or inactive."""
    try:
        payload = _feed_signer().unsign_object(token)
        membership_id, alliance_id = int(payload["m"]), int(payload["a"])
        version = int(payload["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    # The signed alliance id chooses the scope: a token can only name its own alliance.
    return (
        Membership.objects.with_scope(alliance=alliance_id)
        .select_related("alliance", "organization", "user")
        .filter(
            pk=membership_id,
            alliance_id=alliance_id,
            calendar_feed_version=version,
            is_active=True,
            user__is_active=True,
        )
        .first()
    )


def calendar_meetings(alliance) -> QuerySet[Meeting]:
    """An alliance's meetings with what the events show (call inside its scope)."""
    return (
        Meeting.objects.filter(alliance=alliance)
        .select_related("alliance", "host_organization")
        .prefetch_related(Prefetch("guest_links", queryset=Guest.objects.select_related("speaker")))
    )


def attending_meeting_ids(membership: Membership, meetings=None) -> set[int]:
    """Meetings the member registered for and attends (the join link is theirs)."""
    registrations = Registration.objects.filter(
        alliance_id=membership.alliance_id, membership=membership
    ).exclude(response=Registration.Response.NOT_ATTENDING)
    if meetings is not None:
        registrations = registrations.filter(meeting__in=meetings)
    return set(registrations.values_list("meeting_id", flat=True))


def feed_meetings(membership: Membership) -> list[Meeting]:
    """The member's feed (inside the alliance's scope): meetings they are invited
    to, from a year ago on; postponed ones by their original date."""
    since = timezone.now() - FEED_HISTORY
    meetings = calendar_meetings(membership.alliance_id).filter(
        Q(starts_at__gte=since) | Q(starts_at__isnull=True, original_starts_at__gte=since)
    )
    return [meeting for meeting in meetings if is_invited(meeting, membership)]


def feed_calendar(membership: Membership) -> bytes:
    """Meetings and roundtable webinars: one feed per member, so one subscription."""
    # Imported here: roundtables builds its events with this module's helpers.
    from roundtables.calendars import feed_roundtable_events

    events = meeting_events(
        feed_meetings(membership), registered_ids=attending_meeting_ids(membership)
    )
    events += feed_roundtable_events(membership, since=timezone.now() - FEED_HISTORY)
    return calendar_of(
        events, name=f"{membership.alliance.short_name} meetings", refresh=FEED_REFRESH
    )
