"""Server-rendered, accessible SVG run charts.

One function, ``run_chart_svg``, draws a run chart from the points and the
``RunChartAnalysis`` of ``workgroups.runcharts``. Why it is drawn this way:

* No JavaScript and nothing fetched: it is part of the page's HTML, works
  in email-safe and print contexts and needs no chart library.
* Presentation attributes only (``fill=``, ``stroke=``...): the site's
  Content-Security-Policy blocks inline ``style`` attributes and ``<style>``
  elements, so neither is ever written. A ``class`` on each part lets the
  site's stylesheet adjust it.
* Accessible: ``role="img"`` named by ``<title>`` and described by
  ``<desc>`` (the caller's description, then the signals and notes in words,
  so a screen-reader user gets what the picture shows). Points in a signal
  differ by shape, not only colour (WCAG 1.4.1), and every line and marker
  colour has at least 3:1 contrast against white (WCAG 1.4.11).
* Missing periods stay on the axis: the line breaks at them and a hollow
  mark on the axis says "no data"; the line is never drawn across a gap.
* Every piece of text is escaped, so a hostile title cannot inject markup.
"""

from __future__ import annotations

import datetime
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from workgroups.runcharts import Point, RunChartAnalysis, period_label

__all__ = ["run_chart_svg"]

# Colours (contrast against white): text 12.6:1, axis and median 7.0:1, data
# 8.7:1, target 6.6:1, signal 7.3:1, astronomical 9.4:1, missing 4.5:1.
TEXT = "#333333"
AXIS = "#595959"
MEDIAN = "#595959"
DATA = "#1f4e79"
TARGET = "#8a4f00"
SIGNAL = "#b00020"
ASTRONOMICAL = "#6a1b9a"
MISSING = "#767676"
WHITE = "#ffffff"

FONT_SIZE = 11
EM_ADVANCE = 0.62  # a generous average character width for sans-serif text, in ems
LEGEND_ROW = 18
ANNOTATION_ROW = 18

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*")
_NICE_MANTISSAS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))
_MONTH_STEPS = (1, 2, 3, 4, 6, 12, 24, 36, 60, 120, 240, 600, 1200)
_QUARTER_STEPS = (1, 2, 4, 8, 12, 20, 40, 80, 200, 400)


@dataclass(frozen=True)
class _Slot:
    """One period on the x axis, with or without a value."""

    period: datetime.date
    value: float | None


def run_chart_svg(
    points: Sequence[Point],
    analysis: RunChartAnalysis,
    *,
    chart_id: str,
    title: str,
    description: str,
    target: float | None = None,
    unit: str = "",
    decimals: int = 1,
    annotations: Sequence[tuple[datetime.date, str]] = (),
    width: int = 720,
    height: int = 300,
    quarterly: bool = False,
) -> SafeString:
    """Render a run chart as an inline ``<svg>`` element.

    ``points`` are the series given to ``analyse`` (any order). A period
    missing from the sequence between the first and the last is shown as
    missing, exactly as if it had been given with ``value=None``. Set
    ``quarterly`` for quarterly data: periods are then quarters, labelled
    "Q1 2021", and a missing quarter (not a missing month) is a gap.

    ``chart_id`` must be unique in the page and a valid XML id (a letter,
    then letters, digits, ``_ . : -``); the title and desc get
    ``{chart_id}-title`` and ``{chart_id}-desc``. ``unit`` follows values
    ("%" is written without a space, anything else after one) and labels the
    y axis; ``decimals`` is how many decimals values, the median and the
    target are shown with. ``annotations`` are ``(period, text)`` pairs; any
    date within a period marks that period, and they are numbered in date
    order. ``width`` and ``height`` set the drawing's coordinate system (it
    scales to its container's width); the legend adds rows below ``height``
    and notes stacked on one period add rows above the plot.
    """
    if not _ID.fullmatch(chart_id):
        raise ValueError(f"chart_id {chart_id!r} is not a valid XML id")
    if width < 240 or height < 160:
        raise ValueError("a run chart needs at least 240 x 160 units")
    if decimals < 0:
        raise ValueError("decimals must not be negative")
    for point in points:
        if point.value is not None and not math.isfinite(point.value):
            raise ValueError(f"{point.period.isoformat()} has a value that is not a number")
    if target is not None and not math.isfinite(target):
        raise ValueError("target is not a number")

    chart = _Chart(
        slots=_slots(points, quarterly),
        analysis=analysis,
        chart_id=chart_id,
        title=title,
        description=description,
        target=target,
        unit=unit,
        decimals=decimals,
        annotations=sorted(annotations, key=lambda note: note[0]),
        width=width,
        height=height,
        quarterly=quarterly,
    )
    return mark_safe(chart.render())  # noqa: S308 — every text below goes through escape()


def _key(period: datetime.date, quarterly: bool) -> int:
    """A running number for the month (or quarter) that contains `period`."""
    if quarterly:
        return period.year * 4 + (period.month - 1) // 3
    return period.year * 12 + period.month - 1


def _period(key: int, quarterly: bool) -> datetime.date:
    if quarterly:
        return datetime.date(key // 4, (key % 4) * 3 + 1, 1)
    return datetime.date(key // 12, key % 12 + 1, 1)


def _slots(points: Sequence[Point], quarterly: bool) -> list[_Slot]:
    """Every period from the first to the last, in order; absent ones empty.

    Filling the gaps here means a caller who leaves a month out instead of
    passing ``value=None`` still gets the month shown as missing, not a line
    drawn straight across it.
    """
    by_key: dict[int, float | None] = {}
    for point in points:
        key = _key(point.period, quarterly)
        if key in by_key:
            raise ValueError(f"two points for {period_label(point.period, quarterly=quarterly)}")
        by_key[key] = point.value
    if not by_key:
        return []
    return [
        _Slot(_period(key, quarterly), by_key.get(key))
        for key in range(min(by_key), max(by_key) + 1)
    ]


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # no "-0.0"
    return text


def _coordinate(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _nice_ticks(low: float, high: float) -> list[Decimal]:
    """4 to 6 round tick values (steps of 1, 2, 2.5 or 5 x 10^n) covering
    low..high, as tightly as possible. Exact decimals, so labels never show
    0.30000000000000004."""
    if high < low:
        low, high = high, low
    # Values equal to nine significant digits are drawn as equal: a spread
    # smaller than that is float noise, not something to put on an axis.
    if high - low <= 1e-9 * max(abs(low), abs(high)):
        if low == high == 0:
            low, high = 0.0, 1.0
        else:
            pad = max(abs(low), abs(high)) * 0.1
            low, high = low - pad, high + pad
    span = high - low
    exponent = math.floor(math.log10(span))
    candidates = []
    for power in range(exponent - 2, exponent + 2):
        for mantissa in _NICE_MANTISSAS:
            step = mantissa * Decimal(10) ** power
            first = math.floor(low / float(step) + 1e-9)
            last = math.ceil(high / float(step) - 1e-9)
            count = last - first + 1
            if 4 <= count <= 6:
                score = ((last - first) * step, abs(count - 5), mantissa == Decimal("2.5"))
                candidates.append((score, first, last, step))
    if not candidates:  # not reached for finite input; a plain fallback all the same
        step = Decimal(repr(span / 4))
        return [Decimal(repr(low)) + step * i for i in range(5)]
    _, first, last, step = min(candidates)
    return [step * i for i in range(first, last + 1)]


def _decimals_of(ticks: Sequence[Decimal]) -> int:
    return max(max(0, -tick.normalize().as_tuple().exponent) for tick in ticks)


def _text_width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * EM_ADVANCE


class _Chart:
    """Layout and drawing for one chart (kept together for readability)."""

    def __init__(
        self,
        *,
        slots: list[_Slot],
        analysis: RunChartAnalysis,
        chart_id: str,
        title: str,
        description: str,
        target: float | None,
        unit: str,
        decimals: int,
        annotations: list[tuple[datetime.date, str]],
        width: int,
        height: int,
        quarterly: bool,
    ) -> None:
        self.slots = slots
        self.analysis = analysis
        self.chart_id = chart_id
        self.title = title
        self.description = description
        self.target = target
        self.unit = unit
        self.decimals = decimals
        self.annotations = annotations
        self.width = width
        self.height = height
        self.quarterly = quarterly
        self.parts: list[str] = []

    # -- text helpers ----------------------------------------------------

    def label(self, period: datetime.date) -> str:
        return period_label(period, quarterly=self.quarterly)

    def value_text(self, value: float) -> str:
        number = _number(value, self.decimals)
        if not self.unit:
            return number
        if self.unit == "%":
            return f"{number}%"
        return f"{number} {self.unit}"

    def text(self, x: float, y: float, content: str, **attributes: str) -> str:
        attrs = {"x": _coordinate(x), "y": _coordinate(y), "fill": TEXT}
        attrs.setdefault("font-size", str(FONT_SIZE))
        attrs.update(attributes)
        return f"<text{_attributes(attrs)}>{escape(content)}</text>"

    # -- the whole chart -------------------------------------------------

    def render(self) -> str:
        present = [slot for slot in self.slots if slot.value is not None]
        if not present or self.analysis.median is None:
            return self.render_empty()
        self.layout(present)
        self.draw_axes()
        if self.target is not None:
            self.draw_reference("rc-target", self.target, TARGET, "Target", dashed=False)
        self.draw_reference("rc-median", self.analysis.median, MEDIAN, "Median", dashed=True)
        self.draw_line()
        self.draw_missing()
        self.draw_points()
        self.draw_annotations()
        legend_height = self.draw_legend()
        return self.wrap(self.height + legend_height, "".join(self.parts))

    def accessible_description(self) -> str:
        sentences = [self.description.strip()]
        if self.analysis.median is not None:
            sentences.append(f"Median {self.value_text(self.analysis.median)}.")
        if self.target is not None:
            sentences.append(f"Target {self.value_text(self.target)}.")
        sentences += [signal.description for signal in self.analysis.signals]
        for number, (period, note) in enumerate(self.annotations, start=1):
            sentences.append(f"Note {number} ({self.label(period)}): {note.strip()}")
        return " ".join(sentence for sentence in sentences if sentence)

    def wrap(self, total_height: float, body: str) -> str:
        chart_id = self.chart_id
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="run-chart" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'viewBox="0 0 {self.width} {math.ceil(total_height)}" width="100%">'
            f'<title id="{chart_id}-title">{escape(self.title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(self.accessible_description())}</desc>'
            f"{body}</svg>"
        )

    def render_empty(self) -> str:
        body = self.text(
            self.width / 2,
            self.height / 2,
            "No data yet",
            **{"text-anchor": "middle", "font-size": "14", "class": "rc-empty"},
        )
        return self.wrap(self.height, body)

    # -- layout ----------------------------------------------------------

    def layout(self, present: list[_Slot]) -> None:
        values = [slot.value for slot in present if slot.value is not None]
        median = self.analysis.median
        if median is None:  # render() drew "No data yet" instead
            raise ValueError("no median to draw")
        extremes = [*values, median]
        if self.target is not None:
            extremes.append(self.target)
        self.ticks = _nice_ticks(min(extremes), max(extremes))
        tick_decimals = _decimals_of(self.ticks)
        suffix = "%" if self.unit == "%" else ""
        self.tick_labels = [f"{_number(float(t), tick_decimals)}{suffix}" for t in self.ticks]

        self.unit_label = self.unit if self.unit and self.unit != "%" else ""
        unit_room = FONT_SIZE + 8 if self.unit_label else 0
        widest = max(_text_width(label) for label in self.tick_labels)
        # The first and last period labels are centred half a step in from
        # the plot's edges; the margins must hold half a label either side.
        self.x_label_width = max(_text_width(self.label(slot.period)) for slot in self.slots)
        half_label = math.ceil(self.x_label_width / 2 + 4)
        self.left = max(math.ceil(unit_room + widest + 14), half_label)
        self.right = self.width - max(30, half_label)

        # Annotation markers stack above the plot, one row per note in a period.
        self.note_rows: dict[int, list[tuple[int, str]]] = {}
        first_key = _key(self.slots[0].period, self.quarterly)
        for number, (period, note) in enumerate(self.annotations, start=1):
            index = _key(period, self.quarterly) - first_key
            if 0 <= index < len(self.slots):
                self.note_rows.setdefault(index, []).append((number, note))
        # Stacked notes add rows above the plot rather than squeezing it.
        stack = max((len(notes) for notes in self.note_rows.values()), default=0)
        self.extra = ANNOTATION_ROW * stack
        self.top = 14 + self.extra
        self.bottom = self.height - 32 + self.extra

        self.step = (self.right - self.left) / len(self.slots)
        self.y_low = float(self.ticks[0])
        self.y_high = float(self.ticks[-1])

    def x(self, index: int) -> float:
        return self.left + self.step * (index + 0.5)

    def y(self, value: float) -> float:
        fraction = (value - self.y_low) / (self.y_high - self.y_low)
        return self.bottom - fraction * (self.bottom - self.top)

    # -- drawing ---------------------------------------------------------

    def draw_axes(self) -> None:
        p = self.parts
        p.append(
            f'<g class="rc-axes" stroke="{AXIS}" stroke-width="1">'
            f'<line x1="{self.left}" y1="{self.top}" x2="{self.left}" y2="{self.bottom}"/>'
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}"/>'
            "</g>"
        )
        for tick, tick_label in zip(self.ticks, self.tick_labels, strict=True):
            y = self.y(float(tick))
            p.append(
                f'<line class="rc-y-tick-mark" x1="{self.left - 4}" y1="{_coordinate(y)}" '
                f'x2="{self.left}" y2="{_coordinate(y)}" stroke="{AXIS}"/>'
            )
            p.append(
                self.text(
                    self.left - 7,
                    y,
                    tick_label,
                    **{"text-anchor": "end", "dy": "0.32em", "class": "rc-y-tick"},
                )
            )
        if self.unit_label:
            middle = (self.top + self.bottom) / 2
            x = FONT_SIZE
            p.append(
                self.text(
                    x,
                    middle,
                    self.unit_label,
                    **{
                        "text-anchor": "middle",
                        "transform": f"rotate(-90 {_coordinate(x)} {_coordinate(middle)})",
                        "class": "rc-unit",
                    },
                )
            )
        for index in self.labelled_indexes():
            x = self.x(index)
            p.append(
                f'<line x1="{_coordinate(x)}" y1="{self.bottom}" x2="{_coordinate(x)}" '
                f'y2="{self.bottom + 4}" stroke="{AXIS}"/>'
            )
            p.append(
                self.text(
                    x,
                    self.bottom + 17,
                    self.label(self.slots[index].period),
                    **{"text-anchor": "middle", "class": "rc-x-label"},
                )
            )

    def labelled_indexes(self) -> list[int]:
        """Which periods get a label: every k-th, k chosen so that labels
        never overlap and fall on calendar boundaries (every quarter, half
        year, year...)."""
        needed = math.ceil((self.x_label_width + 8) / self.step)
        steps = _QUARTER_STEPS if self.quarterly else _MONTH_STEPS
        every = next((s for s in steps if s >= needed), needed)
        first_key = _key(self.slots[0].period, self.quarterly)
        return [i for i in range(len(self.slots)) if (first_key + i) % every == 0]

    def draw_reference(
        self, css_class: str, value: float, colour: str, name: str, *, dashed: bool
    ) -> None:
        y = self.y(value)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.parts.append(
            f'<line class="{css_class}" x1="{self.left}" y1="{_coordinate(y)}" '
            f'x2="{self.right}" y2="{_coordinate(y)}" stroke="{colour}" '
            f'stroke-width="1.5"{dash}/>'
        )
        # Label above the line, or below when the other reference line is
        # just above it (so "Median" and "Target" never sit on each other).
        other = self.analysis.median if name == "Target" else self.target
        below = (
            other is not None
            and abs(self.y(other) - y) < 16
            and (other > value or (other == value and name == "Target"))
        )
        self.parts.append(
            self.text(
                self.right - 2,
                y + (13 if below else -5),
                f"{name} {self.value_text(value)}",
                **{
                    "text-anchor": "end",
                    "fill": colour,
                    "stroke": WHITE,
                    "stroke-width": "3",
                    "paint-order": "stroke",
                    "class": f"{css_class}-label",
                },
            )
        )

    def draw_line(self) -> None:
        """One polyline per stretch of consecutive periods with a value."""
        segment: list[str] = []
        for index, slot in enumerate([*self.slots, _Slot(datetime.date.min, None)]):
            if slot.value is not None:
                segment.append(f"{_coordinate(self.x(index))},{_coordinate(self.y(slot.value))}")
                continue
            if len(segment) >= 2:
                self.parts.append(
                    f'<polyline class="rc-line" points="{" ".join(segment)}" fill="none" '
                    f'stroke="{DATA}" stroke-width="2" stroke-linejoin="round"/>'
                )
            segment = []

    def draw_missing(self) -> None:
        for index, slot in enumerate(self.slots):
            if slot.value is None:
                self.parts.append(
                    f'<circle class="rc-missing" cx="{_coordinate(self.x(index))}" '
                    f'cy="{self.bottom}" r="3.5" fill="{WHITE}" stroke="{MISSING}" '
                    f'stroke-width="1.5"><title>{escape(self.label(slot.period))}: no data'
                    "</title></circle>"
                )

    def draw_points(self) -> None:
        in_pattern: dict[datetime.date, list[str]] = {}
        flagged: set[datetime.date] = set()
        for signal in self.analysis.signals:
            if signal.rule in ("shift", "trend"):
                for period in signal.periods:
                    in_pattern.setdefault(period, []).append(signal.rule)
            elif signal.rule == "astronomical":
                flagged.update(signal.periods)
        for index, slot in enumerate(self.slots):
            if slot.value is None:
                continue
            x, y = self.x(index), self.y(slot.value)
            tooltip = f"{self.label(slot.period)}: {self.value_text(slot.value)}"
            notes = sorted(set(in_pattern.get(slot.period, ())))
            if slot.period in flagged:
                notes.append("astronomical")
            if notes:
                tooltip += f" ({', '.join(notes)})"
            title = f"<title>{escape(tooltip)}</title>"
            if slot.period in flagged:
                self.parts.append(
                    f'<polygon class="rc-point rc-astronomical" '
                    f'points="{_triangle(x, y, 6.5)}" fill="{ASTRONOMICAL}" '
                    f'stroke="{WHITE}" stroke-width="1">{title}</polygon>'
                )
            elif slot.period in in_pattern:
                self.parts.append(
                    f'<polygon class="rc-point rc-signal" points="{_diamond(x, y, 6)}" '
                    f'fill="{SIGNAL}" stroke="{WHITE}" stroke-width="1">{title}</polygon>'
                )
            else:
                self.parts.append(
                    f'<circle class="rc-point" cx="{_coordinate(x)}" cy="{_coordinate(y)}" '
                    f'r="3.5" fill="{DATA}" stroke="{WHITE}" stroke-width="1">{title}</circle>'
                )

    def draw_annotations(self) -> None:
        for index, notes in sorted(self.note_rows.items()):
            x = self.x(index)
            value = self.slots[index].value
            end = self.y(value) - 7 if value is not None else self.bottom
            for row, (number, note) in enumerate(notes):
                cy = self.top - 9 - ANNOTATION_ROW * row
                tooltip = f"{number}. {self.label(self.slots[index].period)}: {note.strip()}"
                guide = ""
                if row == 0 and end > cy + 8:
                    guide = (
                        f'<line x1="{_coordinate(x)}" y1="{_coordinate(cy + 8)}" '
                        f'x2="{_coordinate(x)}" y2="{_coordinate(end)}" stroke="{MISSING}" '
                        f'stroke-dasharray="2 3"/>'
                    )
                self.parts.append(
                    f'<g class="rc-annotation"><title>{escape(tooltip)}</title>{guide}'
                    f'<circle cx="{_coordinate(x)}" cy="{_coordinate(cy)}" r="7.5" '
                    f'fill="{WHITE}" stroke="{TEXT}" stroke-width="1.2"/>'
                    + self.text(
                        x,
                        cy,
                        str(number),
                        **{"text-anchor": "middle", "dy": "0.35em", "font-size": "10"},
                    )
                    + "</g>"
                )

    def draw_legend(self) -> float:
        """Keys for what is drawn, then the runs signals (no shape shows
        them) and the numbered notes, wrapped to the chart's width. Returns
        the height it adds below the chart."""
        items: list[tuple[str, str, str]] = [("line", DATA, "Value")]
        median_name = "Median"
        baseline = self.analysis.baseline_periods
        with_values = [slot for slot in self.slots if slot.value is not None]
        if baseline and len(baseline) < len(with_values):
            median_name += f" of {self.label(baseline[0])} – {self.label(baseline[-1])}"
        items.append(("dashed", MEDIAN, median_name))
        if self.target is not None:
            items.append(("line", TARGET, "Target"))
        rules = {signal.rule for signal in self.analysis.signals}
        if rules & {"shift", "trend"}:
            items.append(("diamond", SIGNAL, "Point in a shift or trend"))
        if "astronomical" in rules:
            items.append(("triangle", ASTRONOMICAL, "Astronomical point"))
        if any(slot.value is None for slot in self.slots):
            items.append(("missing", MISSING, "No data"))

        p = self.parts
        p.append('<g class="rc-legend">')
        x, y = float(self.left), self.height + self.extra + 4.0
        for kind, colour, name in items:
            needed = 30 + _text_width(name)
            if x + needed > self.width - 8 and x > self.left:
                x, y = float(self.left), y + LEGEND_ROW
            p.append(_swatch(kind, colour, x, y))
            p.append(self.text(x + 26, y, name, dy="0.32em"))
            x += needed + 14
        y += LEGEND_ROW

        characters = max(20, int((self.width - self.left - 40) / (FONT_SIZE * EM_ADVANCE)))
        for signal in self.analysis.signals:
            if signal.rule in ("too_few_runs", "too_many_runs"):
                for line in textwrap.wrap(signal.description, characters):
                    p.append(self.text(self.left, y, line, dy="0.32em", **{"class": "rc-runs"}))
                    y += LEGEND_ROW - 3
                y += 3
        for number, (period, note) in enumerate(self.annotations, start=1):
            cx = self.left + 7.5
            p.append(
                f'<circle cx="{_coordinate(cx)}" cy="{_coordinate(y)}" r="7.5" fill="{WHITE}" '
                f'stroke="{TEXT}" stroke-width="1.2"/>'
            )
            p.append(
                self.text(
                    cx, y, str(number), dy="0.35em", **{"text-anchor": "middle", "font-size": "10"}
                )
            )
            lines = textwrap.wrap(f"{self.label(period)}: {note.strip()}", characters) or [""]
            for line in lines:
                p.append(self.text(self.left + 22, y, line, dy="0.32em", **{"class": "rc-note"}))
                y += LEGEND_ROW - 3
            y += 3
        p.append("</g>")
        return y - self.height


def _attributes(attributes: dict[str, str]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in attributes.items())


def _diamond(x: float, y: float, r: float) -> str:
    corners = ((x, y - r), (x + r, y), (x, y + r), (x - r, y))
    return " ".join(f"{_coordinate(a)},{_coordinate(b)}" for a, b in corners)


def _triangle(x: float, y: float, r: float) -> str:
    corners = ((x, y - r), (x + r * 0.95, y + r * 0.7), (x - r * 0.95, y + r * 0.7))
    return " ".join(f"{_coordinate(a)},{_coordinate(b)}" for a, b in corners)


def _swatch(kind: str, colour: str, x: float, y: float) -> str:
    """The legend's small picture of a line or a marker."""
    if kind in ("line", "dashed"):
        dash = ' stroke-dasharray="6 4"' if kind == "dashed" else ""
        return (
            f'<line x1="{_coordinate(x)}" y1="{_coordinate(y)}" x2="{_coordinate(x + 20)}" '
            f'y2="{_coordinate(y)}" stroke="{colour}" stroke-width="2"{dash}/>'
        )
    if kind == "diamond":
        return f'<polygon points="{_diamond(x + 10, y, 6)}" fill="{colour}"/>'
    if kind == "triangle":
        return f'<polygon points="{_triangle(x + 10, y + 1, 6.5)}" fill="{colour}"/>'
    return (
        f'<circle cx="{_coordinate(x + 10)}" cy="{_coordinate(y)}" r="3.5" fill="{WHITE}" '
        f'stroke="{colour}" stroke-width="1.5"/>'
    )
