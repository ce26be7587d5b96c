"""Bar-chart geometry for the panel's dashboard: pure functions, no Flask, no drawing library.

`horizontal_bars` turns a few (label, count, link) triples into the coordinates of an SVG chart
that the template ``admin/_chart.html`` draws inline (no JavaScript, no CDN). One row per bar:
the label on the left, the bar from a common baseline, the count just after the bar's end. All
lengths are SVG user units (the ``viewBox`` of the chart; at most one CSS pixel each, as the
template never scales a chart up). A bar's length is ``value / max_value`` of the plot's width,
so bars are proportional to their counts (a count above 0 is at least `MIN_BAR` long, never lost
to rounding) and a count of 0 is a bar of length 0; the row around it
stays a link, so every count — zero included — leads to its list.

Labels are kept as given (text; the template's autoescaping escapes them): a long one is shown
shortened with "…" (`shorten`) and whole in the bar's ``<title>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_BAR", "BarChart", "BarShape", "BarSpec", "format_count", "horizontal_bars", "shorten"]

MIN_BAR = 1.0
"""Shortest bar of a count above 0 (user units), so that it is never drawn as a 0."""


@dataclass(frozen=True)
class BarSpec:
    """One bar to draw: what it counts and where it leads."""

    label: str
    """The category (a ticket type, an area, a status…), as plain text."""
    value: int
    """A count of tickets, ≥ 0."""
    href: str
    """The URL of the list of exactly those tickets."""
    title: str = ""
    """The full text alternative of the bar (its ``<title>``); default ``"label: value"``."""
    tone: str = ""
    """The bar's colour, a name the stylesheet knows (``overdue``…); default the chart's."""


@dataclass(frozen=True)
class BarShape:
    """One bar placed in its chart (SVG user units; y grows downwards)."""

    spec: BarSpec
    shown_label: str
    """The label as drawn: `shorten`\\ ed to the label column."""
    value_text: str
    """The count as drawn (`format_count`)."""
    title: str
    """The bar's ``<title>`` (tooltip and accessible name of its link)."""
    row_y: float
    """Top of the bar's row (the whole row is the link's hit area)."""
    x: float
    """Left end of the bar: the baseline, the same for every bar."""
    y: float
    """Top of the bar."""
    width: float
    """Length of the bar: proportional to the value, 0 for 0."""
    height: float
    """Thickness of the bar."""
    text_y: float
    """Baseline of the label and count texts (vertically centred on the bar)."""
    value_x: float
    """Left end of the count text, just after the bar's end."""


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart's geometry: its size (the ``viewBox``) and its bars, top to bottom."""

    width: float
    height: float
    bars: tuple[BarShape, ...]
    max_value: int
    """The largest value (0 when every value is 0 or there is no bar)."""
    baseline_x: float
    """x of the baseline every bar starts from (the end of the label column)."""
    plot_width: float
    """The length of a bar whose value is ``max_value``."""
    row_height: float
    """The height of each bar's row."""
    label_chars: int
    """Longest label drawn whole; longer ones are shortened."""

    @property
    def total(self) -> int:
        """The sum of the values."""
        return sum(b.spec.value for b in self.bars)


def format_count(value: int) -> str:
    """A count as the list shows it: thousands separated by a space (``12 345``)."""
    return f"{value:,}".replace(",", " ")


def shorten(text: str, limit: int) -> str:
    """``text`` whole when it has at most ``limit`` characters, else its first ``limit - 1`` and
    "…" (``limit`` ≥ 1; surrounding spaces removed)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:max(limit - 1, 0)].rstrip() + "…"


def horizontal_bars(specs: Sequence[BarSpec], *, width: float = 600, label_width: float = 180,
                    value_width: float = 56, row_height: float = 30, bar_height: float = 18,
                    padding: float = 6, font_size: float = 13) -> BarChart:
    """The geometry of a horizontal bar chart of ``specs``, in their order, top to bottom.

    Lengths are SVG user units: ``width`` of the whole chart, of which ``label_width`` is the label
    column (labels longer than it holds are shortened, whole in the title) and ``value_width`` is
    kept right of the longest bar for its count; each bar takes a row of ``row_height`` and is
    ``bar_height`` thick; ``padding`` above the first and below the last row. A bar's length is
    ``value / max(values) × plot width``: proportional (at least `MIN_BAR` for a value above 0), 0 for
    a value of 0, and every bar 0 when all values are 0 (no division by zero). ``font_size`` (user
    units) sizes the label column in characters and centres the texts on their bars.
    Raises ValueError for a negative value or a geometry that leaves no room for the bars.
    """
    plot_width = width - label_width - value_width
    if plot_width <= 0 or bar_height <= 0 or bar_height > row_height:
        raise ValueError("the chart leaves no room for its bars")
    if any(s.value < 0 for s in specs):
        raise ValueError("a bar's value cannot be negative")
    max_value = max((s.value for s in specs), default=0)
    label_chars = max(1, int((label_width - 10) / (font_size * 0.6)))  # ~0.6 em per character
    bars = []
    for i, spec in enumerate(specs):  # coordinates rounded to 0.01 unit: short SVG attributes
        row_y = padding + i * row_height
        length = plot_width * spec.value / max_value if max_value else 0.0
        if spec.value:
            length = max(length, MIN_BAR)
        y = row_y + (row_height - bar_height) / 2
        bars.append(BarShape(
            spec=spec, shown_label=shorten(spec.label, label_chars), value_text=format_count(spec.value),
            title=spec.title or f"{spec.label}: {format_count(spec.value)}",
            row_y=_r(row_y), x=_r(label_width), y=_r(y), width=_r(length), height=_r(bar_height),
            text_y=_r(y + bar_height / 2 + font_size * 0.35), value_x=_r(label_width + length + 6),
        ))
    height = 2 * padding + row_height * len(specs)
    return BarChart(width=width, height=height, bars=tuple(bars), max_value=max_value,
                    baseline_x=label_width, plot_width=plot_width, row_height=row_height,
                    label_chars=label_chars)


def _r(x: float) -> float:
    return round(x, 2)
