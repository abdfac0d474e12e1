"""Read queries for the tenant core. Pages get their querysets from here."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from members.models import Role
from sessions.models import Meeting

from .models import Alliance, Notice, ProgramYear


def alliances_for_user(*, user) -> QuerySet[Alliance]:
    """The alliances the user is an active member of (Alliance is not scoped)."""
    return Alliance.objects.filter(memberships__user=user, memberships__is_active=True).order_by(
        "name"
    )


def current_program_year(*, alliance: Alliance, today: datetime.date | None = None):
    """The program year containing today, else the most recent one that started, else the next."""
    today = today or timezone.localdate()
    years = list(ProgramYear.objects.filter(alliance=alliance).order_by("starts_on"))
    containing = [y for y in years if y.contains(today)]
    if containing:
        return containing[-1]
    started = [y for y in years if y.starts_on <= today]
    if started:
        return started[-1]
    return years[0] if years else None


def alliance_staff_contacts(*, alliance: Alliance):
    from members.models import Membership

    return (
        Membership.objects.filter(alliance=alliance, role=Role.ALLIANCE_STAFF, is_active=True)
        .select_related("user")
        .order_by("user__full_name")
    )


def active_notices(*, alliance: Alliance, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return Notice.objects.filter(alliance=alliance, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def upcoming_meetings(*, alliance: Alliance, limit: int = 3):
    return (
        Meeting.objects.filter(
            alliance=alliance, starts_at__gte=timezone.now(), status=Meeting.Status.SCHEDULED
        )
        .select_related("host_organization")
        .order_by("starts_at")[:limit]
    )
