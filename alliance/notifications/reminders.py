"""Reminders of meetings and roundtable webinars, and RSVP nudges, from database rows.

A periodic job (`notifications.dispatch_reminders`, every 5 minutes) and the
`dispatch_reminders` command call `reminders_dispatch` for each alliance,
inside its scope. Nothing is scheduled ahead of time: every run asks which
events are due a reminder *now*, so a run after downtime catches up, and an
event that was cancelled, postponed or moved in the meantime simply no longer
matches. After a long outage only the nearest passed offset goes out (a day
before, not also the week-before reminder that is now stale).

Exactly once comes from the outbox's unique (kind, object, recipient, key):
the key names the offset and the start (`24h@20210315T1400Z`), so a second
run, or a second worker at the same moment, adds nothing, while a
rescheduled event gets fresh reminders for its new date. Workers split the
events between them: each batch of event rows is claimed with
SELECT … FOR UPDATE SKIP LOCKED.

Rows are written in bulk, a fixed number of queries per batch of events
whatever the number of registrants (a sweep over 10,000 registrations must
stay cheap); `outbox.enqueue` would cost an insert and a savepoint per
recipient. A message is rendered once per shape (the event, the recipient's
zone, role and answer) and its parts stored once (`SharedEmailBody`); each
row keeps the recipient's name and unsubscribe link (outbox content.py).
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from types import SimpleNamespace

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

from alliance.events import ScheduledEvent
from alliance.models import Alliance, OutgoingEmail, SharedEmailBody
from alliance.notifications import jinja
from alliance.notifications.branding import LOGO_CID, logo_attachment
from alliance.notifications.content import (
    fill_frame,
    fill_in,
    is_shareable,
    render_frame,
    stand_in,
)
from alliance.notifications.outbox import (
    NewEmail,
    Writer,
    enqueue_many,
    new_row,
    object_ref,
    single_line,
)
from alliance.notifications.unsubscribe import BulkHeaders
from members.models import Membership, Role, Speaker, User
from roundtables import calendars as roundtable_calendars
from roundtables.models import Roundtable, RoundtableRegistration
from roundtables.services import join_link_visible
from sessions import calendars as meeting_calendars
from sessions.models import AgendaItem, Guest, Meeting, Registration
from sessions.selectors import times_for
from sessions.services import AUDIENCE_ROLES, is_invited

logger = logging.getLogger(__name__)

# Events claimed (and locked) per transaction.
BATCH_SIZE = 50
TEMPLATE_REMINDER = "notifications/email/reminder"
TEMPLATE_NUDGE = "notifications/email/rsvp_nudge"


# What recipients read: shared with the change notices (notices.py)
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class When:
    """A date in the recipient's zone, and in the event's own zone when that differs."""

    yours: str
    at_event: str = ""


def recipient_zone(user: User, alliance: Alliance) -> str:
    return user.time_zone or alliance.time_zone


def when_for(event: ScheduledEvent, zone: str) -> When | None:
    """The event's span for a recipient in `zone`; None without a start."""
    times = times_for(event, zone)
    if times is None:
        return None
    if times.viewer:
        return When(yours=times.viewer, at_event=times.event)
    return When(yours=times.event)


def moment_for(moment: datetime.datetime | None, *, zone: str, event_zone: str) -> When | None:
    """One instant (an old start, when the join link appears) the same way."""
    if moment is None:
        return None

    def text(name: str) -> str:
        return f"{moment.astimezone(zoneinfo.ZoneInfo(name)):%A %-d %B %Y, %-I:%M %p %Z}"

    yours, at_event = text(zone), text(event_zone)
    return When(yours=yours, at_event="" if at_event == yours else at_event)


def short_date(moment: datetime.datetime, zone: str) -> str:
    """'Thursday 18 March', for subjects."""
    return f"{moment.astimezone(zoneinfo.ZoneInfo(zone)):%A %-d %B}"


def preferences_url(alliance: Alliance) -> str:
    # unsubscribe.preferences_url's page, from the alliance: once per run, with
    # no membership → alliance lookup per recipient.
    return settings.SITE_BASE_URL + reverse("members:preferences", args=[alliance.slug])


def agenda_for(meeting: Meeting, membership: Membership | _Membership, zone: str) -> list[dict]:
    """The agenda items this member's role attends, with times in `zone`.

    Items without an audience of their own follow the meeting's, which a
    registrant already passed at RSVP. Needs `agenda` prefetched.
    """
    tz = zoneinfo.ZoneInfo(zone)
    items = []
    for item in meeting.agenda.all():
        roles = AUDIENCE_ROLES[item.audience] if item.audience else None
        if roles is not None and membership.role not in roles | {Role.ALLIANCE_STAFF}:
            continue
        presenter = ""
        if item.presenter_speaker_id:
            presenter = item.presenter_speaker.name
        elif item.presenter_member_id:
            presenter = item.presenter_member.user.full_name
        items.append(
            {
                "time": f"{item.starts_at.astimezone(tz):%-I:%M %p}" if item.starts_at else "",
                "title": item.title,
                "minutes": item.duration_minutes,
                "presenter": presenter,
                "audience": item.get_audience_display() if item.audience else "",
            }
        )
    return items


def meeting_attachment(meeting: Meeting, *, show_join_link: bool) -> dict | None:
    """The meeting's .ics (its UID and current SEQUENCE); None without any date.

    Needs `alliance`, `host_organization` and `guest_links__speaker` loaded.
    """
    if meeting_calendars.event_span(meeting) is None:
        return None
    content = meeting_calendars.calendar_for(
        [meeting],
        registered_ids={meeting.pk} if show_join_link else set(),
        name=meeting.alliance.short_name,
    )
    return _ics(meeting, content, fallback="meeting")


def roundtable_attachment(roundtable: Roundtable, *, show_join_link: bool) -> dict | None:
    """The roundtable's .ics; needs `alliance` and `facilitators` loaded."""
    if meeting_calendars.event_span(roundtable) is None:
        return None
    event = roundtable_calendars.roundtable_event(roundtable, show_join_link=show_join_link)
    content = meeting_calendars.calendar_of([event], name=roundtable.alliance.short_name)
    return _ics(roundtable, content, fallback="roundtable")


def _ics(event: ScheduledEvent, content: bytes, *, fallback: str) -> dict:
    name = slugify(event.title)[:60].strip("-") or fallback
    return {"filename": f"{name}.ics", "content": content.decode(), "mimetype": "text/calendar"}


def dinner_text(meeting: Meeting, zone: str) -> str:
    if not meeting.dinner_at:
        return ""
    moment = moment_for(meeting.dinner_at, zone=zone, event_zone=meeting.time_zone)
    return ", ".join(part for part in (moment.yours, meeting.dinner_place) if part)


def speakers_text(speakers: Iterable[Speaker]) -> list[str]:
    return [", ".join(part for part in (s.name, s.title, s.affiliation) if part) for s in speakers]


# Dispatch
# ------------------------------------------------------------------------------


def reminders_dispatch(*, alliance: Alliance, now: datetime.datetime | None = None) -> int:
    """Queue every reminder and RSVP nudge that is due; returns how many were queued.

    Call inside the alliance's scope. Idempotent: a second run queues nothing.
    """
    return sum(reminders_dispatch_by_kind(alliance=alliance, now=now).values())


def reminders_dispatch_by_kind(
    *, alliance: Alliance, now: datetime.datetime | None = None
) -> dict[str, int]:
    """`reminders_dispatch`, counted per kind of message (for the command's report)."""
    now = now or timezone.now()
    plan = _Plan(alliance=alliance, now=now)
    counts = Counter()
    if plan.meeting_offsets:
        counts += _in_batches(_due_meetings(plan), plan.meeting_messages, plan=plan)
    if plan.roundtable_offsets:
        counts += _in_batches(_due_roundtables(plan), plan.roundtable_messages, plan=plan)
    if counts:
        logger.info("Reminders for %s: %s", alliance.slug, dict(counts))
    return dict(counts)


def _offsets(hours) -> list[int]:
    # Validated on save, but a JSON field can hold anything: ignore what is not an offset.
    return sorted({h for h in hours or [] if isinstance(h, int) and h > 0})


def nearest_offset(offsets: list[int], *, starts_at, now) -> int | None:
    """The smallest offset that has passed: after downtime, only the nearest one goes out."""
    passed = [hours for hours in offsets if now >= starts_at - datetime.timedelta(hours=hours)]
    return min(passed) if passed else None


def reminder_key(hours: int, starts_at: datetime.datetime) -> str:
    return f"{hours}h@{starts_at.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def nudge_key(starts_at: datetime.datetime) -> str:
    return f"rsvp@{starts_at.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def _upcoming(model, plan: _Plan, offsets: list[int]):
    # Scheduled, still ahead, and inside the widest offset. Cancelled, postponed
    # (with or without a new date pending) and past events never match.
    return model.objects.filter(
        alliance=plan.alliance,
        status=ScheduledEvent.Status.SCHEDULED,
        starts_at__gt=plan.now,
        starts_at__lte=plan.now + datetime.timedelta(hours=max(offsets)),
    )


def _due_meetings(plan: _Plan):
    return _with_reminder_rows(_upcoming(Meeting, plan, plan.meeting_offsets))


def _with_reminder_rows(meetings):
    # What a meeting's reminders show, loaded per batch (shared with the manual
    # send); its registrants come from `_registrants`.
    return meetings.select_related("alliance", "host_organization").prefetch_related(
        Prefetch(
            "agenda",
            queryset=AgendaItem.objects.select_related(
                "presenter_speaker", "presenter_member__user"
            ).order_by("order", "pk"),
        ),
        Prefetch(
            "guest_links",
            queryset=Guest.objects.select_related("speaker").order_by("speaker__name"),
        ),
    )


# Plain slotted classes: frozen dataclasses set each field through
# object.__setattr__, three times slower to make in a sweep's numbers.
@dataclass(slots=True)
class _User:
    email: str
    full_name: str
    time_zone: str
    is_active: bool


@dataclass(slots=True)
class _Membership:
    pk: int
    alliance_id: int
    organization_id: int | None
    role: str
    is_active: bool
    reminders: bool
    user: _User


@dataclass(slots=True)
class _Registration:
    """What a reminder reads of a registration, its membership and user.

    Loaded as values: as three model instances each, 10,000 registrations
    took a fifth of a sweep to load. Has the attributes of the models that
    reminders, agendas and unsubscribe tokens read, and no others.
    """

    response: str
    membership: _Membership

    @property
    def membership_id(self) -> int:
        return self.membership.pk

    @property
    def is_attending(self) -> bool:
        return self.response != Registration.Response.NOT_ATTENDING

    def get_response_display(self) -> str:
        # As Django's: a stored value outside the choices shows as it is.
        return dict(Registration.Response.choices).get(self.response, self.response)


_MEMBER_FIELDS = (
    "pk",
    "alliance_id",
    "organization_id",
    "role",
    "is_active",
    "reminders",
    "user__email",
    "user__full_name",
    "user__time_zone",
    "user__is_active",
)


def _registrants(meetings: list[Meeting]) -> dict[int, list[_Registration]]:
    """Every answer to these meetings, by meeting: two queries.

    Attending ones get reminders, and any answer stops the nudge. A member
    answers many of a batch's meetings: the answers come as three values each
    and each member once (10,000 answers, each with its member's and user's
    columns, were a tenth of a second of Python).
    """
    registrants = {meeting.pk: [] for meeting in meetings}
    answers = list(
        # In this table's own order: the model's (the meeting's start, then the
        # member's name) joined three tables to sort, a third of the query.
        Registration.objects.filter(meeting__in=[meeting.pk for meeting in meetings])
        .order_by("meeting_id", "membership_id")
        .values_list("meeting_id", "membership_id", "response")
    )
    if not answers:
        return registrants
    memberships = {}
    member_rows = Membership.objects.filter(
        alliance=meetings[0].alliance_id,
        pk__in={membership_id for _meeting, membership_id, _response in answers},
    ).values_list(*_MEMBER_FIELDS)
    for *membership, email, name, zone, active in member_rows:
        user = _User(email=email, full_name=name, time_zone=zone, is_active=active)
        memberships[membership[0]] = _Membership(*membership, user=user)
    for meeting_id, membership_id, response in answers:
        membership = memberships.get(membership_id)
        if membership is None:
            # Registrations are validated against the meeting's alliance: a row
            # that breaks that is reported, and nobody outside it is written to.
            logger.warning(
                "Registration of membership %s is not in its meeting's alliance.", membership_id
            )
            continue
        registrants[meeting_id].append(_Registration(response=response, membership=membership))
    return registrants


def _due_roundtables(plan: _Plan):
    return (
        _upcoming(Roundtable, plan, plan.roundtable_offsets)
        .select_related("alliance")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=RoundtableRegistration.objects.filter(
                    status=RoundtableRegistration.Status.REGISTERED
                ).select_related("membership__user"),
            ),
            Prefetch("facilitators", queryset=Speaker.objects.order_by("name")),
        )
    )


def _in_batches(queryset, plan_batch: Callable, *, plan: _Plan) -> Counter:
    """Claim events BATCH_SIZE at a time, skipping rows another worker holds, and
    queue their messages (see `outbox.Writer` for which transaction writes them)."""
    after = 0
    with Writer(plan.alliance, name="reminder-writes") as write:
        while True:
            with transaction.atomic():
                events = list(
                    queryset.filter(pk__gt=after)
                    .select_for_update(skip_locked=True, of=("self",))
                    .order_by("pk")[:BATCH_SIZE]
                )
                if not events:
                    break
                after = events[-1].pk
                messages = plan_batch(events)
                for part in _rendered(alliance=plan.alliance, messages=messages, logo=plan.logo):
                    write(part.write)
    return write.counts


# What to send
# ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Message:
    """One message to queue; rendered only if it was not queued before."""

    kind: str
    about: models.Model
    key: str
    membership: Membership | _Membership
    template: str
    context: Callable[[], dict]
    attachment: Callable[[], dict | None] | None = None
    # Everything the text depends on but the recipient's name and unsubscribe
    # link: messages of one shape are rendered once (see _render).
    shape: tuple | None = None
    # (kind, object, recipient, key): the outbox's unique identity.
    identity: tuple[str, str, str, str] = field(init=False)

    def __post_init__(self):
        self.identity = (self.kind, object_ref(self.about), self.recipient, self.key)

    @property
    def recipient(self) -> str:
        return self.membership.user.email.strip()


def _wants_reminders(membership: Membership | _Membership) -> bool:
    return membership.is_active and membership.reminders and membership.user.is_active


class _Plan:
    """One run for one alliance: which messages each batch of events is due."""

    def __init__(self, *, alliance: Alliance, now: datetime.datetime):
        self.alliance, self.now = alliance, now
        self.meeting_offsets = _offsets(alliance.meeting_reminder_hours)
        self.roundtable_offsets = _offsets(alliance.roundtable_reminder_hours)
        self.preferences_url = preferences_url(alliance)

    @cached_property
    def logo(self) -> dict | None:
        # Read only when a run has something to send.
        return logo_attachment(alliance=self.alliance)

    def unanswered(self, meetings: list[Meeting]) -> list[Membership]:
        """Members who take reminders and have not answered at least one of these
        meetings: one query per batch, and none of the members who answered them all."""
        return list(
            Membership.objects.filter(
                alliance=self.alliance, is_active=True, reminders=True, user__is_active=True
            )
            .annotate(
                answered=Count(
                    "registrations", filter=Q(registrations__meeting__in=[m.pk for m in meetings])
                )
            )
            .filter(answered__lt=len(meetings))
            .select_related("user")
            .order_by("pk")
        )

    def zone(self, membership: Membership | _Membership) -> str:
        return recipient_zone(membership.user, self.alliance)

    def context(self, event: ScheduledEvent, membership: Membership | _Membership) -> dict:
        zone = self.zone(membership)
        return {
            "alliance": self.alliance,
            "member": membership.user,
            "event": event,
            "when": when_for(event, zone),
            "subject_date": short_date(event.starts_at, zone),
            "preferences_url": self.preferences_url,
            # "unsubscribe_url" comes with the render: a stand-in for a shared
            # body, the row's own link otherwise (_SharedBodies, _row).
        }

    # Meetings

    def meeting_messages(self, meetings: list[Meeting]) -> list[_Message]:
        messages = []
        unanswered = self.unanswered(meetings)
        registrants = _registrants(meetings)
        for meeting in meetings:
            meeting.alliance = self.alliance
            registrations = registrants[meeting.pk]
            hours = nearest_offset(self.meeting_offsets, starts_at=meeting.starts_at, now=self.now)
            if hours is not None:
                # Every recipient is an attending registrant: one calendar, join link in.
                attachment = cache(partial(meeting_attachment, meeting, show_join_link=True))
                key = reminder_key(hours, meeting.starts_at)
                messages += [
                    self._meeting_reminder(meeting, registration, hours, key, attachment)
                    for registration in registrations
                    if registration.is_attending and _wants_reminders(registration.membership)
                ]
            # The nudge goes from the first (widest) offset on, so there is time to answer.
            answered = {registration.membership_id for registration in registrations}
            messages += [
                self._nudge(meeting, membership)
                for membership in unanswered
                if membership.pk not in answered and is_invited(meeting, membership)
            ]
        return messages

    def _meeting_reminder(self, meeting, registration, hours, key, attachment) -> _Message:
        membership = registration.membership
        zone = self.zone(membership)

        def context():
            return self.context(meeting, membership) | {
                "is_meeting": True,
                "response": registration.get_response_display(),
                "location": meeting_calendars.event_location(meeting),
                "agenda": agenda_for(meeting, membership, zone),
                "agenda_zone": f"{meeting.starts_at.astimezone(zoneinfo.ZoneInfo(zone)):%Z}",
                "dinner": dinner_text(meeting, zone),
                "guests": speakers_text(link.speaker for link in meeting.guest_links.all()),
                "join_url": meeting.join_url,
                "url": meeting_calendars.meeting_page_url(meeting),
            }

        return _Message(
            kind="meeting_reminder",
            about=meeting,
            key=key,
            membership=membership,
            template=TEMPLATE_REMINDER,
            context=context,
            attachment=attachment,
            # The agenda follows the role; times follow the zone.
            shape=(meeting.pk, hours, zone, membership.role, registration.response),
        )

    def _nudge(self, meeting: Meeting, membership: Membership) -> _Message:
        def context():
            return self.context(meeting, membership) | {
                "location": meeting_calendars.event_location(meeting),
                "guests": speakers_text(link.speaker for link in meeting.guest_links.all()),
                "url": meeting_calendars.meeting_page_url(meeting),
            }

        # No calendar attached: they have not said they are coming.
        return _Message(
            kind="rsvp_nudge",
            about=meeting,
            key=nudge_key(meeting.starts_at),
            membership=membership,
            template=TEMPLATE_NUDGE,
            context=context,
            shape=(meeting.pk, self.zone(membership)),
        )

    # Roundtables

    def roundtable_messages(self, roundtables: list[Roundtable]) -> list[_Message]:
        messages = []
        for roundtable in roundtables:
            roundtable.alliance = self.alliance
            hours = nearest_offset(
                self.roundtable_offsets, starts_at=roundtable.starts_at, now=self.now
            )
            if hours is None:
                continue
            attachments = {
                show: cache(partial(roundtable_attachment, roundtable, show_join_link=show))
                for show in (False, True)
            }
            messages += [
                self._roundtable_reminder(roundtable, registration, hours, attachments)
                for registration in roundtable.registrations.all()
                if _wants_reminders(registration.membership)
            ]
        return messages

    def _roundtable_reminder(self, roundtable, registration, hours, attachments) -> _Message:
        membership = registration.membership
        # Decided when the reminder is queued: the join link only once the
        # alliance's lead time has begun; before that, when it appears.
        show = join_link_visible(roundtable, registration, now=self.now)

        def context():
            opens = roundtable.join_link_opens_at() if roundtable.join_url and not show else None
            zone = self.zone(membership)
            return self.context(roundtable, membership) | {
                "is_meeting": False,
                "location": "Online (webinar)",
                "facilitators": speakers_text(roundtable.facilitators.all()),
                "join_url": roundtable.join_url if show else "",
                "passcode": roundtable.passcode if show else "",
                "join_opens": moment_for(opens, zone=zone, event_zone=roundtable.time_zone),
                "url": roundtable_calendars.page_url(roundtable),
            }

        return _Message(
            kind="roundtable_reminder",
            about=roundtable,
            key=reminder_key(hours, roundtable.starts_at),
            membership=membership,
            template=TEMPLATE_REMINDER,
            context=context,
            attachment=attachments[show],
            shape=(roundtable.pk, hours, self.zone(membership), show),
        )


# Sent now, by staff ("Send reminders now" in the meetings admin)
# ------------------------------------------------------------------------------


def manual_reminder_key(now: datetime.datetime, alliance: Alliance) -> str:
    """Once per meeting and day (the alliance's day): a second press that day adds nothing."""
    return f"manual@{now.astimezone(zoneinfo.ZoneInfo(alliance.time_zone)):%Y-%m-%d}"


def meeting_reminders_send_now(
    *, alliance: Alliance, meeting_ids: Iterable[int], now: datetime.datetime | None = None
) -> dict[int, int]:
    """Queue a reminder now to the attending registrants of these meetings.

    The same message as the scheduled reminders (their zone, agenda, join link,
    .ics, unsubscribe link), to those who take reminders. Only meetings of
    `alliance` that are scheduled and still ahead are considered; returns how
    many reminders were queued per meeting id considered (0 when they had gone
    out already today). Call inside the alliance's scope.
    """
    now = now or timezone.now()
    plan = _Plan(alliance=alliance, now=now)
    key = manual_reminder_key(now, alliance)
    meetings = _with_reminder_rows(
        Meeting.objects.filter(
            alliance=alliance,
            pk__in=list(meeting_ids),
            status=ScheduledEvent.Status.SCHEDULED,
            starts_at__gt=now,
        ).order_by("pk")
    )
    queued = {}
    with transaction.atomic():
        meetings = list(meetings)
        registrants = _registrants(meetings)
        for meeting in meetings:
            meeting.alliance = alliance
            attachment = cache(partial(meeting_attachment, meeting, show_join_link=True))
            messages = [
                # The offset names only the key, and this one is the day's manual key.
                plan._meeting_reminder(meeting, registration, 0, key, attachment)
                for registration in registrants[meeting.pk]
                if registration.is_attending and _wants_reminders(registration.membership)
            ]
            # The logo is read only when there is something to send.
            sent = _queue(alliance=alliance, messages=messages, logo=messages and plan.logo)
            queued[meeting.pk] = sent["meeting_reminder"]
    return queued


# Rendering
# ------------------------------------------------------------------------------


def reminder_frame(*, alliance: Alliance, logo: dict | None) -> str:
    """email/base.html for a run's reminders and nudges, with stand-ins for their parts."""
    return render_frame(
        {
            "alliance": alliance,
            "logo_cid": LOGO_CID if logo else None,
            "preferences_url": preferences_url(alliance),
            "unsubscribe_label": "these reminders",
        }
    )


def render_reminder(
    *, template: str, context: dict, frame: str, unsubscribe: str | None = None
) -> tuple[str, str, str]:
    """(subject, text, html) of a reminder or nudge; its HTML blocks go into `frame`.

    Jinja2 (jinja.py): a sweep renders hundreds of shapes, and Django's
    templates took three quarters of the time. The frame's unsubscribe
    stand-in stays for a shared body (each row fills it in) or becomes
    `unsubscribe`.
    """
    context = {
        "SITE_BASE_URL": settings.SITE_BASE_URL,
        "PORTAL_NAME": settings.PORTAL_NAME,
        **context,
    }
    parts = jinja.render_blocks(f"{template}.jinja.html", context)
    if unsubscribe is not None:
        parts["unsubscribe"] = escape(unsubscribe)
    return (
        single_line(jinja.render(f"{template}_subject.jinja.txt", context)),
        jinja.render(f"{template}.jinja.txt", context),
        fill_frame(frame, parts),
    )


# Queueing in bulk
# ------------------------------------------------------------------------------


def _queue(*, alliance: Alliance, messages: list[_Message], logo: dict | None = None) -> Counter:
    """Write the messages not queued before as outbox rows, in bulk; deliver after commit."""
    counts = Counter()
    for part in _rendered(alliance=alliance, messages=messages, logo=logo):
        counts.update(row.kind for row in part.write())
    return counts


# A batch's rows are written in up to this many parts, of at least PART_ROWS
# rows: the next part renders while one is written (see outbox.Writer), and what
# is left to wait for after the last render is one part's write.
PARTS_PER_BATCH = 4
PART_ROWS = 500


@dataclass(slots=True)
class _Part:
    """Rendered rows of a batch, with the shared bodies they are the first to use."""

    alliance: Alliance
    rows: list[NewEmail]
    bodies: _SharedBodies
    new_bodies: list[SharedEmailBody]
    last: bool  # of its batch

    def write(self, *, deliver_after_commit: bool = True) -> list[NewEmail]:
        """Two INSERTs at most; returns the rows written (see `enqueue_many`)."""
        if self.new_bodies:
            # Before the rows, which read each body's id; a part written
            # earlier stored the others.
            SharedEmailBody.objects.bulk_create(self.new_bodies)
        created = enqueue_many(
            alliance=self.alliance, rows=self.rows, deliver_after_commit=deliver_after_commit
        )
        self.bodies.used.update(row.shared_body_id for row in created)
        if self.last:
            self.bodies.forget_unused()
        return created


def _rendered(
    *, alliance: Alliance, messages: list[_Message], logo: dict | None = None
) -> Iterator[_Part]:
    """The rows of the messages not queued before, rendered a part at a time."""
    if not messages:
        return
    kinds, refs, _recipients, keys = (
        set(column) for column in zip(*(m.identity for m in messages), strict=True)
    )
    # Every row of these kinds, events and keys: a superset of the messages'
    # identities, read from the unique index alone (kind and object lead it).
    # An OR of each event's (kind, object, key) was planned on the alliance's
    # index instead, and read every outbox row the alliance ever had.
    existing = set(
        OutgoingEmail.objects.filter(
            alliance=alliance, kind__in=kinds, object_ref__in=refs, key__in=keys
        )
        .order_by()
        .values_list("kind", "object_ref", "recipient", "key")
    )
    fresh, wanted = [], set()
    for message in messages:
        identity = message.identity
        if identity in existing or identity in wanted:
            continue  # queued by an earlier run: not rendered again
        wanted.add(identity)
        fresh.append(message)
    bodies = _SharedBodies(alliance=alliance, logo=logo)
    recipients = _Recipients(alliance)
    size = max(PART_ROWS, -(-len(fresh) // PARTS_PER_BATCH))
    for start in range(0, len(fresh), size):
        rows = [
            _row(alliance, message, bodies, *recipients.parts(message))
            for message in fresh[start : start + size]
        ]
        yield _Part(
            alliance=alliance,
            rows=rows,
            bodies=bodies,
            new_bodies=bodies.take_new(),
            last=start + size >= len(fresh),
        )


# What differs per recipient in a shared body (outbox content.fill_in).
_FILLS = ("name", "unsubscribe")
_STAND_IN = SimpleNamespace(full_name=stand_in("name"), email=stand_in("name"))


class _SharedBodies:
    """The shared body of each shape in a batch, rendered and stored once.

    A reminder batch is thousands of messages about a few events: rendering
    three templates for each took ~4 ms a message, and storing each row's
    HTML, text and calendar (8 KB) was most of a sweep. A shape is rendered
    with stand-ins for the recipient's name and unsubscribe link; its rows
    keep only those (`fills`). Should a render hold a private-use character
    of its own (a title pasted from somewhere odd), that shape is rendered in
    full for each recipient instead.
    """

    def __init__(self, *, alliance: Alliance, logo: dict | None):
        self.alliance, self.logo = alliance, logo
        self._shapes: dict[tuple, tuple[str, SharedEmailBody] | None] = {}
        self._new: list[SharedEmailBody] = []  # made since take_new
        self.used: set[int] = set()  # ids of the bodies written rows use

    @cached_property
    def frame(self) -> str:
        return reminder_frame(alliance=self.alliance, logo=self.logo)

    def get(self, message: _Message) -> tuple[str, SharedEmailBody] | None:
        """(subject with stand-ins, body) of the message's shape; None: render it in full."""
        if message.shape is None:
            return None
        key = (message.kind, message.template, message.shape)
        if key not in self._shapes:
            context = message.context() | {
                "member": _STAND_IN,
                "unsubscribe_url": stand_in("unsubscribe"),
            }
            subject, text, html = render_reminder(
                template=message.template, context=context, frame=self.frame
            )
            shared = None
            if is_shareable(subject, text, html, names=_FILLS):
                attachment = message.attachment() if message.attachment else None
                body = SharedEmailBody(
                    alliance=self.alliance,
                    text_body=text,
                    html_body=html,
                    attachments=[part for part in (attachment, self.logo) if part],
                )
                shared = (subject, body)
                self._new.append(body)
            self._shapes[key] = shared
        return self._shapes[key]

    def take_new(self) -> list[SharedEmailBody]:
        """The bodies made since the last call, to be stored with the rows that use them."""
        new, self._new = self._new, []
        return new

    def forget_unused(self) -> None:
        """Delete the bodies no new row uses: a racing run queued those messages
        first, with bodies of its own. No query when every body is used."""
        unused = [
            shared[1].pk
            for shared in self._shapes.values()
            if shared is not None and shared[1].pk not in self.used
        ]
        if unused:
            SharedEmailBody.objects.filter(pk__in=unused).delete()


class _Recipients:
    """What a run's messages to one member share: the unsubscribe headers and fills.

    A member with several events due in one run gets one token, signed once.
    """

    def __init__(self, alliance: Alliance):
        self._headers_for = BulkHeaders(what="reminders", reply_to=alliance.contact_email)
        self._parts: dict[int, tuple[dict[str, str], dict[str, str]]] = {}

    def parts(self, message: _Message) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, fills) of the message's recipient."""
        membership = message.membership
        parts = self._parts.get(membership.pk)
        if parts is None:
            headers = self._headers_for(membership)
            # The header's HTTPS link is unsubscribe_url(membership, "reminders"):
            # taken from it rather than signed a second time.
            link = headers["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
            user = membership.user
            fills = {"name": user.full_name or user.email, "unsubscribe": link}
            parts = self._parts[membership.pk] = (headers, fills)
        return parts


def _row(
    alliance: Alliance,
    message: _Message,
    bodies: _SharedBodies,
    headers: dict[str, str],
    fills: dict[str, str],
) -> NewEmail:
    link = fills["unsubscribe"]
    row = {
        "alliance": alliance,
        "kind": message.kind,
        "about": message.about,
        "recipient": message.recipient,
        "key": message.key,
        "reply_to": alliance.contact_email,
        "headers": headers,
    }
    shared = bodies.get(message)
    if shared is not None:
        subject, body = shared
        return new_row(
            **row,
            subject=fill_in(subject, fills, html=False),
            text_body="",
            shared_body=body,
            fills=fills,
        )
    subject, text, html = render_reminder(
        template=message.template,
        context=message.context() | {"unsubscribe_url": link},
        frame=bodies.frame,
        unsubscribe=link,
    )
    attachment = message.attachment() if message.attachment else None
    return new_row(
        **row,
        subject=subject,
        text_body=text,
        html_body=html,
        attachments=[part for part in (attachment, bodies.logo) if part],
    )
