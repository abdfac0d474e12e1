"""Progress digests: who gets one, when, and what it says (docs/email-and-tasks.md).

* **Who**: active members of an active user whose preference is weekly or
  monthly, and CEOs left on "default" while the alliance's cadence is not off.
* **When**: a period is a week (ISO, in the alliance's zone) or a calendar
  month. Its digest is due from the alliance's weekday or day of the month at
  `digest_hour` local time for CATCH_UP (a day), so an hourly job that missed
  the hour (downtime) catches up; later than that the period's digest is not
  sent. One outbox row per member and period: kind "digest", about the
  membership, key "weekly:2026-W47" or "monthly:2026-11" — a second run in the
  same period finds the row and queues nothing.
* **What**, per member: for each active workgroup their organization takes part
  in, each measure's pooled value beside their organization's latest value, the
  aim's progress from its frozen baseline, run-chart signals that are new since
  their last digest, and the closed periods their organization has not
  reported; their organization's goals; the meetings (of an audience they are
  in) and roundtables of the next 60 days with their RSVP; roundtable recordings
  and collective-voice publications added since their last digest.
* **Since** is the creation of the member's previous digest that was not
  failed or withheld, but never before the start of the previous period: news
  is at most about two periods old, even after a long pause.
* **Nothing new** (no row is queued): no new signal, no reading entered or
  corrected in their workgroups' measures or their goals' measures, no new
  recording or publication, and no upcoming event that was added or changed
  since, or that starts before the next digest is due. Missing periods alone
  do not make a digest: they would repeat every period until reported.

Queries do not grow with the number of recipients. Everyone's digest history
is one query per period. What every member of the alliance shares
(workgroups, measures, events, publications, and the readings, streamed a
measure at a time and let go) is loaded once per run by `load_feed` (7
queries); then each batch of up to BATCH_SIZE members costs 3 queries to build
(the page of members, their organizations' goals, their meeting and roundtable
registrations) and an INSERT per PART_SIZE digests to queue (which returns
the new ids on PostgreSQL; SQLite reads them back). On PostgreSQL a worker's
run writes each part on a second connection while it renders the next
(outbox.Writer). Pooled values, run
charts and progress are computed by workgroups.selectors.summarize once per
measure (and once per moment a member's "since" needs), not per member. The
per-member parts are Jinja2 templates (alliance/notifications/jinja.py) and
the MIME is written by alliance/notifications/mime.py: a digest costs about
3 ms, measured by `make bench` (docs/performance.md).
"""

from __future__ import annotations

import bisect
import datetime
import logging
import re
import zoneinfo
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.headerregistry import Address
from email.utils import parseaddr
from functools import partial
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Greatest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import mark_safe

from alliance.models import Alliance, OutgoingEmail, Publication
from alliance.notifications import jinja, outbox
from alliance.notifications.branding import LOGO_CID, logo_attachment
from alliance.notifications.content import fill_frame, render_frame
from alliance.notifications.unsubscribe import BulkHeaders
from members.models import DigestPreference, Membership, Role
from roundtables.models import Roundtable, RoundtableRegistration
from sessions.models import Meeting, Registration
from sessions.selectors import times_for
from sessions.services import is_invited
from workgroups.models import Goal, Measure, Participation, Reading, Workgroup
from workgroups.periods import last_closed_period, period_label
from workgroups.pooling import Observation, organization_value, reported_of
from workgroups.pooling import progress as progress_toward
from workgroups.selectors import (
    MeasureSummary,
    chart_analysis,
    chart_periods,
    pooled_series,
    summarize,
)

logger = logging.getLogger(__name__)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")

KIND = "digest"
TEMPLATE_DIR = "notifications/email"
TEMPLATE = f"{TEMPLATE_DIR}/digest"
BATCH_SIZE = 500
# A batch's digests are queued in parts of this many, each written (by an
# outbox.Writer) while the next part renders. Half a batch: a part rendering
# beside a part being written holds about what one batch did. A whole batch
# beside another raised the run's peak memory by 30 MB at 10,000 CEOs.
PART_SIZE = BATCH_SIZE // 2
UPCOMING_DAYS = 60
Cadence = Alliance.DigestCadence
CADENCES = (Cadence.WEEKLY, Cadence.MONTHLY)
# A digest that never reached the member does not count as their last one.
DELIVERED_OR_ON_ITS_WAY = (
    OutgoingEmail.Status.QUEUED,
    OutgoingEmail.Status.SENDING,
    OutgoingEmail.Status.SENT,
)
# The hourly job sends a period's digests from its scheduled hour until this
# much later: a run missed (downtime) is made up by the next one. Not longer:
# members skipped for having nothing new are looked at again on every run in
# the window, and a digest should not turn up days after its day.
CATCH_UP = datetime.timedelta(hours=24)


# When
# ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPeriod:
    cadence: str
    key: str  # the outbox key: "weekly:2026-W47", "monthly:2026-11"
    label: str  # "week of 16 November 2026", "November 2026"
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    scheduled_at: datetime.datetime  # due from here, for CATCH_UP
    previous_starts_at: datetime.datetime
    next_scheduled_at: datetime.datetime

    @property
    def catch_up_until(self) -> datetime.datetime:
        return min(self.scheduled_at + CATCH_UP, self.ends_at)


def digest_period(*, alliance: Alliance, cadence: str, now: datetime.datetime) -> DigestPeriod:
    """The week or month containing `now` in the alliance's zone, and its schedule."""
    zone = zoneinfo.ZoneInfo(alliance.time_zone)
    today = now.astimezone(zone).date()
    if cadence == Cadence.WEEKLY:
        start = today - datetime.timedelta(days=today.weekday())
        following, previous = (start + datetime.timedelta(days=d) for d in (7, -7))
        offset = datetime.timedelta(days=alliance.digest_weekday)
        scheduled, next_scheduled = start + offset, following + offset
        year, week, _ = start.isocalendar()
        key = f"weekly:{year}-W{week:02d}"
        label = f"week of {dateformat.format(start, 'j F Y')}"
    elif cadence == Cadence.MONTHLY:
        start = today.replace(day=1)
        following = (start + datetime.timedelta(days=31)).replace(day=1)
        previous = (start - datetime.timedelta(days=1)).replace(day=1)
        scheduled = start.replace(day=alliance.digest_day_of_month)
        next_scheduled = following.replace(day=alliance.digest_day_of_month)
        key = f"monthly:{start:%Y-%m}"
        label = dateformat.format(start, "F Y")
    else:
        raise ValueError(f"No digest period for cadence {cadence!r}.")

    def at(day: datetime.date, hour: int = 0) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone)

    return DigestPeriod(
        cadence=cadence,
        key=key,
        label=label,
        starts_at=at(start),
        ends_at=at(following),
        scheduled_at=at(scheduled, alliance.digest_hour),
        previous_starts_at=at(previous),
        next_scheduled_at=at(next_scheduled, alliance.digest_hour),
    )


def due_periods(
    *, alliance: Alliance, now: datetime.datetime, force: bool = False
) -> list[DigestPeriod]:
    """The current week and month if their digest is due; with `force`, whatever
    the schedule."""
    periods = [digest_period(alliance=alliance, cadence=c, now=now) for c in CADENCES]
    return [p for p in periods if force or p.scheduled_at <= now < p.catch_up_until]


def effective_cadence(*, membership: Membership, alliance: Alliance) -> str | None:
    """Weekly, monthly or None: the member's choice, else the alliance's for CEOs."""
    if membership.digest in (DigestPreference.WEEKLY, DigestPreference.MONTHLY):
        return membership.digest
    if (
        membership.digest == DigestPreference.DEFAULT
        and membership.role == Role.CEO
        and alliance.digest_cadence != Cadence.OFF
    ):
        return alliance.digest_cadence
    return None


# Who
# ------------------------------------------------------------------------------


def recipients(
    *, alliance: Alliance, period: DigestPeriod, subscribed_only: bool = True
) -> QuerySet[Membership]:
    """Active members who get this period's cadence, by pk: page it (`[:BATCH_SIZE]`
    after the last pk); `with_digest_history` then leaves out those who already
    have this period's digest."""
    members = Membership.objects.filter(
        alliance=alliance, is_active=True, user__is_active=True
    ).select_related("user", "organization")
    if subscribed_only:
        wanted = Q(digest=period.cadence)
        if alliance.digest_cadence == period.cadence:
            wanted |= Q(digest=DigestPreference.DEFAULT, role=Role.CEO)
        members = members.filter(wanted)
    return members.order_by("pk")


def digest_history(
    *, alliance: Alliance, period: DigestPeriod, memberships: list[Membership] | None = None
) -> dict[int, tuple[datetime.datetime | None, bool]]:
    """{membership pk: (their previous digest's creation, whether they have this
    period's)}, for `memberships` or for everyone in the alliance: one query, by
    the outbox's unique (kind, object_ref, …) index. (Asked per member in a
    correlated subquery, SQLite scanned the alliance's whole outbox for each one.)
    """
    rows = OutgoingEmail.objects.filter(alliance=alliance, kind=KIND)
    if memberships is not None:
        rows = rows.filter(object_ref__in=[outbox.object_ref(m) for m in memberships])
    rows = (
        rows.order_by()
        .values("object_ref")
        .annotate(
            last=Max(
                "created_at",
                filter=Q(status__in=DELIVERED_OR_ON_ITS_WAY) & ~Q(key=period.key),
            ),
            sent=Count("pk", filter=Q(key=period.key)),
        )
        .values_list("object_ref", "last", "sent")
    )
    prefix = f"{Membership._meta.label_lower}:"
    return {
        int(ref.removeprefix(prefix)): (last, bool(sent))
        for ref, last, sent in rows
        if ref.startswith(prefix)
    }


def with_digest_history(
    *,
    alliance: Alliance,
    period: DigestPeriod,
    memberships: list[Membership],
    unsent_only: bool = True,
    history: dict | None = None,
) -> list[Membership]:
    """The page's members with `last_digest_at` (their previous digest's creation),
    without those who have this period's digest (unless not `unsent_only`).

    `history` (from `digest_history`, for the whole run) saves the page's query.
    """
    if history is None:
        history = digest_history(alliance=alliance, period=period, memberships=memberships)
    members = []
    for membership in memberships:
        membership.last_digest_at, sent = history.get(membership.pk, (None, False))
        if not (sent and unsent_only):
            members.append(membership)
    return members


def since_moments(history: dict, period: DigestPeriod) -> set[datetime.datetime]:
    """Every `since` a member of the run can have (see `_since`): the moments
    `load_feed` works the run charts out at."""
    return {period.previous_starts_at} | {
        max(last, period.previous_starts_at) for last, sent in history.values() if last
    }


def digest_recipients(
    *, alliance: Alliance, now: datetime.datetime, force: bool = False
) -> list[tuple[DigestPeriod, Membership]]:
    """Everyone due a digest at `now` (and not yet sent it), with the period.

    For a look at the list; sending pages through `recipients` in batches.
    """
    return [
        (period, membership)
        for period in due_periods(alliance=alliance, now=now, force=force)
        for membership in with_digest_history(
            alliance=alliance,
            period=period,
            memberships=list(recipients(alliance=alliance, period=period)),
        )
    ]


# The alliance's shared data, loaded once per run
# ------------------------------------------------------------------------------


@dataclass
class MeasureData:
    """What digests show of a measure. No reading is kept: at 10,000 organizations
    they were most of a run's memory (360,000 `Observation`s)."""

    measure: Measure
    url: str
    workgroup: WorkgroupData | None = None
    in_goals: bool = False
    # How many readings had been entered at a moment (see `_entered_by`): those
    # entered by the run's first moment, and the entry times (POSIX seconds,
    # oldest first) of the others.
    entered_first: datetime.datetime | None = None
    entered_by_first: int = 0
    entered_times: array = field(default_factory=lambda: array("d"))
    changed_at: datetime.datetime | None = None  # the newest reading's entry or correction
    summary: MeasureSummary | None = None
    # Each organization's latest value and its period, as shown.
    latest_own: dict[int, tuple[str, str]] = field(default_factory=dict)
    # The latest value in the chart's periods, by organization: its goals' progress.
    latest_for_goals: dict[int, tuple[datetime.date, Decimal]] = field(default_factory=dict)
    missing: dict[int, list[str]] = field(default_factory=dict)
    # The run chart's signals as it stood at a moment, by (readings entered, last
    # closed period) then: see `_signals_at`.
    signals_then: dict[tuple, frozenset] = field(default_factory=dict)
    signals_by_moment: dict[datetime.datetime, frozenset] = field(default_factory=dict)


@dataclass
class WorkgroupData:
    workgroup: Workgroup
    url: str
    expected: dict[int, datetime.date] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    measures: list[MeasureData] = field(default_factory=list)


@dataclass
class Feed:
    """Everything a digest shows that does not depend on who reads it."""

    alliance: Alliance
    now: datetime.datetime
    today: datetime.date  # in the alliance's zone
    since_floor: datetime.datetime
    workgroups: dict[int, WorkgroupData]
    workgroups_of: dict[int, list[WorkgroupData]]  # by organization
    measures: dict[int, MeasureData]
    meetings: list[Meeting]
    roundtables: list[Roundtable]  # upcoming
    recordings: list[Roundtable]  # recording added or changed since the floor
    publications: list[Publication]
    urls: dict[str, str]
    logo: dict | None  # the inline attachment, or None: the name alone
    from_email: str
    # Pieces shown to many members, built and rendered once (see `_fragments`).
    _fragments: dict = field(default_factory=dict)


def load_feed(
    *,
    alliance: Alliance,
    now: datetime.datetime,
    since_floor: datetime.datetime,
    moments: Iterable[datetime.datetime] = (),
) -> Feed:
    """Workgroups, participations and readings (streamed as values), measures,
    events, recordings and publications: 7 queries.

    `moments`: the `since` of the members the feed is for (`since_moments`);
    what the run charts showed then is worked out while the readings are loaded.
    """
    zone = zoneinfo.ZoneInfo(alliance.time_zone)
    today = now.astimezone(zone).date()
    horizon = now + datetime.timedelta(days=UPCOMING_DAYS)
    slug = alliance.slug

    active = {
        workgroup.pk: workgroup
        for workgroup in Workgroup.objects.filter(
            alliance=alliance, status=Workgroup.Status.ACTIVE
        ).select_related("program_year")
    }
    workgroups: dict[int, WorkgroupData] = {}
    workgroups_of: dict[int, list[WorkgroupData]] = defaultdict(list)
    # Values, streamed: at 10,000 organizations, participations as model
    # instances (with their organizations) were a tenth of a digest run.
    participations = stream_rows(
        Participation.objects.filter(workgroup_id__in=list(active))
        .order_by("workgroup__name", "workgroup_id", "organization_id")
        .values_list("workgroup_id", "organization_id", "joined_on", "organization__name")
    )
    for workgroup_id, organization_id, joined_on, name in participations:
        data = workgroups.get(workgroup_id)
        if data is None:
            workgroup = active[workgroup_id]
            data = workgroups[workgroup_id] = WorkgroupData(
                workgroup=workgroup,
                url=_url("workgroups:detail", slug, workgroup_slug=workgroup.slug),
            )
        data.expected[organization_id] = joined_on
        data.names[organization_id] = name
        workgroups_of[organization_id].append(data)

    # Workgroup measures, and goals' own measures (no workgroup, or any measure a goal uses).
    measure_rows = (
        Measure.objects.filter(alliance=alliance)
        .filter(
            Q(workgroup_id__in=list(workgroups))
            | Q(workgroup__isnull=True)
            | Exists(Goal.objects.filter(alliance=alliance, measure=OuterRef("pk")))
        )
        .annotate(in_goals=Exists(Goal.objects.filter(alliance=alliance, measure=OuterRef("pk"))))
        .select_related("aim", "workgroup__program_year")
        .order_by("name", "pk")
    )
    measures: dict[int, MeasureData] = {}
    for measure in measure_rows:
        workgroup = workgroups.get(measure.workgroup_id)
        if workgroup is not None:
            # The same workgroup object the participations loaded.
            measure.workgroup = workgroup.workgroup
        data = measures[measure.pk] = MeasureData(
            measure=measure,
            url=_url("workgroups:measure", slug, measure_id=measure.pk),
            workgroup=workgroup,
            in_goals=measure.in_goals,
        )
        if workgroup is not None:
            workgroup.measures.append(data)
    # As things stood at `now`: a staff preview or a test may look at another
    # moment. Streamed (a server-side cursor) and taken a measure at a time.
    readings = (
        Reading.objects.filter(
            alliance=alliance, measure_id__in=list(measures), entered_at__lte=now
        )
        .order_by("measure_id", "entered_at", "pk")
        .values_list("measure_id", *_feed_columns())
    )
    moments = sorted(set(moments))
    # The participants' ids, to share (see _take_readings).
    taking = {"today": today, "moments": moments, "organization_ids": {o: o for o in workgroups_of}}
    unread = dict(measures)
    rows = stream_rows(readings)
    if connection.vendor != "postgresql":
        rows = ((*row[:-2], row[-2].timestamp(), row[-1].timestamp()) for row in rows)
    for measure_id, measure_rows in groupby(rows, key=itemgetter(0)):
        _take_readings(
            unread.pop(measure_id), (row[1:] for row in measure_rows), alliance, **taking
        )
    for data in unread.values():
        _take_readings(data, (), alliance, **taking)

    meetings = list(
        Meeting.objects.filter(
            alliance=alliance,
            status=Meeting.Status.SCHEDULED,
            starts_at__gte=now,
            starts_at__lt=horizon,
        ).order_by("starts_at", "pk")
    )
    roundtables, recordings = [], []
    for roundtable in (
        Roundtable.objects.filter(alliance=alliance)
        .filter(
            Q(status=Roundtable.Status.SCHEDULED, starts_at__gte=now, starts_at__lt=horizon)
            | (~Q(recording_url="") & Q(updated_at__gte=since_floor, updated_at__lte=now))
        )
        .order_by("starts_at", "pk")
    ):
        if roundtable.recording_url and since_floor <= roundtable.updated_at <= now:
            recordings.append(roundtable)
        if (
            roundtable.status == Roundtable.Status.SCHEDULED
            and roundtable.starts_at
            and (now <= roundtable.starts_at < horizon)
        ):
            roundtables.append(roundtable)
    publications = list(
        Publication.objects.filter(
            alliance=alliance, created_at__gte=since_floor, created_at__lte=now
        ).order_by("-published_on", "-pk")
    )
    return Feed(
        alliance=alliance,
        now=now,
        today=today,
        since_floor=since_floor,
        workgroups=workgroups,
        workgroups_of=dict(workgroups_of),
        measures=measures,
        meetings=meetings,
        roundtables=roundtables,
        recordings=recordings,
        publications=publications,
        urls=_portal_urls(alliance, meetings=meetings, roundtables=roundtables + recordings),
        logo=logo_attachment(alliance=alliance),
        from_email=_from_email(alliance),
    )


def stream_rows(values_queryset, *, chunk_size: int = 2000) -> Iterator[tuple]:
    """The rows of a `values_list` queryset, from a server-side cursor on PostgreSQL.

    There, the rows come as psycopg2 makes them: every column the feed reads
    (integers, dates, decimals, booleans, floats) needs no converter, and
    Django's per-row converter pass over 350,000 readings was a sixth of the
    feed. Elsewhere (SQLite stores dates and decimals as text), Django's own
    iterator converts them.
    """
    if connection.vendor != "postgresql":
        yield from values_queryset.iterator(chunk_size=chunk_size)
        return
    sql, params = values_queryset.query.sql_with_params()
    # As Django's own iterator: no server-side cursor where the settings say
    # the pooler in front of PostgreSQL cannot keep one (transaction pooling).
    server_side = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    with connection.chunked_cursor() if server_side else connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


READING_FIELDS = ("organization_id", "period_start", "numerator", "denominator", "achieved")


def _feed_columns() -> tuple:
    """`READING_FIELDS`, then when the reading was entered, and last entered or
    corrected, in seconds.

    On PostgreSQL the times come as numbers from the database: parsing two
    timestamps into datetimes for each of 350,000 readings was a tenth of a
    digest run. (Both sides round the exact microseconds to the nearest
    double, so they compare as the datetimes did.) The numerator and
    denominator come as text, for `_Decimals` to make one Decimal of each
    distinct value. Elsewhere as Django gives them: datetimes, made seconds
    in Python, and Decimals.
    """
    times = (F("entered_at"), Greatest("entered_at", "updated_at"))
    if connection.vendor != "postgresql":
        return (*READING_FIELDS, *times)
    organization, period, numerator, denominator, achieved = READING_FIELDS
    as_text = (Cast(numerator, TextField()), Cast(denominator, TextField()))
    as_seconds = tuple(
        Func(
            time,
            template="EXTRACT(EPOCH FROM %(expressions)s)::double precision",
            output_field=FloatField(),
        )
        for time in times
    )
    return (organization, period, *as_text, achieved, *as_seconds)


class _Decimals(dict):
    """A measure's numerators and denominators, one Decimal per distinct value.

    psycopg2 made two Decimals of every reading: with a measure's 30,000
    readings in hand at 10,000 organizations, they were most of the feed's
    memory, and looking a value up costs a sixth of making one. Keys are the
    values as text (or the Decimals themselves, where Django converted them).
    """

    def __missing__(self, value):
        number = self[value] = None if value is None else Decimal(value)
        return number


def _take_readings(
    data: MeasureData, rows, alliance: Alliance, *, today, moments, organization_ids
) -> None:
    """Keep only what digests show of one measure's readings (`_feed_columns`;
    oldest entry first): the pooled series, run chart and
    aim progress, once for everyone; each organization's latest value and
    missing periods; the signals as they stood at `moments`. The readings
    themselves are let go."""
    measure = data.measure
    observations = []
    data.entered_first = moments[0] if moments else None
    first = data.entered_first.timestamp() if moments else None
    changed_at = None
    decimals = _Decimals()
    for org, period, numerator, denominator, achieved, entered, changed in rows:
        # One int per organization, not one per reading: the summary's points
        # keep the ids of who reported.
        org = organization_ids.get(org, org)
        observations.append(
            Observation(org, period, decimals[numerator], decimals[denominator], achieved)
        )
        if first is not None and entered <= first:
            data.entered_by_first += 1
        else:
            data.entered_times.append(entered)
        if changed_at is None or changed > changed_at:
            changed_at = changed
    if changed_at is not None:
        data.changed_at = datetime.datetime.fromtimestamp(changed_at, tz=datetime.UTC)

    # Each organization's latest reported period (its value worked out once).
    window = set(chart_periods(measure, today)) if data.in_goals else ()
    latest, latest_in_window = {}, {}
    for observation in reported_of(measure.kind, observations):
        org, period = observation.organization_id, observation.period
        known = latest.get(org)
        if known is None or period > known.period:
            latest[org] = observation
        if period in window:
            known = latest_in_window.get(org)
            if known is None or period > known.period:
                latest_in_window[org] = observation
    labels = {}  # one string per period
    # One pair per distinct (value, period) shown, shared by the organizations
    # that have it: at 10,000 organizations, a pair each was 3 MB of the feed.
    shown = {}
    for org, observation in latest.items():
        value = organization_value(measure.kind, measure.scale, observation)
        if observation.period not in labels:
            labels[observation.period] = period_label(observation.period, measure.period)
        pair = (_number(value, measure), labels[observation.period])
        data.latest_own[org] = shown.setdefault(pair, pair)
    for org, observation in latest_in_window.items():
        value = organization_value(measure.kind, measure.scale, observation)
        data.latest_for_goals[org] = (observation.period, value)

    workgroup = data.workgroup
    if workgroup is None:
        return
    data.summary = _summary(data, alliance=alliance, observations=observations, today=today)
    for point in data.summary.points:
        label = period_label(point.period, measure.period)
        for org in point.missing:
            data.missing.setdefault(org, []).append(label)
    # A digest shows the latest pooled point alone: the others' tuples of who
    # reported and who is missing were 2.7 MB of the feed at 10,000 organizations.
    latest = data.summary.latest
    data.summary.points = [latest] if latest else []
    if data.summary.analysis.signals:
        for moment in moments:
            entered = _entered_by(data, moment)
            closed, day = _closed_at(data, alliance, moment)
            if (entered, closed) not in data.signals_then:
                data.signals_then[entered, closed] = _signals(
                    data, observations=observations[:entered], day=day
                )


def _summary(data: MeasureData, *, alliance: Alliance, observations, today) -> MeasureSummary:
    (summary,) = summarize(
        [data.measure],
        alliance=alliance,
        expected=data.workgroup.expected,
        names=data.workgroup.names,
        viewer_organization_id=None,
        observations={data.measure.pk: observations},
        today=today,
    )
    return summary


def _entered_by(data: MeasureData, moment) -> int | None:
    """How many readings had been entered at `moment`; None before the run's
    first moment (not kept). With the last closed period then, it is all the
    run chart showed at `moment` depends on."""
    if data.entered_first is not None and moment < data.entered_first:
        return None
    return data.entered_by_first + bisect.bisect_right(data.entered_times, moment.timestamp())


def _closed_at(data: MeasureData, alliance: Alliance, moment) -> tuple:
    """(the last closed period at `moment`, the alliance's day then)."""
    day = moment.astimezone(zoneinfo.ZoneInfo(alliance.time_zone)).date()
    return last_closed_period(day, data.measure.period), day


def _signals(data: MeasureData, *, observations, day) -> frozenset:
    """The run chart's signals with these readings, on `day`: pooled and analysed
    as `summarize` does, without drawing the chart. A signal is known by its
    rule and first period, so a shift that grows by a point is not news again."""
    measure = data.measure
    points = pooled_series(
        measure, expected=data.workgroup.expected, observations=observations, today=day
    )
    aim = getattr(measure, "aim", None)
    _, analysis = chart_analysis(measure, points, [aim] if aim else [])
    return frozenset((s.rule, s.periods[0]) for s in analysis.signals)


def _url(name: str, slug: str, **kwargs) -> str:
    return settings.SITE_BASE_URL + reverse(name, kwargs={"alliance_slug": slug, **kwargs})


def _portal_urls(alliance: Alliance, *, meetings, roundtables) -> dict[str, str]:
    slug = alliance.slug
    urls = {
        "home": _url("alliance_home", slug),
        "schedule": _url("meetings:schedule", slug),
        "voice": _url("voice:list", slug),
        "my_organization": _url("workgroups:my_organization", slug),
    }
    try:
        # unsubscribe.preferences_url(membership), once for the whole alliance.
        urls["preferences"] = _url("members:preferences", slug)
    except NoReverseMatch:
        urls["preferences"] = ""
    for meeting in meetings:
        urls[f"meeting:{meeting.pk}"] = _url("meetings:detail", slug, meeting_id=meeting.pk)
    for roundtable in roundtables:
        urls[f"roundtable:{roundtable.pk}"] = _url(
            "roundtables:detail", slug, roundtable_id=roundtable.pk
        )
    return urls


# What, per member
# ------------------------------------------------------------------------------


@dataclass
class Digest:
    membership: Membership
    period: DigestPeriod
    since: datetime.datetime
    workgroups: list[dict]
    goals: list[dict]
    events: list[dict]
    recordings: list[dict]
    publications: list[dict]
    new_readings: bool

    @property
    def new_signal_count(self) -> int:
        return sum(len(m["new_signals"]) for w in self.workgroups for m in w["measures"])

    @property
    def summary(self) -> str:
        """One line for the inbox preview: "2 new signals · 3 events in the next 60 days"."""

        def count(number: int, thing: str) -> str:
            return f"{number} {thing}{'' if number == 1 else 's'}"

        parts = []
        if self.new_signal_count:
            parts.append(count(self.new_signal_count, "new signal"))
        if self.events:
            parts.append(f"{count(len(self.events), 'event')} in the next {UPCOMING_DAYS} days")
        if self.recordings:
            parts.append(count(len(self.recordings), "new recording"))
        if self.publications:
            parts.append(count(len(self.publications), "new publication"))
        return " · ".join(parts) or "Your organization's progress"

    @property
    def has_news(self) -> bool:
        return bool(
            self.new_signal_count
            or self.new_readings
            or self.recordings
            or self.publications
            or any(event["is_news"] for event in self.events)
        )


def build_batch(
    *,
    feed: Feed,
    period: DigestPeriod,
    memberships: list[Membership],
) -> list[Digest]:
    """The digests of a page of members (from `with_digest_history`): 2 queries
    whatever its size — their organizations' goals; their meeting and
    roundtable registrations together —, then Python only."""
    if not memberships:
        return []
    alliance = feed.alliance
    for membership in memberships:
        membership.alliance = alliance  # loaded once; helpers may look at it
    ids = [m.pk for m in memberships]
    organizations = {m.organization_id for m in memberships if m.organization_id}

    goals_by_org: dict[int, list[Goal]] = defaultdict(list)
    goals = (
        Goal.objects.filter(alliance=alliance, goal_set__organization_id__in=organizations)
        .select_related("goal_set__program_year")
        .order_by("goal_set__organization_id", "-goal_set__program_year__starts_on", "order", "pk")
    )
    for goal in goals:
        listed = goals_by_org[goal.goal_set.organization_id]
        # Only the latest program year's set.
        if not listed or listed[0].goal_set.program_year_id == goal.goal_set.program_year_id:
            listed.append(goal)

    # Meeting answers and roundtable seats in one query (a UNION).
    answers = []
    if feed.meetings:
        answers.append(
            Registration.objects.filter(
                alliance=alliance,
                membership_id__in=ids,
                meeting_id__in=[m.pk for m in feed.meetings],
            )
            .order_by()
            .annotate(event_kind=Value("meeting"))
            .values_list("event_kind", "meeting_id", "membership_id", "response")
        )
    if feed.roundtables:
        answers.append(
            RoundtableRegistration.objects.filter(
                alliance=alliance,
                membership_id__in=ids,
                roundtable_id__in=[r.pk for r in feed.roundtables],
            )
            .exclude(status=RoundtableRegistration.Status.CANCELLED)
            .order_by()
            .annotate(event_kind=Value("roundtable"))
            .values_list("event_kind", "roundtable_id", "membership_id", "status")
        )
    responses: dict[tuple[int, int], str] = {}
    seats: dict[tuple[int, int], str] = {}
    if answers:
        for event_kind, event_id, membership_id, answer in answers[0].union(*answers[1:], all=True):
            (responses if event_kind == "meeting" else seats)[event_id, membership_id] = answer

    return [
        _digest(
            feed,
            period,
            membership,
            goals=goals_by_org.get(membership.organization_id, []),
            responses=responses,
            seats=seats,
        )
        for membership in memberships
    ]


def _since(membership: Membership, period: DigestPeriod) -> datetime.datetime:
    last = membership.last_digest_at
    return max(last, period.previous_starts_at) if last else period.previous_starts_at


def _digest(feed: Feed, period, membership, *, goals, responses, seats) -> Digest:
    since = _since(membership, period)
    org = membership.organization_id
    workgroups = [
        _workgroup_section(feed, workgroup, org, since)
        for workgroup in feed.workgroups_of.get(org, [])
    ]
    goal_rows = [_goal_row(feed, goal, org) for goal in goals]
    new_readings = any(
        data.changed_at and data.changed_at > since
        for data in (
            *(m for w in feed.workgroups_of.get(org, []) for m in w.measures),
            *(feed.measures[g.measure_id] for g in goals if g.measure_id in feed.measures),
        )
    )
    return Digest(
        membership=membership,
        period=period,
        since=since,
        workgroups=workgroups,
        goals=goal_rows,
        events=_events(feed, period, membership, since, responses=responses, seats=seats),
        recordings=[_recording(feed, r) for r in feed.recordings if r.updated_at > since],
        publications=[_publication(feed, p) for p in feed.publications if p.created_at > since],
        new_readings=new_readings,
    )


def _recording(feed: Feed, roundtable: Roundtable) -> dict:
    return _cached(
        feed,
        ("recording", roundtable.pk),
        lambda: {
            "pk": roundtable.pk,
            "title": roundtable.title,
            "url": feed.urls[f"roundtable:{roundtable.pk}"],
            "when": _date(roundtable.starts_at, feed),
        },
    )


def _publication(feed: Feed, publication: Publication) -> dict:
    # Only a web link goes in the email; a file is on the members' page.
    url = publication.url
    return _cached(
        feed,
        ("publication", publication.pk),
        lambda: {
            "pk": publication.pk,
            "title": publication.title,
            "kind": publication.get_kind_display(),
            "venue": publication.venue,
            "date": dateformat.format(publication.published_on, "j F Y"),
            "url": url if url.startswith(("https://", "http://")) else feed.urls["voice"],
        },
    )


def _news(feed: Feed, digest: Digest) -> dict:
    """The recordings and publications block: the same for everyone with the same news."""
    key = (
        "news",
        tuple(r["pk"] for r in digest.recordings),
        tuple(p["pk"] for p in digest.publications),
    )
    return _cached(
        feed,
        key,
        lambda: _fragments(
            feed,
            "digest_news",
            {"recordings": digest.recordings, "publications": digest.publications},
        ),
    )


def _cached(feed: Feed, key, make):
    if key not in feed._fragments:
        feed._fragments[key] = make()
    return feed._fragments[key]


def _workgroup_section(feed: Feed, workgroup: WorkgroupData, org: int, since) -> dict:
    return {
        "name": workgroup.workgroup.name,
        "url": workgroup.url,
        "measures": [_measure_row(feed, data, org, since) for data in workgroup.measures],
    }


def _measure_row(feed: Feed, data: MeasureData, org: int, since) -> dict:
    own, own_period = data.latest_own.get(org, (None, ""))
    return {
        **_measure_shared(feed, data),
        "own": own,
        "own_period": own_period,
        "missing": data.missing.get(org, []),
        "new_signals": _new_signals(feed, data, since),
    }


def _measure_shared(feed: Feed, data: MeasureData) -> dict:
    """What a measure shows everyone (pooled value, aim), rendered once per run."""
    key = ("measure", data.measure.pk)
    if key in feed._fragments:
        return feed._fragments[key]
    measure, summary = data.measure, data.summary
    latest = summary.latest
    aim = summary.aims[0] if summary.aims else None
    shared = {
        "name": measure.name,
        "unit": measure.unit,
        "url": data.url,
        "direction": measure.get_direction_display(),
        "pooled": _number(latest.value, measure) if latest else None,
        "pooled_period": period_label(latest.period, measure.period) if latest else "",
        "pooled_reporting": len(latest.reporting) if latest else 0,
        "aim": None,
    }
    if aim is not None:
        progress = aim.progress
        baseline = _number(aim.aim.baseline_value, measure)
        target = _number(aim.aim.target, measure)
        shared["aim"] = {
            "statement": aim.aim.statement,
            "baseline": baseline,
            "target": target,
            "due": dateformat.format(aim.aim.due_on, "j F Y"),
            "percent": progress.percent,
            "bar": progress.bar_percent,
            "rest": 100 - progress.bar_percent,
            "bar_text": _bar_text(progress.bar_percent),
            "expected": round(progress.expected_share * 100),
            "pace": "on pace" if progress.on_pace else "behind pace",
            "words": _progress_words(progress.percent, baseline=baseline, target=target),
        }
    shared.update(_fragments(feed, "digest_measure", {"m": shared}, parts=("head", "tail")))
    feed._fragments[key] = shared
    return shared


def _progress_words(percent: int | None, *, baseline: str, target: str) -> str:
    if percent is None:
        return f"No pooled value yet (baseline {baseline}, target {target})"
    if percent >= 100:
        return f"Target reached: {percent}% of the way from the baseline {baseline} to {target}"
    if percent >= 0:
        return f"{percent}% of the way from the baseline {baseline} to the target {target}"
    return f"Further from the target than at the baseline ({baseline}; target {target})"


def _goal_words(percent: int | None) -> str:
    if percent is None:
        return "No value yet"
    if percent < 0:
        return "Further from the theoretical limit than at the baseline"
    return f"{percent}% of the way from the baseline to the theoretical limit"


def _fragments(feed: Feed, name: str, context: dict, *, parts=None) -> dict:
    """`name`.html and .txt rendered once, for every digest that shows them:
    {"html": …, "text": …}, or with `parts`, each a dict of the parts by name.

    Rendering the shared pieces once (not once per member) is most of what
    keeps a batch fast. HTML is escaped here; the result is safe to insert.
    """
    context = {"alliance": feed.alliance, **context}
    rendered = {}
    for suffix, kind in (("html", "html"), ("txt", "text")):
        template = f"{TEMPLATE_DIR}/{name}.{suffix}"

        def render(part, template=template, kind=kind):
            output = render_to_string(template, {**context, "part": part})
            # The digest's own text template decides where lines end.
            return mark_safe(output.rstrip("\n") if kind == "text" else output)  # noqa: S308

        rendered[kind] = render("") if parts is None else {part: render(part) for part in parts}
    return rendered


def _new_signals(feed: Feed, data: MeasureData, since) -> list[str]:
    """Signals on the chart now that were not on it when the last digest went out."""
    signals = data.summary.analysis.signals
    if not signals:
        return []
    before = _signals_at(feed, data, since)
    return [s.description for s in signals if (s.rule, s.periods[0]) not in before]


def _signals_at(feed: Feed, data: MeasureData, moment) -> frozenset:
    """The measure's signals as they stood at `moment`: the readings entered by then,
    the periods closed by then. Worked out by `load_feed` for the run's moments;
    another moment (a feed loaded without them) reads the readings again."""
    # Asked for each member, and a batch's members mostly share one moment
    # (their last digests were written together): looked up once per moment.
    signals = data.signals_by_moment.get(moment)
    if signals is None:
        signals = data.signals_by_moment[moment] = _signals_then(feed, data, moment)
    return signals


def _signals_then(feed: Feed, data: MeasureData, moment) -> frozenset:
    entered = _entered_by(data, moment)
    closed, day = _closed_at(data, feed.alliance, moment)
    if entered is None or (entered, closed) not in data.signals_then:
        rows = (
            Reading.objects.filter(
                alliance=feed.alliance, measure=data.measure, entered_at__lte=moment
            )
            .order_by("entered_at", "pk")
            .values_list(*READING_FIELDS[:5])
        )
        observations = [Observation(*row) for row in rows]
        entered = len(observations)
        if (entered, closed) not in data.signals_then:
            data.signals_then[entered, closed] = _signals(data, observations=observations, day=day)
    return data.signals_then[entered, closed]


def _goal_row(feed: Feed, goal: Goal, org: int) -> dict:
    data = feed.measures.get(goal.measure_id)
    row = {"statement": goal.statement, "due": dateformat.format(goal.due_on, "j F Y")}
    if data is None:
        return {**row, "progress": None}
    measure = data.measure
    # The goal's own series (its organization's readings alone, in the chart's
    # periods, as goal_progress pools it) on the alliance's date; only the latest
    # value is shown.
    latest = data.latest_for_goals.get(org)
    progress = progress_toward(
        baseline=goal.baseline_value,
        target=goal.theoretical_limit,
        current=latest[1] if latest else None,
        starts_on=goal.goal_set.program_year.starts_on,
        due_on=goal.due_on,
        today=feed.today,
    )
    return {
        **row,
        "measure": measure.name,
        "url": data.url,
        "baseline": _number(goal.baseline_value, measure),
        "limit": _number(goal.theoretical_limit, measure),
        "latest": _number(latest[1], measure) if latest else None,
        "latest_period": period_label(latest[0], measure.period) if latest else "",
        "progress": {
            "percent": progress.percent,
            "bar": progress.bar_percent,
            "rest": 100 - progress.bar_percent,
            "bar_text": _bar_text(progress.bar_percent),
            "words": _goal_words(progress.percent),
        },
    }


def _events(feed: Feed, period, membership, since, *, responses, seats) -> list[dict]:
    zone = membership.user.time_zone or feed.alliance.time_zone
    events = []
    for meeting in feed.meetings:
        if not is_invited(meeting, membership):
            continue
        response = responses.get((meeting.pk, membership.pk))
        status = Registration.Response(response).label if response else "You have not answered yet"
        events.append(
            _event(feed, meeting, "Meeting", zone, since, period, status, answered=bool(response))
        )
    for roundtable in feed.roundtables:
        seat = seats.get((roundtable.pk, membership.pk))
        if seat:
            status = RoundtableRegistration.Status(seat).label
        elif roundtable.registration_required:
            status = "You have not registered"
        else:
            status = "Open to all members: no registration needed"
        answered = bool(seat) or not roundtable.registration_required
        events.append(
            _event(feed, roundtable, "Roundtable", zone, since, period, status, answered=answered)
        )
    events.sort(key=lambda event: event["starts_at"])
    return events


def _event(feed: Feed, event, kind, zone, since, period, status, *, answered) -> dict:
    key = ("event", kind, event.pk, zone, status)
    if key not in feed._fragments:
        times = times_for(event, zone)
        shown = {
            "kind": kind,
            "title": event.title,
            "when": times.event,
            "when_yours": times.viewer,
            "format": event.get_format_display() if kind == "Meeting" else "Webinar",
            "url": feed.urls[f"{kind.lower()}:{event.pk}"],
            "status": status,
            "answered": answered,
        }
        shown.update(_fragments(feed, "digest_event", {"event": shown}))
        feed._fragments[key] = shown
    return {
        **feed._fragments[key],
        "starts_at": event.starts_at,
        "is_news": (
            event.created_at > since
            or event.updated_at > since
            or event.starts_at < period.next_scheduled_at
        ),
    }


def _bar_text(percent: int) -> str:
    """The plain-text part's progress bar: [######----]."""
    filled = round(percent / 10)
    return "#" * filled + "-" * (10 - filled)


def _number(value: Decimal | None, measure: Measure) -> str | None:
    if value is None:
        return None
    return f"{value:,.{measure.decimals}f}"


def _date(moment: datetime.datetime | None, feed: Feed) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zoneinfo.ZoneInfo(feed.alliance.time_zone))
    # Formatted once per day: Django's dateformat was 0.05 ms a digest.
    return _cached(feed, ("date", local.date()), lambda: dateformat.format(local, "j F Y"))


# Rendering and queueing
# ------------------------------------------------------------------------------


def render_digest(*, feed: Feed, digest: Digest) -> dict:
    """The `outbox.enqueue_rendered` arguments of one digest (nothing is saved).

    The body and the text are Jinja2 (digest.jinja.html, .jinja.txt), rendered
    per member; the HTML frame around the body is rendered once (`_frame`).
    """
    alliance, membership = feed.alliance, digest.membership
    reply_to = alliance.contact_email
    headers_for = _cached(feed, "headers", lambda: BulkHeaders(what="digest", reply_to=reply_to))
    headers = headers_for(membership)
    # The header's HTTPS link is unsubscribe_url(membership, "digest"): taken from
    # it rather than signed a second time.
    unsubscribe = headers["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
    context = {
        "alliance": alliance,
        "digest": digest,
        "member_name": membership.user.full_name or membership.user.email,
        "organization": membership.organization.name if membership.organization_id else "",
        "since": _date(digest.since, feed),
        "urls": feed.urls,
        "unsubscribe_url": unsubscribe,
        "news": _news(feed, digest) if digest.recordings or digest.publications else None,
        "preferences_url": feed.urls["preferences"],
        "upcoming_days": UPCOMING_DAYS,
        "PORTAL_NAME": settings.PORTAL_NAME,
    }
    subject = outbox.single_line(jinja.render(f"{TEMPLATE}_subject.jinja.txt", context))
    # Sections left out leave blank lines behind in the text template.
    text = jinja.render(f"{TEMPLATE}.jinja.txt", context)
    text = _BLANK_LINES.sub("\n\n", text).strip() + "\n"
    html = fill_frame(
        _frame(feed, digest.period),
        {
            "preheader": escape(digest.summary),
            "content": jinja.render(f"{TEMPLATE}.jinja.html", context),
            "unsubscribe": escape(unsubscribe),
        },
    )
    return {
        "kind": KIND,
        "recipient": membership.user.email,
        "subject": subject,
        "text_body": text,
        "html_body": html,
        "alliance": alliance,
        "about": membership,
        "key": digest.period.key,
        "from_email": feed.from_email,
        "reply_to": reply_to,
        "headers": headers,
        "attachments": [feed.logo] if feed.logo else [],
    }


def _frame(feed: Feed, period: DigestPeriod) -> str:
    """email/base.html around the body (content.render_frame), once per run and period."""
    return _cached(
        feed,
        ("frame", period.key),
        lambda: render_frame(
            {
                "alliance": feed.alliance,
                "title": f"{feed.alliance.short_name} progress digest, {period.label}",
                "logo_cid": LOGO_CID if feed.logo else None,
                "preferences_url": feed.urls["preferences"],
                "unsubscribe_label": "progress digests",
            }
        ),
    )


def _from_email(alliance: Alliance) -> str:
    """The portal's address under the alliance's name: "Alliance name <noreply@…>"."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if not address:
        return settings.DEFAULT_FROM_EMAIL
    return str(Address(display_name=outbox.single_line(alliance.name), addr_spec=address))


def _rows(messages: list[dict]) -> Callable[..., list[outbox.NewEmail]]:
    """A part's rows, to be saved with one INSERT (by an outbox.Writer).

    A member whose digest for the period is queued already (two beat processes
    racing) is skipped by the outbox's unique constraint.
    """
    rows = [outbox.new_row(**message) for message in messages]
    return partial(outbox.enqueue_many, alliance=messages[0]["alliance"], rows=rows)


def _pages(members, size: int) -> Iterator[list[Membership]]:
    """`members` (by pk, see `recipients`) `size` at a time: each page starts
    after the last one's last pk."""
    after = 0
    while page := list(members.filter(pk__gt=after)[:size]):
        yield page
        after = page[-1].pk


@dataclass
class RunResult:
    queued: int = 0
    skipped: int = 0  # nothing new
    batches: int = 0


def send_alliance_digests(
    *,
    alliance: Alliance,
    now: datetime.datetime,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
) -> RunResult:
    """Queue every digest due at `now` (with `force`: this period's, whatever the
    day and hour). Idempotent: members who have this period's row are not loaded.

    Runs inside the alliance's scope (TenantTask, the command). Each part of
    a batch (PART_SIZE digests) is saved in its own transaction, unless the
    caller holds one (see outbox.Writer): a failure keeps the parts before
    it, and the next run carries on where this one stopped.
    """
    result = RunResult()
    periods = due_periods(alliance=alliance, now=now, force=force)
    if not periods:
        return result
    # Everyone's digest history, one query per period: it also says at which
    # moments the feed must know what the run charts showed.
    histories = {p.key: digest_history(alliance=alliance, period=p) for p in periods}
    feed = None
    with outbox.Writer(alliance, name="digest-writes") as write:
        for period in periods:
            for page in _pages(recipients(alliance=alliance, period=period), batch_size):
                result.batches += 1
                history = histories[period.key]
                batch = with_digest_history(
                    alliance=alliance, period=period, memberships=page, history=history
                )
                if not batch:
                    continue
                if feed is None:
                    # Only once someone is due: a run in a period already sent
                    # costs a query per page.
                    feed = load_feed(
                        alliance=alliance,
                        now=now,
                        since_floor=min(p.previous_starts_at for p in periods),
                        moments=set().union(*(since_moments(histories[p.key], p) for p in periods)),
                    )
                messages = []
                for digest in build_batch(feed=feed, period=period, memberships=batch):
                    if not digest.has_news:
                        result.skipped += 1
                        continue
                    messages.append(render_digest(feed=feed, digest=digest))
                    if len(messages) == PART_SIZE:
                        write(_rows(messages))  # while the next part renders
                        messages = []
                if messages:
                    write(_rows(messages))
    result.queued = write.counts[KIND]
    if result.batches:
        logger.info(
            "Digests of alliance %s: %s queued, %s skipped (nothing new), %s batches.",
            alliance.pk,
            result.queued,
            result.skipped,
            result.batches,
        )
    return result


# The staff preview
# ------------------------------------------------------------------------------


@dataclass
class Preview:
    membership: Membership
    period: DigestPeriod
    cadence: str | None  # None: the member gets no digests
    would_send: bool
    message: dict
    digest: Digest


def preview_digest(*, membership: Membership, now: datetime.datetime) -> Preview:
    """The member's digest as it would be sent now; saves nothing.

    A member who gets no digests is shown the alliance's cadence (monthly when
    it is off), so staff can still see what they would get.
    """
    alliance = membership.alliance
    cadence = effective_cadence(membership=membership, alliance=alliance)
    shown = cadence or (
        alliance.digest_cadence if alliance.digest_cadence != Cadence.OFF else Cadence.MONTHLY
    )
    period = digest_period(alliance=alliance, cadence=shown, now=now)
    (member,) = with_digest_history(
        alliance=alliance,
        period=period,
        memberships=[
            recipients(alliance=alliance, period=period, subscribed_only=False).get(
                pk=membership.pk
            )
        ],
        unsent_only=False,
    )
    feed = load_feed(
        alliance=alliance,
        now=now,
        since_floor=period.previous_starts_at,
        moments=[_since(member, period)],
    )
    (digest,) = build_batch(feed=feed, period=period, memberships=[member])
    return Preview(
        membership=member,
        period=period,
        cadence=cadence,
        would_send=cadence is not None and digest.has_news,
        message=render_digest(feed=feed, digest=digest),
        digest=digest,
    )
