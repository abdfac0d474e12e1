"""State changes for meetings: RSVP with its rules, postpone/move/cancel, attendance."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alliance.tenancy.history import bulk_update_recorded, history_record
from members.models import Membership, Organization, Role, Speaker, User

from .models import AgendaItem, Audience, Guest, Meeting, MeetingChange, Registration

AUDIENCE_ROLES = {
    Audience.ALL_MEMBERS: None,  # everyone
    Audience.CEOS: {Role.CEO},
    Audience.CEOS_AND_QUALITY: {Role.CEO, Role.QUALITY_LEAD},
}


def rsvp_refusal(*, meeting: Meeting, membership: Membership, response: str) -> str | None:
    """Why this member may not give this answer, in words; None when they may."""
    if response == Registration.Response.NOT_ATTENDING:
        return None  # anyone invited may decline
    if not meeting.is_open_for_rsvp:
        return "This meeting is not open for registration."
    if response == Registration.Response.IN_PERSON and meeting.format == Meeting.Format.VIRTUAL:
        return "This meeting is virtual: register to attend virtually."
    if response == Registration.Response.VIRTUAL and meeting.format == Meeting.Format.IN_PERSON:
        return "This meeting is in person only."
    roles = AUDIENCE_ROLES[meeting.audience]
    if (
        roles is not None
        and membership.role not in roles
        and (membership.role != Role.ALLIANCE_STAFF)
    ):
        audience = meeting.get_audience_display()
        if not meeting.substitutes_allowed:
            return (
                f"This meeting is for {audience[0].lower()}{audience[1:]}, with no "
                f"substitutes: a delegate cannot attend in their place."
            )
        if membership.organization_id is None:
            return f"This meeting is for {audience[0].lower()}{audience[1:]}."
    return None


@transaction.atomic
def registration_respond(
    *,
    meeting: Meeting,
    membership: Membership,
    response: str,
) -> Registration:
    """Register, change or withdraw an RSVP, enforcing audience, substitutes and capacity."""
    # Lock the meeting row: two members racing for the last seat get one seat.
    meeting = Meeting.objects.select_for_update(of=("self",)).order_by().get(pk=meeting.pk)
    refusal = rsvp_refusal(meeting=meeting, membership=membership, response=response)
    if refusal:
        raise ValidationError(refusal)
    registration = Registration.objects.filter(meeting=meeting, membership=membership).first()
    attending = response != Registration.Response.NOT_ATTENDING
    if attending and meeting.capacity and not (registration and registration.is_attending):
        taken = meeting.registrations.exclude(response=Registration.Response.NOT_ATTENDING).count()
        if taken >= meeting.capacity:
            raise ValidationError("This meeting is full.")
    if registration is None:
        return Registration.objects.create(
            alliance=meeting.alliance, meeting=meeting, membership=membership, response=response
        )
    registration.response, registration.responded_at = response, timezone.now()
    registration.save(update_fields=["response", "responded_at"])
    return registration


def _change(meeting: Meeting, *, kind: str, by: User, old_starts_at, note: str = ""):
    # Imported here: the notices build calendars, and sessions.calendars imports this module.
    from alliance.notifications.notices import meeting_change_notify

    meeting.sequence += 1  # calendars replace the event they already have
    meeting._history_user = by  # "who" in the history, also outside a request
    meeting.save()
    change = MeetingChange.objects.create(
        alliance=meeting.alliance,
        meeting=meeting,
        kind=kind,
        old_starts_at=old_starts_at,
        new_starts_at=meeting.starts_at,
        note=note,
        changed_by=by,
    )
    # In the change's transaction: the change and its notices commit together.
    meeting_change_notify(change=change)
    return change


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).order_by().get(pk=meeting.pk)


@transaction.atomic
def meeting_postpone(
    *,
    meeting: Meeting,
    by: User,
    starts_at: datetime.datetime | None = None,
    ends_at: datetime.datetime | None = None,
    note: str = "",
) -> Meeting:
    """Postpone, to a new date or until further notice; the original date is kept."""
    meeting = _locked(meeting)
    if meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.COMPLETED):
        raise ValidationError(
            f"A {meeting.get_status_display().lower()} meeting cannot be postponed."
        )
    old = meeting.starts_at
    if meeting.original_starts_at is None:
        meeting.original_starts_at = old
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError("The new end must come after the new start.")
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.status = Meeting.Status.SCHEDULED if starts_at else Meeting.Status.POSTPONED
    _change(meeting, kind=MeetingChange.Kind.POSTPONED, by=by, old_starts_at=old, note=note)
    return meeting


@transaction.atomic
def meeting_move_virtual(
    *, meeting: Meeting, by: User, join_url: str = "", note: str = ""
) -> Meeting:
    meeting = _locked(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError("A cancelled meeting cannot be moved.")
    meeting.format = Meeting.Format.VIRTUAL
    if join_url:
        meeting.join_url = join_url
    # Everyone who planned to come in person now attends virtually; each changed
    # registration gets its history row (one UPDATE and one INSERT for them all).
    moved = list(meeting.registrations.filter(response=Registration.Response.IN_PERSON))
    for registration in moved:
        registration.response = Registration.Response.VIRTUAL
    bulk_update_recorded(moved, ["response"], by=by)
    _change(
        meeting,
        kind=MeetingChange.Kind.MOVED_VIRTUAL,
        by=by,
        old_starts_at=meeting.starts_at,
        note=note,
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: User, note: str = "") -> Meeting:
    meeting = _locked(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError("This meeting is already cancelled.")
    meeting.status = Meeting.Status.CANCELLED
    _change(
        meeting,
        kind=MeetingChange.Kind.CANCELLED,
        by=by,
        old_starts_at=meeting.starts_at,
        note=note,
    )
    return meeting


def meeting_check_deletable(*, meeting: Meeting) -> None:
    """A meeting someone registered for is cancelled, never deleted."""
    if meeting.registrations.exists():
        raise ValidationError(
            f"“{meeting}” has registrations: cancel or postpone it instead of deleting it."
        )


@transaction.atomic
def attendance_record(*, meeting: Meeting, attended: set[int]) -> int:
    """Staff record who came (membership ids); everyone else registered did not."""
    registrations = meeting.registrations.exclude(response=Registration.Response.NOT_ATTENDING)
    # Only the rows whose answer changes are written, each with its history row.
    changed = []
    for registration in registrations:
        came = registration.membership_id in attended
        if registration.attended is not came:
            registration.attended = came
            changed.append(registration)
    bulk_update_recorded(changed, ["attended"])
    return len(attended)


STANDARD_AGENDA = [
    # (minutes, kind, title)
    (60, AgendaItem.Kind.HOST_EXAMPLE, "The host's improvement example"),
    (
        45,
        AgendaItem.Kind.GAME_PLAN,
        "The host CEO's game plan for safety and quality, and progress",
    ),
    (15, AgendaItem.Kind.BREAK, "Break"),
    (75, AgendaItem.Kind.GUEST_PRESENTATION, "Featured guest presentation"),
    (60, AgendaItem.Kind.MEAL, "Lunch"),
    (90, AgendaItem.Kind.DISCUSSION, "Discussion on the shared topic"),
]


def standard_agenda_apply(*, meeting: Meeting, guest: Speaker | None = None) -> int:
    """Give a meeting without an agenda the community of practice's standard one."""
    if meeting.agenda.exists():
        raise ValidationError(f"“{meeting}” already has an agenda.")
    if meeting.starts_at is None:
        raise ValidationError(f"“{meeting}” has no start: give it a date first.")
    at = meeting.starts_at
    for order, (minutes, kind, item_title) in enumerate(STANDARD_AGENDA, start=1):
        if kind == AgendaItem.Kind.DISCUSSION and meeting.discussion_topic:
            item_title = f"Discussion: {meeting.discussion_topic}"
        AgendaItem.objects.create(
            meeting=meeting,
            order=order,
            starts_at=at,
            duration_minutes=minutes,
            title=item_title,
            kind=kind,
            presenter_speaker=guest if kind == AgendaItem.Kind.GUEST_PRESENTATION else None,
            # Heads of Quality join the host's example and the discussion.
            audience=Audience.CEOS if kind == AgendaItem.Kind.GAME_PLAN else "",
        )
        at += datetime.timedelta(minutes=minutes)
    return len(STANDARD_AGENDA)


@transaction.atomic
def cop_session_create(
    *,
    program_year,
    host: Organization,
    starts_at: datetime.datetime,
    time_zone: str,
    topic: str,
    guest: Speaker | None = None,
    dinner_at: datetime.datetime | None = None,
    dinner_place: str = "",
    title: str = "",
) -> Meeting:
    """A community-of-practice session from the standard agenda (CEOs, no substitutes)."""
    alliance = program_year.alliance
    end = starts_at + datetime.timedelta(minutes=sum(m for m, _, _ in STANDARD_AGENDA))
    meeting = Meeting(
        alliance=alliance,
        program_year=program_year,
        kind=Meeting.Kind.COP_SESSION,
        format=Meeting.Format.IN_PERSON,
        starts_at=starts_at,
        ends_at=end,
        time_zone=time_zone,
        title=title or f"Community of practice at {host.name}",
        host_organization=host,
        venue=host.name,
        discussion_topic=topic,
        audience=Audience.CEOS_AND_QUALITY,
        substitutes_allowed=False,
        dinner_at=dinner_at,
        dinner_place=dinner_place,
    )
    meeting.full_clean()
    meeting.save()
    standard_agenda_apply(meeting=meeting, guest=guest)
    if guest is not None:
        Guest.objects.create(meeting=meeting, speaker=guest, joins_dinner=dinner_at is not None)
    return meeting


def is_invited(meeting: Meeting, membership: Membership) -> bool:
    """Whether the meeting's audience includes this member (staff always are)."""
    roles = AUDIENCE_ROLES[meeting.audience]
    return (
        roles is None
        or membership.role in roles
        or membership.role == Role.ALLIANCE_STAFF
        or (meeting.substitutes_allowed and membership.organization_id is not None)
    )


def calendar_feed_revoke(*, membership: Membership) -> Membership:
    """Stop the member's calendar feed link working; the next link they get is new."""
    from django.db.models import F

    # The feed token embeds the version: a raised version refuses every older token.
    Membership.objects.filter(pk=membership.pk, alliance_id=membership.alliance_id).update(
        calendar_feed_version=F("calendar_feed_version") + 1
    )
    membership.refresh_from_db(fields=["calendar_feed_version"])
    history_record([membership])  # the UPDATE above sends no signal
    return membership
