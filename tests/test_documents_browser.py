"""Generar Documento end to end in Debian's Chromium (Playwright; tests.test_panel_browser's
fixtures): from the ticket view, choose "Acta de visita", write the visit's text, see the A4
preview (tests/artifacts/document.png, always saved: look at it; the form with its Spanish
errors: document-form.png), check that printing hides the
toolbar, "Enviar" it, and receive the mail at a real aiosmtpd server with the PDF attached — read
as a mail client reads it (the email package), the PDF's text read back with pypdf.
SQLite and PostgreSQL, as the other browser tests.
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.panel_harness import add_staff, make_panel
from tests.test_documents import png
from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel and page are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    off_the_loop,
    page,
    received,
)
from web_admin.state import panel

COMPANY = "Constructora Ñandú S.A.C."
OBSERVATIONS = ("Se constató humedad en la pared del baño, junto a la ducha.\n"
                "La cañería del piso superior gotea; el propietario autorizó el ingreso.")


@pytest.fixture
def panel_app(Session, tmp_path, smtp):
    """tests.test_panel_browser's panel (mail by SMTP to ``smtp``), signed by `COMPANY` with a logo."""
    add_staff(Session)
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(120, 40, (47, 125, 74)))
    app = make_panel(Session, tmp_path, settings={
        "smtp_url": smtp.url, "company_name": COMPANY, "company_ruc": "20555666777",
        "company_address": "Av. José Larco 345, Miraflores, Lima", "company_logo": logo})
    assert not off_the_loop(panel(app).outbound.send_pending).failed
    smtp.clear()
    yield app
    off_the_loop(panel(app).close)


def test_visit_record_preview_and_mail_with_pdf(page, smtp):  # noqa: F811 - the imported fixture
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000003")
    pg.click("#documento summary")
    pg.select_option("#documento-tipo", "acta_visita")
    pg.click("#document-choice button[type=submit]")
    pg.wait_for_url("**/atenciones/AT-000003/documentos/acta_visita")
    assert pg.input_value("#doc-visit_date") == "2025-01-06"  # today, pinned
    assert pg.input_value("#doc-attendees") == "Rosa Díaz — Solicitante\nAna Administradora — Atención al Cliente"

    pg.click("#document-preview")  # nothing written yet: refused in Spanish, per field
    pg.wait_for_selector("#err-doc-visit_start")
    assert pg.locator("#err-doc-visit_start").inner_text() == "Complete «Hora de inicio»."
    assert pg.locator("#err-doc-observations").inner_text() == "Complete «Observaciones»."
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "document-form.png"), full_page=True)

    pg.fill("#doc-visit_date", "2025-01-07")
    pg.fill("#doc-visit_start", "09:30")
    pg.fill("#doc-visit_end", "10:45")
    pg.fill("#doc-observations", OBSERVATIONS)
    pg.fill("#doc-agreements", "Reparar la cañería el viernes 10 de enero; pintar la pared después.")
    pg.click("#document-preview")
    pg.wait_for_selector("#document-toolbar")
    sheet = pg.locator("#document")
    text = sheet.inner_text()
    for expected in ("ACTA DE VISITA", "AT-000003", "Rosa Díaz", COMPANY, "RUC 20555666777",
                     "7 de enero de 2025, de 09:30 a 10:45 h", "La cañería del piso superior gotea"):
        assert expected in text, expected
    assert pg.locator("#document .letterhead img.logo").evaluate("img => img.naturalWidth") == 120
    width_mm = sheet.evaluate("el => el.getBoundingClientRect().width") * 25.4 / 96
    assert abs(width_mm - 210) < 1  # an A4 sheet on screen
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)
    pg.emulate_media(media="print")
    assert not pg.locator("#document-toolbar").is_visible() and sheet.is_visible()
    pg.emulate_media(media="screen")

    pg.click("#send-document")
    pg.wait_for_url("**/atenciones/AT-000003")
    assert "Documento «Acta de visita» enviado a rosa@gmail.com" in pg.locator(".flash-success").inner_text()
    log = pg.locator("#logbook").inner_text()
    assert "acta-de-visita-AT-000003.pdf" in log and "documento al cliente para rosa@gmail.com" in log

    (mail,) = received(smtp, "rosa@gmail.com", "AT-000003", 1)
    assert "Acta de visita" in mail["Subject"]
    (attached,) = list(mail.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "acta-de-visita-AT-000003.pdf"
    pdf = attached.get_content()
    assert pdf.startswith(b"%PDF-")
    pdf_text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for expected in ("AT-000003", "Rosa Díaz", COMPANY, " ".join(OBSERVATIONS.split()),
                     "Reparar la cañería el viernes 10 de enero"):
        assert expected in pdf_text, expected
    # the same bytes as the file kept in the bitácora
    with pg.expect_download() as info:
        pg.locator("#logbook a:has-text('acta-de-visita-AT-000003.pdf')").click()
    assert open(info.value.path(), "rb").read() == pdf
