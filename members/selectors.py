"""Read queries for the member directory."""

from django.db.models import Count, Q, QuerySet

from alliance.models import Alliance

from .models import Membership, Organization


def directory_people(
    *, alliance: Alliance, query: str = "", role: str = "", organization: Organization | None = None
) -> QuerySet[Membership]:
    """Active members, searchable by name, title or organization."""
    people = (
        Membership.objects.filter(alliance=alliance, is_active=True)
        .select_related("user", "organization")
        .order_by("user__full_name", "pk")
    )
    if query:
        people = people.filter(
            Q(user__full_name__icontains=query)
            | Q(title__icontains=query)
            | Q(organization__name__icontains=query)
        )
    if role:
        people = people.filter(role=role)
    if organization is not None:
        people = people.filter(organization=organization)
    return people


def directory_organizations(*, alliance: Alliance, query: str = "") -> QuerySet[Organization]:
    organizations = Organization.objects.filter(alliance=alliance, is_active=True).annotate(
        people=Count("memberships", filter=Q(memberships__is_active=True))
    )
    if query:
        organizations = organizations.filter(
            Q(name__icontains=query) | Q(city__icontains=query) | Q(region__icontains=query)
        )
    return organizations.order_by("name")


def organization_people(*, organization: Organization) -> QuerySet[Membership]:
    return directory_people(alliance=organization.alliance, organization=organization)
