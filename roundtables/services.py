"""State changes for roundtables: registration and the waitlist, questions and
votes, the quarterly series, and postponing, rescheduling or cancelling."""

import calendar
import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alliance.models import ProgramYear
from alliance.notifications import outbox
from alliance.tenancy.history import bulk_update_recorded
from members.models import Membership, Speaker

from .models import Question, QuestionVote, Roundtable, RoundtableRegistration

Status = RoundtableRegistration.Status


def _locked(roundtable: Roundtable) -> Roundtable:
    # Every change to a roundtable's seats holds its row: two members racing
    # for the last seat, or two cancellations racing to promote, are serialized.
    return (
        Roundtable.objects.select_for_update(of=("self",))
        .select_related("alliance")
        .order_by()
        .get(pk=roundtable.pk)
    )


def seats_taken(roundtable: Roundtable) -> int:
    return roundtable.registrations.filter(status=Status.REGISTERED).count()


def _promote_waitlist(roundtable: Roundtable) -> list[RoundtableRegistration]:
    """Give free seats to the waitlist in the order members asked; call with the row locked."""
    waiting = roundtable.registrations.filter(status=Status.WAITLISTED).order_by(
        "requested_at", "pk"
    )
    if roundtable.capacity is not None:
        free = roundtable.capacity - seats_taken(roundtable)
        if free <= 0:
            return []
        waiting = waiting[:free]
    promoted = list(waiting.select_related("membership__user"))
    now = timezone.now()
    for registration in promoted:
        registration.status, registration.promoted_at = Status.REGISTERED, now
        registration.save(update_fields=["status", "promoted_at"])
        _notify_promoted(roundtable, registration)
    return promoted


def _notify_promoted(roundtable: Roundtable, registration: RoundtableRegistration) -> None:
    alliance = roundtable.alliance
    outbox.enqueue(
        kind="roundtable_seat",
        recipient=registration.membership.user.email,
        template="roundtables/email/seat",
        context={
            "alliance": alliance,
            "roundtable": roundtable,
            "member": registration.membership.user,
            "url": roundtable_page_url(roundtable),
        },
        alliance=alliance,
        about=registration,
        key=f"{registration.promoted_at:%Y%m%dT%H%M%S.%f}",
        reply_to=alliance.contact_email,
    )


def roundtable_page_url(roundtable: Roundtable) -> str:
    from django.conf import settings

    path = reverse(
        "roundtables:detail",
        kwargs={"alliance_slug": roundtable.alliance.slug, "roundtable_id": roundtable.pk},
    )
    return settings.SITE_BASE_URL + path


@transaction.atomic
def roundtable_register(
    *, roundtable: Roundtable, membership: Membership
) -> RoundtableRegistration:
    """A seat if one is free, else a place at the end of the waitlist."""
    roundtable = _locked(roundtable)
    if not roundtable.is_open_for_registration:
        raise ValidationError("Registration for this roundtable is closed.")
    registration = RoundtableRegistration.objects.filter(
        roundtable=roundtable, membership=membership
    ).first()
    if registration is not None and registration.status != Status.CANCELLED:
        return registration  # a double submit changes nothing
    full = roundtable.capacity is not None and seats_taken(roundtable) >= roundtable.capacity
    status = Status.WAITLISTED if full else Status.REGISTERED
    if registration is None:
        return RoundtableRegistration.objects.create(
            alliance=roundtable.alliance,
            roundtable=roundtable,
            membership=membership,
            status=status,
        )
    # Coming back after cancelling: to the end of the line, like anyone new.
    registration.status, registration.requested_at = status, timezone.now()
    registration.cancelled_at = registration.promoted_at = None
    registration.save(update_fields=["status", "requested_at", "cancelled_at", "promoted_at"])
    return registration


@transaction.atomic
def roundtable_registration_cancel(
    *, roundtable: Roundtable, membership: Membership
) -> list[RoundtableRegistration]:
    """Give up a seat (or a waitlist place); returns whoever was promoted into it."""
    roundtable = _locked(roundtable)
    registration = RoundtableRegistration.objects.filter(
        roundtable=roundtable, membership=membership
    ).first()
    if registration is None or registration.status == Status.CANCELLED:
        return []
    if roundtable.has_happened:
        raise ValidationError("This roundtable has taken place.")
    registration.status, registration.cancelled_at = Status.CANCELLED, timezone.now()
    registration.save(update_fields=["status", "cancelled_at"])
    return _promote_waitlist(roundtable)


@transaction.atomic
def roundtable_capacity_set(*, roundtable: Roundtable, capacity: int | None) -> Roundtable:
    """Staff change the number of seats; more seats promote from the waitlist."""
    roundtable = _locked(roundtable)
    roundtable.capacity = capacity
    roundtable.save(update_fields=["capacity", "updated_at"])
    _promote_waitlist(roundtable)
    return roundtable


def waitlist_position(registration: RoundtableRegistration) -> int | None:
    """1 for the next member to get a seat; None when not waitlisted."""
    if registration.status != Status.WAITLISTED:
        return None
    ahead = RoundtableRegistration.objects.filter(
        roundtable_id=registration.roundtable_id, status=Status.WAITLISTED
    ).filter(
        Q(requested_at__lt=registration.requested_at)
        | Q(requested_at=registration.requested_at, pk__lt=registration.pk)
    )
    return ahead.count() + 1


def join_link_visible(
    roundtable: Roundtable,
    registration: RoundtableRegistration | None,
    *,
    now: datetime.datetime | None = None,
) -> bool:
    """Registrants (everyone, when no registration is required) see the join link
    and passcode from the alliance's lead time before the start until the end."""
    if roundtable.status != Roundtable.Status.SCHEDULED or not roundtable.join_url:
        return False
    seated = registration is not None and registration.status == Status.REGISTERED
    if roundtable.registration_required and not seated:
        return False
    opens_at = roundtable.join_link_opens_at()
    if opens_at is None:
        return False
    now = now or timezone.now()
    ends_at = roundtable.ends_at or roundtable.starts_at + datetime.timedelta(hours=1)
    return opens_at <= now < ends_at


# Advance questions
# ------------------------------------------------------------------------------

QUESTION_MAX_LENGTH = 1000


def question_ask(*, roundtable: Roundtable, membership: Membership, text: str) -> Question:
    """A registrant's question, before the webinar starts."""
    text = text.strip()
    if not text:
        raise ValidationError("Write your question.")
    if len(text) > QUESTION_MAX_LENGTH:
        raise ValidationError(
            f"Keep your question under {QUESTION_MAX_LENGTH} characters (it has {len(text)})."
        )
    if roundtable.starts_at is None or roundtable.starts_at <= timezone.now():
        raise ValidationError("Questions are collected before the roundtable starts.")
    if roundtable.status != Roundtable.Status.SCHEDULED:
        raise ValidationError("This roundtable is not taking questions.")
    if not RoundtableRegistration.objects.filter(
        roundtable=roundtable,
        membership=membership,
        status__in=[Status.REGISTERED, Status.WAITLISTED],
    ).exists():
        raise ValidationError("Register for the roundtable to send a question.")
    # A double submit (the same words twice) keeps one question.
    existing = Question.objects.filter(
        roundtable=roundtable, asked_by=membership, text=text
    ).first()
    if existing is not None:
        return existing
    return Question.objects.create(
        alliance=roundtable.alliance, roundtable=roundtable, asked_by=membership, text=text
    )


def question_vote(*, question: Question, membership: Membership) -> QuestionVote:
    """One vote per member per question, never for one's own; idempotent."""
    if question.asked_by_id == membership.pk:
        raise ValidationError("You cannot vote for your own question.")
    if question.is_hidden:
        raise ValidationError("This question is no longer open for votes.")
    roundtable = question.roundtable
    if roundtable.starts_at is None or roundtable.starts_at <= timezone.now():
        raise ValidationError("Voting closes when the roundtable starts.")
    try:
        with transaction.atomic():
            vote, _ = QuestionVote.objects.get_or_create(
                question=question,
                membership=membership,
                defaults={"alliance": question.alliance},
            )
    except IntegrityError:  # two clicks racing: the other one won
        vote = QuestionVote.objects.get(question=question, membership=membership)
    return vote


# The quarterly series, and changes
# ------------------------------------------------------------------------------


def _third_weekday(year: int, month: int, weekday: int) -> datetime.date:
    first = datetime.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + datetime.timedelta(days=offset + 14)


def quarter_dates(
    program_year: ProgramYear, *, weekday: int = calendar.THURSDAY
) -> list[datetime.date]:
    """One day per quarter of the program year: the third `weekday` of its middle month."""
    months = (
        (program_year.ends_on.year - program_year.starts_on.year) * 12
        + program_year.ends_on.month
        - program_year.starts_on.month
        + 1
    )
    dates = []
    for quarter in range(max(1, months // 3)):
        index = program_year.starts_on.month - 1 + quarter * 3 + 1
        year, month = program_year.starts_on.year + index // 12, index % 12 + 1
        dates.append(_third_weekday(year, month, weekday))
    return dates


@transaction.atomic
def roundtables_create_quarterly(
    *,
    program_year: ProgramYear,
    title: str = "Leadership Virtual Roundtable",
    local_time: datetime.time = datetime.time(12, 0),
    duration: datetime.timedelta = datetime.timedelta(minutes=90),
    time_zone: str | None = None,
    facilitators: list[Speaker] = (),
    capacity: int | None = None,
) -> list[Roundtable]:
    """The program year's roundtables, one per quarter, for staff to adjust each."""
    alliance = program_year.alliance
    zone = time_zone or alliance.time_zone
    created = []
    for number, day in enumerate(quarter_dates(program_year), start=1):
        quarter_title = f"{title}, quarter {number}"
        if Roundtable.objects.filter(
            alliance=alliance, program_year=program_year, title=quarter_title
        ).exists():
            raise ValidationError(
                f"{program_year} already has “{quarter_title}”: adjust the existing ones."
            )
        starts_at = datetime.datetime.combine(day, local_time, tzinfo=zoneinfo.ZoneInfo(zone))
        roundtable = Roundtable(
            alliance=alliance,
            program_year=program_year,
            title=quarter_title,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            time_zone=zone,
            capacity=capacity,
        )
        roundtable.full_clean()
        roundtable.save()
        created.append(roundtable)
    # One insert for every roundtable's facilitators.
    Roundtable.facilitators.through.objects.bulk_create(
        [
            Roundtable.facilitators.through(roundtable_id=roundtable.pk, speaker_id=speaker.pk)
            for roundtable in created
            for speaker in facilitators
        ]
    )
    return created


def _bump(roundtable: Roundtable) -> None:
    roundtable.sequence += 1  # calendars replace the event they already have
    roundtable.save()


@transaction.atomic
def roundtable_postpone(
    *,
    roundtable: Roundtable,
    starts_at: datetime.datetime | None = None,
    ends_at: datetime.datetime | None = None,
) -> Roundtable:
    """To a new date, or until further notice; the original date is kept."""
    roundtable = _locked(roundtable)
    if roundtable.status in (Roundtable.Status.CANCELLED, Roundtable.Status.COMPLETED):
        raise ValidationError(
            f"A {roundtable.get_status_display().lower()} roundtable cannot be postponed."
        )
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError("The new end must come after the new start.")
    old_starts_at = roundtable.starts_at
    if roundtable.original_starts_at is None:
        roundtable.original_starts_at = roundtable.starts_at
    roundtable.starts_at, roundtable.ends_at = starts_at, ends_at
    roundtable.status = Roundtable.Status.SCHEDULED if starts_at else Roundtable.Status.POSTPONED
    _bump(roundtable)
    _notify_change(roundtable, old_starts_at=old_starts_at)
    return roundtable


@transaction.atomic
def roundtable_cancel(*, roundtable: Roundtable) -> Roundtable:
    roundtable = _locked(roundtable)
    if roundtable.status == Roundtable.Status.CANCELLED:
        raise ValidationError("This roundtable is already cancelled.")
    roundtable.status = Roundtable.Status.CANCELLED
    _bump(roundtable)
    _notify_change(roundtable, old_starts_at=roundtable.starts_at)
    return roundtable


def _notify_change(roundtable: Roundtable, *, old_starts_at) -> None:
    # Imported here: the notices build calendars, and roundtables.calendars imports
    # this module. Called inside the change's transaction, after the SEQUENCE rose.
    from alliance.notifications.notices import roundtable_change_notify

    roundtable_change_notify(roundtable=roundtable, old_starts_at=old_starts_at)


@transaction.atomic
def attendance_record(*, roundtable: Roundtable, attended: set[int]) -> int:
    """Staff record who came (membership ids) among the seated registrants."""
    seated = roundtable.registrations.filter(status=Status.REGISTERED)
    # Only the rows whose answer changes are written, each with its history row.
    changed = []
    for registration in seated:
        came = registration.membership_id in attended
        if registration.attended is not came:
            registration.attended = came
            changed.append(registration)
    bulk_update_recorded(changed, ["attended"])
    return seated.filter(attended=True).count()


def roundtable_check_deletable(*, roundtable: Roundtable) -> None:
    """A roundtable someone registered for is cancelled, never deleted."""
    if roundtable.registrations.exists() or roundtable.questions.exists():
        raise ValidationError(
            f"“{roundtable}” has registrations: cancel or postpone it instead of deleting it."
        )
