"""Hostile input seen as a user sees it, in Debian's Chromium (Playwright; tests.test_panel_browser's
fixtures), SQLite and PostgreSQL: a search URL with ``%00`` shows the Spanish «Solicitud no válida»
page (not a 500), and an event dated 31/12/9999 is refused under its «Fecha» field with the typed
values kept. Screenshots tests/artifacts/hostile-nul.png and hostile-event-9999.png (always saved)."""

from __future__ import annotations

from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel, page, panel_app are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    page,
    panel_app,
)


def test_nul_in_a_search_and_an_event_in_9999(page):  # noqa: F811 - the fixtures
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(pg)
    response = pg.goto(pg.base + "/?q=humedad%00x")
    assert response.status == 400
    assert pg.locator("h1").inner_text() == "Solicitud no válida"
    assert "caracteres no válidos" in pg.locator("main").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "hostile-nul.png"), full_page=True)

    pg.goto(pg.base + "/atenciones/AT-000003")
    pg.click("#eventos summary")
    pg.fill("#event-title", "Revisión del techo")
    pg.fill("#event-date", "9999-12-31")
    pg.fill("#event-start", "20:00")
    pg.fill("#event-end", "21:00")
    pg.click("#schedule-event")
    assert pg.locator("#err-event-date").inner_text() == "El evento debe ser dentro de los próximos 5 años."
    assert pg.input_value("#event-title") == "Revisión del techo"
    pg.locator("#eventos").screenshot(path=str(ARTIFACTS / "hostile-event-9999.png"))
