"""Roundtables in calendars: the same rules as meetings (sessions/calendars.py).

A stable UID and a SEQUENCE raised on every change; CANCELLED for a cancelled
or postponed-without-date webinar at its last known date. The join link and
passcode go into a registrant's copy only once the alliance's lead time has
begun (a calendar fetched earlier says when the link appears on the page).
"""

import datetime
import zoneinfo

import icalendar
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse

from members.models import Membership, Speaker

# A meeting's and a roundtable's dates follow the same rules (alliance.events).
from sessions.calendars import UID_DOMAIN, event_span, google_url, is_confirmed, outlook_url

from .models import Roundtable, RoundtableRegistration
from .services import join_link_visible


def page_url(roundtable: Roundtable) -> str:
    path = reverse(
        "roundtables:detail",
        kwargs={"alliance_slug": roundtable.alliance.slug, "roundtable_id": roundtable.pk},
    )
    return settings.SITE_BASE_URL + path


def event_summary(roundtable: Roundtable) -> str:
    if roundtable.status == Roundtable.Status.CANCELLED:
        return f"Cancelled: {roundtable.title}"
    if roundtable.starts_at is None:
        return f"Postponed: {roundtable.title}"
    return roundtable.title


def event_details(roundtable: Roundtable, *, show_join_link: bool) -> str:
    """Plain text, one paragraph per fact. Needs `facilitators` prefetched."""
    lines = []
    if roundtable.status == Roundtable.Status.CANCELLED:
        lines.append("This roundtable is cancelled.")
    elif roundtable.starts_at is None:
        lines.append("This roundtable is postponed until further notice.")
    if roundtable.topic:
        lines.append(f"Topic: {roundtable.topic}")
    if roundtable.description.strip():
        lines.append(roundtable.description.strip())
    names = [speaker.name for speaker in roundtable.facilitators.all()]
    if names:
        lines.append(f"Facilitated by {', '.join(names)}")
    if show_join_link:
        lines.append(f"Join the webinar: {roundtable.join_url}")
        if roundtable.passcode:
            lines.append(f"Passcode: {roundtable.passcode}")
    elif is_confirmed(roundtable) and roundtable.join_url:
        opens = roundtable.join_link_opens_at().astimezone(zoneinfo.ZoneInfo(roundtable.time_zone))
        lines.append(
            f"Registrants find the join link on the roundtable page from "
            f"{opens:%A %-d %B, %-I:%M %p %Z}."
        )
    lines.append(f"Roundtable page: {page_url(roundtable)}")
    return "\n\n".join(lines)


def roundtable_event(roundtable: Roundtable, *, show_join_link: bool) -> icalendar.Event:
    span = event_span(roundtable)
    if span is None:
        raise ValueError(f"Roundtable {roundtable.pk} has no date to put in a calendar.")
    zone = zoneinfo.ZoneInfo(roundtable.time_zone)
    event = icalendar.Event()
    event.add("uid", f"{roundtable.uid}@{UID_DOMAIN}")
    event.add("sequence", roundtable.sequence)
    event.add("dtstamp", roundtable.updated_at.astimezone(datetime.UTC))
    event.add("created", roundtable.created_at.astimezone(datetime.UTC))
    event.add("last-modified", roundtable.updated_at.astimezone(datetime.UTC))
    event.add("dtstart", span[0].astimezone(zone))
    event.add("dtend", span[1].astimezone(zone))
    event.add("summary", event_summary(roundtable))
    event.add("status", "CONFIRMED" if is_confirmed(roundtable) else "CANCELLED")
    event.add("location", "Online (webinar)")
    event.add("description", event_details(roundtable, show_join_link=show_join_link))
    event.add("url", page_url(roundtable))
    event.add("transp", "OPAQUE" if is_confirmed(roundtable) else "TRANSPARENT")
    return event


def calendar_roundtables(alliance) -> QuerySet[Roundtable]:
    """An alliance's roundtables with what their events show (inside its scope)."""
    return (
        Roundtable.objects.filter(alliance=alliance)
        .select_related("alliance")
        .prefetch_related(Prefetch("facilitators", queryset=Speaker.objects.order_by("name")))
    )


def registrations_by_roundtable(
    membership: Membership, roundtables=None
) -> dict[int, RoundtableRegistration]:
    registrations = RoundtableRegistration.objects.filter(
        alliance_id=membership.alliance_id, membership=membership
    ).exclude(status=RoundtableRegistration.Status.CANCELLED)
    if roundtables is not None:
        registrations = registrations.filter(roundtable__in=roundtables)
    return {registration.roundtable_id: registration for registration in registrations}


def events_for(roundtables, membership: Membership) -> list[icalendar.Event]:
    registrations = registrations_by_roundtable(membership, roundtables)
    return [
        roundtable_event(
            roundtable,
            show_join_link=join_link_visible(roundtable, registrations.get(roundtable.pk)),
        )
        for roundtable in roundtables
        if event_span(roundtable) is not None
    ]


def feed_roundtable_events(membership: Membership, *, since) -> list[icalendar.Event]:
    """Every roundtable of the alliance from `since` on: all members are invited."""
    roundtables = list(
        calendar_roundtables(membership.alliance_id).filter(
            Q(starts_at__gte=since) | Q(starts_at__isnull=True, original_starts_at__gte=since)
        )
    )
    return events_for(roundtables, membership)


def add_links(roundtable: Roundtable) -> tuple[str | None, str | None]:
    """Google and Outlook "add event" links (never with the join link)."""
    span = event_span(roundtable) if is_confirmed(roundtable) else None
    if span is None:
        return None, None
    details = event_details(roundtable, show_join_link=False)
    return (
        google_url(
            title=roundtable.title,
            span=span,
            zone=roundtable.time_zone,
            details=details,
            location="Online (webinar)",
        ),
        outlook_url(
            title=roundtable.title, span=span, details=details, location="Online (webinar)"
        ),
    )
