"""The dashboard in Debian's Chromium (Playwright, the fixtures of tests/test_panel_browser.py):
log in from ``/resumen``, see the charts drawn (bars as long as their counts), click a bar and land
on the list filtered to exactly its tickets, as many rows as the bar said. SQLite and PostgreSQL.

Screenshots: tests/artifacts/dashboard.png and dashboard-narrow.png (900 px wide) always
(git-ignored), to check the page by eye.
"""

from __future__ import annotations

import pytest

from tests.panel_harness import ADMIN, PASSWORD
from tests.test_panel_browser import ARTIFACTS, browser, codes, live_panel, page, panel_app  # noqa: F401 - fixtures
from tests.test_panel_dashboard import add_dashboard_tickets


@pytest.fixture
def data(Session, tmp_path):  # noqa: N803 - the session factory fixture
    add_dashboard_tickets(Session, tmp_path)


def bar(pg, chart: str, label: str):
    return pg.locator(f'#{chart} svg a.chart-bar[data-label="{label}"]')


def click_to_list(pg, chart: str, label: str) -> None:
    """Click the bar, then check the list it opens: its URL, its rows, its count line."""
    link = bar(pg, chart, label)
    count, href = int(link.get_attribute("data-count")), link.get_attribute("href")
    assert count > 0
    link.locator("rect.bar").click()
    pg.wait_for_url(pg.base + href)
    assert pg.locator("h1").inner_text() == "Atención al Cliente"
    assert len(codes(pg)) == count
    assert pg.locator("#total").inner_text().startswith(f"{count} atenci")


def test_dashboard_bars_lead_to_their_lists(page, data):  # noqa: F811 - the fixture
    pg = page
    pg.goto(pg.base + "/resumen")
    assert pg.url.startswith(pg.base + "/login")
    pg.fill("#email", ADMIN)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(pg.base + "/resumen")
    assert pg.locator("h1").inner_text() == "Resumen"
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    assert pg.locator("svg.bar-chart").count() == 4
    # drawn to scale: 2 attended late, 1 on time → the first bar twice as long as the second
    late = bar(pg, "chart-attended", "Fuera de plazo").locator("rect.bar").bounding_box()
    on_time = bar(pg, "chart-attended", "Dentro de plazo").locator("rect.bar").bounding_box()
    assert late["width"] == pytest.approx(2 * on_time["width"], rel=0.01) and on_time["width"] > 50
    assert late["x"] == pytest.approx(on_time["x"])
    # a bar's <title> is its tooltip and its link's accessible name
    named = pg.get_by_role("link", name="Atendidas fuera de plazo: 2 atenciones", exact=True)
    assert named.get_attribute("data-label") == "Fuera de plazo"

    click_to_list(pg, "chart-attended", "Fuera de plazo")
    assert pg.url.endswith("/?alert=attended_late&attended_from=2024-12-08&attended_to=2025-01-06")
    assert sorted(codes(pg)) == ["AT-000004", "AT-000007"]
    pg.go_back()
    pg.wait_for_url(pg.base + "/resumen")
    click_to_list(pg, "chart-overdue-type", "Reclamo")
    assert codes(pg) == ["AT-000002"]
    # a narrow window: one chart per row, each scaled down to its card, no sideways scroll
    pg.go_back()
    pg.wait_for_url(pg.base + "/resumen")
    pg.set_viewport_size({"width": 900, "height": 900})
    pg.screenshot(path=str(ARTIFACTS / "dashboard-narrow.png"), full_page=True)
    for i in range(4):
        svg = pg.locator("svg.bar-chart").nth(i).bounding_box()
        card = pg.locator(".charts .card").nth(i).bounding_box()
        assert card["x"] < svg["x"] and svg["x"] + svg["width"] < card["x"] + card["width"]
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    pg.set_viewport_size({"width": 1440, "height": 900})
    # the nav leads back
    pg.click("nav >> text=Resumen")
    pg.wait_for_url(pg.base + "/resumen")
    pg.locator("#kpi-overdue").click()
    pg.wait_for_url(pg.base + "/?alert=overdue")
    assert sorted(codes(pg)) == ["AT-000002", "AT-000006", "AT-000009"]
