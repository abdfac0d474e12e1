"""State changes for people and memberships."""

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from alliance.models import Alliance

from .models import Membership, Organization, Role, User

STAFF_GROUP_NAME = "Alliance staff"
# What alliance staff may do in the admin, per model. Later issues add theirs.
STAFF_MODEL_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "alliance.programyear": ("view", "add", "change"),
    "members.organization": ("view", "add", "change"),
    "members.membership": ("view", "add", "change"),
}


def staff_group_sync() -> Group:
    """Create or update the group that gives alliance staff their admin rights."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    wanted = []
    for model_label, actions in STAFF_MODEL_PERMISSIONS.items():
        app_label, model = model_label.split(".")
        wanted += [(app_label, f"{action}_{model}") for action in actions]
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _ in wanted},
        codename__in={codename for _, codename in wanted},
    )
    group.permissions.set(
        [p for p in permissions if (p.content_type.app_label, p.codename) in set(wanted)]
    )
    return group


@transaction.atomic
def user_upsert(*, email: str, full_name: str, password: str | None = None) -> User:
    """Create or update a user whose email address is already verified."""
    email = email.strip().lower()
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    changed = []
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
        user.groups.add(staff_group_sync())
    return membership
