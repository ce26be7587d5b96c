"""Duplicar and Crear requerimiento (issue 10, item 3) from the ticket view: each one's effect on
the new and the original ticket, their logbooks, their histories and the outbox (no mail to the
requester: DESIGN, "Outbound mail"), how ``group_id`` makes a pliego (the first ticket is its
head), "Requerimientos del pliego" on every ticket of the group, the requirement form's Spanish
message per required field, and who may do it (a legal user: 404 outside their scope, 403 on
their own ticket). Flask test client, SQLite and PostgreSQL (tests.panel_harness)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from tests.panel_harness import AGENT, LEGAL, csrf_token
from tickets.models import Attachment, LogbookEntry, OutboxMessage, Ticket
from web_admin.state import panel


def post(staff, path: str, data: dict | None = None):
    token = csrf_token(staff.get(path if path.endswith("/requerimiento") else path.rsplit("/", 1)[0]).text)
    return staff.client.post(path, data={**(data or {}), "csrf_token": token})


def load(app, code):
    s = panel(app).sessions()
    return s, s.scalar(select(Ticket).where(Ticket.code == code))


def entries(s, t, kind: str) -> list[LogbookEntry]:
    return s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id, LogbookEntry.kind == kind)
                     .order_by(LogbookEntry.id)).all()


def changes(s, t) -> list[tuple]:
    return [(e.field, e.old, e.new) for e in entries(s, t, "change")]


def outbox(s, t) -> list[tuple[str, str]]:
    return [(m.event, m.recipient) for m in s.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == t.id).order_by(OutboxMessage.id))]


def errors(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, message in re.findall(r'<p class="field-error" id="err-([\w-]+)">([^<]*)</p>', html):
        found.setdefault(field, []).append(unescape(message))
    return found


def pliego_codes(html: str) -> list[str]:
    """The codes listed under "Requerimientos del pliego" (empty when the section is absent)."""
    m = re.search(r'<div class="card" id="pliego-list">(.*?)</table>', html, re.S)
    return re.findall(r'<a href="/atenciones/([A-Z]+-\d+)">', m.group(1)) if m else []


HEADER = ("requester_client_id", "requester_name", "requester_email", "holder_client_id", "project_id",
          "subdivision_id", "unit_id", "promoter_id", "contract_id", "contract_number")


def test_duplicar_copies_the_data_not_the_logbook_status_or_files(panel_app, admin):
    # AT-000001: Ana's ticket (contract filled in), assigned, commented, Atendido, with a file
    with panel(panel_app).sessions.begin() as s:
        t1 = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        t1.observation = "Se cambió la bisagra."
        entry = entries(s, t1, "comment")[0]
        s.add(Attachment(ticket_id=t1.id, entry_id=entry.id, filename="foto.jpg", content_type="image/jpeg",
                         size=3, sha256="0" * 64))
    with panel(panel_app).sessions() as s:
        before = len(outbox(s, s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))))
    r = post(admin, "/atenciones/AT-000001/duplicar")
    assert r.status_code == 302 and r.location == "/atenciones/AT-000006"
    html = admin.get("/atenciones/AT-000006").text
    assert "Atención AT-000006 creada como duplicado de AT-000001." in html
    assert re.search(r'id="duplicated-from"><a href="/atenciones/AT-000001">AT-000001</a>', html)
    s, new = load(panel_app, "AT-000006")
    with s:
        orig = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        assert [getattr(new, f) for f in HEADER] == [getattr(orig, f) for f in HEADER]
        assert new.contract_number == "C-2024-100" and new.holder.name == "Ana Torres"
        assert (new.subject, new.detail, new.kind, new.type_id, new.category_id, new.priority_id, new.area_id) == (
            orig.subject, orig.detail, orig.kind, orig.type_id, orig.category_id, orig.priority_id, orig.area_id)
        assert new.status.name == "Registrado" and orig.status.name == "Atendido"
        assert new.assignee is None and new.attended_at is None and new.observation is None
        assert new.requested_at > orig.requested_at and new.registered_by.name == "Ana Administradora"
        assert new.channel == "web" and new.duplicated_from_id == orig.id and orig.duplicated_from_id is None
        assert new.group_id is None  # a duplicate is a ticket of its own, not a requirement of a pliego
        # logbook: the registration and "Duplicada desde"; nothing of the original's
        assert [e.text for e in entries(s, new, "event")] == [
            "Atención registrada en el panel (Ana Administradora)", "Duplicada desde AT-000001"]
        assert entries(s, new, "comment") == [] and s.scalars(
            select(Attachment).where(Attachment.ticket_id == new.id)).all() == []
        assert changes(s, new) == [("duplicated_from", None, "AT-000001")]
        assert entries(s, orig, "event")[-1].text == "Duplicada en AT-000006"
        assert entries(s, orig, "event")[-1].author_name == "Ana Administradora"
        # no acknowledgement, nothing to anybody; the original's outbox unchanged
        assert outbox(s, new) == [] and len(outbox(s, orig)) == before
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "ana@cliente.pe",
                                                     OutboxMessage.ticket_id == new.id)).all() == []
    html = admin.get("/atenciones/AT-000006").text
    assert "Duplicada desde" in html and "Duplicada desde AT-000001" in html  # history label, logbook
    html = admin.get("/atenciones/AT-000001").text
    assert re.search(r'id="duplicates"><a href="/atenciones/AT-000006">AT-000006</a>', html)
    assert "Duplicada en AT-000006" in html


def test_duplicar_a_reclamo_keeps_its_complaint_not_its_answer(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:
        t2 = s.scalar(select(Ticket).where(Ticket.code == "AT-000002"))
        t2.contracted_good, t2.claim_type, t2.good_description = "producto", "reclamo", "Estacionamiento E-12"
        t2.discharge, t2.sheet_number = "Se revisó la impermeabilización.", "H-0001"
    assert post(admin, "/atenciones/AT-000002/duplicar").status_code == 302
    s, new = load(panel_app, "AT-000006")
    with s:
        assert (new.kind, new.type.name, new.priority.name, new.area.name) == ("reclamo", "Reclamo", "Alta",
                                                                             "Área Legal")
        assert (new.contracted_good, new.claim_type, new.good_description) == (
            "producto", "reclamo", "Estacionamiento E-12")
        assert (new.discharge, new.sheet_number, new.assignee, new.legal_adviser) == (None, None, None, None)


REQ = {"type": "Trámite", "category": "Acabados", "priority": "Baja", "requested_at": "2025-01-06",
       "subject": "Copia del contrato", "detail": "Necesito una copia del contrato firmado.",
       "channel": "phone", "kind": "solicitud"}


def test_crear_requerimiento_joins_the_pliego_of_the_first_ticket(panel_app, admin):
    html = admin.get("/atenciones/AT-000001/requerimiento").text
    assert "Pliego de requerimiento" in html and "Ana Torres" in html and "C-2024-100" in html
    assert 'name="requester_name"' not in html and 'name="project"' not in html  # the header is fixed
    for label in ("Tipo de atención", "Categoría", "Prioridad", "Fecha de solicitud", "Asunto", "Detalle"):
        assert re.search(r'<span class="req" aria-hidden="true">\*</span>' + re.escape(label) + "</label>", html)
    assert '<option selected value="Media">Media</option>' in html and 'value="2025-01-06"' in html
    assert 'id="pliego-list"' not in html  # not in a pliego yet
    with panel(panel_app).sessions() as s:
        before = len(outbox(s, s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))))

    r = post(admin, "/atenciones/AT-000001/requerimiento", REQ)
    assert r.status_code == 302 and r.location == "/atenciones/AT-000006", r.text[:3000]
    assert "Requerimiento AT-000006 creado en el pliego de AT-000001." in admin.get("/atenciones/AT-000006").text
    s, new = load(panel_app, "AT-000006")
    with s:
        orig = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        assert orig.group_id == orig.id and new.group_id == orig.id  # the original became the head
        assert [getattr(new, f) for f in HEADER] == [getattr(orig, f) for f in HEADER]
        assert (new.type.name, new.category.name, new.priority.name, new.kind, new.channel) == (
            "Trámite", "Acabados", "Baja", "solicitud", "phone")
        assert (new.subject, new.detail) == ("Copia del contrato", "Necesito una copia del contrato firmado.")
        assert new.status.name == "Registrado" and new.registered_by.name == "Ana Administradora"
        assert new.duplicated_from_id is None and new.assignee is None
        assert [e.text for e in entries(s, new, "event")][-1] == "Requerimiento del pliego de AT-000001"
        assert changes(s, new) == [("group", None, "AT-000001")]
        assert changes(s, orig)[-1] == ("group", None, "AT-000001")
        assert entries(s, orig, "event")[-1].text == "Nuevo requerimiento del pliego: AT-000006"
        assert outbox(s, new) == [] and len(outbox(s, orig)) == before  # no acknowledgement
    # a requirement created from the second ticket joins the same head, and may be assigned
    r = post(admin, "/atenciones/AT-000006/requerimiento", {**REQ, "subject": "Planos", "assignee": AGENT,
                                                             "kind": "atencion"})
    assert r.status_code == 302 and r.location == "/atenciones/AT-000007"
    s, third = load(panel_app, "AT-000007")
    with s:
        head = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        assert third.group_id == head.id and third.assignee.email == AGENT
        assert outbox(s, third) == [("assignment", AGENT)]  # the assignee's mail; none to Ana
        assert changes(s, head).count(("group", None, "AT-000001")) == 1  # made head once
        second = s.scalar(select(Ticket).where(Ticket.code == "AT-000006"))
        assert entries(s, second, "event")[-1].text == "Nuevo requerimiento del pliego: AT-000007"
    for code in ("AT-000001", "AT-000006", "AT-000007"):
        html = admin.get(f"/atenciones/{code}").text
        assert pliego_codes(html) == ["AT-000001", "AT-000006", "AT-000007"], code
        assert f'<tr class="current" aria-current="true">\n      <td><a href="/atenciones/{code}">' in html
        assert "Registrado" in html and "Atendido" in html  # each one's status is listed
    assert pliego_codes(admin.get("/atenciones/AT-000003").text) == []
    assert pliego_codes(admin.get("/atenciones/AT-000001/requerimiento").text) == [
        "AT-000001", "AT-000006", "AT-000007"]


def test_crear_requerimiento_a_spanish_message_per_field(panel_app, admin):
    url = "/atenciones/AT-000003/requerimiento"
    r = post(admin, url, {"priority": "", "requested_at": ""})
    assert r.status_code == 400
    assert errors(r.text) == {
        "type": ["Elija el tipo de atención."], "category": ["Elija la categoría."],
        "priority": ["Elija la prioridad."], "requested_at": ["Indique la fecha de solicitud."],
        "subject": ["Escriba el asunto."], "detail": ["Escriba el detalle."]}
    assert errors(post(admin, url, {**REQ, "requested_at": "06/01/2025"}).text) == {
        "requested_at": ["Fecha no válida: use aaaa-mm-dd."]}
    assert errors(post(admin, url, {**REQ, "requested_at": "2025-01-07"}).text) == {  # today: 2025-01-06
        "requested_at": ["La fecha de solicitud no puede ser futura."]}
    # the service's own checks land next to their field
    r = post(admin, url, {**REQ, "type": "Mudanza"})
    assert r.status_code == 400 and list(errors(r.text)) == ["type"]
    assert "Tipo de atención desconocido 'Mudanza'" in errors(r.text)["type"][0]
    r = post(admin, url, {**REQ, "assignee": "nadie@empresa.pe"})
    assert errors(r.text) == {"assignee": ["No existe el usuario activo nadie@empresa.pe."]}
    r = post(admin, url, {**REQ, "kind": "queja"})
    assert list(errors(r.text)) == ["kind"]
    r = post(admin, url, {**REQ, "subject": "   "})
    assert errors(r.text) == {"subject": ["Escriba el asunto."]}
    with panel(panel_app).sessions() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 5
        t3 = s.scalar(select(Ticket).where(Ticket.code == "AT-000003"))
        assert t3.group_id is None and changes(s, t3) == []  # nothing written by a refused form


def test_who_may_duplicate_or_create_a_requirement(panel_app, staff):
    # an agent may
    assert staff.login(AGENT).status_code == 302
    html = staff.get("/atenciones/AT-000003").text
    assert 'id="duplicate-form"' in html and 'id="create-requirement"' in html
    assert post(staff, "/atenciones/AT-000003/duplicar").status_code == 302
    staff.logout()
    # a legal user: 404 outside their scope (AT-000003 is not theirs), 403 on their own AT-000002
    assert staff.login(LEGAL).status_code == 302
    html = staff.get("/atenciones/AT-000002").text
    assert 'id="duplicate-form"' not in html and 'id="create-requirement"' not in html
    token = csrf_token(html)
    for code, expected in (("AT-000003", 404), ("AT-000006", 404), ("AT-000002", 403), ("AT-999999", 404)):
        assert staff.client.post(f"/atenciones/{code}/duplicar", data={"csrf_token": token}).status_code == expected
        assert staff.get(f"/atenciones/{code}/requerimiento").status_code == expected
        r = staff.client.post(f"/atenciones/{code}/requerimiento", data={**REQ, "csrf_token": token})
        assert r.status_code == expected
    with panel(panel_app).sessions() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 6


def test_a_legal_user_sees_only_the_pliego_tickets_in_their_scope(panel_app, admin, staff):
    assert post(admin, "/atenciones/AT-000002/requerimiento", REQ).status_code == 302  # AT-000006
    assert pliego_codes(admin.get("/atenciones/AT-000002").text) == ["AT-000002", "AT-000006"]
    other = panel_app.test_client()
    from tests.panel_harness import Staff

    legal = Staff(other)
    assert legal.login(LEGAL).status_code == 302
    # AT-000006 is a solicitud nobody assigned: outside Jorge's scope, so not listed to him
    assert pliego_codes(legal.get("/atenciones/AT-000002").text) == ["AT-000002"]
    assert legal.get("/atenciones/AT-000006").status_code == 404
