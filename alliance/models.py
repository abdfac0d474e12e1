"""The tenant (Alliance) and the rows every other app hangs from."""

import datetime

from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from .fields import TimeZoneField
from .validators import validate_alliance_slug, validate_hex_colour


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
    logo = models.ImageField(upload_to="alliances/logos/", blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(help_text="Where “Need help?” reaches alliance staff.")
    show_peer_names = models.BooleanField(
        default=False,
        help_text="Show other organizations' values by name; otherwise they are blinded.",
    )
    digest_cadence = models.CharField(
        max_length=10, choices=DigestCadence.choices, default=DigestCadence.MONTHLY
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
