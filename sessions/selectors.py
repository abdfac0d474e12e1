"""Read queries for the schedule and meeting pages."""

import datetime
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from alliance.models import Alliance, ProgramYear
from members.models import Membership, Organization

from .models import AgendaItem, Guest, Meeting, Registration


@dataclass(frozen=True)
class Times:
    """A meeting's time in its own zone, and in the viewer's when that differs."""

    event: str
    viewer: str | None


def times_for(meeting: Meeting, viewer_zone: str) -> Times | None:
    if meeting.starts_at is None:
        return None
    own = zoneinfo.ZoneInfo(meeting.time_zone)

    def span(zone):
        start = meeting.starts_at.astimezone(zone)
        text = f"{start:%A %-d %B %Y, %-I:%M %p}"
        if meeting.ends_at:
            end = meeting.ends_at.astimezone(zone)
            text += (
                f" – {end:%-I:%M %p}"
                if end.date() == start.date()
                else (f" – {end:%A %-d %B, %-I:%M %p}")
            )
        return f"{text} {start:%Z}"

    viewer = None
    if viewer_zone and viewer_zone != meeting.time_zone:
        other = span(zoneinfo.ZoneInfo(viewer_zone))
        viewer = other if other != span(own) else None
    return Times(event=span(own), viewer=viewer)


def schedule_meetings(
    *,
    alliance: Alliance,
    program_year: ProgramYear,
    membership: Membership,
    kind: str = "",
    format: str = "",
    mine: bool = False,
) -> QuerySet[Meeting]:
    my_response = Registration.objects.filter(meeting=OuterRef("pk"), membership=membership)
    meetings = (
        Meeting.objects.filter(alliance=alliance, program_year=program_year)
        .select_related("host_organization", "workgroup")
        .annotate(my_response=Subquery(my_response.values("response")[:1]))
        .order_by("starts_at", "original_starts_at", "pk")
    )
    if kind:
        meetings = meetings.filter(kind=kind)
    if format:
        meetings = meetings.filter(format=format)
    if mine:
        meetings = meetings.filter(registrations__membership=membership).exclude(
            registrations__response=Registration.Response.NOT_ATTENDING
        )
    return meetings


def schedule_order(item) -> tuple:
    """Meetings and roundtables by date; undated (postponed) ones by their original date."""
    when = item.starts_at or item.original_starts_at
    return (when is None, when or datetime.datetime.max.replace(tzinfo=datetime.UTC), item.pk)


def by_month(meetings, zone: str):
    """[(month label, [meetings])], in the alliance's zone; undated ones last."""
    months: OrderedDict[str, list] = OrderedDict()
    tz = zoneinfo.ZoneInfo(zone)
    for meeting in meetings:
        when = meeting.starts_at or meeting.original_starts_at
        label = (
            f"{when.astimezone(tz):%B %Y}"
            if meeting.starts_at
            else "Postponed until further notice"
        )
        months.setdefault(label, []).append(meeting)
    undated = months.pop("Postponed until further notice", None)
    if undated:
        months["Postponed until further notice"] = undated
    return list(months.items())


def meeting_detail(*, alliance: Alliance, pk: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.select_related("alliance", "host_organization", "workgroup", "program_year")
        .prefetch_related(
            Prefetch(
                "agenda",
                queryset=AgendaItem.objects.select_related(
                    "presenter_member__user", "presenter_speaker"
                ),
            ),
            Prefetch("guest_links", queryset=Guest.objects.select_related("speaker")),
        )
        .annotate(
            attending=Count(
                "registrations",
                filter=~Q(registrations__response=Registration.Response.NOT_ATTENDING),
            )
        ),
        alliance=alliance,
        pk=pk,
    )


def registration_of(*, meeting: Meeting, membership: Membership) -> Registration | None:
    return Registration.objects.filter(meeting=meeting, membership=membership).first()


def host_rotation(*, alliance: Alliance, program_year: ProgramYear):
    """Which organization hosted which community-of-practice session; who has not yet."""
    sessions = list(
        Meeting.objects.filter(
            alliance=alliance, program_year=program_year, kind=Meeting.Kind.COP_SESSION
        )
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("host_organization")
        .order_by("starts_at")
    )
    organizations = Organization.objects.filter(alliance=alliance, is_active=True)
    hosted = {m.host_organization_id for m in sessions}
    return {
        "sessions": sessions,
        "not_yet": [o for o in organizations if o.pk not in hosted],
    }


def program_years(*, alliance: Alliance) -> list[ProgramYear]:
    return list(ProgramYear.objects.filter(alliance=alliance).order_by("-starts_on"))
