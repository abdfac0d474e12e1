"""Workgroups with measurable aims: measures, readings, aims, goals, commitments.

Every tenant row carries `alliance` directly (readings are the large table and
are always filtered by it); services keep a child's alliance equal to its
parent's, and `clean()` refuses a mismatch.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from alliance.tenancy.history import TenantHistoricalRecords


def _same_alliance(row, *parent_fields: str) -> None:
    """A child row's parents belong to its alliance (an unset parent is the form's job)."""
    for name in parent_fields:
        if getattr(row, f"{name}_id") is None or row.alliance_id is None:
            continue
        parent = getattr(row, name)
        if parent.alliance_id != row.alliance_id:
            raise ValidationError({name: "Choose one of this alliance's."})


class Workgroup(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        PAUSED = "paused", "Paused"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="workgroups"
    )
    program_year = models.ForeignKey(
        "alliance.ProgramYear", on_delete=models.PROTECT, related_name="workgroups"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    leads = models.ManyToManyField("members.Membership", blank=True, related_name="led_workgroups")
    organizations = models.ManyToManyField(
        "members.Organization", through="Participation", related_name="workgroups", blank=True
    )

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "slug"], name="workgroup_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        _same_alliance(self, "program_year")


class Participation(models.Model):
    """An organization's membership of a workgroup, from a date."""

    workgroup = models.ForeignKey(
        Workgroup, on_delete=models.CASCADE, related_name="participations"
    )
    organization = models.ForeignKey(
        "members.Organization", on_delete=models.PROTECT, related_name="participations"
    )
    joined_on = models.DateField(default=datetime.date.today)

    objects = ScopedManager(alliance="workgroup__alliance")

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workgroup", "organization"], name="participation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.workgroup}"

    def clean(self):
        if (
            self.organization_id
            and self.workgroup_id
            and self.organization.alliance_id != self.workgroup.alliance_id
        ):
            raise ValidationError({"organization": "Choose an organization of this alliance."})


class FocusArea(models.Model):
    workgroup = models.ForeignKey(Workgroup, on_delete=models.CASCADE, related_name="focus_areas")
    order = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)

    objects = ScopedManager(alliance="workgroup__alliance")

    class Meta:
        ordering = ["workgroup", "order"]

    def __str__(self) -> str:
        return self.title


class Measure(models.Model):
    class Kind(models.TextChoices):
        RATE = "rate", "Rate (numerator ÷ denominator × multiplier)"
        PERCENTAGE = "percentage", "Percentage"
        COUNT = "count", "Count"
        MILESTONE = "milestone", "Milestone (yes/no progress)"

    class Period(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"

    class Direction(models.TextChoices):
        LOWER = "lower", "Lower is better"
        HIGHER = "higher", "Higher is better"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="measures"
    )
    # Empty for an organization goal's own measure.
    workgroup = models.ForeignKey(
        Workgroup, on_delete=models.PROTECT, null=True, blank=True, related_name="measures"
    )
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.LOWER)
    multiplier = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        help_text="Rates only, e.g. 200000 for OSHA rates per 100 full-time workers.",
    )
    unit = models.CharField(max_length=60, blank=True, help_text="e.g. “per 200,000 hours”.")
    numerator_label = models.CharField(max_length=120, default="Numerator")
    denominator_label = models.CharField(max_length=120, blank=True)
    decimals = models.PositiveSmallIntegerField(default=1)
    first_period = models.DateField(
        help_text="The first period data is due for; may precede the program year "
        "to collect baseline data."
    )
    # Staff judgement (IHI): [{"period": "2021-03-01", "reason": "…"}]. Kept on the
    # measure so a chart needs no query of its own for them.
    astronomical_points = models.JSONField(default=list, blank=True)

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "workgroup", "name"], name="measure_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_denominator(self) -> bool:
        return self.kind in (self.Kind.RATE, self.Kind.PERCENTAGE)

    @property
    def scale(self) -> Decimal:
        if self.kind == self.Kind.PERCENTAGE:
            return Decimal(100)
        return self.multiplier if self.kind == self.Kind.RATE else Decimal(1)

    def clean(self):
        _same_alliance(self, "workgroup")
        if self.kind == self.Kind.RATE and self.multiplier is not None and self.multiplier <= 0:
            raise ValidationError({"multiplier": "A rate needs a positive multiplier."})


class Reading(models.Model):
    """One organization's value of one measure for one period."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="readings"
    )
    # No index of its own: the unique constraint and the feed's index lead with it.
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="readings", db_index=False
    )
    organization = models.ForeignKey(
        "members.Organization", on_delete=models.PROTECT, related_name="readings"
    )
    period_start = models.DateField()
    numerator = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    achieved = models.BooleanField(null=True, blank=True, help_text="Milestones only.")
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey("members.User", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("members.User", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        # Columns of this table only: a default ordering must never add a join.
        ordering = ["measure_id", "period_start", "organization_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "organization", "period_start"], name="reading_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="reading_denominator_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["alliance", "measure", "period_start"]),
            # The digest feed's stream, in its order, read from the index alone
            # (an index-only scan, no sort): at 350,000 readings, reading the
            # table and sorting took three times as long. Every column it reads
            # is a key column, not INCLUDEd: SQLite has no INCLUDE.
            models.Index(
                fields=[
                    "measure",
                    "entered_at",
                    "id",
                    "alliance",
                    "organization",
                    "period_start",
                    "numerator",
                    "denominator",
                    "achieved",
                    "updated_at",
                ],
                name="reading_feed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} — {self.organization} — {self.period_start:%b %Y}"


class ReadingRevision(models.Model):
    """A reading as it was before an edit: who changed it, when, from what."""

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    reading = models.ForeignKey(Reading, on_delete=models.CASCADE, related_name="revisions")
    numerator = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    achieved = models.BooleanField(null=True, blank=True)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey("members.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.reading} before {self.changed_at:%Y-%m-%d %H:%M}"


class Aim(models.Model):
    """How much, by when: a target on a measure against a frozen baseline."""

    class TargetKind(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute value"
        RELATIVE = "relative", "Relative change (%)"

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="aims")
    # One aim per measure ("how much, by when"): it comes with the measure's row.
    measure = models.OneToOneField(Measure, on_delete=models.PROTECT, related_name="aim")
    statement = models.TextField()
    baseline_start = models.DateField()
    baseline_end = models.DateField()
    baseline_value = models.DecimalField(
        max_digits=16, decimal_places=4, help_text="Frozen: change it only with a reason."
    )
    target_kind = models.CharField(max_length=10, choices=TargetKind.choices)
    target_value = models.DecimalField(
        max_digits=16, decimal_places=4, help_text="A value, or a change in % such as −25."
    )
    starts_on = models.DateField(help_text="When the work toward the aim starts.")
    due_on = models.DateField()

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return self.statement[:80]

    @property
    def target(self) -> Decimal:
        if self.target_kind == self.TargetKind.RELATIVE:
            return self.baseline_value * (1 + self.target_value / 100)
        return self.target_value

    def clean(self):
        _same_alliance(self, "measure")
        if self.baseline_start and self.baseline_end and self.baseline_end < self.baseline_start:
            raise ValidationError({"baseline_end": "The baseline must end after it starts."})
        if self.starts_on and self.due_on and self.due_on <= self.starts_on:
            raise ValidationError({"due_on": "The due date must come after the start."})


class BaselineChange(models.Model):
    """The history of an aim's frozen baseline: who changed it, when and why."""

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    aim = models.ForeignKey(Aim, on_delete=models.CASCADE, related_name="baseline_changes")
    old_value = models.DecimalField(max_digits=16, decimal_places=4)
    new_value = models.DecimalField(max_digits=16, decimal_places=4)
    reason = models.TextField()
    changed_by = models.ForeignKey("members.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.aim}: {self.old_value} → {self.new_value}"


class GoalSet(models.Model):
    """An organization's 3–5 audacious goals for a program year (regional program)."""

    MIN_GOALS, MAX_GOALS = 3, 5

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "members.Organization", on_delete=models.PROTECT, related_name="goal_sets"
    )
    program_year = models.ForeignKey(
        "alliance.ProgramYear", on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "members.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "program_year"], name="goal_set_once"),
        ]

    def __str__(self) -> str:
        return f"Goals of {self.organization} ({self.program_year})"


class Goal(models.Model):
    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    goal_set = models.ForeignKey(GoalSet, on_delete=models.CASCADE, related_name="goals")
    order = models.PositiveSmallIntegerField(default=1)
    statement = models.TextField()
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="goals")
    baseline_value = models.DecimalField(max_digits=16, decimal_places=4)
    theoretical_limit = models.DecimalField(
        max_digits=16,
        decimal_places=4,
        help_text="The audacious target: the best the process could ever do (e.g. zero harm).",
    )
    due_on = models.DateField()

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["goal_set", "order"]

    def __str__(self) -> str:
        return self.statement[:80]

    def clean(self):
        _same_alliance(self, "goal_set", "measure")


class Commitment(models.Model):
    """The program's required commitments per organization (regional program)."""

    class Kind(models.TextChoices):
        TRUSTEE_EDUCATION = "trustee_education", "Trustee quality education program"
        PHYSICIAN_ENGAGEMENT = "physician_engagement", "Physician engagement"
        PATIENT_FAMILY = "patient_family", "Patient and family involvement"

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        IN_PLACE = "in_place", "In place"

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "members.Organization", on_delete=models.PROTECT, related_name="commitments"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    evidence = models.TextField(blank=True, help_text="What shows the commitment is met.")
    updated_by = models.ForeignKey(
        "members.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["organization__name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="commitment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.organization}"


class FocusProposal(models.Model):
    """A member proposes an area of focus; others endorse; staff adopt it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open for endorsement"
        ADOPTED = "adopted", "Adopted as a workgroup"
        DECLINED = "declined", "Not taken up"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="focus_proposals"
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    proposed_by = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    workgroup = models.ForeignKey(
        Workgroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    endorsed_by = models.ManyToManyField("members.Membership", blank=True, related_name="+")

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
