"""Read queries for the tenant core. Pages get their querysets from here."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from members.models import Membership, Organization, Role
from sessions.models import Meeting
from workgroups.models import Workgroup

from .models import Alliance, Notice, ProgramYear, Publication, Resource


def alliances_for_user(*, user) -> QuerySet[Alliance]:
    """The alliances the user is an active member of (Alliance is not scoped)."""
    return Alliance.objects.filter(memberships__user=user, memberships__is_active=True).order_by(
        "name"
    )


def current_program_year(*, alliance: Alliance, today: datetime.date | None = None):
    """The program year containing today, else the most recent one that started, else the next."""
    today = today or timezone.localdate()
    years = list(ProgramYear.objects.filter(alliance=alliance).order_by("starts_on", "pk"))
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


def upcoming_events(*, alliance: Alliance, limit: int = 3) -> list:
    """The next meetings and roundtable webinars, soonest first."""
    from roundtables.models import Roundtable

    now = timezone.now()
    meetings = (
        Meeting.objects.filter(
            alliance=alliance, starts_at__gte=now, status=Meeting.Status.SCHEDULED
        )
        .select_related("host_organization")
        .order_by("starts_at")[:limit]
    )
    roundtables = Roundtable.objects.filter(
        alliance=alliance, starts_at__gte=now, status=Roundtable.Status.SCHEDULED
    ).order_by("starts_at")[:limit]
    return sorted([*meetings, *roundtables], key=lambda event: event.starts_at)[:limit]


# Collective voice
# ------------------------------------------------------------------------------


def _with_authors(publications: QuerySet[Publication]) -> QuerySet[Publication]:
    # Two queries for any number of rows: the list shows every author's name.
    return publications.select_related("workgroup").prefetch_related(
        Prefetch(
            "author_members",
            queryset=Membership.objects.select_related("user").order_by("user__full_name", "pk"),
        ),
        Prefetch("author_organizations", queryset=Organization.objects.order_by("name", "pk")),
    )


def publication_list(
    *,
    alliance: Alliance,
    query: str = "",
    kind: str = "",
    workgroup: Workgroup | None = None,
    year: int | None = None,
) -> QuerySet[Publication]:
    """The collective voice, newest first; searchable by title, venue, summary and authors."""
    publications = Publication.objects.filter(alliance=alliance)
    if query:
        # Matching through the authors joins many rows per publication; a
        # subquery keeps one row each without DISTINCT (and a cheap COUNT).
        matching = Publication.objects.filter(alliance=alliance).filter(
            Q(title__icontains=query)
            | Q(venue__icontains=query)
            | Q(summary__icontains=query)
            | Q(author_members__user__full_name__icontains=query)
            | Q(author_organizations__name__icontains=query)
        )
        publications = publications.filter(pk__in=matching.values("pk"))
    if kind:
        publications = publications.filter(kind=kind)
    if workgroup is not None:
        publications = publications.filter(workgroup=workgroup)
    if year is not None:
        publications = publications.filter(published_on__year=year)
    return _with_authors(publications).order_by("-published_on", "-pk")


def publication_years(*, alliance: Alliance) -> list[int]:
    """The years the alliance published in, newest first (the year filter's choices)."""
    days = Publication.objects.filter(alliance=alliance).dates("published_on", "year", "DESC")
    return [day.year for day in days]


def publication_detail(*, alliance: Alliance, pk: int) -> Publication:
    return get_object_or_404(_with_authors(Publication.objects.all()), alliance=alliance, pk=pk)


def publication_with_file(*, alliance: Alliance, pk: int) -> Publication:
    return get_object_or_404(Publication.objects.only("pk", "file"), alliance=alliance, pk=pk)


def alliance_workgroups(*, alliance: Alliance) -> QuerySet[Workgroup]:
    return Workgroup.objects.filter(alliance=alliance).order_by("name", "pk")


def publication_author_choices(
    *, alliance: Alliance, keep: list[int] | None = None
) -> QuerySet[Membership]:
    """Active members who may be named as authors, plus those named already (`keep`)."""
    wanted = Q(is_active=True)
    if keep:
        # A former member stays an author of what they wrote.
        wanted |= Q(pk__in=keep)
    return (
        Membership.objects.filter(alliance=alliance)
        .filter(wanted)
        .select_related("user", "organization")
        .order_by("user__full_name", "pk")
    )


def publication_organization_choices(
    *, alliance: Alliance, keep: list[int] | None = None
) -> QuerySet[Organization]:
    wanted = Q(is_active=True)
    if keep:
        wanted |= Q(pk__in=keep)
    return Organization.objects.filter(alliance=alliance).filter(wanted).order_by("name", "pk")


# Resources
# ------------------------------------------------------------------------------


@dataclass
class ResourceEntry:
    resource: Resource
    filename: str
    file_type: str  # "PDF", "DOCX"…
    size: int | None  # None: the stored file is missing


@dataclass
class ResourceGroup:
    """Resources under one heading: a program year, or every year (`program_year` None)."""

    heading: str
    program_year: ProgramYear | None
    is_current: bool = False
    entries: list[ResourceEntry] = field(default_factory=list)


def document_entry(resource: Resource) -> ResourceEntry:
    filename = resource.file.name.rsplit("/", 1)[-1]
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    try:
        size = resource.file.size
    except OSError:
        # A file lost from storage shows as unavailable instead of breaking the page.
        size = None
    return ResourceEntry(
        resource=resource, filename=filename, file_type=extension.upper(), size=size
    )


def resource_groups(
    *, alliance: Alliance, today: datetime.date | None = None
) -> list[ResourceGroup]:
    """The current year's resources first, then those for every year, then the other years
    by program year, newest first. Two queries whatever the number of resources."""
    current = current_program_year(alliance=alliance, today=today)
    resources = (
        Resource.objects.filter(alliance=alliance)
        .select_related("program_year")
        .order_by("-program_year__starts_on", "-published_on", "title", "pk")
    )
    every_year = ResourceGroup(heading="All years", program_year=None)
    by_year: dict[int, ResourceGroup] = {}
    for resource in resources:
        year = resource.program_year
        if year is None:
            every_year.entries.append(document_entry(resource))
            continue
        if year.pk not in by_year:
            by_year[year.pk] = ResourceGroup(
                heading=f"Program year {year.name}",
                program_year=year,
                is_current=current is not None and year.pk == current.pk,
            )
        by_year[year.pk].entries.append(document_entry(resource))
    current_group = [g for g in by_year.values() if g.is_current]
    other_years = [g for g in by_year.values() if not g.is_current]
    return [*current_group, *([every_year] if every_year.entries else []), *other_years]


def resource_with_file(*, alliance: Alliance, pk: int) -> Resource:
    return get_object_or_404(Resource.objects.only("pk", "file"), alliance=alliance, pk=pk)
