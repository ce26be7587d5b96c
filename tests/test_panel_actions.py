"""The ticket view's actions (issue 9, item 5): Asignado, Estado, comment (internal/public, with
files), Email (a template to the requester), classification (type/category/priority/area/kind)
and the kind's form — each one's effect on the logbook, the history and the outbox, and its
Spanish field messages. Flask test client, SQLite and PostgreSQL (tests.panel_harness); no broker,
so each action's mail is sent in process (an .eml under the data directory)."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.panel_harness import csrf_token
from tickets.models import Attachment, LogbookEntry, OutboxMessage, Ticket
from web_admin.state import panel


def post(admin, code: str, action: str, data: dict, **kw):
    token = csrf_token(admin.get(f"/atenciones/{code}").text)
    return admin.client.post(f"/atenciones/{code}/{action}", data={**data, "csrf_token": token}, **kw)


def ticket(app, code):
    s = panel(app).sessions()
    return s, s.scalar(select(Ticket).where(Ticket.code == code))


def changes(s, t) -> list[tuple]:
    return [(e.field, e.old, e.new) for e in s.scalars(select(LogbookEntry).where(
        LogbookEntry.ticket_id == t.id, LogbookEntry.kind == "change").order_by(LogbookEntry.id))]


def mails(s, t) -> list[tuple]:
    return [(m.event, m.recipient, m.state) for m in s.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == t.id).order_by(OutboxMessage.id))]


def test_assign_then_status(panel_app, admin):
    r = post(admin, "AT-000003", "asignar", {"assign-assignee": "maria@empresa.pe"})
    assert r.status_code == 302 and r.location == "/atenciones/AT-000003"
    s, t = ticket(panel_app, "AT-000003")
    with s:
        assert t.assignee.email == "maria@empresa.pe" and t.status.name == "Asignado"
        assert changes(s, t) == [("assignee", None, "maria@empresa.pe"), ("status", "Registrado", "Asignado")]
        assert mails(s, t)[-1] == ("assignment", "maria@empresa.pe", "sent")
        who = s.scalars(select(LogbookEntry.author_name).where(LogbookEntry.ticket_id == t.id,
                                                              LogbookEntry.kind == "change")).all()
        assert set(who) == {"Ana Administradora"}
    r = post(admin, "AT-000003", "estado", {"status-status": "En proceso"})
    assert r.status_code == 302
    s, t = ticket(panel_app, "AT-000003")
    with s:
        assert t.status.name == "En proceso"
        assert changes(s, t)[-1] == ("status", "Asignado", "En proceso")
        assert mails(s, t)[-1] == ("status", "rosa@gmail.com", "sent")
    html = admin.get("/atenciones/AT-000003").text
    assert "Estado: En proceso." in html and "cambio de estado para rosa@gmail.com" in html
    # the history names the assignee (it stores the address)
    assert "<td>Usuario asignado</td>" in html and "<td>María Quispe (maria@empresa.pe)</td>" in html


def test_assign_and_status_errors_in_spanish(admin):
    r = post(admin, "AT-000003", "asignar", {"assign-assignee": ""})
    assert r.status_code == 400 and 'id="err-assign-assignee">Elija el usuario a asignar.' in r.text
    r = post(admin, "AT-000003", "asignar", {"assign-assignee": "nadie@empresa.pe"})
    assert r.status_code == 400 and "Ese usuario no existe o está desactivado." in r.text
    r = post(admin, "AT-000003", "estado", {"status-status": "Cerradoo"})
    assert r.status_code == 400 and 'id="err-status-status">Estado desconocido' in r.text and "cerradoo" in r.text


def test_comments_internal_and_public_with_files(panel_app, admin):
    r = post(admin, "AT-000003", "comentar", {"comment-text": "Revisar con el proveedor"})
    assert r.status_code == 302
    r = post(admin, "AT-000003", "comentar", {
        "comment-text": "Adjuntamos el informe técnico.", "comment-public": "y",
        "comment-files": [(io.BytesIO(b"%PDF-1.4 informe"), "informe técnico.pdf", "application/pdf"),
                          (io.BytesIO(b"col1,col2"), "../../etc/datos.csv", "text/csv")]},
        content_type="multipart/form-data")
    assert r.status_code == 302
    s, t = ticket(panel_app, "AT-000003")
    with s:
        comments = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id,
                                                        LogbookEntry.kind == "comment").order_by(LogbookEntry.id)).all()
        assert [(c.text, c.public, c.author_name) for c in comments] == [
            ("Revisar con el proveedor", False, "Ana Administradora"),
            ("Adjuntamos el informe técnico.", True, "Ana Administradora")]
        files = s.scalars(select(Attachment).where(Attachment.entry_id == comments[1].id)).all()
        assert sorted(f.filename for f in files) == ["datos.csv", "informe técnico.pdf"]
        assert mails(s, t) == [("acknowledgement", "rosa@gmail.com", "sent"),
                               ("public_reply", "rosa@gmail.com", "sent")]
    html = admin.get("/atenciones/AT-000003").text
    assert "Comentario interno" in html and "Comentario público" in html and "informe técnico.pdf" in html
    r = post(admin, "AT-000003", "comentar", {"comment-text": "  "})
    assert r.status_code == 400 and 'id="err-comment-text">Escriba el comentario.' in r.text


def test_email_action_sends_the_template_to_the_requester(panel_app, admin):
    r = post(admin, "AT-000005", "correo", {"email-template": "visita",
                                            "email-text": "Iremos el lunes a las 10:00."})
    assert r.status_code == 302
    s, t = ticket(panel_app, "AT-000005")
    with s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id,
                                                   OutboxMessage.event == "notification"))
        assert (row.recipient, row.state, row.automatic) == ("carla@otro.pe", "sent", False)
        assert row.context["title"] == "Coordinación de visita"
    eml = sorted((panel(panel_app).settings.data_dir / "outbox").glob("*.eml"))[-1].read_bytes()
    assert b"Coordinaci" in eml and b"AT-000005" in eml
    assert "Iremos el lunes a las 10:00." in eml.decode("utf-8", "replace") or b"Iremos el lunes" in eml \
        or b"=?utf-8?" in eml  # the body may be base64/QP encoded
    html = admin.get("/atenciones/AT-000005").text
    assert "correo al cliente para carla@otro.pe" in html and "Iremos el lunes a las 10:00." in html
    r = post(admin, "AT-000005", "correo", {"email-template": "visita", "email-text": ""})
    assert r.status_code == 400 and "Escriba el texto del correo." in r.text


def test_classify_changes_type_category_priority_kind(panel_app, admin):
    r = post(admin, "AT-000003", "clasificar", {
        "classify-type": "Reclamo", "classify-category": "", "classify-priority": "Alta",
        "classify-area": "Postventa", "classify-kind": "reclamo"})
    assert r.status_code == 302, r.text
    s, t = ticket(panel_app, "AT-000003")
    with s:
        assert (t.type.name, t.category, t.priority.name, t.kind) == ("Reclamo", None, "Alta", "reclamo")
        got = changes(s, t)
        for change in [("type", "Atención", "Reclamo"), ("category", "Acabados", None),
                       ("priority", "Urgente", "Alta"), ("kind", "atencion", "reclamo")]:
            assert change in got, change
        assert [m[0] for m in mails(s, t)] == ["acknowledgement"]  # nobody is mailed
    # the type moves the SLA: Reclamo has max 2 days
    html = admin.get("/atenciones/AT-000003").text
    assert "Formulario de Reclamo/Queja" in html
    r = post(admin, "AT-000003", "clasificar", {
        "classify-type": "Garantía", "classify-priority": "Alta", "classify-kind": "reclamo"})
    assert r.status_code == 400 and "err-classify-type" in r.text and "Garantía" in r.text


def test_kind_forms_save_their_fields(panel_app, admin):
    r = post(admin, "AT-000001", "formulario", {
        "form-category": "Acabados", "form-attended_at": "2025-01-07",
        "form-detail": "La puerta del baño principal no cierra bien.", "form-observation": "Se cambió la bisagra."})
    assert r.status_code == 302, r.text
    s, t = ticket(panel_app, "AT-000001")
    with s:
        assert t.category.name == "Acabados" and t.observation == "Se cambió la bisagra."
        assert t.attended_at.date().isoformat() == "2025-01-07"
        fields = [c[0] for c in changes(s, t)]
        assert fields[-3:] == ["category", "attended_at", "observation"]  # detail unchanged
    r = post(admin, "AT-000001", "formulario", {"form-attended_at": "07/01/2025"})
    assert r.status_code == 400 and "Fecha no válida: use aaaa-mm-dd." in r.text

    r = post(admin, "AT-000002", "formulario", {
        "form-contracted_good": "servicio", "form-good_description": "Estacionamiento E-12",
        "form-claim_type": "queja", "form-legal_adviser": "jorge@empresa.pe", "form-discharge": "Se revisó."})
    assert r.status_code == 302, r.text
    s, t = ticket(panel_app, "AT-000002")
    with s:
        assert (t.contracted_good, t.claim_type, t.legal_adviser.email, t.discharge) == (
            "servicio", "queja", "jorge@empresa.pe", "Se revisó.")
        assert ("legal_adviser", None, "jorge@empresa.pe") in changes(s, t)
    r = post(admin, "AT-000002", "formulario", {"form-claim_type": "otro"})
    assert r.status_code == 400 and "err-form-claim_type" in r.text

    r = post(admin, "AT-000005", "formulario", {"form-request_type": "Planos", "form-request_detail": "De la torre A"})
    assert r.status_code == 302
    s, t = ticket(panel_app, "AT-000005")
    with s:
        assert (t.request_type, t.request_detail) == ("Planos", "De la torre A")
        assert ("request_type", None, "Planos") in changes(s, t)


def test_action_without_csrf_is_refused(admin):
    r = admin.client.post("/atenciones/AT-000003/estado", data={"status-status": "Cerrado"})
    assert r.status_code == 400 and "Formulario caducado" in r.text


def _last_mail_text(panel_app) -> str:
    from email import message_from_bytes, policy

    eml = sorted((panel(panel_app).settings.data_dir / "outbox").glob("*.eml"))[-1].read_bytes()
    return message_from_bytes(eml, policy=policy.default).get_body(("plain",)).get_content()


def test_a_reply_that_greets_is_not_greeted_twice(panel_app, admin):
    """A staff reply that opens with its own greeting goes out with it alone; one that does not is
    greeted by the template ("Estimado(a) Rosa Díaz:")."""
    from mail.outbound.compose import opens_with_greeting

    for text in ("Estimada Sra. Díaz,", "  hola Rosa", "Buenos días:", "SEÑORA Rosa", "Sres. Díaz"):
        assert opens_with_greeting(text), text
    for text in ("Hemos revisado", "Holanda", "Estimamos que el lunes", ""):
        assert not opens_with_greeting(text), text
    post(admin, "AT-000003", "comentar", {"comment-text": "Estimada Sra. Díaz, iremos el lunes.",
                                          "comment-public": "y"})
    text = _last_mail_text(panel_app)
    assert text.startswith("Estimada Sra. Díaz, iremos el lunes.") and "Estimado(a)" not in text
    post(admin, "AT-000003", "comentar", {"comment-text": "Iremos el martes.", "comment-public": "y"})
    assert _last_mail_text(panel_app).startswith("Estimado(a) Rosa Díaz:\n\nIremos el martes.")


def test_mail_to_the_client_does_not_show_the_sla_count(panel_app, admin):
    """The client's mails (status, reply, Email) carry the ticket's code, subject and state, not
    "Días transcurridos": an internal count that reads as "34 days" on a 5-day deadline."""
    post(admin, "AT-000003", "comentar", {"comment-text": "Iremos el martes.", "comment-public": "y"})
    text = _last_mail_text(panel_app)
    assert "AT-000003" in text and "Estado:" in text and "Días transcurridos" not in text
