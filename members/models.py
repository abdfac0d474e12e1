"""People: users (email login), their organizations and alliance memberships."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

from alliance.fields import TimeZoneField
from alliance.tenancy.history import TenantHistoricalRecords
from alliance.validators import validate_image


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who can log in. Email is the login; there is no username."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200)
    time_zone = TimeZoneField(
        blank=True,
        help_text="Times are shown in this zone too. Empty: the alliance's zone.",
    )
    phone = models.CharField(max_length=40, blank=True)
    photo = models.ImageField(upload_to="people/photos/", blank=True, validators=[validate_image])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log in to the staff admin (alliance staff and operators)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            # Email lookups are case-insensitive everywhere; so is uniqueness.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    """A member organization (health system, hospital…) of one alliance."""

    class Kind(models.TextChoices):
        HEALTH_SYSTEM = "health_system", "Health system"
        HOSPITAL = "hospital", "Hospital"
        PHYSICIAN_GROUP = "physician_group", "Physician group"
        LONG_TERM_CARE = "long_term_care", "Long-term care"
        PAYER = "payer", "Payer"
        OTHER = "other", "Other"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="organizations"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HOSPITAL)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state or region", max_length=100, blank=True)
    website = models.URLField(blank=True)
    logo = models.ImageField(
        upload_to="organizations/logos/", blank=True, validators=[validate_image]
    )
    is_active = models.BooleanField(default=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "name"], name="organization_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CEO = "ceo", "CEO"
    QUALITY_LEAD = "quality_lead", "Head of Quality"
    TRUSTEE = "trustee", "Trustee"
    PHYSICIAN_LEADER = "physician_leader", "Physician leader"
    STAFF_LIAISON = "staff_liaison", "Staff liaison"
    ALLIANCE_STAFF = "alliance_staff", "Alliance staff"


def check_organization_for_role(row) -> None:
    """A membership or invitation: the organization is this alliance's, and required
    for every role but alliance staff."""
    # An organization of another alliance would be a cross-tenant link.
    if row.organization_id and row.organization.alliance_id != row.alliance_id:
        raise ValidationError({"organization": "Choose an organization of this alliance."})
    if not row.organization_id and row.role and row.role != Role.ALLIANCE_STAFF:
        raise ValidationError(
            {"organization": "Members other than alliance staff belong to an organization."}
        )


class DigestPreference(models.TextChoices):
    # CEOs receive the alliance's cadence; everyone else opts in.
    DEFAULT = "default", "As the alliance sends it (CEOs), otherwise none"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    OFF = "off", "None"


class Membership(models.Model):
    """A user's place in one alliance: one per user and alliance."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="Empty only for alliance staff.",
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    title = models.CharField(max_length=200, blank=True)
    # Raised to revoke this member's calendar feed link (the token embeds it).
    calendar_feed_version = models.PositiveIntegerField(default=0, editable=False)
    is_primary_contact = models.BooleanField(
        default=False, help_text="The organization's main contact for alliance staff."
    )
    # Leaving an alliance deactivates; the row stays so history keeps the name.
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    # Email preferences (the preferences page; one-click unsubscribe turns them off).
    digest = models.CharField(
        "progress digest",
        max_length=10,
        choices=DigestPreference.choices,
        default=DigestPreference.DEFAULT,
    )
    reminders = models.BooleanField("meeting and roundtable reminders", default=True)

    objects = ScopedManager(alliance="alliance")
    history = TenantHistoricalRecords()

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "alliance"], name="membership_one_per_alliance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    def clean(self):
        check_organization_for_role(self)


class Speaker(models.Model):
    """Faculty and featured guests: profiles used by meetings and roundtables, not logins."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="speakers"
    )
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True)
    affiliation = models.CharField(max_length=200, blank=True)
    bio = models.TextField("short bio", blank=True)
    photo = models.ImageField(upload_to="speakers/photos/", blank=True, validators=[validate_image])

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "name"], name="speaker_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """A single-use, expiring invitation to join one alliance with a role.

    The link carries a signed token naming the alliance and a secret; only a
    hash of the secret is stored, so a database reader cannot use the link.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        AWAITING_APPROVAL = "awaiting_approval", "Accepted by another address: awaiting approval"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    title = models.CharField(max_length=200, blank=True)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # Who used the link (for AWAITING_APPROVAL: a different address than invited).
    accepted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations_used"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(alliance="alliance")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["alliance", "status"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    def clean(self):
        if self.alliance_id:
            check_organization_for_role(self)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
