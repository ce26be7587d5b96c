"""Administración end to end in Debian's Chromium (Playwright; tests.test_panel_browser's fixtures,
mail by SMTP to a real aiosmtpd): through the «Administración» link, create a user (a short
password is refused in Spanish first), deactivate the agent María and reassign her open ticket to
the new user — who receives the assignment mail —, and add a closed day (a holiday) that then shows
in its list; deleting a status in use is refused with the reason. Screenshots
tests/artifacts/admin-users.png, admin-user.png, admin-closed-days.png and admin-refusal.png
(always saved: look at them); a failure saves one too. SQLite and PostgreSQL.
"""

from __future__ import annotations

from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel, page, panel_app are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    page,
    panel_app,
    plain_text,
    received,
)

NEW = "lucia.ramos@empresa.pe"


def test_create_user_deactivate_agent_reassign_and_closed_day(page, smtp):  # noqa: F811 - the fixtures
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(pg)
    pg.click("nav.nav >> text=Administración")
    pg.wait_for_url("**/admin/")
    pg.click("#tile-usuarios")
    pg.wait_for_url("**/admin/usuarios")

    # a new agent (a short password first: refused by its field, the typed values kept)
    pg.fill("#u-email", NEW)
    pg.fill("#u-name", "Lucía Ramos")
    pg.select_option("#u-role", "agent")
    pg.select_option("#u-area", "Postventa")
    pg.fill("#u-password", "corta")
    pg.click("#user-create")
    assert pg.locator("#err-password").inner_text() == "Debe tener al menos 8 caracteres."
    assert pg.input_value("#u-email") == NEW
    pg.fill("#u-password", "clave-de-lucia-1")
    pg.click("#user-create")
    pg.wait_for_url("**/admin/usuarios")
    assert f"Usuario {NEW} creado." in pg.locator(".flash-success").inner_text()
    assert "Lucía Ramos" in pg.locator("#users-table").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "admin-users.png"), full_page=True)

    # deactivate María: her open ticket AT-000001 is listed, reassigned to Lucía
    pg.locator("#users-table tr", has_text="maria@empresa.pe").locator("text=Editar").click()
    pg.click("#user-deactivate")
    assert ("Usuario desactivado. Tiene 1 atención abierta: reasígnela abajo."
            in pg.locator(".flash-success").inner_text())
    assert "Desactivado" in pg.locator("#user-state").inner_text()
    row = pg.locator("#open-AT-000001")
    row.locator("select").select_option(label="Lucía Ramos")
    pg.screenshot(path=str(ARTIFACTS / "admin-user.png"), full_page=True)
    row.locator("button").click()
    assert "Reasignada a Lucía Ramos: AT-000001." in pg.locator(".flash-success").inner_text()
    assert "No tiene atenciones abiertas." in pg.locator("#open-tickets").inner_text()
    (mail,) = received(smtp, NEW, "AT-000001", 1)
    assert "AT-000001" in plain_text(mail)
    pg.goto(pg.base + "/atenciones/AT-000001")
    assert "Lucía Ramos" in pg.locator("body").inner_text()

    # a closed day
    pg.goto(pg.base + "/admin/")
    pg.click("#tile-dias-no-laborables")
    pg.fill("#f-day", "2025-07-29")
    pg.fill("#f-note", "Fiestas Patrias")
    pg.click("#catalog-save")
    assert "El día no laborable «29/07/2025» se creó." in pg.locator(".flash-success").inner_text()
    assert "Fiestas Patrias" in pg.locator("#row-2025-07-29").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "admin-closed-days.png"), full_page=True)
    # «Eliminar» asks first; «Sí, eliminar» deletes the unused row
    pg.locator("#row-2025-07-29 summary:has-text('Eliminar')").click()
    confirm = pg.locator("#row-2025-07-29 .confirm-box")
    assert "¿Eliminar «29/07/2025»? No se puede deshacer" in confirm.inner_text()
    pg.screenshot(path=str(ARTIFACTS / "admin-delete-confirm.png"), full_page=True)
    assert pg.locator("#row-2025-07-29").count() == 1  # nothing deleted yet
    confirm.locator("button:has-text('Sí, eliminar')").click()
    pg.wait_for_selector(".flash-success")
    assert pg.locator("#row-2025-07-29").count() == 0

    # a status in use cannot go: the reason is on the page, the row stays
    pg.click(".admin-nav >> text=Estados")
    pg.locator("#catalog-table tr", has_text="Asignado").locator("summary:has-text('Eliminar')").click()
    pg.locator("#catalog-table tr", has_text="Asignado").locator("button:has-text('Sí, eliminar')").click()
    assert pg.locator("#refusal").inner_text() == ("No se puede eliminar el estado «Asignado»: "
                                                   "lo usa 1 atención.")
    assert pg.locator("#catalog-table tr", has_text="Asignado").count() == 1
    pg.screenshot(path=str(ARTIFACTS / "admin-refusal.png"), full_page=True)
