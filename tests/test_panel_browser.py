"""The panel end to end in Debian's Chromium (/usr/bin/chromium, driven by Playwright; never a
downloaded browser): log in, filter by Estado and Proyecto (Torre/Bloque follows Proyecto through
the small script), follow a page link, download the export and open it with openpyxl.

The panel runs in a thread of this process (werkzeug's server) on the filter test data, once on
SQLite and once on PostgreSQL (the ``database_url`` fixture's two params). One Chromium serves the
whole module (launched once, a fresh context per test).
The panel sends its mail by SMTP to a real aiosmtpd server (the ``smtp`` fixture): the
assignment mail, the status mail, the public comment with its attached file and the released
held mail are read there as a mail client reads them. Nueva atención: Torre/Bloque and
Dpto./Unidad follow Proyecto, Enter runs Buscar only in Buscar por, then Enter creates the ticket
(screenshot new-ticket.png). Duplicar and Crear requerimiento: the pliego listed on both of
its tickets, no mail to the requester (screenshots pliego.png, requirement-errors.png).
Screenshots: tests/artifacts/<test>-failure.png on failure; login.png and list.png always (the
folder is git-ignored) so that the look can be checked by eye.
"""

from __future__ import annotations

import os
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from tests.panel_harness import ADMIN, PASSWORD, add_staff, make_panel
from tests.servers import ServerUnavailable, obtain
from web_admin import listing
from web_admin.state import panel

CHROMIUM = os.environ.get("ATENCION_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--lang=es-PE"]


def _launch(playwright):
    if not Path(CHROMIUM).exists():
        raise ServerUnavailable(f"{CHROMIUM} is not installed (apt-get install chromium; make test does it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def off_the_loop(fn):
    """``fn()`` run in a thread of its own, its result returned (or its exception raised). Playwright's
    sync API keeps an event loop running in this thread, and the SMTP transport runs its own loop
    with ``run_until_complete``, which refuses to start inside another running loop."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.fixture
def panel_app(Session, tmp_path, smtp):
    """tests.panel_harness's panel, sending its mail by SMTP to this test's aiosmtpd (``smtp``).
    The mail the test data queued is sent first and forgotten, so ``smtp`` holds only the test's."""
    add_staff(Session)
    app = make_panel(Session, tmp_path, settings={"smtp_url": smtp.url})
    assert not off_the_loop(panel(app).outbound.send_pending).failed
    smtp.clear()
    yield app
    off_the_loop(panel(app).close)


@pytest.fixture
def live_panel(panel_app):
    """The panel served on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, panel_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium for the module (Playwright's sync API), closed at the end."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = obtain(lambda: _launch(p), "Chromium")
        yield chromium
        chromium.close()


@pytest.fixture
def page(request, browser, live_panel):
    """A page in a fresh context (Spanish locale, downloads allowed); a screenshot is saved on failure."""
    context = browser.new_context(accept_downloads=True, locale="es-PE", viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.base = live_panel
    try:
        yield pg
    finally:
        if getattr(request.node, "failed", False):
            ARTIFACTS.mkdir(exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
        context.close()


def codes(pg) -> list[str]:
    return pg.locator("td.code a").all_inner_texts()


def test_login_filter_page_and_export(page, monkeypatch, tmp_path):
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    pg.goto(pg.base + "/")
    assert pg.url.startswith(pg.base + "/login")
    pg.screenshot(path=str(ARTIFACTS / "login.png"))
    pg.fill("#email", ADMIN)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(pg.base + "/")
    assert pg.locator("h1").inner_text() == "Atención al Cliente"
    assert len(codes(pg)) == 5
    pg.screenshot(path=str(ARTIFACTS / "list.png"), full_page=True)

    # Estado (boxes that open from a summary): the URL holds only the filters in use (the script
    # leaves the empty fields out)
    pg.click("#f-status summary")
    pg.check("#f-status input[value=Registrado]")
    pg.click("text=Filtrar")
    pg.wait_for_url("**/?status=Registrado")
    assert sorted(codes(pg)) == ["AT-000003", "AT-000005"]
    assert pg.locator("span.alert-on_time").count() == 2

    # Proyecto: Torre/Bloque follows it without a reload
    assert pg.locator("#f-subdivision option").all_inner_texts() == ["Todos", "Bloque B", "Torre A"]
    pg.select_option("#f-project", "Los Olivos")
    pg.wait_for_function("document.querySelectorAll('#f-subdivision option').length === 2")
    assert pg.locator("#f-subdivision option").all_inner_texts() == ["Todos", "Torre A"]
    pg.click("#f-status summary")  # a second state: either
    pg.check("#f-status input[value=Atendido]")
    assert pg.locator("#f-status summary").inner_text() == "Registrado, Atendido"  # as they change
    pg.screenshot(path=str(ARTIFACTS / "list-filters.png"))
    pg.click("h1")  # a click elsewhere closes the list
    assert not pg.locator("#f-status").evaluate("d => d.open")
    pg.click("text=Filtrar")
    pg.wait_for_url("**/?status=Registrado&status=Atendido&project=Los+Olivos")
    assert codes(pg) == ["AT-000001"]
    assert pg.locator("#f-status summary").inner_text() == "Registrado, Atendido"
    assert pg.locator("td.days-attended_on_time").inner_text() == "5"

    # pages: two a page, the link keeps the filters
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    pg.goto(pg.base + "/?priority=Media&sort=code")
    assert codes(pg) == ["AT-000001", "AT-000004"]
    pg.click("a[rel=next]")
    pg.wait_for_url("**/?priority=Media&sort=code&page=2")
    assert codes(pg) == ["AT-000005"]
    assert pg.locator(".pages .current").inner_text() == "2"

    # Exportar: every page of the filtered list
    with pg.expect_download() as info:
        pg.click("#export")
    download = info.value
    assert download.suggested_filename.startswith("atenciones-") and download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    rows = list(load_workbook(path).active.values)
    assert rows[0][0] == "Código" and [r[0] for r in rows[1:]] == ["AT-000001", "AT-000004", "AT-000005"]


def test_bad_filter_and_logout(page):
    pg = page
    pg.goto(pg.base + "/login")
    pg.fill("#email", ADMIN)
    pg.fill("#password", "clave-equivocada")
    pg.click("button[type=submit]")
    assert "Correo o contraseña incorrectos." in pg.locator(".form-error").inner_text()
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(pg.base + "/")
    pg.fill("#f-days_min", "tres")
    pg.click("text=Filtrar")
    pg.wait_for_url("**/?days_min=tres")
    assert "número de días no válido 'tres'" in pg.locator("#err-days_min").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "list-errors.png"), full_page=True)
    pg.click("text=Salir")
    pg.wait_for_url(pg.base + "/login")


def log_in(pg) -> None:
    """Log in as the admin through the login form and land on the list."""
    pg.goto(pg.base + "/login")
    pg.fill("#email", ADMIN)
    pg.fill("#password", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(pg.base + "/")


def received(smtp, recipient: str, code: str, count: int) -> list[EmailMessage]:
    """The messages about ticket ``code`` (in the subject) that aiosmtpd took for ``recipient``,
    once ``count`` arrived (10 s at most), oldest first, each parsed from its bytes as a mail client
    would (``email.policy.default``)."""
    def about_code():
        return [d for d in smtp.deliveries_to(recipient) if f"[{code}]" in d.message["Subject"]]

    deadline = time.monotonic() + 10
    while len(got := about_code()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(got) == count, [(d.rcpt_tos, d.message["Subject"]) for d in smtp.deliveries()]
    return [BytesParser(policy=policy.default).parsebytes(d.data) for d in got]


def plain_text(message: EmailMessage) -> str:
    """The text/plain body of ``message`` (decoded)."""
    return message.get_body(preferencelist=("plain",)).get_content()


#: The file the comment carries: bytes that no text re-encoding would leave intact.
REPORT = {"name": "acta-visita.pdf", "mimeType": "application/pdf",
          "buffer": b"%PDF-1.4\n% acta de visita \xc3\xb1\n" + bytes(range(256)) + b"\n%%EOF\n"}


def test_ticket_view_actions_and_held_mail(page, panel_app, smtp, tmp_path):
    """Open a ticket from the list; assign it and receive the assignment mail at aiosmtpd; change its
    status; add a public comment with a file, download the file from the bitácora and receive it
    with the mail to the client; release a held mail. Screenshots ticket.png and held.png."""
    from tests.cli_harness import stranger_reply
    from tests.test_panel_held import ingest_mail

    ingest_mail(panel_app, stranger_reply(1, "AT-000003"), 1)
    pg = page
    log_in(pg)
    pg.click("td.code a:text('AT-000003')")
    pg.wait_for_url("**/atenciones/AT-000003")
    assert "Datos de la atención" in pg.locator(".col-left").inner_text()
    assert "Bitácora" in pg.locator(".col-right").inner_text()

    pg.select_option("#assign-assignee", "maria@empresa.pe")
    pg.click("#assign-form button")
    pg.wait_for_selector(".flash-success")
    assert pg.locator("#current-assignee").inner_text() == "María Quispe"
    assert pg.locator("#current-status").inner_text() == "Asignado"
    (assigned,) = received(smtp, "maria@empresa.pe", "AT-000003", 1)
    assert assigned["To"].addresses[0].addr_spec == "maria@empresa.pe"
    assert "[AT-000003]" in assigned["Subject"] and "Atención asignada a usted" in assigned["Subject"]
    assert "Se le asignó la atención AT-000003." in plain_text(assigned)

    pg.select_option("#status-status", "En proceso")
    pg.click("#status-form button")
    pg.wait_for_selector(".flash-success:has-text('Estado: En proceso')")
    assert pg.locator("#current-status").inner_text() == "En proceso"
    (status_mail,) = received(smtp, "rosa@gmail.com", "AT-000003", 1)
    assert "[AT-000003]" in status_mail["Subject"]

    pg.fill("#comment-text", "Visitaremos su departamento el lunes a las 10:00.")
    pg.check("#comment-public")
    pg.set_input_files("#comment-files", files=[REPORT])
    pg.click("#comment-form button[type=submit]")
    pg.wait_for_selector(".flash-success")
    log = pg.locator("#logbook").inner_text()
    assert "Visitaremos su departamento el lunes" in log
    assert "respuesta al cliente para rosa@gmail.com" in log and "Enviado" in log
    assert "Asignado" in pg.locator("#history").inner_text()
    link = pg.locator("#logbook a:has-text('acta-visita.pdf')")
    assert link.count() == 1
    with pg.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "acta-visita.pdf"
    info.value.save_as(str(tmp_path / "bajado.pdf"))
    assert (tmp_path / "bajado.pdf").read_bytes() == REPORT["buffer"]
    reply = received(smtp, "rosa@gmail.com", "AT-000003", 2)[1]
    assert "[AT-000003]" in reply["Subject"]
    assert "Visitaremos su departamento el lunes" in plain_text(reply)
    (attached,) = list(reply.iter_attachments())
    assert attached.get_filename() == "acta-visita.pdf" and attached.get_content_type() == "application/pdf"
    assert attached.get_content() == REPORT["buffer"]
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)

    pg.click("nav a:text('Correos retenidos')")
    pg.wait_for_url("**/correos-retenidos")
    assert "vecino1@example.org" in pg.locator(".held-list").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "held.png"), full_page=True)
    pg.click(".held-card button:text('Liberar')")
    pg.wait_for_selector(".flash-success:has-text('como comentario en AT-000003')")
    pg.goto(pg.base + "/atenciones/AT-000003")
    assert "Yo también tengo el problema número 1." in pg.locator("#logbook").inner_text()
    comment_mail = received(smtp, "maria@empresa.pe", "AT-000003", 2)[1]  # to the assignee
    assert "Yo también tengo el problema número 1." in plain_text(comment_mail)


def test_new_ticket_with_buscar_por(page, smtp):
    """Nueva atención: Torre/Bloque follows Proyecto and Dpto./Unidad follows Torre/Bloque (the
    list's script); Enter in another field never runs Buscar (the required fields are refused in
    Spanish); Enter in Buscar por runs it and fills the pliego; Enter in Asunto creates the ticket,
    whose acknowledgement arrives at aiosmtpd. Screenshot new-ticket.png."""
    pg = page
    log_in(pg)
    pg.click("nav a:text('Nueva atención')")
    pg.wait_for_url("**/atenciones/nueva")
    assert pg.locator("#subdivision option").all_inner_texts() == ["—", "Bloque B", "Torre A"]
    pg.select_option("#project", "Las Palmas")
    pg.wait_for_function("document.querySelectorAll('#subdivision option').length === 2")
    assert pg.locator("#subdivision option").all_inner_texts() == ["—", "Bloque B"]
    pg.select_option("#subdivision", "Bloque B")
    pg.wait_for_function("document.querySelectorAll('#dl-unit option').length === 1")
    assert pg.locator("#dl-unit option").evaluate_all("os => os.map(o => o.value)") == ["E-12"]
    pg.select_option("#project", "Los Olivos")
    pg.wait_for_function("document.querySelector('#subdivision').value === ''")
    assert pg.locator("#subdivision option").all_inner_texts() == ["—", "Torre A"]
    assert pg.locator("#dl-unit option").evaluate_all("os => os.map(o => o.value)") == ["101", "D-5"]

    pg.fill("#search_document", "40000001")
    pg.press("#subject", "Enter")  # not Buscar: the hidden default button is Crear
    pg.wait_for_selector("#err-subject")
    assert pg.locator("#err-requester_name").inner_text() == "Escriba el nombre del solicitante."
    assert pg.locator("#datos-cliente").count() == 0 and pg.input_value("#search_document") == "40000001"
    pg.press("#search_document", "Enter")
    pg.wait_for_selector("#datos-cliente")
    assert pg.locator(".field-error").count() == 0
    assert pg.input_value("#requester_name") == "Ana Torres"
    assert pg.input_value("#contract_number") == "C-2024-100"
    assert pg.input_value("#project") == "Los Olivos" and pg.input_value("#unit") == "101"
    assert pg.locator("#subdivision option").all_inner_texts() == ["—", "Torre A"]
    assert "AT-000001" in pg.locator("#atenciones-previas").inner_text()
    pg.select_option("#type", "Atención")
    pg.select_option("#category", "Acabados")
    pg.fill("#detail", "La puerta del closet se salió del riel.")
    pg.fill("#subject", "Puerta descolgada")
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "new-ticket.png"), full_page=True)
    pg.press("#subject", "Enter")
    pg.wait_for_url("**/atenciones/AT-000006")
    assert "Atención AT-000006 creada." in pg.locator(".flash-success").inner_text()
    assert "C-2024-100" in pg.locator(".col-left").inner_text()
    log = pg.locator("#logbook").inner_text()
    assert "para ana@cliente.pe" in log and "Enviado" in log  # the acknowledgement, sent
    (ack,) = received(smtp, "ana@cliente.pe", "AT-000006", 1)
    assert "Puerta descolgada" in ack["Subject"]


def test_duplicate_and_requirement_in_the_same_pliego(page, smtp):
    """Duplicar AT-000001 (the copy names its original), then Crear requerimiento on it: the
    requirement's required fields are refused in Spanish, then the new requirement and AT-000001
    both list "Requerimientos del pliego"; nothing is mailed to the requester. Screenshot
    pliego.png (always), of the new requirement's page, and requirement-errors.png."""
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000001")
    pg.click("#duplicate summary")  # a second click confirms: a mis-click makes no stray copy
    pg.screenshot(path=str(ARTIFACTS / "duplicate-confirm.png"))
    pg.click("#duplicate-form button")
    pg.wait_for_url("**/atenciones/AT-000006")
    assert "creada como duplicado de AT-000001" in pg.locator(".flash-success").inner_text()
    assert pg.locator("#duplicated-from").inner_text() == "AT-000001"
    assert "Duplicada desde AT-000001" in pg.locator("#logbook").inner_text()
    assert pg.locator("#current-status").inner_text() == "Registrado"
    assert pg.locator("#pliego-list").count() == 0  # a duplicate is no requirement of a pliego

    pg.click("#duplicated-from a")
    pg.wait_for_url("**/atenciones/AT-000001")
    assert "AT-000006" in pg.locator("#duplicates").inner_text()
    pg.click("#create-requirement")
    pg.wait_for_url("**/atenciones/AT-000001/requerimiento")
    header = pg.locator("#pliego").inner_text()
    assert "Ana Torres" in header and "C-2024-100" in header and "Los Olivos" in header
    pg.click("#crear-requerimiento")
    pg.wait_for_selector("#err-type")
    assert pg.locator("#err-type").inner_text() == "Elija el tipo de atención."
    assert pg.locator("#err-subject").inner_text() == "Escriba el asunto."
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "requirement-errors.png"), full_page=True)
    pg.select_option("#type", "Trámite")
    pg.select_option("#category", "Acabados")
    pg.fill("#subject", "Copia del contrato")
    pg.fill("#detail", "Necesito una copia del contrato firmado.")
    pg.click("#crear-requerimiento")
    pg.wait_for_url("**/atenciones/AT-000007")
    assert "Requerimiento AT-000007 creado en el pliego de AT-000001." in pg.locator(".flash-success").inner_text()
    assert pg.locator("#pliego-list td a").all_inner_texts() == ["AT-000001", "AT-000007"]
    assert pg.locator("#pliego-list tr.current a").inner_text() == "AT-000007"
    assert "Ana Torres" in pg.locator(".col-left").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "pliego.png"), full_page=True)
    pg.click("#pliego-list a:text('AT-000001')")
    pg.wait_for_url("**/atenciones/AT-000001")
    assert pg.locator("#pliego-list td a").all_inner_texts() == ["AT-000001", "AT-000007"]
    assert "Atendido" in pg.locator("#pliego-list").inner_text()
    assert "Nuevo requerimiento del pliego: AT-000007" in pg.locator("#logbook").inner_text()
    assert smtp.deliveries_to("ana@cliente.pe") == []  # neither one acknowledged
