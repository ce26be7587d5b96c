"""web_admin/charts.py, the dashboard's bar-chart geometry (pure: no Flask, no database), and the
macro that draws it (templates/admin/_chart.html): bars proportional to their values, a 0 drawn
as 0, rows that do not overlap, labels shortened and escaped, a well-formed SVG whose every bar is
a link with a <title>, and a table of the same figures as its text alternative."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from jinja2 import Environment, FileSystemLoader

from web_admin import TEMPLATES_DIR
from web_admin.charts import MIN_BAR, BarSpec, format_count, horizontal_bars, shorten

SVG = "{http://www.w3.org/2000/svg}"


def specs(*values: int) -> list[BarSpec]:
    return [BarSpec(f"Tipo {i}", v, f"/?type=Tipo+{i}") for i, v in enumerate(values)]


def test_lengths_are_proportional_and_zero_is_zero():
    chart = horizontal_bars(specs(40, 10, 0, 20), width=600, label_width=200, value_width=50)
    assert chart.plot_width == 350 and chart.max_value == 40
    assert [b.width for b in chart.bars] == [350, 87.5, 0, 175]
    assert {b.x for b in chart.bars} == {chart.baseline_x} == {200}
    for b in chart.bars:  # the count sits just right of its bar's end, inside the chart
        assert b.value_x == pytest.approx(b.x + b.width + 6)
        assert b.value_x + 40 <= chart.width
    assert [b.value_text for b in chart.bars] == ["40", "10", "0", "20"]
    assert chart.total == 70


def test_every_value_zero_draws_every_bar_zero():
    chart = horizontal_bars(specs(0, 0))
    assert chart.max_value == 0
    assert [b.width for b in chart.bars] == [0, 0]


def test_no_bars():
    chart = horizontal_bars([], padding=6)
    assert chart.bars == () and chart.max_value == 0 and chart.height == 12


def test_rows_stack_top_to_bottom_without_overlap():
    chart = horizontal_bars(specs(3, 1, 2), row_height=30, bar_height=18, padding=6)
    assert chart.height == 6 + 3 * 30 + 6
    tops = [b.row_y for b in chart.bars]
    assert tops == [6, 36, 66]
    for b in chart.bars:
        assert b.row_y <= b.y and b.y + b.height <= b.row_y + chart.row_height
        assert b.y < b.text_y < b.y + b.height  # text centred on its bar
    assert chart.bars[-1].row_y + chart.row_height + 6 == chart.height


def test_large_counts_and_order_kept():
    chart = horizontal_bars(specs(1_234_567, 1))
    assert chart.bars[0].value_text == "1 234 567" == format_count(1_234_567)
    assert [b.spec.label for b in chart.bars] == ["Tipo 0", "Tipo 1"]
    assert chart.bars[1].width == MIN_BAR  # 1 of 1 234 567: drawn, not rounded to nothing


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        horizontal_bars(specs(1, -1))
    with pytest.raises(ValueError):
        horizontal_bars(specs(1), width=200, label_width=180, value_width=56)


def test_long_labels_are_shortened_and_whole_in_the_title():
    long = "Atención al Cliente y Relaciones con Propietarios"
    chart = horizontal_bars([BarSpec(long, 2, "/?area=x")], label_width=180, font_size=13)
    bar = chart.bars[0]
    assert bar.shown_label == "Atención al Cliente…" and len(bar.shown_label) <= chart.label_chars
    assert long.startswith(bar.shown_label[:-1])
    assert bar.title == f"{long}: 2"
    assert shorten("  Postventa  ", 20) == "Postventa"
    assert shorten("Postventa", 9) == "Postventa"
    assert shorten("Postventa", 5) == "Post…"
    assert shorten("Área  Legal\n", 30) == "Área Legal"


def render(chart, kind="overdue") -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True)
    macro = env.get_template("admin/_chart.html").module.bar_chart
    return str(macro(chart, "chart-x", kind, "Con retraso por tipo"))


def test_drawn_svg_is_well_formed_escaped_and_accessible():
    hostile = '<script>alert("x")</script> & Co'
    chart = horizontal_bars([
        BarSpec(hostile, 3, "/?alert=overdue&type=%3Cscript%3E", title=f"{hostile}: 3 con retraso"),
        BarSpec("Postventa", 0, "/?alert=overdue&area=Postventa"),
        BarSpec("Fuera", 1, "/?alert=attended_late", tone="attended_late"),
    ])
    html = render(chart)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    svg = ET.fromstring(html[start:end].replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    assert svg.get("aria-labelledby") == "chart-x-caption"
    assert 'id="chart-x-caption"' in html and ">Con retraso por tipo</figcaption>" in html
    assert svg.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    links = svg.findall(f"{SVG}a")
    assert len(links) == 3
    for link, bar in zip(links, chart.bars, strict=True):
        assert link[0].tag == f"{SVG}title" and link[0].text == bar.title  # first child: its name
        assert link.get("href") == bar.spec.href and link.get("data-count") == str(bar.spec.value)
        rect = link.find(f"{SVG}rect[@class='bar']")
        assert float(rect.get("width")) == bar.width
        assert link.find(f"{SVG}text[@class='label']").text == bar.shown_label
        assert link.find(f"{SVG}text[@class='value']").text == bar.value_text
    assert links[0].find(f"{SVG}title").text == f"{hostile}: 3 con retraso"
    assert float(links[1].find(f"{SVG}rect[@class='bar']").get("width")) == 0
    assert [link.get("class") for link in links] == [
        "chart-bar tone-overdue", "chart-bar tone-overdue", "chart-bar tone-attended_late"]
    # the text alternative: a table of the same figures, each a link
    table = html[html.index("<table>"):html.index("</table>")]
    assert '<th scope="row">Postventa</th><td class="num"><a href="/?alert=overdue&amp;area=Postventa">0</a>' in table
    assert "&lt;script&gt;" in table and "<script>" not in table


def test_an_empty_chart_says_so():
    html = render(horizontal_bars([]))
    assert "<svg" not in html and "No hay categorías que mostrar." in html
