"""Change notices: a meeting or roundtable someone registered for was postponed,
rescheduled, moved to virtual or cancelled.

The services that make the change (sessions/services.py, roundtables/services.py)
call these inside their transaction, so the change and its notices commit
together. Each registrant who attends gets one notice per change, with the
updated .ics (same UID, the raised SEQUENCE, STATUS:CANCELLED when the date is
gone) so their calendar replaces the entry it holds.

Notices are transactional, not bulk mail: they carry no List-Unsubscribe and
go out even to members who turned reminders off — someone registered for a
meeting must hear that it moved. They go only to active members (someone who
left the alliance is not told), and not at all when every date involved is
already past (staff tidying up old records).
"""

from __future__ import annotations

import datetime

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from alliance.events import ScheduledEvent
from alliance.models import Alliance
from alliance.notifications import outbox
from alliance.notifications.branding import LOGO_CID, logo_attachment
from alliance.notifications.reminders import (
    meeting_attachment,
    moment_for,
    preferences_url,
    recipient_zone,
    roundtable_attachment,
    short_date,
    when_for,
)
from members.models import Membership
from roundtables import calendars as roundtable_calendars
from roundtables.models import Roundtable, RoundtableRegistration
from roundtables.services import join_link_visible
from sessions import calendars as meeting_calendars
from sessions.models import Guest, MeetingChange, Registration

TEMPLATE = "notifications/email/change_notice"


class What:
    """What happened, as the templates tell it."""

    CANCELLED = "cancelled"
    POSTPONED = "postponed"  # until further notice: no new date yet
    RESCHEDULED = "rescheduled"  # to a new date
    MOVED_VIRTUAL = "moved_virtual"


def _is_news(*dates: datetime.datetime | None, now: datetime.datetime) -> bool:
    known = [date for date in dates if date is not None]
    return not known or any(date > now for date in known)


def meeting_change_notify(*, change: MeetingChange) -> int:
    """Queue the notice of one recorded change to every attending registrant.

    Call inside the transaction that wrote `change`, after the meeting is saved.
    Returns how many notices were queued (0 when they were queued before).
    """
    meeting = change.meeting
    if not _is_news(change.old_starts_at, change.new_starts_at, now=timezone.now()):
        return 0
    if change.kind == MeetingChange.Kind.CANCELLED:
        what = What.CANCELLED
    elif change.kind == MeetingChange.Kind.MOVED_VIRTUAL:
        what = What.MOVED_VIRTUAL
    elif change.kind in (MeetingChange.Kind.POSTPONED, MeetingChange.Kind.RESCHEDULED):
        what = What.RESCHEDULED if change.new_starts_at else What.POSTPONED
    else:
        return 0  # "completed" is not news to registrants
    alliance = meeting.alliance
    registrations = (
        Registration.objects.filter(meeting=meeting, alliance=alliance)
        .exclude(response=Registration.Response.NOT_ATTENDING)
        .filter(membership__is_active=True, membership__user__is_active=True)
        .select_related("membership__user")
        .order_by("pk")
    )
    # What the calendar entry shows, loaded once rather than per guest.
    prefetch_related_objects(
        [meeting],
        "host_organization",
        Prefetch("guest_links", queryset=Guest.objects.select_related("speaker")),
    )
    happening = what != What.CANCELLED and meeting_calendars.is_confirmed(meeting)
    attachment = meeting_attachment(meeting, show_join_link=happening)
    queued = 0
    for registration in registrations:
        context = _context(
            alliance=alliance,
            event=meeting,
            membership=registration.membership,
            what=what,
            old_starts_at=change.old_starts_at,
            note=change.note,
        ) | {
            "is_meeting": True,
            "location": meeting_calendars.event_location(meeting),
            "join_url": meeting.join_url if happening else "",
            "url": meeting_calendars.meeting_page_url(meeting),
        }
        queued += _enqueue(
            kind="meeting_change",
            alliance=alliance,
            about=change,
            key="",
            membership=registration.membership,
            context=context,
            attachment=attachment,
        )
    return queued


def roundtable_change_notify(
    *, roundtable: Roundtable, old_starts_at: datetime.datetime | None
) -> int:
    """Queue the notice of a roundtable's change (its SEQUENCE was just raised) to
    everyone registered or on the waitlist. Call inside the change's transaction."""
    if not _is_news(old_starts_at, roundtable.starts_at, now=timezone.now()):
        return 0
    if roundtable.status == Roundtable.Status.CANCELLED:
        what = What.CANCELLED
    elif roundtable.starts_at is None:
        what = What.POSTPONED
    else:
        what = What.RESCHEDULED
    alliance = roundtable.alliance
    registrations = (
        RoundtableRegistration.objects.filter(roundtable=roundtable, alliance=alliance)
        .filter(
            status__in=[
                RoundtableRegistration.Status.REGISTERED,
                RoundtableRegistration.Status.WAITLISTED,
            ],
            membership__is_active=True,
            membership__user__is_active=True,
        )
        .select_related("membership__user")
        .order_by("pk")
    )
    attachments = {}
    queued = 0
    for registration in registrations:
        # A seat and the lead time: the same rule as the page and the feed.
        show = join_link_visible(roundtable, registration)
        if show not in attachments:
            attachments[show] = roundtable_attachment(roundtable, show_join_link=show)
        zone = recipient_zone(registration.membership.user, alliance)
        opens = None
        if (
            not show
            and what == What.RESCHEDULED
            and roundtable.join_url
            and registration.status == RoundtableRegistration.Status.REGISTERED
        ):
            opens = roundtable.join_link_opens_at()
        context = _context(
            alliance=alliance,
            event=roundtable,
            membership=registration.membership,
            what=what,
            old_starts_at=old_starts_at,
            note="",
        ) | {
            "is_meeting": False,
            "location": "Online (webinar)",
            "waitlisted": registration.status == RoundtableRegistration.Status.WAITLISTED,
            "join_url": roundtable.join_url if show else "",
            "passcode": roundtable.passcode if show else "",
            "join_opens": moment_for(opens, zone=zone, event_zone=roundtable.time_zone),
            "url": roundtable_calendars.page_url(roundtable),
        }
        queued += _enqueue(
            kind="roundtable_change",
            alliance=alliance,
            about=roundtable,
            key=f"seq{roundtable.sequence}",
            membership=registration.membership,
            context=context,
            attachment=attachments[show],
        )
    return queued


def _context(
    *,
    alliance: Alliance,
    event: ScheduledEvent,
    membership: Membership,
    what: str,
    old_starts_at: datetime.datetime | None,
    note: str,
) -> dict:
    zone = recipient_zone(membership.user, alliance)
    # A cancelled event keeps its date: it is the old one, there is no new one.
    new_when = None if what == What.CANCELLED else when_for(event, zone)
    subject_moment = event.starts_at if new_when else old_starts_at
    return {
        "alliance": alliance,
        "member": membership.user,
        "event": event,
        "what": what,
        "old_when": moment_for(old_starts_at, zone=zone, event_zone=event.time_zone),
        "new_when": new_when,
        "subject_date": short_date(subject_moment, zone) if subject_moment else "",
        "note": note.strip(),
        "preferences_url": preferences_url(alliance),
    }


def _enqueue(
    *,
    kind: str,
    alliance: Alliance,
    about,
    key: str,
    membership: Membership,
    context: dict,
    attachment: dict | None,
) -> int:
    logo = _logo(alliance)
    row = outbox.enqueue(
        kind=kind,
        recipient=membership.user.email,
        template=TEMPLATE,
        context=context
        | {"has_calendar": attachment is not None, "logo_cid": LOGO_CID if logo else None},
        alliance=alliance,
        about=about,
        key=key,
        reply_to=alliance.contact_email,
        attachments=[part for part in (attachment, logo) if part],
    )
    return 0 if row is None else 1


def _logo(alliance: Alliance) -> dict | None:
    # Read once per alliance and request (a notice goes to every registrant).
    cached = getattr(alliance, "_email_logo", False)
    if cached is False:
        cached = alliance._email_logo = logo_attachment(alliance=alliance)
    return cached
