"""The server-rendered run chart (workgroups.svg): well-formed, accessible,
safe under the site's CSP, and honest about missing periods."""

import datetime
import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from workgroups.runcharts import Point, analyse
from workgroups.svg import run_chart_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> & \"x\" 'y'"


def month(index: int) -> datetime.date:
    total = 2021 * 12 + index
    return datetime.date(total // 12, total % 12 + 1, 1)


def series(values) -> list[Point]:
    return [Point(month(i), value) for i, value in enumerate(values)]


def render(points, **options):
    analysis = options.pop("analysis", None) or analyse(
        points,
        astronomical=options.pop("astronomical", ()),
        quarterly=options.get("quarterly", False),
    )
    options.setdefault("chart_id", "falls")
    options.setdefault("title", "Falls with harm")
    options.setdefault("description", "Falls with harm per 1,000 patient days, by month.")
    return run_chart_svg(points, analysis, **options)


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 — our own output, not untrusted XML


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in el.get("class", "").split()]


def texts(root: ET.Element, name: str | None = None) -> list[str]:
    elements = with_class(root, name) if name else root.iter(f"{SVG}text")
    return ["".join(el.itertext()) for el in elements]


def polyline_points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in element.get("points").split()]


def marker_x(element: ET.Element) -> float:
    if element.tag == f"{SVG}circle":
        return float(element.get("cx"))
    xs = [x for x, _ in polyline_points(element)]
    return (min(xs) + max(xs)) / 2


# The shift series of test_runcharts: Apr..Sep 2021 is a shift of 6 above.
SHIFT_OF_SIX = [3, 1, 2, 8, 6, 9, 7, 10, 6.5, 2.5, 1.5, 3.5]


def test_svg_is_an_image_named_by_its_title_and_desc():
    svg = render(series([4, 5, 6]))
    assert isinstance(svg, SafeString)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "falls-title falls-desc"
    assert root.get("width") == "100%"
    assert re.fullmatch(r"0 0 720 \d+", root.get("viewBox"))
    title, desc = list(root)[:2]
    assert (title.tag, title.get("id"), title.text) == (
        f"{SVG}title",
        "falls-title",
        "Falls with harm",
    )
    assert (desc.tag, desc.get("id")) == (f"{SVG}desc", "falls-desc")
    assert desc.text.startswith("Falls with harm per 1,000 patient days, by month.")
    assert "Median 5.0." in desc.text


def test_one_marker_per_period_with_a_value():
    points = series([4, None, 6, 7, None, 5.5])
    root = parse(render(points, unit="%"))
    markers = with_class(root, "rc-point")
    assert len(markers) == 4
    tooltips = sorted("".join(m.itertext()) for m in markers)
    assert tooltips == ["Apr 2021: 7.0%", "Jan 2021: 4.0%", "Jun 2021: 5.5%", "Mar 2021: 6.0%"]


def test_line_breaks_at_a_missing_period_and_the_period_is_marked():
    # Jan Feb Mar, (Apr missing), May Jun -> two segments of 3 and 2 points.
    root = parse(render(series([4, 5, 6, None, 5, 4])))
    lines = with_class(root, "rc-line")
    assert [len(polyline_points(line)) for line in lines] == [3, 2]
    missing = with_class(root, "rc-missing")
    assert len(missing) == 1
    gap_x = float(missing[0].get("cx"))
    assert "".join(missing[0].itertext()) == "Apr 2021: no data"
    first, second = ([x for x, _ in polyline_points(line)] for line in lines)
    assert max(first) < gap_x < min(second)  # no line drawn across April
    assert "No data" in texts(root)


def test_a_period_left_out_of_the_points_is_still_a_gap():
    points = [Point(month(i), v) for i, v in [(0, 4), (1, 5), (2, 6), (4, 5), (5, 4)]]
    root = parse(render(points))
    assert [len(polyline_points(line)) for line in with_class(root, "rc-line")] == [3, 2]
    assert len(with_class(root, "rc-missing")) == 1
    assert "Apr 2021" in texts(root, "rc-x-label")


def test_isolated_points_get_markers_but_no_line():
    root = parse(render(series([4, None, 5, None, 6])))
    assert with_class(root, "rc-line") == []
    assert len(with_class(root, "rc-point")) == 3


def test_median_and_target_lines():
    # Median of 4 5 6 = 5; target 8.
    root = parse(render(series([4, 5, 6]), target=8, unit="%"))
    (median,) = with_class(root, "rc-median")
    assert median.tag == f"{SVG}line"
    assert median.get("stroke-dasharray")
    assert median.get("y1") == median.get("y2")
    assert texts(root, "rc-median-label") == ["Median 5.0%"]
    (target,) = with_class(root, "rc-target")
    assert target.get("y1") == target.get("y2")
    assert float(target.get("y1")) < float(median.get("y1"))  # 8 is higher up than 5
    assert texts(root, "rc-target-label") == ["Target 8.0%"]
    assert with_class(parse(render(series([4, 5, 6]))), "rc-target") == []


def test_points_in_a_signal_have_a_different_shape():
    # Shift Apr..Sep (6 points) -> diamonds; Feb flagged astronomical ->
    # triangle; the other 5 points -> circles.
    root = parse(render(series(SHIFT_OF_SIX), astronomical=[month(1)]))
    signal = with_class(root, "rc-signal")
    astronomical = with_class(root, "rc-astronomical")
    plain = [m for m in with_class(root, "rc-point") if m not in signal + astronomical]
    assert len(signal) == 6
    assert len(astronomical) == 1
    assert len(plain) == 5
    assert {m.tag for m in plain} == {f"{SVG}circle"}
    assert {len(polyline_points(m)) for m in signal} == {4}  # a diamond
    assert {len(polyline_points(m)) for m in astronomical} == {3}  # a triangle
    assert "shift" in "".join(signal[0].itertext())
    legend = texts(root)
    assert "Point in a shift or trend" in legend
    assert "Astronomical point" in legend


def test_runs_signals_are_written_out_not_drawn_on_every_point():
    # 20 alternating points: too many runs; every point stays a circle and
    # the signal is written below the chart and in the description.
    root = parse(render(series([5, 15] * 10)))
    assert with_class(root, "rc-signal") == []
    assert any(text.startswith("Too many runs: 20 runs") for text in texts(root, "rc-runs"))
    assert "Too many runs: 20 runs" in root.find(f"{SVG}desc").text


def test_nothing_the_content_security_policy_would_block_and_nothing_external():
    root = parse(
        render(
            series([4, None, *SHIFT_OF_SIX]),
            target=5,
            unit="per 1,000 days",
            annotations=[(month(2), "Huddles")],
            astronomical=[month(3)],
        )
    )
    forbidden = {"script", "style", "foreignObject", "image", "use", "a", "iframe"}
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in forbidden
        assert "style" not in element.attrib
        for name, value in element.attrib.items():
            assert "href" not in name
            assert not name.startswith("on")
            assert "url(" not in value
            assert "javascript:" not in value.lower()


def test_all_text_is_escaped():
    svg = render(
        series([4, 5, 6]),
        title=HOSTILE,
        description=HOSTILE,
        unit=HOSTILE,
        annotations=[(month(1), HOSTILE)],
    )
    raw = str(svg)
    assert "<script" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in raw
    root = parse(svg)
    assert root.find(f"{SVG}title").text == HOSTILE
    assert root.find(f"{SVG}desc").text.startswith(HOSTILE)
    assert any(HOSTILE in "".join(el.itertext()) for el in with_class(root, "rc-annotation"))


@pytest.mark.parametrize("chart_id", ["", "two words", '"x"', "1st", "a<b"])
def test_chart_id_must_be_a_valid_xml_id(chart_id):
    with pytest.raises(ValueError):
        render(series([1, 2]), chart_id=chart_id)


@pytest.mark.parametrize("points", [[], series([None, None])], ids=["empty", "all-missing"])
def test_no_data_yet(points):
    root = parse(render(points, chart_id="empty-chart"))
    assert root.get("aria-labelledby") == "empty-chart-title empty-chart-desc"
    assert root.find(f"{SVG}title").text == "Falls with harm"
    assert root.find(f"{SVG}desc") is not None
    assert texts(root) == ["No data yet"]
    assert with_class(root, "rc-point") == []


def _numbers(root: ET.Element) -> list[float]:
    found = []
    for element in root.iter():
        for name in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r"):
            if name in element.attrib:
                found.append(float(element.get(name)))
        if "points" in element.attrib:
            found += [c for pair in polyline_points(element) for c in pair]
    return found


@pytest.mark.parametrize(
    "values",
    [[7], [0], [3, 3, 3, 3], [0, 0, 0], [-4, -1, -7, -2], [-2, 0, 2], [1e-7, 2e-7], [1e9, 1e9]],
    ids=["one", "zero", "all-equal", "all-zero", "negative", "around-zero", "tiny", "huge"],
)
def test_awkward_series_render_inside_the_drawing(values):
    root = parse(render(series(values)))
    assert len(with_class(root, "rc-point")) == len(values)
    numbers = _numbers(root)
    assert all(math.isfinite(n) for n in numbers)
    _, _, width, height = map(float, root.get("viewBox").split())
    for marker in with_class(root, "rc-point"):
        assert 0 < marker_x(marker) < width
        ys = (
            [float(marker.get("cy"))]
            if marker.get("cy")
            else [y for _, y in polyline_points(marker)]
        )
        assert all(0 < y < height for y in ys)
    ticks = texts(root, "rc-y-tick")
    assert 4 <= len(ticks) <= 6


def test_single_point_has_no_line():
    root = parse(render(series([12.5])))
    assert with_class(root, "rc-line") == []
    assert len(with_class(root, "rc-point")) == 1
    assert texts(root, "rc-x-label") == ["Jan 2021"]


def _tick_values(root: ET.Element) -> list[float]:
    return [float(t.rstrip("%").replace(",", "")) for t in texts(root, "rc-y-tick")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([12, 87], [0, 25, 50, 75, 100]),
        ([0.1, 0.3], [0.1, 0.15, 0.2, 0.25, 0.3]),
        ([0, 0], [0, 0.25, 0.5, 0.75, 1]),
        ([-3, 4], [-4, -2, 0, 2, 4]),
    ],
)
def test_y_axis_has_four_to_six_round_ticks(values, expected):
    assert _tick_values(parse(render(series(values)))) == expected


def test_y_axis_shows_the_unit():
    percent = parse(render(series([12, 87]), unit="%"))
    assert texts(percent, "rc-y-tick") == ["0%", "25%", "50%", "75%", "100%"]
    rate = parse(render(series([1.2, 3.4]), unit="per 200,000 hours"))
    assert texts(rate, "rc-unit") == ["per 200,000 hours"]
    assert all(not t.endswith("%") for t in texts(rate, "rc-y-tick"))


def test_x_labels_monthly_and_quarterly():
    root = parse(render(series([1, 2, 3])))
    assert texts(root, "rc-x-label") == ["Jan 2021", "Feb 2021", "Mar 2021"]
    quarters = [
        Point(datetime.date(2021 + i // 4, 1 + 3 * (i % 4), 1), v) for i, v in enumerate([1, 2, 3])
    ]
    root = parse(render(quarters, quarterly=True))
    assert texts(root, "rc-x-label") == ["Q1 2021", "Q2 2021", "Q3 2021"]
    assert with_class(root, "rc-missing") == []  # quarters are consecutive


@pytest.mark.parametrize("count", [12, 24, 36, 60, 120])
def test_x_labels_are_thinned_so_they_never_overlap(count):
    root = parse(render(series([i % 7 for i in range(count)])))
    labels = with_class(root, "rc-x-label")
    assert 2 <= len(labels) <= count
    xs = [float(label.get("x")) for label in labels]
    # An 11-unit sans-serif label is at most ~0.6 em per character.
    widest = max(len("".join(label.itertext())) for label in labels) * 11 * 0.6
    assert all(b - a >= widest for a, b in itertools.pairwise(xs))
    _, _, width, _ = map(float, root.get("viewBox").split())
    assert xs[0] - widest / 2 >= 0 and xs[-1] + widest / 2 <= width


def test_annotations_are_numbered_markers_with_their_text_as_a_tooltip_and_in_the_legend():
    notes = [
        (month(4), "New bed alarms"),
        (datetime.date(2021, 2, 17), "Huddles started"),  # any day in February
        (month(1), "Second note in February"),
        (datetime.date(2030, 1, 1), "Outside the chart"),
    ]
    root = parse(render(series([4, 5, 6, 5, 4, 5]), annotations=notes))
    markers = with_class(root, "rc-annotation")
    tooltips = ["".join(m.find(f"{SVG}title").itertext()) for m in markers]
    # Numbered by date: Feb 1 (Second note), Feb 17 (Huddles), May, 2030.
    assert tooltips == [
        "1. Feb 2021: Second note in February",
        "2. Feb 2021: Huddles started",
        "3. May 2021: New bed alarms",
    ]
    numbers = ["".join(m.find(f"{SVG}text").itertext()) for m in markers]
    assert numbers == ["1", "2", "3"]
    first, second, _ = (float(m.find(f"{SVG}circle").get("cy")) for m in markers)
    assert second < first  # stacked above the period, not on top of each other
    assert texts(root, "rc-note") == [
        "Feb 2021: Second note in February",
        "Feb 2021: Huddles started",
        "May 2021: New bed alarms",
        "Jan 2030: Outside the chart",
    ]
    desc = root.find(f"{SVG}desc").text
    assert "Note 2 (Feb 2021): Huddles started" in desc


def test_many_notes_on_one_period_do_not_squeeze_the_plot():
    def plot_height(root):
        (axes,) = with_class(root, "rc-axes")
        y_axis = axes[0]
        return float(y_axis.get("y2")) - float(y_axis.get("y1"))

    plain = parse(render(series([4, 5, 6]), height=160))
    notes = [(month(1), f"Note {i}") for i in range(8)]
    noted = parse(render(series([4, 5, 6]), height=160, annotations=notes))
    assert plot_height(noted) == plot_height(plain) > 100
    markers = with_class(noted, "rc-annotation")
    assert len(markers) == 8
    assert all(float(m.find(f"{SVG}circle").get("cy")) > 0 for m in markers)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def test_lines_and_markers_have_3_to_1_and_text_4_5_to_1_contrast_against_white():
    root = parse(
        render(
            series([4, None, *SHIFT_OF_SIX]),
            target=5,
            unit="%",
            annotations=[(month(2), "Huddles")],
            astronomical=[month(3)],
        )
    )
    seen = set()
    for element in root.iter():
        for name in ("fill", "stroke"):
            colour = element.get(name)
            if colour in (None, "none", "#ffffff"):
                continue
            assert re.fullmatch(r"#[0-9a-f]{6}", colour)
            seen.add(colour)
            needed = 4.5 if element.tag == f"{SVG}text" and name == "fill" else 3
            assert _contrast_with_white(colour) >= needed, (element.tag, name, colour)
    assert len(seen) >= 6  # data, median, target, signal, astronomical, text...


def test_values_that_are_not_numbers_are_refused():
    with pytest.raises(ValueError):
        render(series([1, math.nan]))
    with pytest.raises(ValueError):
        render(series([1, 2]), target=math.inf)
