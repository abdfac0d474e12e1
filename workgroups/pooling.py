"""Pooled values and aim progress: pure arithmetic, unit-tested by hand.

Pooled rates are sums of numerators over sums of denominators, times the
measure's scale — never an average of the organizations' rates, which would
weigh a 50-bed hospital like a 900-bed one.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

RATE, PERCENTAGE, COUNT, MILESTONE = "rate", "percentage", "count", "milestone"


class Observation(NamedTuple):
    """One organization's reading of a measure for a period.

    A named tuple: a digest run makes one for each of 350,000 readings, and a
    frozen dataclass took two and a half times as long to make (it sets each
    field through object.__setattr__); it stays immutable and small.
    """

    organization_id: int
    period: datetime.date
    numerator: Decimal | None
    denominator: Decimal | None
    achieved: bool | None


@dataclass(frozen=True)
class PooledPoint:
    period: datetime.date
    value: Decimal | None  # None: nobody reported
    numerator: Decimal
    denominator: Decimal
    reporting: tuple[int, ...]  # organization ids
    missing: tuple[int, ...]  # expected but not reported


def organization_value(kind: str, scale: Decimal, obs: Observation) -> Decimal | None:
    if kind == MILESTONE:
        return None if obs.achieved is None else Decimal(100 if obs.achieved else 0)
    if obs.numerator is None:
        return None
    if kind == COUNT:
        return obs.numerator
    if not obs.denominator:
        return None
    return obs.numerator / obs.denominator * scale


def pool(
    *,
    kind: str,
    scale: Decimal,
    periods: Sequence[datetime.date],
    expected: dict[int, datetime.date],
    observations: Iterable[Observation],
) -> list[PooledPoint]:
    """One pooled point per period.

    `expected` maps each participating organization to the first period it is
    expected to report (its join date's period): it is *missing* from then on
    when it has no reading, and is never silently dropped.
    """
    by_period: dict[datetime.date, list[Observation]] = defaultdict(list)
    for obs in observations:
        by_period[obs.period].append(obs)
    due_by_period = _due_by_period(periods, expected)
    points = []
    for period in periods:
        reported = reported_of(kind, by_period.get(period, ()))
        reporting = tuple(sorted(o.organization_id for o in reported))
        due = due_by_period[period]
        missing = tuple(sorted(due.difference(reporting)))
        numerator = sum((o.numerator or 0 for o in reported), Decimal(0))
        denominator = sum((o.denominator or 0 for o in reported), Decimal(0))
        value = None
        if kind == MILESTONE:
            # "100% of us will have made progress": the share of all expected
            # organizations; one that has not reported has not shown progress.
            numerator = Decimal(sum(1 for o in reported if o.achieved))
            denominator = Decimal(len(due | set(reporting)))
            value = numerator / denominator * 100 if reported and denominator else None
        elif kind == COUNT:
            value = numerator if reported else None
        elif denominator:
            value = numerator / denominator * scale
        points.append(PooledPoint(period, value, numerator, denominator, reporting, missing))
    return points


def is_reported(kind: str, obs: Observation) -> bool:
    """Whether `obs` counts for its period: exactly when organization_value is not None."""
    if kind == MILESTONE:
        return obs.achieved is not None
    if kind == COUNT:
        return obs.numerator is not None
    return obs.numerator is not None and bool(obs.denominator)


def reported_of(kind: str, observations: Iterable[Observation]) -> list[Observation]:
    """The observations that count (`is_reported`), tested in one comprehension:
    a digest run pools a million observations, and a call each was a third of it."""
    if kind == MILESTONE:
        return [o for o in observations if o.achieved is not None]
    if kind == COUNT:
        return [o for o in observations if o.numerator is not None]
    return [o for o in observations if o.numerator is not None and o.denominator]


def _due_by_period(
    periods: Sequence[datetime.date], expected: dict[int, datetime.date]
) -> dict[datetime.date, frozenset[int]]:
    """The organizations expected to have reported by each period: the set
    grows as the periods pass, so it is built once, not once per period."""
    joined = sorted(expected.items(), key=lambda item: item[1])
    due, taken, by_period = set(), 0, {}
    for period in sorted(set(periods)):
        while taken < len(joined) and joined[taken][1] <= period:
            due.add(joined[taken][0])
            taken += 1
        by_period[period] = frozenset(due)
    return by_period


@dataclass(frozen=True)
class Progress:
    share: Decimal | None  # 0 = baseline, 1 = target reached; may exceed 1 or go below 0
    expected_share: Decimal  # where a straight line from start to due date stands today
    on_pace: bool | None

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)

    @property
    def bar_percent(self) -> int:
        """For a progress bar: clamped to 0–100."""
        return max(0, min(100, self.percent or 0))


def progress(
    *,
    baseline: Decimal,
    target: Decimal,
    current: Decimal | None,
    starts_on: datetime.date,
    due_on: datetime.date,
    today: datetime.date,
) -> Progress:
    """How far from the frozen baseline toward the target, and whether on pace."""
    span = (due_on - starts_on).days
    elapsed = min(max((today - starts_on).days, 0), span)
    expected = Decimal(elapsed) / Decimal(span) if span > 0 else Decimal(1)
    if current is None or target == baseline:
        return Progress(None, expected, None)
    share = (current - baseline) / (target - baseline)
    return Progress(share, expected, share >= expected)
