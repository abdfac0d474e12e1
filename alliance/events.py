"""What meetings and roundtable webinars share: a dated event of a program year.

Times are stored in UTC with the event's own IANA zone. An event someone
registered for is never deleted: it is postponed (the original date kept),
rescheduled or cancelled, and its iCalendar SEQUENCE rises on every change so
calendars replace the copy they hold (same UID).
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .fields import TimeZoneField


class ScheduledEvent(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        POSTPONED = "postponed", "Postponed"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="%(class)ss"
    )
    program_year = models.ForeignKey(
        "alliance.ProgramYear", on_delete=models.PROTECT, related_name="%(class)ss"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    # Empty while "postponed until further notice"; the original date is kept.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    original_starts_at = models.DateTimeField(null=True, blank=True, editable=False)
    time_zone = TimeZoneField(
        default="America/New_York", help_text="The event's own zone; members see theirs too."
    )
    description = models.TextField(blank=True)
    # iCalendar: a stable UID, and a SEQUENCE raised on every change.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="%(class)s_ends_after_start",
                violation_error_message="An event must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def check_same_alliance(self, *names: str) -> None:
        """Foreign keys to other tenant rows must stay inside the event's alliance."""
        for name in ("program_year", *names):
            if (
                getattr(self, f"{name}_id")
                and self.alliance_id
                and getattr(self, name).alliance_id != self.alliance_id
            ):
                raise ValidationError({name: "Choose one of this alliance's."})

    def clean(self):
        if self.status == self.Status.SCHEDULED and not self.starts_at:
            raise ValidationError({"starts_at": "A scheduled event needs a start."})
