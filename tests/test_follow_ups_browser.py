"""Seguimiento end to end in Debian's Chromium (Playwright; tests.test_panel_browser's fixtures),
on SQLite and PostgreSQL: on a ticket's view, an empty note comes back in Spanish next to its
field; a follow-up due today for María is added and listed; the scheduler's reminder job runs
and María's reminder arrives at a real aiosmtpd server (read as a mail client reads it); she is
not mailed twice; the follow-up is marked done with its checkbox and the bitácora and the
history say so; the nav bar's "Seguimientos" page lists it meanwhile. Screenshots:
tests/artifacts/follow-ups.png, follow-ups-errors.png and follow-ups-list.png (always: look at
them), <test>-failure.png on failure.

"Today" here is the real date in Lima (not the harness's pinned 2025-01-06): the job reads the
real clock, and the reminder time is set to 00:00 so that it is due whenever the test runs.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.panel_harness import AGENT, add_staff, make_panel
from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel and page are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    off_the_loop,
    page,
    plain_text,
    received,
)
from web_admin.state import panel
from worker.scheduler import follow_up_job

NOTE = "Llamar a la Sra. Díaz para coordinar la visita del gasfitero"


@pytest.fixture
def panel_app(Session, tmp_path, smtp):
    """tests.test_panel_browser's panel (mail by SMTP to ``smtp``) on the real today, reminders from 00:00."""
    add_staff(Session)
    app = make_panel(Session, tmp_path, settings={"smtp_url": smtp.url, "digest_time": "00:00"},
                     ATENCION_TODAY=None)
    assert not off_the_loop(panel(app).outbound.send_pending).failed
    smtp.clear()
    yield app
    off_the_loop(panel(app).close)


def test_add_a_follow_up_get_the_reminder_and_mark_it_done(page, panel_app, smtp):  # noqa: F811
    pg = page
    today = datetime.now(ZoneInfo("America/Lima")).date()
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000003")
    assert pg.locator("#seguimiento h2").inner_text() == "Seguimiento"
    assert pg.locator("#follow-ups-empty").inner_text() == "Sin seguimientos."
    assert pg.input_value("#follow_up-owner") == "admin@empresa.pe"  # unassigned: the current user

    pg.fill("#follow_up-due_date", today.isoformat())
    pg.click("#follow-up-form button[type=submit]")  # no note
    pg.wait_for_selector("#err-follow_up-note")
    assert pg.locator("#err-follow_up-note").inner_text() == "Escriba la nota del seguimiento."
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator("#seguimiento").screenshot(path=str(ARTIFACTS / "follow-ups-errors.png"))

    pg.select_option("#follow_up-owner", AGENT)
    pg.fill("#follow_up-note", NOTE)
    pg.click("#follow-up-form button[type=submit]")
    pg.wait_for_selector(".flash-success")
    assert pg.url.endswith("/atenciones/AT-000003#seguimiento")
    flash = pg.locator(".flash-success").inner_text()
    assert flash == f"Seguimiento agregado para el {today:%d/%m/%Y} a cargo de María Quispe."
    row = pg.locator("#follow-ups tbody tr")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == [today.strftime("%d/%m/%Y"), NOTE, "María Quispe"]
    assert "Seguimiento para el" in pg.locator("#logbook").inner_text()

    # the scheduler's job: María's reminder through the outbox, to aiosmtpd; a second run sends nothing
    off_the_loop(lambda: follow_up_job(panel(panel_app).outbound))
    (mail,) = received(smtp, AGENT, "AT-000003", 1)
    assert mail["Subject"].startswith("[AT-000003] Seguimiento para hoy: Llamar a la Sra. Díaz")
    assert mail["To"] == AGENT and mail["Auto-Submitted"] == "auto-generated"
    body = plain_text(mail).replace("\r\n", "\n")
    assert body.startswith(f"Hola, María Quispe:\n\nEste seguimiento a su cargo vence hoy, {today:%d/%m/%Y}:")
    assert NOTE in body and "Código: AT-000003" in body
    off_the_loop(lambda: follow_up_job(panel(panel_app).outbound))
    assert len(smtp.deliveries_to(AGENT)) == 1

    # the nav bar's "Seguimientos": the admin owns none; everybody's lists María's, due today
    pg.click("#nav-follow-ups")
    assert pg.locator("#follow-ups-none").inner_text() == "No hay seguimientos pendientes a su cargo."
    pg.click("#follow-ups-all")
    listed = pg.locator("#follow-ups-list tbody tr")
    assert listed.count() == 1 and "hoy" in listed.locator("td").first.inner_text()
    assert "AT-000003" in listed.inner_text() and "María Quispe" in listed.inner_text()
    pg.screenshot(path=str(ARTIFACTS / "follow-ups-list.png"), full_page=True)
    listed.locator("a").first.click()
    pg.wait_for_url("**/atenciones/AT-000003#seguimiento")
    assert "recordatorio de seguimiento" in pg.locator("#logbook").inner_text()
    pg.locator("#follow-ups tbody tr input[type=checkbox]").check()  # submits its form
    pg.wait_for_selector("#follow-ups tr.fu-done")
    assert pg.locator(".flash-success").inner_text() == "Seguimiento marcado como hecho."
    assert pg.locator("#follow-ups tr.fu-done button").inner_text() == "Reabrir"
    assert pg.locator("#follow-ups tr.fu-done input[type=checkbox]").is_checked()
    assert f"Seguimiento del {today:%d/%m/%Y} hecho" in pg.locator("#logbook").inner_text()
    history = pg.locator("#history tbody tr").first.locator("td").all_inner_texts()
    assert history[1:] == ["Seguimiento", "pendiente", "hecho", "Ana Administradora"]
    pg.locator("#seguimiento").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "follow-ups.png"), full_page=True)
