"""State changes for people and memberships."""

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from alliance.models import Alliance
from alliance.notifications import outbox

from .models import DigestPreference, Invitation, Membership, Organization, Role, User

STAFF_GROUP_NAME = "Alliance staff"
# What alliance staff may do in the admin, per model. Later issues add theirs.
STAFF_MODEL_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "alliance.programyear": ("view", "add", "change"),
    "members.organization": ("view", "add", "change"),
    "members.membership": ("view", "add", "change"),
    "members.invitation": ("view", "add", "change"),
    "members.speaker": ("view", "add", "change"),
    "workgroups.workgroup": ("view", "add", "change"),
    "workgroups.focusarea": ("view", "add", "change", "delete"),
    "workgroups.participation": ("view", "add", "change", "delete"),
    "workgroups.measure": ("view", "add", "change"),
    "workgroups.aim": ("view", "add", "change"),
    "workgroups.baselinechange": ("view",),
    "workgroups.reading": ("view", "add", "change"),
    "workgroups.readingrevision": ("view",),
    "workgroups.goalset": ("view", "change"),
    "workgroups.goal": ("view", "add", "change", "delete"),
    "workgroups.commitment": ("view", "add", "change"),
    "workgroups.focusproposal": ("view", "change"),
    # Delete is refused by the admin for a meeting anyone registered for.
    "meetings.meeting": ("view", "add", "change", "delete"),
    "meetings.agendaitem": ("view", "add", "change", "delete"),
    "meetings.guest": ("view", "add", "change", "delete"),
    "meetings.registration": ("view", "add", "change"),
    "meetings.meetingchange": ("view",),
    # Delete is refused by the admin for a roundtable anyone registered for.
    "roundtables.roundtable": ("view", "add", "change", "delete"),
    # Seats are the members' to take or give up; staff record attendance.
    "roundtables.roundtableregistration": ("view", "change"),
    "roundtables.question": ("view", "change"),
    "roundtables.questionvote": ("view",),
    "alliance.notice": ("view", "add", "change", "delete"),
    "alliance.resource": ("view", "add", "change", "delete"),
    "alliance.publication": ("view", "add", "change", "delete"),
    # Change: only the outbox's "Retry" action; its rows are read-only.
    "alliance.outgoingemail": ("view", "change"),
}


def staff_group_sync(**kwargs) -> Group:
    """Create or update the group that gives alliance staff their admin rights.

    Runs after every `migrate` (post_migrate), so new permissions reach the group.
    """
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    wanted = {
        (model_label.split(".")[0], f"{action}_{model_label.split('.')[1]}")
        for model_label, actions in STAFF_MODEL_PERMISSIONS.items()
        for action in actions
    }
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    ).select_related("content_type")
    group.permissions.set(
        [p for p in permissions if (p.content_type.app_label, p.codename) in wanted]
    )
    return group


@transaction.atomic
def user_upsert(*, email: str, full_name: str, password: str | None = None) -> User:
    """Create or update a user whose email address is already verified."""
    email = email.strip().lower()
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    changed = []
    if created and password is None:
        # A directory entry, not a login, until the person resets a password.
        user.set_unusable_password()
        changed.append("password")
    if user.full_name != full_name:
        user.full_name = full_name
        changed.append("full_name")
    if password is not None and (created or not user.check_password(password)):
        user.set_password(password)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def membership_upsert(
    *,
    user: User,
    alliance: Alliance,
    role: str,
    organization: Organization | None = None,
    title: str = "",
) -> Membership:
    """Give the user a role in the alliance (one membership per user and alliance)."""
    membership = Membership.objects.filter(user=user, alliance=alliance).first() or Membership(
        user=user, alliance=alliance
    )
    membership.role, membership.organization, membership.title = role, organization, title
    membership.is_active = True
    membership.full_clean()  # refuses an organization of another alliance
    membership.save()
    if role == Role.ALLIANCE_STAFF:
        # Alliance staff run their alliance through the admin.
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(*Group.objects.filter(name=STAFF_GROUP_NAME))
    return membership


# Invitations
# ------------------------------------------------------------------------------

INVITATION_SALT = "members.invitation"


class InvitationError(ValidationError):
    """Why an invitation cannot be used; the message is shown to the person."""


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(invitation: Invitation) -> str:
    """Give the invitation a fresh secret and expiry; return the link's token."""
    secret = secrets.token_urlsafe(32)
    invitation.secret_hash = _secret_hash(secret)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
    # The token names the alliance, so the lookup can run inside its scope.
    return signing.dumps({"a": invitation.alliance_id, "s": secret}, salt=INVITATION_SALT)


def invitation_link(token: str) -> str:
    return settings.SITE_BASE_URL + reverse("invitation", args=[token])


def _send_invitation(invitation: Invitation, token: str) -> None:
    """Queue the invitation email in the caller's transaction; `sent_at` says when."""
    outbox.enqueue(
        kind="invitation",
        recipient=invitation.email,
        template="members/email/invitation",
        context={
            "invitation": invitation,
            "alliance": invitation.alliance,
            "link": invitation_link(token),
        },
        alliance=invitation.alliance,
        about=invitation,
        # Each link has its own secret: a resend is a new message, a retry is not.
        key=invitation.secret_hash[:16],
        reply_to=invitation.alliance.contact_email,
    )
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])


def invitation_check_not_member(*, alliance: Alliance, email: str) -> None:
    if Membership.objects.filter(
        alliance=alliance, user__email__iexact=email.strip(), is_active=True
    ).exists():
        raise InvitationError(f"{email} is already a member of {alliance.short_name}.")


@transaction.atomic
def invitation_create(
    *,
    alliance: Alliance,
    email: str,
    role: str,
    invited_by: User,
    organization: Organization | None = None,
    title: str = "",
    full_name: str = "",
) -> Invitation:
    """Invite someone by email to join the alliance with a role; the email goes on commit."""
    email = email.strip().lower()
    invitation_check_not_member(alliance=alliance, email=email)
    invitation = Invitation(
        alliance=alliance,
        email=email,
        role=role,
        organization=organization,
        title=title,
        full_name=full_name,
        invited_by=invited_by,
    )
    token = _new_secret(invitation)
    invitation.full_clean()
    invitation.save()
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation) -> Invitation:
    """A new link (the old one stops working) and a new 14-day expiry."""
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationError("Only a pending invitation can be sent again.")
    token = _new_secret(invitation)
    invitation.save(update_fields=["secret_hash", "expires_at"])
    _send_invitation(invitation, token)
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationError("This invitation was already accepted; deactivate the membership.")
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    return invitation


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link names, whatever its state; None for a forged link."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
        alliance_id, secret = int(payload["a"]), str(payload["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Invitation.objects.with_scope(alliance=alliance_id)
        .select_related("alliance", "organization")
        .filter(alliance_id=alliance_id, secret_hash=_secret_hash(secret))
        .first()
    )


def invitation_check_usable(invitation: Invitation) -> None:
    messages = {
        Invitation.Status.ACCEPTED: "This invitation has already been used.",
        Invitation.Status.REVOKED: "This invitation was withdrawn by the alliance staff.",
        Invitation.Status.AWAITING_APPROVAL: (
            "This invitation was used from another email address and awaits staff approval."
        ),
    }
    if invitation.status in messages:
        raise InvitationError(messages[invitation.status])
    if invitation.is_expired:
        raise InvitationError("This invitation has expired. Ask the alliance staff for a new one.")


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership | None:
    """Join the alliance; from an address other than the invited one, ask staff first.

    Returns the membership, or None when the acceptance awaits staff approval.
    """
    with scope(alliance=invitation.alliance):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation_check_usable(invitation)
        invitation.accepted_by = user
        invitation.accepted_at = timezone.now()
        addresses = set(
            EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
        )
        if invitation.email not in {a.lower() for a in addresses}:
            invitation.status = Invitation.Status.AWAITING_APPROVAL
            invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
            return None
        invitation.status = Invitation.Status.ACCEPTED
        invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
        return _membership_from(invitation, user)


@transaction.atomic
def invitation_approve(*, invitation: Invitation) -> Membership:
    """Staff approve an invitation that was used from another email address."""
    with scope(alliance=invitation.alliance):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != Invitation.Status.AWAITING_APPROVAL:
            raise InvitationError("Only an invitation awaiting approval can be approved.")
        invitation.status = Invitation.Status.ACCEPTED
        invitation.save(update_fields=["status"])
        return _membership_from(invitation, invitation.accepted_by)


def _membership_from(invitation: Invitation, user: User) -> Membership:
    if invitation.full_name and not user.full_name:
        user.full_name = invitation.full_name
        user.save(update_fields=["full_name"])
    return membership_upsert(
        user=user,
        alliance=invitation.alliance,
        role=invitation.role,
        organization=invitation.organization,
        title=invitation.title,
    )


def membership_deactivate(*, membership: Membership) -> Membership:
    """Leave the alliance: access ends, the row (and the person's history) stays."""
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def profile_update(*, user: User, membership: Membership, form) -> User:
    """Save the person's own profile (a validated ProfileForm) and directory title."""
    user = form.save()
    membership.title = form.cleaned_data.get("title", "")
    membership.save(update_fields=["title"])
    return user


# Staff import (members/resources.py)
# ------------------------------------------------------------------------------


@transaction.atomic
def user_import_upsert(*, email: str, full_name: str, alliance: Alliance) -> User:
    """Find or create the person an alliance's staff list in a member import.

    A new user gets an unusable password and a verified primary address: the
    staff vouch for it, and the person signs in through "Forgot your
    password?". An existing user keeps their password and addresses; their name
    follows the file only while they belong to no other alliance (and are not a
    superuser), because one alliance's staff do not edit another's member.
    """
    email = email.strip().lower()
    # .first(), not get_or_create(): an import runs this once per row.
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name)
        user.set_unusable_password()
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user
    if user.full_name != full_name and not user.is_superuser:
        # Alliance is unscoped: this sees memberships in every alliance.
        elsewhere = Alliance.objects.filter(memberships__user=user).exclude(pk=alliance.pk)
        if not elsewhere.exists():
            user.full_name = full_name
            user.save(update_fields=["full_name"])
    return user


@transaction.atomic
def member_import_upsert(
    *,
    alliance: Alliance,
    email: str,
    full_name: str,
    role: str,
    organization: Organization | None,
    title: str = "",
    is_primary_contact: bool = False,
) -> Membership:
    """One row of a staff member import: the user, then their (active) membership."""
    user = user_import_upsert(email=email, full_name=full_name, alliance=alliance)
    membership = membership_upsert(
        user=user, alliance=alliance, role=role, organization=organization, title=title
    )
    if membership.is_primary_contact != is_primary_contact:
        membership.is_primary_contact = is_primary_contact
        membership.save(update_fields=["is_primary_contact"])
    return membership


# Email preferences (the preferences page; one-click unsubscribe is in
# alliance.notifications.unsubscribe)
# ------------------------------------------------------------------------------


def email_preferences_update(*, membership: Membership, digest: str, reminders: bool) -> Membership:
    """The member's choice of progress digest and reminders in this one alliance.

    Change notices about events they registered for are not a preference: they
    always go, so this has no switch for them.
    """
    if digest not in DigestPreference.values:
        raise ValueError(f"Unknown digest preference {digest!r}.")
    membership.digest = digest
    membership.reminders = bool(reminders)
    membership.save(update_fields=["digest", "reminders"])
    return membership
