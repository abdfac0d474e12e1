"""Pooled values and aim progress against hand calculations."""

import datetime
from decimal import Decimal as D

from workgroups.periods import (
    last_closed_period,
    next_period,
    period_label,
    period_of,
    periods_between,
)
from workgroups.pooling import COUNT, MILESTONE, PERCENTAGE, RATE, Observation, pool, progress

JAN, FEB = datetime.date(2021, 1, 1), datetime.date(2021, 2, 1)


def obs(org, period, num=None, den=None, achieved=None):
    return Observation(
        org, period, None if num is None else D(num), None if den is None else D(den), achieved
    )


def test_osha_rate_pools_sums_not_an_average_of_rates():
    # Org 1: 2 recordables in 40,000 hours → 10.0 per 200,000 h.
    # Org 2: 3 recordables in 160,000 hours → 3.75.
    # Org 3 joined but did not report January.
    # Pooled: (2 + 3) × 200,000 ÷ (40,000 + 160,000) = 5.0 (the average of rates, 6.875, is wrong).
    [point] = pool(
        kind=RATE,
        scale=D(200000),
        periods=[JAN],
        expected={1: JAN, 2: JAN, 3: JAN},
        observations=[obs(1, JAN, 2, 40000), obs(2, JAN, 3, 160000)],
    )
    assert point.value == D(5)
    assert (point.numerator, point.denominator) == (D(5), D(200000))
    assert point.reporting == (1, 2)
    assert point.missing == (3,)


def test_an_organization_is_missing_only_from_when_it_joined():
    points = pool(
        kind=RATE,
        scale=D(200000),
        periods=[JAN, FEB],
        expected={1: JAN, 2: FEB},
        observations=[obs(1, JAN, 1, 100000)],
    )
    assert points[0].missing == ()
    assert points[1].missing == (1, 2)
    assert points[1].value is None  # nobody reported: a gap, not a zero


def test_percentage_and_count():
    [pct] = pool(
        kind=PERCENTAGE,
        scale=D(100),
        periods=[JAN],
        expected={1: JAN, 2: JAN},
        observations=[obs(1, JAN, 9, 10), obs(2, JAN, 1, 30)],
    )
    assert pct.value == D(25)  # 10 of 40
    [count] = pool(
        kind=COUNT,
        scale=D(1),
        periods=[JAN],
        expected={1: JAN, 2: JAN},
        observations=[obs(1, JAN, 4), obs(2, JAN, 7)],
    )
    assert count.value == D(11)


def test_milestone_is_the_share_of_all_expected_organizations():
    # 4 organizations: 2 made progress, 1 did not, 1 has not reported → 2 of 4 = 50%.
    [point] = pool(
        kind=MILESTONE,
        scale=D(1),
        periods=[JAN],
        expected={1: JAN, 2: JAN, 3: JAN, 4: JAN},
        observations=[
            obs(1, JAN, achieved=True),
            obs(2, JAN, achieved=True),
            obs(3, JAN, achieved=False),
        ],
    )
    assert point.value == D(50)
    assert point.missing == (4,)


def test_progress_toward_a_25_percent_reduction():
    # Baseline 4.0, target 3.0 (−25%), now 3.5: halfway. Aim runs 2020-10-01 → 2021-10-01;
    # on 2021-04-01, 182 of 365 days have passed: expected ≈ 0.4986, so on pace.
    result = progress(
        baseline=D("4.0"),
        target=D("3.0"),
        current=D("3.5"),
        starts_on=datetime.date(2020, 10, 1),
        due_on=datetime.date(2021, 10, 1),
        today=datetime.date(2021, 4, 1),
    )
    assert result.share == D("0.5") and result.percent == 50 and result.on_pace
    behind = progress(
        baseline=D("4.0"),
        target=D("3.0"),
        current=D("3.8"),
        starts_on=datetime.date(2020, 10, 1),
        due_on=datetime.date(2021, 10, 1),
        today=datetime.date(2021, 4, 1),
    )
    assert behind.percent == 20 and behind.on_pace is False


def test_progress_can_go_backwards_and_the_bar_stays_in_range():
    worse = progress(
        baseline=D(4),
        target=D(3),
        current=D(5),
        starts_on=JAN,
        due_on=datetime.date(2022, 1, 1),
        today=FEB,
    )
    assert worse.percent == -100 and worse.bar_percent == 0
    unknown = progress(
        baseline=D(4),
        target=D(3),
        current=None,
        starts_on=JAN,
        due_on=datetime.date(2022, 1, 1),
        today=FEB,
    )
    assert unknown.share is None and unknown.on_pace is None


def test_periods():
    assert period_of(datetime.date(2021, 5, 17), "quarterly") == datetime.date(2021, 4, 1)
    assert next_period(datetime.date(2021, 12, 1), "monthly") == datetime.date(2022, 1, 1)
    assert next_period(datetime.date(2021, 10, 1), "quarterly") == datetime.date(2022, 1, 1)
    assert (
        len(periods_between(datetime.date(2020, 10, 1), datetime.date(2021, 9, 30), "monthly"))
        == 12
    )
    assert last_closed_period(datetime.date(2021, 1, 15), "monthly") == datetime.date(2020, 12, 1)
    assert last_closed_period(datetime.date(2021, 1, 15), "quarterly") == datetime.date(2020, 10, 1)
    assert period_label(datetime.date(2021, 7, 1), "quarterly") == "Q3 2021"
    assert period_label(datetime.date(2021, 7, 1), "monthly") == "Jul 2021"
