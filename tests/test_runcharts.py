"""The IHI run-chart rules (workgroups.runcharts), worked by hand.

Every expected result is computed in the comment above its assertion, so a
reader can check the rule without running the code. Series start in January
2021 unless said otherwise; "+" is above the median, "-" below, "=" on it.
"""

import datetime
from math import comb

import pytest

from workgroups.runcharts import (
    RUNS_TABLE,
    Point,
    analyse,
    median,
    period_label,
    runs_limits,
)


def month(index: int, start: datetime.date = datetime.date(2021, 1, 1)) -> datetime.date:
    """The first day of the month `index` months after `start` (0 = start)."""
    total = start.year * 12 + start.month - 1 + index
    return datetime.date(total // 12, total % 12 + 1, 1)


def series(values, start: datetime.date = datetime.date(2021, 1, 1)) -> list[Point]:
    """Consecutive monthly points; None is a missing month."""
    return [Point(month(i, start), value) for i, value in enumerate(values)]


def months(*indexes: int) -> tuple[datetime.date, ...]:
    return tuple(month(i) for i in indexes)


def rules(analysis) -> list[str]:
    return [signal.rule for signal in analysis.signals]


def only(analysis, rule: str):
    found = [signal for signal in analysis.signals if signal.rule == rule]
    assert len(found) == 1, analysis.signals
    return found[0]


# --- median -----------------------------------------------------------------


def test_median_odd_count_is_the_middle_value():
    # sorted: 1 3 [5] 7 9
    assert median([9, 1, 5, 3, 7]) == 5


def test_median_even_count_is_the_mean_of_the_two_middle_values():
    # sorted: 1 [3 7] 9 -> (3 + 7) / 2 = 5
    assert median([7, 1, 9, 3]) == 5


def test_median_of_unsorted_values_with_negatives_and_repeats():
    # sorted: -4 -1 [2 2] 8 10 -> 2
    assert median([10, 2, -1, 8, 2, -4]) == 2
    # sorted: 0.1 [0.2] 0.3 -> 0.2
    assert median([0.3, 0.1, 0.2]) == pytest.approx(0.2)


def test_median_of_one_value_and_of_nothing():
    assert median([4.5]) == 4.5
    with pytest.raises(ValueError):
        median([])


# --- shift ------------------------------------------------------------------

# 12 points, all distinct: the six lowest are 1 1.5 2 2.5 3 3.5, the six
# highest 6 6.5 7 8 9 10, so the median is (3.5 + 6) / 2 = 4.75.
#   month:  Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
#   value:  3   1   2   8   6   9   7   10  6.5 2.5 1.5 3.5
#   side:   -   -   -   +   +   +   +   +   +   -   -   -
# Apr..Sep is 6 in a row above -> a shift. Steps: - + + - + - + - - - + ; the
# longest one-way stretch is 10 6.5 2.5 1.5 (4 points) -> no trend. Runs: 3
# (- + -) over 12 useful points, table 12 -> (4, 10): 3 < 4 -> too few runs
# too, and it starts in January, before the shift.
SHIFT_OF_SIX = [3, 1, 2, 8, 6, 9, 7, 10, 6.5, 2.5, 1.5, 3.5]


def test_shift_of_exactly_six_is_a_signal():
    analysis = analyse(series(SHIFT_OF_SIX))
    assert analysis.median == 4.75
    assert analysis.useful_observations == 12
    assert analysis.runs == 3
    assert rules(analysis) == ["too_few_runs", "shift"]
    shift = only(analysis, "shift")
    assert shift.periods == months(3, 4, 5, 6, 7, 8)
    assert shift.description == "Shift: 6 points in a row above the median (Apr 2021 – Sep 2021)."


def test_shift_of_five_is_not_a_signal():
    # September 6.5 -> 2.8. Sorted: 1 1.5 2 2.5 2.8 [3 3.5] 6 7 8 9 10, so the
    # median is (3 + 3.5) / 2 = 3.25.
    #   value:  3  1  2  8  6  9  7  10  2.8  2.5  1.5  3.5
    #   side:   -  -  -  +  +  +  +  +   -    -    -    +
    # Longest block on one side: Apr..Aug, 5 -> no shift. Runs: - + - + = 4,
    # not < 4 -> no runs signal. Longest one-way stretch 10 2.8 2.5 1.5 (4).
    values = [3, 1, 2, 8, 6, 9, 7, 10, 2.8, 2.5, 1.5, 3.5]
    analysis = analyse(series(values))
    assert analysis.median == 3.25
    assert analysis.runs == 4
    assert analysis.signals == ()


def test_point_on_the_median_neither_adds_to_nor_breaks_a_shift():
    # 13 points; sorted: 1 1.5 2 2.5 3 3.5 [5] 6 6.5 7 8 9 10 -> median 5,
    # and July's 5 sits on it.
    #   value:  3  1  2  8  6  9  5  7  10  6.5  2.5  1.5  3.5
    #   side:   -  -  -  +  +  +  =  +  +   +    -    -    -
    # Above: Apr May Jun, (Jul skipped), Aug Sep Oct = 6 -> a shift of 6 whose
    # periods leave July out. Useful: 12 (July is not useful); runs 3 -> too few.
    values = [3, 1, 2, 8, 6, 9, 5, 7, 10, 6.5, 2.5, 1.5, 3.5]
    analysis = analyse(series(values))
    assert analysis.median == 5
    assert analysis.useful_observations == 12
    shift = only(analysis, "shift")
    assert shift.periods == months(3, 4, 5, 7, 8, 9)
    assert "6 points in a row above" in shift.description
    assert "trend" not in rules(analysis)


def test_shift_below_and_every_maximal_shift_reported_once():
    # 20 points: ten low values (1..4), then ten high values (11..14).
    # Median: highest low is 4, lowest high is 11 -> (4 + 11) / 2 = 7.5.
    # Sides: 10 x "-" then 10 x "+": two shifts of 10 (not 5 overlapping
    # shifts of 6 each). The values zig-zag, so no trend.
    # Runs: 2 over 20 useful points; table 20 -> (7, 15): 2 < 7 -> too few.
    # Order: the January shift and too-few-runs both start in January; shift
    # is listed first; then the November shift.
    low = [2, 1, 3, 2, 4, 1, 3, 2, 4, 1]
    high = [12, 11, 13, 12, 14, 11, 13, 12, 14, 11]
    analysis = analyse(series(low + high))
    assert analysis.median == 7.5
    assert analysis.runs == 2
    assert rules(analysis) == ["shift", "too_few_runs", "shift"]
    below, _, above = analysis.signals
    assert below.periods == months(*range(10))
    assert below.description == (
        "Shift: 10 points in a row below the median (Jan 2021 – Oct 2021)."
    )
    assert above.periods == months(*range(10, 20))
    assert "10 points in a row above" in above.description


# --- trend ------------------------------------------------------------------


def test_trend_of_five_up_is_a_signal():
    # 9 points; sorted 1..9 -> median 5.
    #   value:  5  3  4  6  7  9  2  8  1
    #   side:   =  -  -  +  +  +  -  +  -   (no shift)
    #   steps:    -  +  +  +  +  -  +  -
    # Up: 3 4 6 7 9 (Feb..Jun) = 5 points -> a trend. Useful: 8 < 10 -> no
    # runs rule.
    analysis = analyse(series([5, 3, 4, 6, 7, 9, 2, 8, 1]))
    assert analysis.median == 5
    assert rules(analysis) == ["trend"]
    trend = analysis.signals[0]
    assert trend.periods == months(1, 2, 3, 4, 5)
    assert trend.description == "Trend: 5 points in a row going up (Feb 2021 – Jun 2021)."


def test_trend_of_four_is_not_a_signal():
    #   value:  5  3  4  6  9  7  2  8  1      median 5
    #   steps:    -  +  +  +  -  -  +  -
    # Longest up: 3 4 6 9 (4); longest down: 9 7 2 (3) -> no trend.
    # Sides: = - - + + + - + - -> no shift; 8 useful -> no runs rule.
    analysis = analyse(series([5, 3, 4, 6, 9, 7, 2, 8, 1]))
    assert analysis.signals == ()


def test_repeated_value_inside_a_trend_is_counted_once():
    # 1 2 3 3 4 5: the second 3 is ignored -> 1 2 3 4 5, a trend of 5 up.
    # Its periods leave April (the repeat) out. Median (3 + 3) / 2 = 3;
    # sides - - = = + + -> no shift.
    analysis = analyse(series([1, 2, 3, 3, 4, 5]))
    assert analysis.median == 3
    assert analysis.useful_observations == 4
    trend = only(analysis, "trend")
    assert trend.periods == months(0, 1, 2, 4, 5)
    assert trend.description == "Trend: 5 points in a row going up (Jan 2021 – Jun 2021)."
    assert rules(analysis) == ["trend"]


def test_repeat_does_not_make_four_values_into_a_trend():
    # 1 2 3 3 4 counts as 1 2 3 4: 4 points -> no trend.
    assert rules(analyse(series([1, 2, 3, 3, 4]))) == []


def test_trend_down():
    #   value:  9  8  6  5  3  4      sorted 3 4 [5 6] 8 9 -> median 5.5
    #   side:   +  +  +  -  -  -      (3 and 3: no shift)
    #   steps:    -  -  -  -  +
    # Down: 9 8 6 5 3 (Jan..May) = 5 -> a trend down.
    analysis = analyse(series([9, 8, 6, 5, 3, 4]))
    assert analysis.median == 5.5
    assert rules(analysis) == ["trend"]
    assert analysis.signals[0].periods == months(0, 1, 2, 3, 4)
    assert analysis.signals[0].description == (
        "Trend: 5 points in a row going down (Jan 2021 – May 2021)."
    )


def test_each_maximal_trend_reported_once_and_a_turning_point_is_shared():
    # 1 2 3 4 5 6 7: one trend of 7, not three overlapping trends of 5.
    # (median 4; sides - - - = + + + -> no shift)
    analysis = analyse(series([1, 2, 3, 4, 5, 6, 7]))
    assert rules(analysis) == ["trend"]
    assert len(analysis.signals[0].periods) == 7
    # 1 2 3 4 5 4 3 2 1: up Jan..May and down May..Sep, both containing the 5.
    # Median: sorted 1 1 2 2 [3] 3 4 4 5 -> 3; sides - - = + + + = - - -> no
    # shift.
    analysis = analyse(series([1, 2, 3, 4, 5, 4, 3, 2, 1]))
    assert rules(analysis) == ["trend", "trend"]
    up, down = analysis.signals
    assert up.periods == months(0, 1, 2, 3, 4)
    assert down.periods == months(4, 5, 6, 7, 8)
    assert "going down" in down.description


# --- runs -------------------------------------------------------------------


def test_too_many_runs_on_an_alternating_series():
    # 5 15 5 15 ... (20 points): median (5 + 15) / 2 = 10, all useful.
    # Sides alternate - + - + ... -> 20 runs; table 20 -> (7, 15): 20 > 15.
    # No shift (longest block 1), no trend (each step reverses).
    analysis = analyse(series([5, 15] * 10))
    assert analysis.median == 10
    assert analysis.useful_observations == 20
    assert analysis.runs == 20
    assert rules(analysis) == ["too_many_runs"]
    signal = analysis.signals[0]
    assert signal.periods == months(*range(20))
    assert signal.description == (
        "Too many runs: 20 runs in 20 points not on the median (Jan 2021 – Aug 2022); "
        "more than 15 rarely happens by chance."
    )


def test_too_few_runs_on_a_twenty_point_series_with_two_runs():
    # The 10 low / 10 high series above: 2 runs < 7 (table 20).
    low = [2, 1, 3, 2, 4, 1, 3, 2, 4, 1]
    high = [12, 11, 13, 12, 14, 11, 13, 12, 14, 11]
    signal = only(analyse(series(low + high)), "too_few_runs")
    assert signal.periods == months(*range(20))
    assert signal.description == (
        "Too few runs: only 2 runs in 20 points not on the median "
        "(Jan 2021 – Aug 2022); fewer than 7 rarely happens by chance."
    )


def test_runs_exactly_on_the_limits_are_not_signals():
    # 20 useful points, limits (7, 15). Sides built as blocks:
    # 7 runs: blocks of 3 3 3 3 3 3 2 -> 7 runs, 7 is not < 7.
    # 15 runs: 5 blocks of 2 and 10 of 1 -> 15 runs, 15 is not > 15.
    # Values: +1 above / -1 below a median of 0 fixed by a baseline of
    # [-1, 1] (the first two points). The longest block is 3 -> no shift;
    # values only take -1 and 1 -> the longest one-way stretch is 2 -> no trend.
    def from_blocks(blocks):
        values, side = [], -1
        for length in blocks:
            values += [side] * length
            side = -side
        return values

    seven = from_blocks([1, 1, 4, 4, 4, 4, 2])
    analysis = analyse(series(seven), baseline_count=2)
    assert (analysis.median, analysis.useful_observations, analysis.runs) == (0, 20, 7)
    assert analysis.signals == ()
    fifteen = from_blocks([1, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1])
    assert len(fifteen) == 20
    analysis = analyse(series(fifteen), baseline_count=2)
    assert (analysis.useful_observations, analysis.runs) == (20, 15)
    assert analysis.signals == ()
    # One more crossing (16 runs) and it is too many.
    sixteen = from_blocks([1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    analysis = analyse(series(sixteen), baseline_count=2)
    assert (analysis.useful_observations, analysis.runs) == (20, 16)
    assert rules(analysis) == ["too_many_runs"]


def test_no_runs_rule_below_ten_useful_observations():
    # 9 alternating points 5 15 5 ... 5, median from the first two:
    # (5 + 15) / 2 = 10 (over all nine it would be 5, with five points on
    # it). 9 runs in 9 useful points, but the table starts at 10 -> nothing.
    analysis = analyse(series([5, 15] * 4 + [5]), baseline_count=2)
    assert analysis.median == 10
    assert analysis.useful_observations == 9
    assert analysis.runs == 9
    assert analysis.signals == ()


def test_runs_limits_boundaries():
    assert runs_limits(9) is None
    assert runs_limits(10) == (3, 9)
    assert runs_limits(20) == (7, 15)
    assert runs_limits(60) == (24, 38)
    assert runs_limits(61) is None
    assert runs_limits(0) is None
    assert runs_limits(-1) is None


def _runs_distribution(above: int, below: int) -> dict[int, float]:
    """P(R = r) for a random order of `above` + `below` points (Swed &
    Eisenhart): an even r = 2k has k runs of each kind; an odd r = 2k + 1 has
    k + 1 runs of one kind and k of the other."""
    total = comb(above + below, above)
    probabilities = {}
    for runs in range(2, above + below + 1):
        k = runs // 2
        if runs % 2 == 0:
            ways = 2 * comb(above - 1, k - 1) * comb(below - 1, k - 1)
        else:
            ways = comb(above - 1, k) * comb(below - 1, k - 1) + comb(above - 1, k - 1) * comb(
                below - 1, k
            )
        probabilities[runs] = ways / total
    return probabilities


def test_runs_table_is_the_exact_five_percent_two_sided_limit():
    # Every row: split closest to even, lower = largest L with P(R < L) <=
    # 2.5%, upper = smallest U with P(R > U) <= 2.5%.
    assert sorted(RUNS_TABLE) == list(range(10, 61))
    for useful, (lower, upper) in RUNS_TABLE.items():
        p = _runs_distribution(useful // 2, useful - useful // 2)
        assert sum(p.values()) == pytest.approx(1)
        below = sum(v for r, v in p.items() if r < lower)
        above = sum(v for r, v in p.items() if r > upper)
        assert below <= 0.025 < below + p.get(lower, 0), useful
        assert above <= 0.025 < above + p.get(upper, 0), useful


# --- a series with no signal -----------------------------------------------


def test_random_looking_series_has_no_signal():
    # 20 distinct values: 1..10 below, 11..20 above -> median 10.5, all useful.
    #   value: 14 11  7  9  3 16  5 12 18 13  2  8 20  4 10 15 19  1 17  6
    #   side:   +  +  -  -  -  +  -  +  +  +  -  -  +  -  -  +  +  -  +  -
    # Longest block: 3 -> no shift. Runs: ++ --- + - +++ -- + -- ++ - + - = 12,
    # within (7, 15). Longest one-way stretch: 4 10 15 19 (4) -> no trend.
    values = [14, 11, 7, 9, 3, 16, 5, 12, 18, 13, 2, 8, 20, 4, 10, 15, 19, 1, 17, 6]
    analysis = analyse(series(values))
    assert analysis.median == 10.5
    assert analysis.useful_observations == 20
    assert analysis.runs == 12
    assert analysis.signals == ()


# --- baseline ---------------------------------------------------------------


def test_baseline_count_takes_the_median_from_the_first_points_only():
    # First 12 (2021): 10 14 12 16 11 15 13 17 10 14 12 16
    #   sorted 10 10 11 12 12 [13 14] 14 15 16 16 17 -> median 13.5
    # Then 2022 Jan..Jun: 20 22 21 23 20 22 (all above 13.5).
    # Over all 18 the median would be (15 + 16) / 2 = 15.5, a different line.
    # Against 13.5 the baseline alternates - + - + ... ending + (Dec 16), so
    # Dec 2021 .. Jun 2022 is 7 in a row above -> one shift of 7. Runs: 12
    # (the last run continues into 2022) over 18, table (6, 14) -> fine.
    # Steps after Nov: + + + - + - + -> at most 3 one way -> no trend.
    baseline = [10, 14, 12, 16, 11, 15, 13, 17, 10, 14, 12, 16]
    values = [*baseline, 20, 22, 21, 23, 20, 22]
    analysis = analyse(series(values), baseline_count=12)
    assert analysis.median == 13.5
    assert analysis.baseline_periods == months(*range(12))
    assert analysis.runs == 12
    assert rules(analysis) == ["shift"]
    assert analysis.signals[0].periods == months(*range(11, 18))
    assert analysis.signals[0].description == (
        "Shift: 7 points in a row above the median (Dec 2021 – Jun 2022)."
    )
    everything = analyse(series(values))
    assert everything.median == 15.5
    assert everything.baseline_periods == months(*range(18))


def test_baseline_counts_points_with_a_value_and_may_exceed_the_series():
    # [1, None, 2, 3, 100] with baseline 3: the first three values are 1 2 3
    # (Feb is missing and skipped) -> median 2 from Jan, Mar, Apr.
    analysis = analyse(series([1, None, 2, 3, 100]), baseline_count=3)
    assert analysis.median == 2
    assert analysis.baseline_periods == months(0, 2, 3)
    # A baseline longer than the series uses every value: median of 1 2 3 100
    # = (2 + 3) / 2 = 2.5.
    analysis = analyse(series([1, None, 2, 3, 100]), baseline_count=24)
    assert analysis.median == 2.5
    assert analysis.baseline_periods == months(0, 2, 3, 4)
    with pytest.raises(ValueError):
        analyse(series([1, 2]), baseline_count=0)


# --- missing periods --------------------------------------------------------


def test_missing_period_neither_counts_nor_breaks_a_shift():
    # SHIFT_OF_SIX with a missing month between Jun (9) and what was Jul (7):
    # the six values above are Apr May Jun, (Jul missing), Aug Sep Oct -> still
    # a shift of 6, and the missing July is not one of its periods. The
    # median is unchanged (4.75): missing values are not data.
    values = [*SHIFT_OF_SIX[:6], None, *SHIFT_OF_SIX[6:]]
    analysis = analyse(series(values))
    assert analysis.median == 4.75
    assert analysis.useful_observations == 12
    shift = only(analysis, "shift")
    assert shift.periods == months(3, 4, 5, 7, 8, 9)


def test_missing_period_neither_counts_nor_breaks_a_trend():
    # 1 2 _ 3 4 5: the values in order are 1 2 3 4 5 -> a trend of 5 (Jan,
    # Feb, Apr, May, Jun). Median 3; sides - - = + + -> no shift.
    analysis = analyse(series([1, 2, None, 3, 4, 5]))
    assert rules(analysis) == ["trend"]
    assert analysis.signals[0].periods == months(0, 1, 3, 4, 5)
    # ...and a missing month does not turn four values into five.
    assert rules(analyse(series([1, 2, None, 3, 4]))) == []


def test_no_data():
    for points in ([], series([None, None, None])):
        analysis = analyse(points, astronomical=[month(0)])
        assert analysis.median is None
        assert analysis.baseline_periods == ()
        assert analysis.useful_observations == 0
        assert analysis.runs == 0
        assert analysis.signals == ()


def test_points_are_taken_in_period_order_and_a_period_only_once():
    # The trend-down series given backwards is still a trend down.
    points = series([9, 8, 6, 5, 3, 4])
    assert analyse(list(reversed(points))) == analyse(points)
    with pytest.raises(ValueError):
        analyse([Point(month(0), 1), Point(month(0), 2)])


# --- astronomical -----------------------------------------------------------


def test_astronomical_points_are_flagged_by_staff():
    # 1 9 2 8 50 3 7 (median 7): March and May flagged, plus a missing month
    # (Jun, no value) and a month outside the series (2030) -> two signals,
    # in period order, nothing for the others. Nothing else fires (7 points).
    values = [1, 9, 2, 8, 50, None, 7]
    flagged = [month(4), month(2), month(5), datetime.date(2030, 1, 1)]
    analysis = analyse(series(values), astronomical=flagged)
    assert rules(analysis) == ["astronomical", "astronomical"]
    assert [s.periods for s in analysis.signals] == [months(2), months(4)]
    assert analysis.signals[1].description == (
        "Astronomical point: May 2021 was flagged by staff as clearly different from all "
        "the others."
    )
    # Not computed: without the flag, the same 50 is not a signal.
    assert analyse(series(values)).signals == ()


def test_signals_are_in_chronological_order():
    # SHIFT_OF_SIX with January flagged: too few runs (Jan), astronomical
    # (Jan), shift (Apr) — same first period -> rule order.
    analysis = analyse(series(SHIFT_OF_SIX), astronomical=[month(0)])
    assert rules(analysis) == ["too_few_runs", "astronomical", "shift"]


# --- labels -----------------------------------------------------------------


def test_period_labels_and_quarterly_descriptions():
    assert period_label(datetime.date(2021, 1, 1)) == "Jan 2021"
    assert period_label(datetime.date(2021, 12, 1)) == "Dec 2021"
    assert period_label(datetime.date(2021, 1, 1), quarterly=True) == "Q1 2021"
    assert period_label(datetime.date(2021, 10, 1), quarterly=True) == "Q4 2021"
    # The trend-up series as quarters Q1 2021 .. Q1 2023: the trend runs from
    # the 2nd to the 6th quarter.
    quarters = [
        Point(datetime.date(2021 + i // 4, 1 + 3 * (i % 4), 1), v)
        for i, v in enumerate([5, 3, 4, 6, 7, 9, 2, 8, 1])
    ]
    analysis = analyse(quarters, quarterly=True)
    assert analysis.signals[0].description == (
        "Trend: 5 points in a row going up (Q2 2021 – Q2 2022)."
    )


def test_values_that_differ_only_by_rounding_are_on_the_median():
    # Baseline 0.1 and 0.5 -> median (0.1 + 0.5) / 2 = 0.3. The third value,
    # 0.1 + 0.2, is 0.30000000000000004 in binary: the same 0.3 to anyone
    # reading the chart, so it is on the median (not useful).
    analysis = analyse(series([0.1, 0.5, 0.1 + 0.2]), baseline_count=2)
    assert analysis.median == 0.3
    assert 0.1 + 0.2 != 0.3
    assert analysis.useful_observations == 2
