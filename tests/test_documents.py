"""Generar Documento (issue 10, item 4): each document's printable preview; "Enviar" keeps the PDF
in the bitácora (an attachment entry) and queues it to the requester (outbox, sent in process as
an .eml here); the PDF's own text — read back with pypdf, and with poppler's pdftotext — holds the
ticket's code, the requester, accented Spanish intact and the company that signs (the settings'
ATENCION_COMPANY_*, or the ticket's promoter); Spanish messages per field; a legal user gets 404
for a ticket not theirs. Flask test client, SQLite and PostgreSQL (tests.panel_harness's data).

WeasyPrint and its libraries are imported, never skipped: a machine without them fails here (make
test installs Debian's pango and fonts; TEST_DEB_PACKAGES).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from email import policy
from email.parser import BytesParser

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.panel_harness import LEGAL, Staff, add_staff, csrf_token, make_panel
from tests.servers.common import in_ci
from tickets.documents import DOCUMENTS, get_document, logo_data_uri, long_date, validate
from tickets.models import Attachment, LogbookEntry, OutboxMessage, Promoter, Ticket
from web_admin.state import panel

COMPANY = "Inmobiliaria Añaños & Peña S.A.C."


def png(width: int = 48, height: int = 16, rgb=(42, 74, 107)) -> bytes:
    """A plain PNG of one colour (the company's logo), written with zlib: no image library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = png()
ACCENTED = "Se constató humedad en el baño del niño; ¿la cañería pasó la inspección? ¡Sí! Pingüino, 1.234,56 €"
VISIT = {"doc-visit_date": "2025-01-07", "doc-visit_start": "09:30", "doc-visit_end": "11:00",
         "doc-attendees": "Rosa Díaz — Solicitante\nMaría Quispe — Postventa",
         "doc-observations": ACCENTED, "doc-agreements": "Cambiar la cañería el 10 de enero."}
VALID = {"carta_recepcion": {"doc-body": "Recibimos su requerimiento y lo atenderemos en el plazo de ley."},
         "acta_visita": VISIT,
         "carta_respuesta": {"doc-body": "Se reemplazó la bisagra de la puerta del baño."}}


@pytest.fixture
def doc_app(Session, tmp_path):
    """The panel on the filter test data, signed by `COMPANY` (RUC, address and logo from settings)."""
    add_staff(Session)
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    app = make_panel(Session, tmp_path, settings={
        "company_name": COMPANY, "company_ruc": "20123456789", "company_address": "Av. Arequipa 1234, Miraflores",
        "company_logo": logo})
    yield app
    panel(app).close()


@pytest.fixture
def admin(doc_app) -> Staff:
    staff = Staff(doc_app.test_client())
    assert staff.login("admin@empresa.pe").status_code == 302
    return staff


def post(staff: Staff, path: str, data: dict):
    token = csrf_token(staff.get("/").text)  # the session's token (the logout form's)
    return staff.client.post(path, data={**data, "csrf_token": token})


def pdf_text(data: bytes) -> str:
    """The PDF's text as pypdf extracts it, every page."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def sent_document(app, code: str):
    """(the attachment entry, its file row, the PDF bytes, the outbox rows) of ``code``'s last document."""
    with panel(app).sessions() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.code == code))
        entry = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == ticket.id,
                                                     LogbookEntry.kind == "attachment")
                          .order_by(LogbookEntry.id.desc())).first()
        files = s.scalars(select(Attachment).where(Attachment.entry_id == entry.id)).all()
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id,
                                                     OutboxMessage.event == "document")).all()
        s.expunge_all()
    (pdf_row,) = files
    data = (panel(app).settings.storage_dir / pdf_row.sha256[:2] / pdf_row.sha256).read_bytes()
    return entry, pdf_row, data, rows


# --------------------------------------------------------------------------- the domain


def test_validate_dates_times_and_required_fields_in_spanish():
    acta = get_document("acta_visita")
    values, errors = validate(acta, {"visit_date": "31/02/2025", "visit_start": "25:00", "visit_end": "",
                                     "attendees": "  ", "observations": "ok\r\nbien"})
    assert errors == {"visit_date": "Fecha no válida: use dd/mm/aaaa.",
                      "visit_start": "Hora no válida: use HH:MM (24 horas).",
                      "attendees": "Complete «Asistentes»."}
    assert values["observations"] == "ok\nbien"
    _, errors = validate(acta, {"visit_date": "2025-01-07", "visit_start": "10:00", "visit_end": "09:59",
                                "attendees": "Rosa", "observations": "x"})
    assert errors == {"visit_end": "La hora de término debe ser posterior a la de inicio."}
    for typed in ("07/01/2025", "7/1/2025", "07-01-2025", "2025-01-07"):  # as Peru writes it, or ISO
        values, errors = validate(acta, {"visit_date": typed, "visit_start": "10:00", "attendees": "Rosa",
                                         "observations": "x"})
        assert not errors and values["visit_date"] == "2025-01-07", typed
    _, errors = validate(get_document("carta_respuesta"), {"body": "x" * 5001})
    assert errors == {"body": "Máximo 5 000 caracteres."}
    assert long_date(date(2025, 1, 6)) == "6 de enero de 2025"
    assert get_document("otro") is None and set(DOCUMENTS) == {"carta_recepcion", "acta_visita", "carta_respuesta"}


def test_logo_is_a_data_uri_or_left_out(tmp_path):
    (tmp_path / "logo.png").write_bytes(PNG)
    assert logo_data_uri(tmp_path / "logo.png").startswith("data:image/png;base64,iVBOR")
    (tmp_path / "logo.exe").write_bytes(PNG)
    assert logo_data_uri(tmp_path / "logo.exe") is None  # not an image type
    assert logo_data_uri(tmp_path / "missing.png") is None and logo_data_uri(None) is None
    (tmp_path / "big.png").write_bytes(PNG + b"\0" * (1 << 20))
    assert logo_data_uri(tmp_path / "big.png") is None


# --------------------------------------------------------------------------- the panel


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_each_document_previews_as_a_printable_page(admin, key):
    """The ticket's card leads to the document's page, whose text is proposed; its preview is the
    printable A4 page, filled from the ticket, with the signing company and a toolbar."""
    page = admin.get("/atenciones/AT-000003")
    assert 'id="documento"' in page.text and "Acta de visita" in page.text
    r = admin.get("/atenciones/AT-000003/documentos", tipo=key)
    assert r.status_code == 302 and r.location == f"/atenciones/AT-000003/documentos/{key}"
    form = admin.get(r.location)
    assert form.status_code == 200 and DOCUMENTS[key].title in form.text
    if key == "carta_recepcion":
        assert "Por medio de la presente dejamos constancia" in form.text
    if key == "acta_visita":  # proposed: today (pinned), the requester and the staff member attending
        assert 'value="2025-01-06"' in form.text and "Rosa Díaz — Solicitante\nAna Administradora" in form.text
    r = post(admin, f"/atenciones/AT-000003/documentos/{key}/vista-previa", VALID[key])
    assert r.status_code == 200, r.text
    html = r.text
    assert "size: A4" in html and "@media print" in html and 'id="document-toolbar"' in html
    assert "AT-000003" in html and "Rosa Díaz" in html and COMPANY.replace("&", "&amp;") in html
    assert "RUC 20123456789" in html and "data:image/png;base64," in html
    assert "05/01/2025" in html  # requested 2025-01-05 00:00 in Lima (05:00 UTC)
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert 'id="send-document"' in html and "Enviar a rosa@gmail.com" in html
    if key == "acta_visita":
        assert "7 de enero de 2025, de 09:30 a 11:00 h" in html and "Pingüino" in html
        assert html.count('class="signature"') == 2  # one box per attendee
    else:
        assert "6 de enero de 2025" in html  # the letter's date: today in the zone
    # Editar: back to the form with the text as written
    r = post(admin, f"/atenciones/AT-000003/documentos/{key}", VALID[key])
    assert r.status_code == 200
    first = next(iter(VALID[key].values()))
    assert first in r.text


def test_send_visit_record_keeps_the_pdf_and_mails_it(doc_app, admin):
    r = post(admin, "/atenciones/AT-000003/documentos/acta_visita/enviar", VISIT)
    assert r.status_code == 302 and r.location == "/atenciones/AT-000003"
    entry, pdf_row, data, rows = sent_document(doc_app, "AT-000003")
    assert entry.public and entry.author_name == "Ana Administradora"
    assert entry.text == "Documento «Acta de visita» enviado a rosa@gmail.com"
    assert (pdf_row.filename, pdf_row.content_type) == ("acta-de-visita-AT-000003.pdf", "application/pdf")
    assert data.startswith(b"%PDF-") and pdf_row.size == len(data)
    assert [(m.recipient, m.state, m.automatic, m.context["entry_id"]) for m in rows] == [
        ("rosa@gmail.com", "sent", False, entry.id)]
    text = pdf_text(data)
    for expected in ("AT-000003", "Rosa Díaz", "ACTA DE VISITA", COMPANY, "RUC 20123456789",
                     "7 de enero de 2025", "María Quispe — Postventa", "Consulta: ¿aplica el 50% de descuento?"):
        assert expected in text, expected
    assert ACCENTED in " ".join(text.split())

    # the mail (no SMTP here: the .eml written at send time) carries the same PDF
    (eml,) = [p for p in (panel(doc_app).settings.data_dir / "outbox").glob("*.eml")
              if b"document" in p.read_bytes()[:4000] or b"acta-de-visita" in p.read_bytes()]
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert "[AT-000003]" in msg["Subject"] and "Acta de visita" in msg["Subject"]
    assert msg["To"] == "rosa@gmail.com" and "Auto-Submitted" not in msg
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == "acta-de-visita-AT-000003.pdf" and part.get_content() == data
    assert "Le enviamos adjunto el documento «Acta de visita»" in msg.get_body(("plain",)).get_content()

    # the bitácora shows it, the file downloads, and the mail's state is there
    page = admin.get("/atenciones/AT-000003").text
    assert "Documento «Acta de visita» enviado a rosa@gmail.com y guardado en la bitácora." in page
    assert "acta-de-visita-AT-000003.pdf" in page and "documento al cliente para rosa@gmail.com" in page
    got = admin.get(f"/atenciones/AT-000003/adjuntos/{pdf_row.id}")
    assert got.status_code == 200 and got.data == data and got.mimetype == "application/pdf"

    # poppler reads the same text (the tool a user's PDF reader resembles most)
    if shutil.which("pdftotext") is None:
        if in_ci():
            pytest.fail("pdftotext is missing (Debian poppler-utils; make test installs it)")
        pytest.skip("pdftotext is not installed")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    poppler = " ".join(out.stdout.decode("utf-8").split())
    assert "AT-000003" in poppler and "Rosa Díaz" in poppler and ACCENTED in poppler and COMPANY in poppler


def test_the_promoter_signs_when_the_ticket_has_one(doc_app, admin):
    """AT-000001's project belongs to Inmobiliaria Sol: its name, RUC and address sign the letter,
    not ATENCION_COMPANY_* (and no logo is borrowed from the settings' company)."""
    with panel(doc_app).sessions.begin() as s:
        sol = s.scalar(select(Promoter).where(Promoter.name == "Inmobiliaria Sol"))
        sol.ruc, sol.address = "20999888777", "Jr. Los Álamos 456, San Isidro"
    r = post(admin, "/atenciones/AT-000001/documentos/carta_respuesta/vista-previa", VALID["carta_respuesta"])
    assert "Inmobiliaria Sol" in r.text and COMPANY.replace("&", "&amp;") not in r.text
    assert "data:image/png" not in r.text
    r = post(admin, "/atenciones/AT-000001/documentos/carta_respuesta/enviar", VALID["carta_respuesta"])
    assert r.status_code == 302
    _, pdf_row, data, rows = sent_document(doc_app, "AT-000001")
    assert pdf_row.filename == "carta-de-respuesta-AT-000001.pdf"
    assert [m.recipient for m in rows] == ["ana@cliente.pe"]
    text = " ".join(pdf_text(data).split())
    for expected in ("Inmobiliaria Sol", "RUC 20999888777", "Jr. Los Álamos 456, San Isidro", "AT-000001",
                     "Ana Torres", "DNI 40000001", "C-2024-100", "Los Olivos, Torre A, unidad 101 (departamento)",
                     "Se reemplazó la bisagra de la puerta del baño.", "01/01/2025"):
        assert expected in text, expected
    assert COMPANY not in text


def test_errors_per_field_in_spanish(doc_app, admin):
    r = post(admin, "/atenciones/AT-000003/documentos/acta_visita/enviar", {
        **VISIT, "doc-visit_date": "7 de enero", "doc-visit_start": "9.30", "doc-attendees": ""})
    assert r.status_code == 400
    assert 'id="err-doc-visit_date">Fecha no válida: use dd/mm/aaaa.' in r.text
    assert 'id="err-doc-visit_start">Hora no válida: use HH:MM (24 horas).' in r.text
    assert 'id="err-doc-attendees">Complete «Asistentes».' in r.text
    assert ACCENTED in r.text  # what was written stays in the form
    r = post(admin, "/atenciones/AT-000003/documentos/carta_respuesta/vista-previa", {"doc-body": " "})
    assert r.status_code == 400 and 'id="err-doc-body">Complete «Respuesta».' in r.text
    assert admin.get("/atenciones/AT-000003/documentos/contrato").status_code == 404
    r = admin.get("/atenciones/AT-000003/documentos", tipo="contrato")
    assert r.status_code == 302 and "Elija un documento de la lista." in admin.get(r.location).text
    # no requester address: the document can be printed, not sent
    with panel(doc_app).sessions.begin() as s:
        s.scalar(select(Ticket).where(Ticket.code == "AT-000003")).requester_email = None
    assert "solo se puede imprimir" in admin.get("/atenciones/AT-000003/documentos/carta_respuesta").text
    r = post(admin, "/atenciones/AT-000003/documentos/carta_respuesta/enviar", VALID["carta_respuesta"])
    assert r.status_code == 400 and "La atención no tiene un correo de solicitante." in r.text
    with panel(doc_app).sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.event == "document")).all() == []
        assert s.scalars(select(Attachment).where(Attachment.content_type == "application/pdf")).all() == []
    r = admin.client.post("/atenciones/AT-000003/documentos/carta_respuesta/enviar", data=VALID["carta_respuesta"])
    assert r.status_code == 400 and "Formulario caducado" in r.text  # no CSRF token


def test_a_legal_user_gets_404_for_a_ticket_not_theirs(doc_app):
    legal = Staff(doc_app.test_client())
    assert legal.login(LEGAL).status_code == 302
    for path in ("/atenciones/AT-000003/documentos/acta_visita", "/atenciones/AT-000003/documentos?tipo=acta_visita"):
        assert legal.client.get(path).status_code == 404
    token = csrf_token(legal.get("/atenciones/AT-000002").text)
    for action in ("vista-previa", "enviar"):
        r = legal.client.post(f"/atenciones/AT-000003/documentos/carta_respuesta/{action}",
                              data={**VALID["carta_respuesta"], "csrf_token": token})
        assert r.status_code == 404
    with panel(doc_app).sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.event == "document")).all() == []
    # their own reclamo: allowed
    assert legal.get("/atenciones/AT-000002/documentos/carta_respuesta").status_code == 200
    r = legal.client.post("/atenciones/AT-000002/documentos/carta_respuesta/vista-previa",
                          data={**VALID["carta_respuesta"], "csrf_token": token})
    assert r.status_code == 200 and "AT-000002" in r.text and "Luis Pérez" in r.text


def test_catalog_loads_the_promoters_letterhead(Session):
    """`catalog load`: a promoter's address and logo (migration 0008), idempotent."""
    from tickets.catalog import load_catalog_data

    data = {"promoters": [{"name": "Inmobiliaria Sol", "ruc": "20111222333", "address": "Av. El Sol 100, Lima",
                           "logo": "/srv/atencion/logos/sol.png"}]}
    with Session.begin() as s:
        first = load_catalog_data(s, data)
    with Session.begin() as s:
        again = load_catalog_data(s, data)
        sol = s.scalar(select(Promoter).where(Promoter.name == "Inmobiliaria Sol"))
        assert (sol.ruc, sol.address, sol.logo) == (
            "20111222333", "Av. El Sol 100, Lima", "/srv/atencion/logos/sol.png")
    assert first.updated["promoters"] == 1 and not again.updated.get("promoters")


def test_a_pdf_that_cannot_be_rendered_writes_nothing(doc_app, admin, monkeypatch):
    """WeasyPrint failing (`RenderError`): the page says so in Spanish (500), the text stays in the
    form, and neither the bitácora nor the outbox gets a row."""
    from mail.outbound.documents import RenderError
    from web_admin import documents

    def fail(html: str) -> bytes:
        raise RenderError("no se pudo generar el PDF: prueba")

    monkeypatch.setattr(documents, "render_pdf", fail)
    r = post(admin, "/atenciones/AT-000003/documentos/carta_respuesta/enviar", VALID["carta_respuesta"])
    assert r.status_code == 500 and "No se pudo generar el PDF" in r.text
    assert VALID["carta_respuesta"]["doc-body"] in r.text
    with panel(doc_app).sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.event == "document")).all() == []
        assert s.scalars(select(Attachment).where(Attachment.content_type == "application/pdf")).all() == []
