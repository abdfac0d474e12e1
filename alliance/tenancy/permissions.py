"""Named permissions per role, checked by one function and one view mixin.

A permission is a string such as "meetings.manage". Roles are
`members.models.Role`. Later issues add their permissions to ROLE_PERMISSIONS.
"""

from django.core.exceptions import PermissionDenied

from alliance import pagecache
from members.models import Membership, Role

# Every member may add to the collective voice (as one of its authors).
MEMBER = frozenset({"alliance.view", "meetings.rsvp", "publications.add"})
# Reporting data for an organization: its quality lead, staff liaison and CEO.
REPORTER = MEMBER | {"readings.submit"}
# Managing the alliance: alliance staff.
STAFF = REPORTER | {"alliance.manage", "meetings.manage", "members.invite", "readings.manage"}
# Staff add publications for anyone and edit any of them.
STAFF = STAFF | {"publications.manage"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CEO: REPORTER,
    Role.QUALITY_LEAD: REPORTER,
    Role.STAFF_LIAISON: REPORTER,
    Role.TRUSTEE: MEMBER,
    Role.PHYSICIAN_LEADER: MEMBER,
    Role.ALLIANCE_STAFF: STAFF,
}
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())


def membership_for(user, alliance) -> Membership | None:
    """The user's active membership in the alliance, cached on the user object.

    Must run inside the alliance's scope (Membership is a tenant model).
    """
    if not user.is_authenticated:
        return None
    # request.user is a lazy proxy: getattr/setattr reach the real user.
    cache = getattr(user, "_alliance_memberships", None)
    if cache is None:
        cache = user._alliance_memberships = {}
    if alliance.pk not in cache:
        cache[alliance.pk] = (
            Membership.objects.select_related("organization")
            .filter(user=user, alliance=alliance, is_active=True)
            .first()
        )
    return cache[alliance.pk]


def own_memberships(user, *, kept: bool = False) -> list[Membership]:
    """The user's active memberships in every alliance, with alliance and organization.

    Reviewed unscoped site (docs/tenancy.md): the query is bound to the user, and
    it is what decides which alliance's scope the request may enter. The result
    also fills membership_for's cache. `kept`: as kept by the page cache for
    the minute, while nothing about the user's memberships or their alliances
    has changed (alliance/pagecache.py); the tenant middleware asks this way.
    """

    def load():
        return list(
            Membership.objects.with_scopes_disabled()
            .filter(user=user, is_active=True)
            .select_related("alliance", "organization")
            .order_by("alliance__name")
        )

    memberships = pagecache.memberships(user.pk, load) if kept else load()
    user._alliance_memberships = {m.alliance_id: m for m in memberships}
    return memberships


def has_alliance_permission(user, alliance, perm: str) -> bool:
    if perm not in ALL_PERMISSIONS:
        # A typo must fail loudly, not silently deny (or allow) forever.
        raise ValueError(f"Unknown alliance permission {perm!r}")
    membership = membership_for(user, alliance)
    return membership is not None and perm in ROLE_PERMISSIONS[membership.role]


def staff_alliance_ids(user) -> list[int]:
    """Alliances whose admin data this staff user may see (unscoped query on Alliance)."""
    from alliance.models import Alliance

    return list(
        Alliance.objects.filter(
            memberships__user=user,
            memberships__role=Role.ALLIANCE_STAFF,
            memberships__is_active=True,
        ).values_list("pk", flat=True)
    )


class AlliancePermissionRequiredMixin:
    """View mixin: `alliance_permission = "meetings.manage"` on a tenant view."""

    alliance_permission: str

    def dispatch(self, request, *args, **kwargs):
        if not has_alliance_permission(request.user, request.alliance, self.alliance_permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
