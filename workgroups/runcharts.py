"""Run-chart analysis: the IHI rules for telling a real change from noise.

Pure functions, no database: a measure page hands in its periods and values
and gets back the median and the signals to show members. The rules are the
four probability-based rules of Perla, Provost & Murray, "The run chart: a
simple analytical tool for learning from variation in healthcare processes",
BMJ Quality & Safety 2011;20:46-51 (the rules IHI teaches):

* shift — 6 or more consecutive points all above or all below the median;
* trend — 5 or more consecutive points all going up or all going down;
* too few or too many runs — compared with a table for the number of points
  not on the median;
* astronomical point — an obviously different value, judged by staff.

Each threshold is set so that random data alone sets the rule off rarely
(about 5 times in 100 or less); that is why they are what they are and why
they must not be "tuned".

Missing periods are skipped by every rule: they neither count towards nor
break a shift, a trend or a run, because a month nobody reported is not
evidence either way. They are never dropped from the chart (see ``svg.py``).
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

__all__ = [
    "RUNS_TABLE",
    "Point",
    "RunChartAnalysis",
    "Signal",
    "analyse",
    "median",
    "period_label",
    "runs_limits",
]

SHIFT_LENGTH = 6
TREND_LENGTH = 5

# Limits for the number of runs, keyed by the number of useful observations
# (points not on the median): (lower, upper). Fewer runs than `lower` is "too
# few runs", more than `upper` is "too many runs".
#
# Source: Perla, Provost & Murray 2011, Table 1 is adapted from Swed &
# Eisenhart, Ann. Math. Statist. 1943;14:66-87. The rows of Table 1 could not
# be retrieved when this was written, so these are computed the same way:
# from the exact distribution of the number of runs for the split of the n
# useful observations closest to even (n // 2 on one side, the rest on the
# other), at the conventional 5% two-sided level: `lower` is the largest L
# with P(runs < L) <= 0.025 and `upper` the smallest U with
# P(runs > U) <= 0.025. tests/test_runcharts.py recomputes every row. A
# printed table may differ by one run in some rows, depending on how it
# rounds the 2.5% tails; check Table 1 before relying on a count that sits
# exactly on a limit.
RUNS_TABLE: dict[int, tuple[int, int]] = {
    10: (3, 9), 11: (4, 9), 12: (4, 10), 13: (4, 11), 14: (4, 12), 15: (5, 12),
    16: (5, 13), 17: (6, 13), 18: (6, 14), 19: (6, 15), 20: (7, 15), 21: (7, 16),
    22: (8, 16), 23: (8, 17), 24: (8, 18), 25: (9, 18), 26: (9, 19), 27: (10, 19),
    28: (10, 20), 29: (10, 21), 30: (11, 21), 31: (11, 22), 32: (12, 22), 33: (12, 23),
    34: (12, 24), 35: (13, 24), 36: (13, 25), 37: (14, 25), 38: (14, 26), 39: (14, 26),
    40: (15, 27), 41: (15, 28), 42: (16, 28), 43: (16, 29), 44: (17, 29), 45: (17, 30),
    46: (17, 31), 47: (18, 31), 48: (18, 32), 49: (19, 32), 50: (19, 33), 51: (20, 33),
    52: (20, 34), 53: (20, 35), 54: (21, 35), 55: (21, 36), 56: (22, 36), 57: (22, 37),
    58: (23, 37), 59: (23, 38), 60: (24, 38),
}  # fmt: skip

# Names a period in a description ("Jan 2021" or "Q1 2021").
Labeller = Callable[[datetime.date], str]

# Signals that start in the same period are listed in this order.
_RULE_ORDER = {"shift": 0, "trend": 1, "too_few_runs": 2, "too_many_runs": 3, "astronomical": 4}

# English month names, not the C library's locale-dependent ones: the labels
# must not change with the server's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Point:
    """One period of a measure.

    ``period`` is the first day of the month or quarter. ``value`` is None
    when nothing was reported: the period is shown as missing, never dropped.
    """

    period: datetime.date
    value: float | None


@dataclass(frozen=True)
class Signal:
    """One non-random pattern, worded for members.

    ``rule`` is "shift", "trend", "too_few_runs", "too_many_runs" or
    "astronomical". ``periods`` are the points that make the signal, in
    order: for a shift, the points off the median (a point on the median
    inside it is left out); for a trend, each value once (a repeat is left
    out); for the runs rules, every useful observation. For shifts and
    trends ``len(periods)`` is the count in ``description``.
    """

    rule: str
    periods: tuple[datetime.date, ...]
    description: str

    @property
    def label(self) -> str:
        """The rule's name for a badge: "Shift", "Too few runs"…"""
        return self.rule.replace("_", " ").capitalize()


@dataclass(frozen=True)
class RunChartAnalysis:
    """What the run chart shows: its centre line and its signals."""

    median: float | None  # None when there is no data
    baseline_periods: tuple[datetime.date, ...]  # the points the median came from
    useful_observations: int  # points not on the median
    runs: int  # number of runs (0 if no useful observations)
    signals: tuple[Signal, ...]  # in chronological order of their first period


def median(values: Sequence[float]) -> float:
    """The middle value (the mean of the two middle values for an even count).

    The run chart's centre line is the median, not the mean, because one
    extreme month must not move the line that every other month is judged
    against. Raises ValueError for no values: there is no median of nothing.
    """
    ordered = sorted(values)
    count = len(ordered)
    if count == 0:
        raise ValueError("median() of no values")
    middle = count // 2
    if count % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def runs_limits(useful_observations: int) -> tuple[int, int] | None:
    """(lower, upper) limits for the number of runs, or None.

    None outside 10..60 useful observations: with fewer than 10 the runs rule
    cannot tell anything from chance, and the table stops at 60.
    """
    return RUNS_TABLE.get(useful_observations)


def period_label(period: datetime.date, *, quarterly: bool = False) -> str:
    """ "Jan 2021", or "Q1 2021" for quarterly data."""
    if quarterly:
        return f"Q{(period.month - 1) // 3 + 1} {period.year}"
    return f"{_MONTHS[period.month - 1]} {period.year}"


def analyse(
    points: Sequence[Point],
    *,
    baseline_count: int | None = None,
    astronomical: Collection[datetime.date] = (),
    quarterly: bool = False,
) -> RunChartAnalysis:
    """Apply the IHI run-chart rules to a series.

    ``points`` may come in any order; they are taken in period order, and a
    period may appear only once (ValueError otherwise). The median comes from
    the first ``baseline_count`` points that have a value (all of them when
    None or when fewer exist): a frozen baseline, so that improvement is
    judged against where the work started and not against a line that moves
    with the improvement. Every rule is then applied to every point that has
    a value, against that median.

    ``astronomical`` holds the periods staff have judged obviously different
    (the rule is judgement, not arithmetic); each one that has a value gives
    one signal. ``quarterly`` only changes how periods are named in the
    descriptions ("Q1 2021" instead of "Jan 2021").
    """
    if baseline_count is not None and baseline_count < 1:
        raise ValueError("baseline_count must be at least 1")
    ordered = sorted(points, key=lambda point: point.period)
    for before, after in itertools.pairwise(ordered):
        if before.period == after.period:
            raise ValueError(f"period {before.period.isoformat()} appears more than once")
    present = [point for point in ordered if point.value is not None]
    if not present:
        return RunChartAnalysis(
            median=None, baseline_periods=(), useful_observations=0, runs=0, signals=()
        )

    baseline = present if baseline_count is None else present[:baseline_count]
    centre = median([_value(point) for point in baseline])
    sides = [_side(_value(point), centre) for point in present]
    useful = [(point, side) for point, side in zip(present, sides, strict=True) if side]
    runs = _count_runs([side for _, side in useful])

    label = _labeller(quarterly)
    signals = [
        *_shifts(useful, label),
        *_trends(present, label),
        *_runs_signals(useful, runs, label),
        *_astronomical(present, astronomical, label),
    ]
    signals.sort(key=lambda signal: (signal.periods[0], _RULE_ORDER[signal.rule]))
    return RunChartAnalysis(
        median=centre,
        baseline_periods=tuple(point.period for point in baseline),
        useful_observations=len(useful),
        runs=runs,
        signals=tuple(signals),
    )


def _value(point: Point) -> float:
    """The value of a point already known to have one."""
    if point.value is None:
        raise TypeError(f"{point.period.isoformat()} has no value")
    return point.value


def _same(a: float, b: float) -> bool:
    """Equal for the rules' purposes.

    Rates arrive as quotients (numerator / denominator x multiplier), so a
    value that is "on the median" or "the same as last month" can differ in
    the last binary digit; a relative tolerance of 1e-9 is far below any
    precision a member can see.
    """
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _side(value: float, centre: float) -> int:
    """+1 above the median, -1 below, 0 on it (on the median is not useful)."""
    if _same(value, centre):
        return 0
    return 1 if value > centre else -1


def _count_runs(sides: Sequence[int]) -> int:
    """Runs among useful observations: a new run starts at each crossing."""
    if not sides:
        return 0
    return 1 + sum(1 for before, after in itertools.pairwise(sides) if before != after)


def _labeller(quarterly: bool) -> Labeller:
    def label(period: datetime.date) -> str:
        return period_label(period, quarterly=quarterly)

    return label


def _span(periods: Sequence[datetime.date], label: Labeller) -> str:
    return f"{label(periods[0])} – {label(periods[-1])}"


def _shifts(useful: Sequence[tuple[Point, int]], label: Labeller) -> list[Signal]:
    """Every maximal block of 6+ useful points on one side of the median.

    Working over useful points only is what makes a point on the median
    neither add to nor break a shift, and a missing period was never in the
    list at all.
    """
    signals = []
    start = 0
    for end in range(1, len(useful) + 1):
        if end < len(useful) and useful[end][1] == useful[start][1]:
            continue
        if end - start >= SHIFT_LENGTH:
            periods = tuple(point.period for point, _ in useful[start:end])
            where = "above" if useful[start][1] > 0 else "below"
            signals.append(
                Signal(
                    rule="shift",
                    periods=periods,
                    description=(
                        f"Shift: {len(periods)} points in a row {where} the median "
                        f"({_span(periods, label)})."
                    ),
                )
            )
        start = end
    return signals


def _trends(present: Sequence[Point], label: Labeller) -> list[Signal]:
    """Every maximal stretch of 5+ points all going up or all going down.

    A value equal to the one before it is counted once (the repeat is left
    out), so it neither adds to nor breaks a trend. Two trends may share
    their turning point (1 2 3 4 5 4 3 2 1 is a trend up and a trend down).
    """
    distinct: list[Point] = []
    for point in present:
        if not distinct or not _same(_value(point), _value(distinct[-1])):
            distinct.append(point)
    steps = [
        1 if _value(after) > _value(before) else -1
        for before, after in itertools.pairwise(distinct)
    ]
    signals = []
    start = 0  # index into steps; the stretch covers distinct[start .. end]
    for end in range(1, len(steps) + 1):
        if end < len(steps) and steps[end] == steps[start]:
            continue
        stretch = distinct[start : end + 1]
        if len(stretch) >= TREND_LENGTH:
            periods = tuple(point.period for point in stretch)
            direction = "up" if steps[start] > 0 else "down"
            signals.append(
                Signal(
                    rule="trend",
                    periods=periods,
                    description=(
                        f"Trend: {len(periods)} points in a row going {direction} "
                        f"({_span(periods, label)})."
                    ),
                )
            )
        start = end
    return signals


def _runs_signals(useful: Sequence[tuple[Point, int]], runs: int, label: Labeller) -> list[Signal]:
    """Too few runs (the data stays on one side too long) or too many (it
    crosses the median more often than chance would: e.g. two alternating
    sources mixed into one measure)."""
    limits = runs_limits(len(useful))
    if limits is None:
        return []
    lower, upper = limits
    periods = tuple(point.period for point, _ in useful)
    count = f"{runs} run{'s' if runs != 1 else ''} in {len(useful)} points not on the median"
    if runs < lower:
        return [
            Signal(
                rule="too_few_runs",
                periods=periods,
                description=(
                    f"Too few runs: only {count} ({_span(periods, label)}); "
                    f"fewer than {lower} rarely happens by chance."
                ),
            )
        ]
    if runs > upper:
        return [
            Signal(
                rule="too_many_runs",
                periods=periods,
                description=(
                    f"Too many runs: {count} ({_span(periods, label)}); "
                    f"more than {upper} rarely happens by chance."
                ),
            )
        ]
    return []


def _astronomical(
    present: Sequence[Point], flagged: Collection[datetime.date], label: Labeller
) -> list[Signal]:
    """One signal per flagged period that has a value (staff judgement)."""
    wanted = set(flagged)
    return [
        Signal(
            rule="astronomical",
            periods=(point.period,),
            description=(
                f"Astronomical point: {label(point.period)} was flagged by staff "
                "as clearly different from all the others."
            ),
        )
        for point in present
        if point.period in wanted
    ]
