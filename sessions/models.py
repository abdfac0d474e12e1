"""Meetings of the program year: agendas, registrations (RSVP), changes.

App label "meetings" (the label "sessions" is django.contrib.sessions').
A meeting someone registered for is never deleted: it is postponed, moved to
virtual or cancelled, and each change is a MeetingChange row.
"""

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from alliance.events import ScheduledEvent
from alliance.tenancy.history import TenantHistoricalRecords


class Audience(models.TextChoices):
    ALL_MEMBERS = "all", "All members"
    CEOS = "ceos", "CEOs only"
    CEOS_AND_QUALITY = "ceos_quality", "CEOs and heads of Quality"


class Meeting(ScheduledEvent):
    class Kind(models.TextChoices):
        ALLIANCE_MEETING = "alliance_meeting", "Alliance meeting"
        COP_SESSION = "cop_session", "Community-of-practice session"
        WORKGROUP_CALL = "workgroup_call", "Workgroup call"

    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIRTUAL = "virtual", "Virtual"
        HYBRID = "hybrid", "Hybrid"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ALLIANCE_MEETING)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.IN_PERSON)
    venue = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    join_url = models.URLField(blank=True, help_text="Shown to registrants only.")
    host_organization = models.ForeignKey(
        "members.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hosted_meetings",
    )
    guests = models.ManyToManyField(
        "members.Speaker", through="Guest", blank=True, related_name="meetings"
    )
    dinner_at = models.DateTimeField(null=True, blank=True)
    dinner_place = models.CharField(max_length=200, blank=True)
    discussion_topic = models.CharField(max_length=200, blank=True)
    audience = models.CharField(
        max_length=14, choices=Audience.choices, default=Audience.ALL_MEMBERS
    )
    substitutes_allowed = models.BooleanField(
        default=True, help_text="Off: only the invited role itself may attend, no delegates."
    )
    capacity = models.PositiveIntegerField(null=True, blank=True)
    workgroup = models.ForeignKey(
        "workgroups.Workgroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()
    # The schedule lists meetings and roundtables together.
    schedule_kind = "meeting"

    class Meta(ScheduledEvent.Meta):
        indexes = [models.Index(fields=["alliance", "starts_at"])]

    def clean(self):
        self.check_same_alliance("host_organization", "workgroup")
        super().clean()

    @property
    def is_open_for_rsvp(self) -> bool:
        return self.status == self.Status.SCHEDULED and (
            self.starts_at is None or self.starts_at > timezone.now()
        )


class Guest(models.Model):
    """A featured guest (Speaker) of a meeting, who may join the CEOs for dinner."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="guest_links")
    speaker = models.ForeignKey(
        "members.Speaker", on_delete=models.PROTECT, related_name="guest_links"
    )
    joins_dinner = models.BooleanField(default=False)

    objects = ScopedManager(alliance="meeting__alliance")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "speaker"], name="guest_once"),
        ]

    def __str__(self) -> str:
        return f"{self.speaker} at {self.meeting}"


class AgendaItem(models.Model):
    class Kind(models.TextChoices):
        HOST_EXAMPLE = "host_example", "Host's improvement example"
        GAME_PLAN = "game_plan", "CEO game plan and progress"
        GUEST_PRESENTATION = "guest_presentation", "Guest presentation"
        DISCUSSION = "discussion", "Discussion"
        MEAL = "meal", "Meal"
        BREAK = "break", "Break"
        OTHER = "other", "Other"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveSmallIntegerField(default=1)
    starts_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    presenter_member = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    presenter_speaker = models.ForeignKey(
        "members.Speaker", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Empty: the meeting's audience. Heads of Quality join only some parts.
    audience = models.CharField(max_length=14, choices=Audience.choices, blank=True)
    materials_url = models.URLField(blank=True)

    objects = ScopedManager(alliance="meeting__alliance")
    history = TenantHistoricalRecords("meeting__alliance")

    class Meta:
        ordering = ["meeting", "order"]

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    """A member's RSVP to a meeting, and later whether they attended."""

    class Response(models.TextChoices):
        IN_PERSON = "in_person", "Attending in person"
        VIRTUAL = "virtual", "Attending virtually"
        NOT_ATTENDING = "not_attending", "Not attending"

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="registrations")
    membership = models.ForeignKey(
        "members.Membership", on_delete=models.PROTECT, related_name="registrations"
    )
    response = models.CharField(max_length=14, choices=Response.choices)
    attended = models.BooleanField(null=True, blank=True)
    responded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["meeting", "membership"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "membership"], name="register_once"),
        ]

    def __str__(self) -> str:
        return f"{self.membership} — {self.meeting}: {self.get_response_display()}"

    @property
    def is_attending(self) -> bool:
        return self.response != self.Response.NOT_ATTENDING


class MeetingChange(models.Model):
    """What happened to a meeting: postponed, moved to virtual, cancelled, rescheduled."""

    class Kind(models.TextChoices):
        POSTPONED = "postponed", "Postponed"
        MOVED_VIRTUAL = "moved_virtual", "Moved to virtual"
        CANCELLED = "cancelled", "Cancelled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        COMPLETED = "completed", "Completed"

    alliance = models.ForeignKey("alliance.Alliance", on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    old_starts_at = models.DateTimeField(null=True, blank=True)
    new_starts_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey("members.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.get_kind_display()} ({self.changed_at:%Y-%m-%d})"
