"""Roundtable webinars: facilitators, registration with a waitlist, advance
questions with votes, and the recording, slides and summary afterwards.

A roundtable someone registered for is never deleted: like a meeting it is
postponed, rescheduled or cancelled, and its calendar SEQUENCE rises each time.
"""

import datetime

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from alliance.events import ScheduledEvent
from alliance.models import private_upload_to
from alliance.tenancy.history import TenantHistoricalRecords
from alliance.validators import validate_document


class Roundtable(ScheduledEvent):
    topic = models.CharField(max_length=200, blank=True)
    facilitators = models.ManyToManyField("members.Speaker", blank=True, related_name="roundtables")
    join_url = models.URLField(
        "webinar join link",
        max_length=500,
        blank=True,
        help_text="Shown to registrants only, from the alliance's lead time before the start.",
    )
    passcode = models.CharField(max_length=60, blank=True)
    registration_required = models.BooleanField(
        default=True, help_text="Off: every member may join without registering."
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit. When full, members join a waitlist."
    )
    recording_url = models.URLField("recording link", max_length=500, blank=True)
    slides = models.FileField(
        upload_to=private_upload_to, blank=True, validators=[validate_document]
    )
    summary = models.TextField(blank=True, help_text="What was discussed, after the event.")

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()
    # The schedule lists meetings and roundtables together.
    schedule_kind = "roundtable"

    class Meta(ScheduledEvent.Meta):
        indexes = [models.Index(fields=["alliance", "starts_at"])]

    def clean(self):
        self.check_same_alliance()
        super().clean()

    @property
    def is_open_for_registration(self) -> bool:
        return self.status == self.Status.SCHEDULED and (
            self.starts_at is None or self.starts_at > timezone.now()
        )

    @property
    def has_happened(self) -> bool:
        if self.status == self.Status.COMPLETED:
            return True
        return (
            self.status == self.Status.SCHEDULED
            and self.ends_at is not None
            and self.ends_at <= timezone.now()
        )

    def join_link_opens_at(self) -> datetime.datetime | None:
        """From when registrants see the join link (the alliance sets the lead time)."""
        if self.starts_at is None:
            return None
        return self.starts_at - datetime.timedelta(hours=self.alliance.join_link_lead_hours)


class RoundtableRegistration(models.Model):
    """A member's seat (or place on the waitlist) at a roundtable."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        WAITLISTED = "waitlisted", "On the waitlist"
        CANCELLED = "cancelled", "Cancelled"

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    roundtable = models.ForeignKey(
        Roundtable, on_delete=models.PROTECT, related_name="registrations"
    )
    membership = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="roundtable_registrations"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    # The waitlist is served in the order members asked for a seat.
    requested_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["roundtable", "requested_at", "pk"]
        verbose_name = "roundtable registration"
        constraints = [
            models.UniqueConstraint(
                fields=["roundtable", "membership"], name="roundtable_register_once"
            ),
        ]
        indexes = [models.Index(fields=["roundtable", "status", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.membership} — {self.roundtable}: {self.get_status_display()}"


class Question(models.Model):
    """A registrant's question for the facilitators, asked before the webinar."""

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    roundtable = models.ForeignKey(Roundtable, on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="roundtable_questions"
    )
    text = models.TextField(max_length=1000)
    is_hidden = models.BooleanField(
        default=False, help_text="Hidden by staff: not shown to members or facilitators."
    )
    asked_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["roundtable", "asked_at", "pk"]
        verbose_name = "advance question"

    def __str__(self) -> str:
        return self.text[:80]


class QuestionVote(models.Model):
    """One member's vote for another member's question; once per member."""

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="votes")
    membership = models.ForeignKey("members.Membership", on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "membership"], name="vote_once"),
        ]

    def __str__(self) -> str:
        return f"{self.membership} for “{self.question}”"
