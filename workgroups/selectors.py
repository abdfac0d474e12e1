"""Read queries for workgroup pages: each page costs a fixed number of queries.

One query loads the readings of every measure on a page; pooled values, run
charts and progress are computed from them in Python (workgroups.pooling,
workgroups.runcharts), so a page's cost does not grow with the data.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from alliance.models import Alliance, Publication
from members.models import Membership, Organization

from . import runcharts
from .models import (
    Commitment,
    FocusProposal,
    Goal,
    Measure,
    Participation,
    Reading,
    Workgroup,
)
from .periods import last_closed_period, period_label, periods_between
from .pooling import Observation, PooledPoint, Progress, organization_value, pool, progress
from .svg import run_chart_svg


@dataclass
class AimSummary:
    aim: object
    progress: Progress
    current: Decimal | None


@dataclass
class PeerValue:
    label: str
    value: Decimal | None
    is_own: bool


@dataclass
class MeasureSummary:
    measure: Measure
    points: list[PooledPoint]
    own: dict[datetime.date, Decimal | None]
    analysis: runcharts.RunChartAnalysis
    chart: str
    aims: list[AimSummary] = field(default_factory=list)
    peers: list[PeerValue] = field(default_factory=list)
    organization_names: dict[int, str] = field(default_factory=dict)

    @property
    def latest(self) -> PooledPoint | None:
        return next((p for p in reversed(self.points) if p.value is not None), None)

    @property
    def rows(self):
        """The chart's data, newest first, for the table beside it."""
        for point in reversed(self.points):
            yield {
                "label": period_label(point.period, self.measure.period),
                "point": point,
                "own": self.own.get(point.period),
                "missing": [self.organization_names.get(o, "") for o in point.missing],
            }


def workgroup_list(*, alliance: Alliance) -> QuerySet[Workgroup]:
    return (
        Workgroup.objects.filter(alliance=alliance)
        .select_related("program_year")
        .annotate(
            organization_count=Count("participations", distinct=True),
            measure_count=Count("measures", distinct=True),
        )
        .order_by("status", "name")
    )


#: The newest publications a workgroup page lists; the collective voice has them all.
WORKGROUP_PAGE_PUBLICATIONS = 10


def workgroup_detail(
    *,
    alliance: Alliance,
    slug: str,
    viewer: Membership | None = None,
    with_publications: bool = False,
) -> Workgroup:
    """The workgroup with what its page shows.

    `viewer`: annotates `viewer_is_lead` in the same query (the page has no
    query to spare). `with_publications`: its newest publications
    (`recent_publications`, one query) and `publication_count`.
    """
    workgroups = Workgroup.objects.select_related("program_year").prefetch_related(
        "focus_areas",
        Prefetch("participations", queryset=Participation.objects.select_related("organization")),
        Prefetch("measures", queryset=Measure.objects.select_related("aim")),
    )
    if viewer is not None:
        workgroups = workgroups.annotate(
            viewer_is_lead=Exists(
                Workgroup.leads.through.objects.filter(
                    workgroup_id=OuterRef("pk"), membership_id=viewer.pk
                )
            )
        )
    if with_publications:
        newest = Publication.objects.filter(alliance=alliance).order_by("-published_on", "-pk")
        workgroups = workgroups.annotate(publication_count=Count("publications")).prefetch_related(
            Prefetch(
                "publications",
                queryset=newest[:WORKGROUP_PAGE_PUBLICATIONS],
                to_attr="recent_publications",
            )
        )
    return get_object_or_404(workgroups, alliance=alliance, slug=slug)


def measure_detail(*, alliance: Alliance, pk: int) -> Measure:
    return get_object_or_404(
        Measure.objects.select_related("workgroup__program_year", "aim"),
        alliance=alliance,
        pk=pk,
    )


def expected_from_participations(participations) -> dict[int, datetime.date]:
    """Who should report a workgroup's measures, from when."""
    return {p.organization_id: p.joined_on for p in participations}


def measure_expected(measure: Measure) -> tuple[dict[int, datetime.date], dict[int, str]]:
    """Who should report one measure and their names: participants, or the goal's owner."""
    if measure.workgroup_id:
        participations = list(
            Participation.objects.filter(workgroup_id=measure.workgroup_id).select_related(
                "organization"
            )
        )
        return (
            expected_from_participations(participations),
            {p.organization_id: p.organization.name for p in participations},
        )
    owners = {
        g.goal_set.organization_id: g.goal_set.organization.name
        for g in Goal.objects.filter(measure=measure).select_related("goal_set__organization")
    }
    return dict.fromkeys(owners, measure.first_period), owners


def load_observations(*, alliance: Alliance, measures, organization=None):
    """Every reading of the measures (of one organization, if given), by measure: one query."""
    readings = Reading.objects.filter(alliance=alliance)
    if measures is not None:
        readings = readings.filter(measure__in=measures)
    if organization is not None:
        readings = readings.filter(organization=organization)
    by_measure = defaultdict(list)
    for row in readings.values_list(
        "measure_id", "organization_id", "period_start", "numerator", "denominator", "achieved"
    ):
        by_measure[row[0]].append(Observation(*row[1:]))
    return by_measure


def chart_periods(measure: Measure, today: datetime.date) -> list[datetime.date]:
    last = last_closed_period(today, measure.period)
    if measure.workgroup_id:
        last = min(last, measure.workgroup.program_year.ends_on)
    return periods_between(measure.first_period, last, measure.period)


def pooled_series(measure: Measure, *, expected, observations, today) -> list[PooledPoint]:
    """The measure's pooled points over its chart's periods on `today`; an
    organization is expected from its join date or the measure's first period."""
    return pool(
        kind=measure.kind,
        scale=measure.scale,
        periods=chart_periods(measure, today),
        expected={org: max(joined, measure.first_period) for org, joined in expected.items()},
        observations=observations,
    )


def summarize(
    measures: list[Measure],
    *,
    alliance: Alliance,
    expected: dict[int, datetime.date],
    names: dict[int, str],
    viewer_organization_id: int | None,
    observations=None,
    today: datetime.date | None = None,
    with_peers: bool = False,
) -> list[MeasureSummary]:
    """Pooled series, own values, run-chart analysis and aim progress of each measure.

    `expected` maps the organizations that should report to the date they joined;
    `observations` may be passed when the caller already loaded the readings.
    """
    today = today or timezone.localdate()
    if observations is None:
        observations = load_observations(alliance=alliance, measures=measures)
    summaries = []
    for measure in measures:
        measure_observations = observations.get(measure.pk, [])
        points = pooled_series(
            measure, expected=expected, observations=measure_observations, today=today
        )
        own = {
            o.period: organization_value(measure.kind, measure.scale, o)
            for o in measure_observations
            if o.organization_id == viewer_organization_id
        }
        aim = getattr(measure, "aim", None)  # select_related: no query
        aims = [aim] if aim else []
        summary = MeasureSummary(
            measure=measure,
            points=points,
            own=own,
            organization_names=names,
            **_chart(measure, points, aims),
        )
        latest = summary.latest
        current = latest.value if latest else None
        summary.aims = [
            AimSummary(
                aim=aim,
                current=current,
                progress=progress(
                    baseline=aim.baseline_value,
                    target=aim.target,
                    current=current,
                    starts_on=aim.starts_on,
                    due_on=aim.due_on,
                    today=today,
                ),
            )
            for aim in aims
        ]
        if with_peers:
            summary.peers = _peers(
                measure,
                measure_observations,
                names,
                viewer_organization_id,
                alliance.show_peer_names,
                latest,
            )
        summaries.append(summary)
    return summaries


def chart_analysis(measure: Measure, points: list[PooledPoint], aims) -> tuple[list, object]:
    """The run chart's series and its analysis (signals, median), without drawing it."""
    aim = aims[0] if aims else None
    baseline_count = None
    if aim is not None:
        baseline_count = len(periods_between(aim.baseline_start, aim.baseline_end, measure.period))
    series = [
        runcharts.Point(p.period, None if p.value is None else float(p.value)) for p in points
    ]
    astronomical = {
        datetime.date.fromisoformat(f["period"])
        for f in measure.astronomical_points
        if f.get("period")
    }
    analysis = runcharts.analyse(
        series,
        baseline_count=baseline_count,
        astronomical=astronomical,
        quarterly=measure.period == Measure.Period.QUARTERLY,
    )
    return series, analysis


def _chart(measure: Measure, points: list[PooledPoint], aims) -> dict:
    aim = aims[0] if aims else None
    series, analysis = chart_analysis(measure, points, aims)
    span = (
        (
            f"{period_label(points[0].period, measure.period)} – "
            f"{period_label(points[-1].period, measure.period)}"
        )
        if points
        else "no periods yet"
    )
    description = f"Pooled {measure.name} by {measure.get_period_display().lower()}, {span}."
    if analysis.median is not None:
        description += f" Median {analysis.median:.{measure.decimals}f}."
    if aim is not None:
        description += f" Target {aim.target:.{measure.decimals}f}."
    chart = run_chart_svg(
        series,
        analysis,
        chart_id=f"chart-{measure.pk}",
        title=f"{measure.name} (pooled)",
        description=description,
        target=float(aim.target) if aim else None,
        unit=measure.unit,
        decimals=measure.decimals,
        quarterly=measure.period == Measure.Period.QUARTERLY,
        annotations=[(aim.starts_on, "Work toward the aim starts")] if aim else (),
    )
    return {"analysis": analysis, "chart": chart}


def _peers(measure, observations, names, own_id, show_names, latest) -> list[PeerValue]:
    """The latest period's value of each organization, named or blinded."""
    if latest is None:
        return []
    at_latest = {o.organization_id: o for o in observations if o.period == latest.period}
    # A stable order that reveals nothing: not by name, not by id.
    order = sorted(names, key=lambda org: hashlib.sha256(f"{measure.pk}:{org}".encode()).digest())
    peers = []
    for index, org in enumerate(order):
        obs = at_latest.get(org)
        value = organization_value(measure.kind, measure.scale, obs) if obs else None
        if org == own_id:
            label = f"{names[org]} (your organization)"
        elif show_names:
            label = names[org]
        else:
            label = f"Organization {_letter(index)}"
        peers.append(PeerValue(label=label, value=value, is_own=org == own_id))
    return peers


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def completeness(*, workgroup: Workgroup, today: datetime.date | None = None):
    """Which organization has not reported which period, per measure."""
    today = today or timezone.localdate()
    participations = list(workgroup.participations.all())
    measures = list(workgroup.measures.all())
    reported = set(
        Reading.objects.filter(alliance=workgroup.alliance, measure__in=measures).values_list(
            "measure_id", "organization_id", "period_start"
        )
    )
    board = []
    for measure in measures:
        periods = chart_periods(measure, today)
        rows = []
        for participation in participations:
            since = max(participation.joined_on, measure.first_period)
            missing = [
                p
                for p in periods
                if p >= since.replace(day=1)
                and (measure.pk, participation.organization_id, p) not in reported
            ]
            due = sum(1 for p in periods if p >= since.replace(day=1))
            rows.append(
                {
                    "organization": participation.organization,
                    "missing": [period_label(p, measure.period) for p in missing],
                    "due": due,
                    "reported": due - len(missing),
                }
            )
        board.append({"measure": measure, "rows": rows})
    return board


def data_due(*, organization: Organization, reported, today: datetime.date | None = None):
    """The organization's workgroup measures and the closed periods it has not reported.

    `reported` is the set of (measure id, period) it has reported.
    """
    today = today or timezone.localdate()
    participations = (
        Participation.objects.filter(organization=organization)
        .select_related("workgroup__program_year")
        .prefetch_related("workgroup__measures")
    )
    due = []
    for participation in participations:
        for measure in participation.workgroup.measures.all():
            measure.workgroup = participation.workgroup  # already loaded
            since = max(participation.joined_on, measure.first_period).replace(day=1)
            missing = [
                p
                for p in chart_periods(measure, today)
                if p >= since and (measure.pk, p) not in reported
            ]
            due.append(
                {
                    "measure": measure,
                    "missing": missing,
                    "labels": [period_label(p, measure.period) for p in missing],
                }
            )
    return due


def goals_for(*, organization: Organization, program_year) -> list[Goal]:
    """The organization's goals with their set and measure: one query."""
    return list(
        Goal.objects.filter(
            goal_set__organization=organization, goal_set__program_year=program_year
        )
        .select_related("goal_set", "measure__aim")
        .order_by("order")
    )


def goal_progress(goal: Goal, summary: MeasureSummary, program_year) -> Progress:
    """How far from the baseline toward the theoretical limit, and whether on pace."""
    latest = summary.latest
    return progress(
        baseline=goal.baseline_value,
        target=goal.theoretical_limit,
        current=latest.value if latest else None,
        starts_on=program_year.starts_on,
        due_on=goal.due_on,
        today=timezone.localdate(),
    )


def commitments_for(*, organization: Organization) -> QuerySet[Commitment]:
    return Commitment.objects.filter(organization=organization).select_related("updated_by")


def proposals(*, alliance: Alliance) -> QuerySet[FocusProposal]:
    return (
        FocusProposal.objects.filter(alliance=alliance)
        .select_related("proposed_by__user", "workgroup")
        .annotate(endorsements=Count("endorsed_by"))
        .order_by("status", "-endorsements", "-created_at")
    )
