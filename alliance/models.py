"""The tenant (Alliance) and the rows every other app hangs from."""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from .fields import TimeZoneField
from .validators import (
    validate_alliance_slug,
    validate_document,
    validate_hex_colour,
    validate_image,
)


def default_meeting_reminder_hours() -> list[int]:
    return [7 * 24, 24]


def default_roundtable_reminder_hours() -> list[int]:
    return [24, 1]


def validate_reminder_hours(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(hours, int) and 0 < hours <= 60 * 24 for hours in value
    ):
        raise ValidationError(
            "List whole hours before the event, each between 1 and 1440, e.g. [168, 24]."
        )


class Alliance(models.Model):
    """A leadership alliance: the tenant. Not scoped, because it *is* the scope."""

    class DigestCadence(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        OFF = "off", "Off"

    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60, unique=True, validators=[validate_alliance_slug])
    description = models.TextField(blank=True)
    time_zone = TimeZoneField(
        default="America/New_York",
        help_text="Where the alliance's staff work; events carry their own zone.",
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#1d4f91",
        validators=[validate_hex_colour],
        help_text="Used for the header; text colour is chosen for contrast.",
    )
    logo = models.ImageField(upload_to="alliances/logos/", blank=True, validators=[validate_image])
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(help_text="Where “Need help?” reaches alliance staff.")
    show_peer_names = models.BooleanField(
        default=False,
        help_text="Show other organizations' values by name; otherwise they are blinded.",
    )
    digest_cadence = models.CharField(
        max_length=10, choices=DigestCadence.choices, default=DigestCadence.MONTHLY
    )
    digest_weekday = models.PositiveSmallIntegerField(
        "weekly digests go out on",
        choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")],
        default=0,
    )
    digest_day_of_month = models.PositiveSmallIntegerField(
        "monthly digests go out on day",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="1–28, so that every month has it.",
    )
    digest_hour = models.PositiveSmallIntegerField(
        "at (hour, the alliance's time zone)",
        default=7,
        validators=[MaxValueValidator(23)],
    )
    meeting_reminder_hours = models.JSONField(
        "meeting reminders (hours before)",
        default=default_meeting_reminder_hours,
        validators=[validate_reminder_hours],
        help_text="E.g. [168, 24]: a week and a day before.",
    )
    roundtable_reminder_hours = models.JSONField(
        "roundtable reminders (hours before)",
        default=default_roundtable_reminder_hours,
        validators=[validate_reminder_hours],
        help_text="E.g. [24, 1]: a day and an hour before.",
    )
    join_link_lead_hours = models.PositiveSmallIntegerField(
        "show webinar join links (hours before the start)",
        default=24,
        help_text="Registrants see a roundtable's join link and passcode from this long before it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def brand_text_colour(self) -> str:
        """Black or white, whichever contrasts more with the brand colour (WCAG)."""
        return "#000000" if _relative_luminance(self.brand_colour) > 0.179 else "#ffffff"


def _relative_luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


class ProgramYear(models.Model):
    """A program year; the regional program's single one spans 24 months."""

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="program_years")
    name = models.CharField(max_length=100)
    starts_on = models.DateField()
    ends_on = models.DateField()

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "name"], name="program_year_unique_name"),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")),
                name="program_year_ends_after_start",
                violation_error_message="A program year must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class Notice(models.Model):
    """An alliance-wide notice shown for a date range (e.g. meetings moved to virtual)."""

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty: until further notice.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return self.title


def private_upload_to(instance, filename: str) -> str:
    """Where an alliance's documents are stored: per alliance, under a random folder.

    Never served from a public URL (MEDIA_URL is not mounted): views that
    check membership stream them. The random folder keeps names unguessable
    even if a storage were ever exposed, and keeps two uploads of
    "Prospectus.pdf" apart.
    """
    label = instance._meta.model_name
    return f"private/{instance.alliance_id}/{label}/{uuid.uuid4().hex}/{filename}"


class Resource(models.Model):
    """A document for members, such as the program prospectus; by program year."""

    class Kind(models.TextChoices):
        PROSPECTUS = "prospectus", "Prospectus"
        GUIDE = "guide", "Guide"
        TEMPLATE = "template", "Template"
        REPORT = "report", "Report"
        OTHER = "other", "Other"

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="resources")
    program_year = models.ForeignKey(
        ProgramYear,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resources",
        help_text="Empty: for every program year.",
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(blank=True)
    file = models.FileField(upload_to=private_upload_to, validators=[validate_document])
    published_on = models.DateField(default=datetime.date.today)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-published_on", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.program_year_id and self.program_year.alliance_id != self.alliance_id:
            raise ValidationError({"program_year": "Choose one of this alliance's program years."})


class Publication(models.Model):
    """The collective voice: what members published or said together."""

    class Kind(models.TextChoices):
        REPORT = "report", "Report"
        JOURNAL_ARTICLE = "journal_article", "Journal article"
        STAKEHOLDER_MEETING = "stakeholder_meeting", "Stakeholder meeting"
        TRADITIONAL_MEDIA = "traditional_media", "Traditional media"
        SOCIAL_MEDIA = "social_media", "Social media"

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="publications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    published_on = models.DateField("date")
    venue = models.CharField(
        "venue or outlet",
        max_length=200,
        blank=True,
        help_text="The journal, newspaper, channel or meeting.",
    )
    url = models.URLField("link", max_length=500, blank=True)
    file = models.FileField(upload_to=private_upload_to, blank=True, validators=[validate_document])
    summary = models.TextField(blank=True)
    author_members = models.ManyToManyField(
        "members.Membership", blank=True, related_name="publications", verbose_name="authors"
    )
    author_organizations = models.ManyToManyField(
        "members.Organization",
        blank=True,
        related_name="publications",
        verbose_name="organizations",
    )
    workgroup = models.ForeignKey(
        "workgroups.Workgroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="publications",
    )
    added_by = models.ForeignKey(
        "members.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-published_on", "-pk"]
        indexes = [models.Index(fields=["alliance", "-published_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(file=""),
                name="publication_has_link_or_file",
                violation_error_message="Give a link or upload a file.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.workgroup_id and self.workgroup.alliance_id != self.alliance_id:
            raise ValidationError({"workgroup": "Choose one of this alliance's workgroups."})


class OutgoingEmail(models.Model):
    """The outbox: one row per email the portal sends, delivered by Celery.

    Created in the same transaction as the change that causes it, so a change
    and its mail commit together or not at all. `(kind, object_ref, recipient,
    key)` is unique: the same reminder or digest is never queued twice.
    Account emails (sign-in, password reset) have no alliance.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        WITHHELD = "withheld", "Withheld"

    alliance = models.ForeignKey(
        Alliance, on_delete=models.PROTECT, null=True, blank=True, related_name="outgoing_emails"
    )
    kind = models.CharField(max_length=40)
    #: What the message is about, as "app_label.model:pk" ("" for none).
    object_ref = models.CharField(max_length=80, blank=True)
    recipient = models.EmailField(max_length=254)
    #: What makes two messages of one kind about one object distinct (an offset, a period).
    key = models.CharField(max_length=80, blank=True)
    from_email = models.CharField(max_length=300)
    reply_to = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    #: [{"filename", "mimetype", and "content" (text) or "content_base64"; with "cid":
    #: an inline image the HTML shows as cid:…}]
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    #: The earliest moment the sweep may try again (backoff after a temporary error).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: Bulk mail of one shape (a meeting's reminder to members of one zone and
    #: role) shares its parts: then `text_body` and `html_body` are empty and
    #: the message is the shared parts with `fills` put in (content.content_of).
    shared_body = models.ForeignKey(
        "SharedEmailBody", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: The recipient's own parts of a shared body, by stand-in name:
    #: {"name": …, "unsubscribe": …}.
    fills = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outgoing email"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_ref", "recipient", "key"], name="outbox_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"


class SharedEmailBody(models.Model):
    """The text, HTML and attachments many outbox rows send, stored once.

    A reminder sweep queues thousands of messages about a few events: stored
    per row they were 8 KB each, and writing them was most of the sweep. Each
    part holds stand-ins (content.stand_in) for what differs per recipient.
    """

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="+")
    text_body = models.TextField()
    html_body = models.TextField()
    #: As OutgoingEmail.attachments.
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        verbose_name = "shared email body"

    def __str__(self) -> str:
        return f"Shared email body {self.pk}"


class AuditEvent(models.Model):
    """Who did what that matters for security, from where, when (UTC): see
    alliance/audit.py. Written by signals; never edited; superusers read it."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        MFA_ADDED = "mfa_added", "MFA added"
        MFA_REMOVED = "mfa_removed", "MFA removed"
        MFA_RESET = "mfa_reset", "Recovery codes regenerated"
        PERMISSION_CHANGED = "permission_changed", "Permission changed"
        EXPORT = "export", "Exported"
        IMPORT = "import", "Imported"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    #: Who did it (None: nobody signed in, or a task). Kept as text as well, so the
    #: record outlives the account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user_email = models.CharField(max_length=254, blank=True)
    alliance = models.ForeignKey(
        Alliance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    #: What, in words: the account tried, the role before and after, the rows exported.
    detail = models.CharField(max_length=500, blank=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user_email or 'anonymous'}"
