"""The ticket view (issue 9, item 5): the seed's two sections — data and the form of the ticket's
kind on the left, the bitácora on the right (comments, files, inbound and outbound mail with
their states, the history) — file downloads with safe headers, the original mail sanitised, a
legal user's 404. Flask test client, SQLite and PostgreSQL (tests.panel_harness)."""

from __future__ import annotations

from sqlalchemy import select

from tests.panel_harness import LEGAL, Staff
from tickets.models import Attachment, OutboxMessage, Ticket
from tickets.services import Context, add_comment, get_ticket
from tickets.storage import NewFile
from web_admin.state import panel


def test_ticket_view_shows_data_form_and_logbook(admin):
    r = admin.get("/atenciones/AT-000001")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Datos de la atención" in html and "Bitácora" in html and "Historial de cambios" in html
    assert "Puerta del baño no cierra" in html and "Ana Torres" in html and "C-2024-100" in html
    # the Atención form: categoría, fecha de atención, detalle, observación/respuesta
    for label in ("Formulario de Atención", "Categoría", "Fecha de atención", "Detalle", "Observación/Respuesta"):
        assert label in html, label
    assert 'value="2025-01-06"' in html  # the attended date, local
    # the logbook: the client's comment, the assignment mail, the history of the status
    assert "Sigue goteando el caño de la cocina" in html
    assert "Correo enviado" in html and "asignación para maria@empresa.pe" in html
    assert "<td>Estado</td>" in html and "Atendido" in html
    assert admin.get("/atenciones/at-1").status_code == 200  # tolerant code
    assert admin.get("/atenciones/AT-999999").status_code == 404


def test_kind_forms(admin):
    html = admin.get("/atenciones/AT-000002").text
    for label in ("Formulario de Reclamo/Queja", "Identificación del bien contratado",
                  "Descripción del bien contratado", "Tipo de reclamación", "Asesor legal", "Descargo del reclamo"):
        assert label in html, label
    html = admin.get("/atenciones/AT-000005").text
    assert "Formulario de Solicitud" in html and "Tipo de solicitud" in html and "Detalle de la solicitud" in html


def test_legal_user_gets_404_outside_their_reclamos(staff):
    assert staff.login(LEGAL).status_code == 302
    assert staff.get("/atenciones/AT-000002").status_code == 200  # their reclamo (assignee)
    for code in ("AT-000001", "AT-000003", "AT-000005"):
        r = staff.get(f"/atenciones/{code}")
        assert r.status_code == 404 and "No encontrado" in r.text, code
    # the actions too
    r = staff.client.post("/atenciones/AT-000001/estado", data={"status-status": "Cerrado",
                                                                 "csrf_token": _token(staff)})
    assert r.status_code == 404


def _token(staff: Staff, path: str = "/") -> str:
    from tests.panel_harness import csrf_token

    return csrf_token(staff.get(path).text)


def test_attachment_download_has_safe_headers(panel_app, admin):
    sessions = panel(panel_app).sessions
    ctx = Context(storage_dir=panel(panel_app).settings.storage_dir)
    with sessions.begin() as s:
        t = get_ticket(s, "AT-000003")
        add_comment(s, ctx, t, text="Adjunto fotos", author_email="rosa@gmail.com", files=[
            NewFile("foto.png", "image/png", b"\x89PNG fake"),
            NewFile("página.html", "text/html", b"<script>alert(1)</script>"),
        ])
    with sessions() as s:
        ids = dict(s.execute(select(Attachment.filename, Attachment.id)).all())
    html = admin.get("/atenciones/AT-000003").text
    assert f'/atenciones/AT-000003/adjuntos/{ids["foto.png"]}' in html
    r = admin.get(f'/atenciones/AT-000003/adjuntos/{ids["foto.png"]}')
    assert r.status_code == 200 and r.data == b"\x89PNG fake"
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("attachment;") and "foto.png" in r.headers["Content-Disposition"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = admin.get(f'/atenciones/AT-000003/adjuntos/{ids["página.html"]}')
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''p%C3%A1gina.html" in r.headers["Content-Disposition"]
    # another ticket's URL: 404
    assert admin.get(f'/atenciones/AT-000001/adjuntos/{ids["foto.png"]}').status_code == 404


def test_failed_outbound_mail_shows_the_answer_and_is_retried(panel_app, admin):
    sessions = panel(panel_app).sessions
    with sessions.begin() as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.event == "assignment")
                       .join(Ticket, Ticket.id == OutboxMessage.ticket_id).where(Ticket.code == "AT-000001"))
        row.state, row.last_error, row.attempts = "failed", "550 5.1.1 <maria@empresa.pe>: usuario desconocido", 1
        row_id = row.id
    html = admin.get("/atenciones/AT-000001").text
    assert "Fallido" in html and "550 5.1.1 &lt;maria@empresa.pe&gt;: usuario desconocido" in html
    assert f"/correos-salientes/{row_id}/reintentar" in html
    r = admin.client.post(f"/atenciones/AT-000001/correos-salientes/{row_id}/reintentar",
                          data={"csrf_token": _token(admin, "/atenciones/AT-000001")})
    assert r.status_code == 302
    with sessions() as s:
        assert s.get(OutboxMessage, row_id).state == "sent"  # no broker: sent in process (an .eml here)
    html = admin.get("/atenciones/AT-000001").text
    assert "puesto otra vez en cola" in html
    # a sent one cannot be retried
    r = admin.client.post(f"/atenciones/AT-000001/correos-salientes/{row_id}/reintentar",
                          data={"csrf_token": _token(admin, "/atenciones/AT-000001")}, follow_redirects=True)
    assert "solo se reintenta uno fallido o rebotado" in r.text
