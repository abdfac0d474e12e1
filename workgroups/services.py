"""State changes for workgroups, readings, aims, goals, commitments and proposals."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from alliance import audit
from alliance.tenancy.permissions import has_alliance_permission, membership_for
from members.models import Membership, Organization, User

from .models import (
    Aim,
    BaselineChange,
    Commitment,
    FocusProposal,
    Goal,
    GoalSet,
    Measure,
    Participation,
    Reading,
    ReadingRevision,
    Workgroup,
)
from .periods import is_period_start, last_closed_period, next_period, period_label


def can_report_for(*, user: User, measure: Measure, organization: Organization) -> bool:
    """Alliance staff, or the quality lead, staff liaison or CEO of an organization that
    reports this measure (a workgroup participant, or the goal's own organization)."""
    alliance = measure.alliance
    if not has_alliance_permission(user, alliance, "readings.manage"):
        membership = membership_for(user, alliance)
        if not (
            membership is not None
            and membership.organization_id == organization.pk
            and has_alliance_permission(user, alliance, "readings.submit")
        ):
            return False
    return reports_measure(measure=measure, organization=organization)


def reports_measure(*, measure: Measure, organization: Organization) -> bool:
    if measure.workgroup_id:
        return Participation.objects.filter(
            workgroup_id=measure.workgroup_id, organization=organization
        ).exists()
    return Goal.objects.filter(measure=measure, goal_set__organization=organization).exists()


def reading_validate(
    *,
    measure: Measure,
    organization: Organization,
    period_start: datetime.date,
    numerator: Decimal | None,
    denominator: Decimal | None,
    achieved: bool | None,
    today: datetime.date | None = None,
) -> None:
    """Every rule a reading must meet; one clear message per field."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    label = period_label(period_start, measure.period)
    if not is_period_start(period_start, measure.period):
        errors["period_start"] = "Choose a reporting period from the list."
    elif period_start > last_closed_period(today, measure.period):
        opens = next_period(period_start, measure.period)
        errors["period_start"] = (
            f"{label} has not ended yet; it can be reported from {opens:%-d %B %Y}."
        )
    elif period_start < measure.first_period:
        errors["period_start"] = (
            f"Data for this measure starts in {period_label(measure.first_period, measure.period)}."
        )
    elif measure.workgroup and period_start > measure.workgroup.program_year.ends_on:
        errors["period_start"] = f"{label} is after this workgroup's program year ends."
    if measure.kind == Measure.Kind.MILESTONE:
        if achieved is None:
            errors["achieved"] = "Say whether your organization made progress this period."
    else:
        if numerator is None:
            errors["numerator"] = f"Enter the {measure.numerator_label.lower()}."
        elif numerator < 0:
            errors["numerator"] = "Enter zero or more."
        if measure.has_denominator:
            if denominator is None:
                errors["denominator"] = f"Enter the {measure.denominator_label.lower()}."
            elif denominator <= 0:
                errors["denominator"] = "The denominator must be more than zero."
            elif (
                measure.kind == Measure.Kind.PERCENTAGE
                and numerator is not None
                and numerator > denominator
            ):
                errors["numerator"] = (
                    f"The {measure.numerator_label.lower()} cannot exceed the "
                    f"{measure.denominator_label.lower()} for a percentage."
                )
    if not reports_measure(measure=measure, organization=organization):
        errors["__all__"] = f"{organization} does not report {measure}."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def reading_save(
    *,
    measure: Measure,
    organization: Organization,
    period_start: datetime.date,
    by: User,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    achieved: bool | None = None,
    note: str = "",
    today: datetime.date | None = None,
) -> Reading:
    """Create or correct a reading; a correction keeps the old values as a revision."""
    if measure.kind == Measure.Kind.MILESTONE:
        numerator = denominator = None
    elif not measure.has_denominator:
        denominator = None
    reading_validate(
        measure=measure,
        organization=organization,
        period_start=period_start,
        numerator=numerator,
        denominator=denominator,
        achieved=achieved,
        today=today,
    )
    now = timezone.now()
    reading = (
        # Lock only this row; order by pk so no default ordering adds a join.
        Reading.objects.select_for_update(of=("self",))
        .filter(measure=measure, organization=organization, period_start=period_start)
        .order_by("pk")
        .first()
    )
    if reading is None:
        return Reading.objects.create(
            alliance=measure.alliance,
            measure=measure,
            organization=organization,
            period_start=period_start,
            numerator=numerator,
            denominator=denominator,
            achieved=achieved,
            note=note,
            entered_by=by,
            entered_at=now,
            updated_by=by,
            updated_at=now,
        )
    new = (numerator, denominator, achieved, note)
    if (reading.numerator, reading.denominator, reading.achieved, reading.note) != new:
        ReadingRevision.objects.create(
            alliance=reading.alliance,
            reading=reading,
            numerator=reading.numerator,
            denominator=reading.denominator,
            achieved=reading.achieved,
            note=reading.note,
            changed_by=by,
            changed_at=now,
        )
        reading.numerator, reading.denominator, reading.achieved, reading.note = new
        reading.updated_by, reading.updated_at = by, now
        reading.save()
    return reading


@transaction.atomic
def aim_change_baseline(*, aim: Aim, new_value: Decimal, reason: str, by: User) -> Aim:
    """The baseline is frozen: a change needs a reason and is kept in the history."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the baseline changes."})
    aim = Aim.objects.select_for_update().get(pk=aim.pk)
    BaselineChange.objects.create(
        alliance=aim.alliance,
        aim=aim,
        old_value=aim.baseline_value,
        new_value=new_value,
        reason=reason.strip(),
        changed_by=by,
    )
    aim.baseline_value = new_value
    aim.save(update_fields=["baseline_value"])
    return aim


def goal_set_submit(*, goal_set: GoalSet, by: User) -> GoalSet:
    count = goal_set.goals.count()
    if not GoalSet.MIN_GOALS <= count <= GoalSet.MAX_GOALS:
        raise ValidationError(
            f"Submit {GoalSet.MIN_GOALS} to {GoalSet.MAX_GOALS} goals; this set has {count}."
        )
    goal_set.submitted_at, goal_set.submitted_by = timezone.now(), by
    goal_set.save(update_fields=["submitted_at", "submitted_by"])
    return goal_set


def commitment_update(
    *, commitment: Commitment, status: str, evidence: str, by: User
) -> Commitment:
    commitment.status, commitment.evidence = status, evidence
    commitment.updated_by, commitment.updated_at = by, timezone.now()
    commitment.full_clean()
    commitment.save()
    return commitment


def focus_proposal_create(*, membership: Membership, title: str, description: str) -> FocusProposal:
    proposal = FocusProposal(
        alliance=membership.alliance, proposed_by=membership, title=title, description=description
    )
    proposal.full_clean()
    proposal.save()
    proposal.endorsed_by.add(membership)  # proposing is endorsing
    return proposal


def focus_proposal_endorse(*, proposal: FocusProposal, membership: Membership) -> None:
    if proposal.status != FocusProposal.Status.OPEN:
        raise ValidationError("This proposal is no longer open for endorsement.")
    proposal.endorsed_by.add(membership)  # a second endorsement is a no-op


@transaction.atomic
def focus_proposal_adopt(*, proposal: FocusProposal, program_year) -> Workgroup:
    """Staff turn a proposal the members agreed on into a workgroup."""
    if proposal.status != FocusProposal.Status.OPEN:
        raise ValidationError("Only an open proposal can be adopted.")
    base, n = slugify(proposal.title)[:70] or "workgroup", 1
    slug = base
    while Workgroup.objects.filter(alliance=proposal.alliance, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    workgroup = Workgroup.objects.create(
        alliance=proposal.alliance,
        program_year=program_year,
        name=proposal.title[:200],
        slug=slug,
        description=proposal.description,
    )
    proposal.status, proposal.workgroup = FocusProposal.Status.ADOPTED, workgroup
    proposal.save(update_fields=["status", "workgroup"])
    return workgroup


@transaction.atomic
def goal_add(
    *,
    goal_set: GoalSet,
    by: User,
    statement: str,
    measure_name: str,
    kind: str,
    period: str,
    direction: str,
    unit: str,
    multiplier: Decimal,
    baseline_value: Decimal,
    theoretical_limit: Decimal,
    due_on: datetime.date,
):
    """Add a goal with its own measure to an organization's (unsubmitted) goal set."""
    if goal_set.submitted_at:
        raise ValidationError("This goal set was submitted; ask alliance staff to reopen it.")
    if goal_set.goals.count() >= GoalSet.MAX_GOALS:
        raise ValidationError(f"A goal set has at most {GoalSet.MAX_GOALS} goals.")
    measure = Measure(
        alliance=goal_set.alliance,
        name=f"{measure_name} — {goal_set.organization}"[:200],
        kind=kind,
        period=period,
        direction=direction,
        unit=unit,
        multiplier=multiplier if kind == Measure.Kind.RATE else Decimal(1),
        numerator_label="Numerator",
        denominator_label="Denominator" if kind != "count" else "",
        first_period=goal_set.program_year.starts_on,
    )
    measure.full_clean()
    measure.save()
    goal = Goal(
        alliance=goal_set.alliance,
        goal_set=goal_set,
        statement=statement,
        measure=measure,
        baseline_value=baseline_value,
        theoretical_limit=theoretical_limit,
        due_on=due_on,
        order=goal_set.goals.count() + 1,
    )
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def readings_import(*, measure: Measure, by: User, rows: list) -> list[Reading]:
    """Save every row of a checked upload (`workgroups.imports`): all of them or none.

    `rows` are `imports.ImportRow`s. One row with an error refuses the whole file;
    each row is saved by `reading_save`, so a correction keeps its revision, and
    an error from any of them rolls back the rows saved before it.
    """
    rows = list(rows)
    if not rows:
        raise ValidationError("The file has no readings to save.")
    if bad := [row for row in rows if row.errors]:
        raise ValidationError(
            [f"Line {row.line}: {' '.join(row.errors)}" for row in bad]
            + ["Nothing was saved: correct the file and upload it again."]
        )
    seen = set()
    for row in rows:
        key = (row.organization.pk, row.period_start)
        if key in seen:
            raise ValidationError(f"Line {row.line}: this organization and period appear twice.")
        seen.add(key)
        if row.organization.alliance_id != measure.alliance_id or not can_report_for(
            user=by, measure=measure, organization=row.organization
        ):
            raise ValidationError(f"Line {row.line}: you cannot report for {row.organization}.")
    saved = [
        reading_save(
            measure=measure,
            organization=row.organization,
            period_start=row.period_start,
            by=by,
            numerator=row.numerator,
            denominator=row.denominator,
            achieved=row.achieved,
            note=row.note,
        )
        for row in rows
    ]
    # In the import's transaction: an import that rolls back leaves no record.
    audit.record(
        "import",
        user=by,
        alliance=measure.alliance,
        detail=f"{len(saved)} readings of {measure.name} (upload)",
    )
    return saved
