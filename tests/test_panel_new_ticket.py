"""Nueva atención (issue 9, item 4): DESIGN's required fields (red asterisk on the left, a Spanish
message per field, enforced on the server), "Buscar por" a document or a contract (one contract
fills the header; several are listed to pick one), "Datos del cliente" and "Atenciones previas",
and the created ticket's fields, registered_by, logbook and acknowledgement. Flask test client,
SQLite and PostgreSQL (tests.panel_harness); no broker, so the acknowledgement is sent in process."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from tests.panel_harness import AGENT, LEGAL, csrf_token
from tickets.models import Client, Contract, LogbookEntry, OutboxMessage, Project, Subdivision, Ticket, Unit
from web_admin.state import panel

URL = "/atenciones/nueva"
REQUIRED_LABELS = ("Solicitante", "Proyecto", "Tipo de atención", "Categoría", "Prioridad",
                   "Fecha de solicitud", "Asunto", "Detalle")
OPTIONAL_LABELS = ("Torre/Bloque", "Dpto./Unidad", "Titular", "N° de contrato", "Promotor", "Área",
                   "Usuario asignado", "Canal")


def post(staff, data: dict):
    token = csrf_token(staff.get(URL).text)
    return staff.client.post(URL, data={**data, "csrf_token": token})


def errors(html: str) -> dict[str, list[str]]:
    return {m[0]: [unescape(m[1])] for m in re.findall(r'<p class="field-error" id="err-([\w-]+)">([^<]*)</p>', html)}


def value(html: str, field_id: str) -> str:
    """The value of the text input ``field_id`` of a page."""
    m = re.search(rf'<input [^>]*\bid="{field_id}"[^>]* value="([^"]*)"', html)
    assert m, field_id
    return m.group(1)


VALID = {"requester_name": "Nuevo Cliente", "requester_email": "nuevo@cliente.pe", "project": "Los Olivos",
         "type": "Atención", "category": "Acabados", "priority": "Alta", "requested_at": "2025-01-06",
         "subject": "Puerta descolgada", "detail": "La puerta del closet se salió del riel.",
         "channel": "phone", "kind": "atencion", "action": "crear"}


def test_the_page_marks_the_required_fields_on_the_left(admin):
    html = admin.get(URL).text
    assert "Pliego de requerimiento" in html and "Requerimiento" in html and "Buscar por" in html
    for label in REQUIRED_LABELS:
        assert re.search(r'<span class="req" aria-hidden="true">\*</span>' + re.escape(label) + "</label>", html), label
    for label in OPTIONAL_LABELS:
        assert re.search(r'">' + re.escape(label) + "</label>", html), label
    assert '<option selected value="Media">Media</option>' in html  # Prioridad default Media
    assert 'value="2025-01-06"' in html  # Fecha de solicitud default today (pinned)


def test_each_required_field_has_its_spanish_message(panel_app, admin):
    r = post(admin, {"action": "crear", "priority": "", "requested_at": ""})
    assert r.status_code == 400
    assert errors(r.text) == {
        "requester_name": ["Escriba el nombre del solicitante."],
        "requester_email": ["Indique el correo o el documento del solicitante."],
        "project": ["Elija el proyecto."], "type": ["Elija el tipo de atención."],
        "category": ["Elija la categoría."], "priority": ["Elija la prioridad."],
        "requested_at": ["Indique la fecha de solicitud."], "subject": ["Escriba el asunto."],
        "detail": ["Escriba el detalle."],
    }
    r = post(admin, {**VALID, "requester_email": "no-es-correo", "requested_at": "06/01/2025"})
    assert errors(r.text) == {"requester_email": ["Correo no válido."],
                              "requested_at": ["Fecha no válida: use aaaa-mm-dd."]}
    r = post(admin, {**VALID, "requested_at": "2025-01-07"})  # today is pinned to 2025-01-06
    assert errors(r.text) == {"requested_at": ["La fecha de solicitud no puede ser futura."]}
    r = post(admin, {**VALID, "contract_number": "C-2024-200"})  # a contract of Las Palmas
    assert errors(r.text) == {"project": ["El contrato C-2024-200 es del proyecto Las Palmas."]}
    r = post(admin, {**VALID, "unit": "999"})  # the service's own check lands next to its field
    assert r.status_code == 400 and list(errors(r.text)) == ["unit"]
    with panel(panel_app).sessions() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 5


def test_buscar_por_document_with_one_contract_fills_the_header(admin):
    r = post(admin, {"search_document": "40000001", "action": "buscar"})
    assert r.status_code == 200
    html = r.text
    assert 'value="Ana Torres"' in html and 'value="ana@cliente.pe"' in html
    assert '<option selected value="Los Olivos">' in html and '<option selected value="Torre A">' in html
    assert value(html, "unit") == "101"
    assert 'value="C-2024-100"' in html and 'value="Inmobiliaria Sol"' in html
    assert 'id="datos-cliente"' in html and "DNI 40000001" in html
    assert 'id="atenciones-previas"' in html and "AT-000001" in html
    assert 'id="contratos"' not in html


def test_buscar_por_document_with_two_contracts_lists_them(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:
        luis = s.scalar(select(Client).where(Client.document_number == "40000002"))
        unit = s.scalar(select(Unit).where(Unit.number == "D-5"))
        s.add(Contract(number="C-2025-300", unit=unit, holders=[luis]))
    html = post(admin, {"search_document": "40000002", "action": "buscar"}).text
    assert 'id="contratos"' in html and "tiene 2 contratos" in html
    assert 'name="pick" value="C-2024-200"' in html and 'name="pick" value="C-2025-300"' in html
    assert value(html, "contract_number") == ""
    # picking one fills the header from it
    html = post(admin, {"search_document": "40000002", "pick": "C-2025-300"}).text
    assert 'id="contratos"' not in html and 'value="C-2025-300"' in html
    assert value(html, "unit") == "D-5"
    # creating with the document alone and no contract is refused next to "N° de contrato"
    r = post(admin, {**VALID, "requester_email": "", "requester_document": "DNI 40000002"})
    assert r.status_code == 400 and "varios contratos" in errors(r.text)["contract_number"][0]


def test_buscar_por_contract_and_unknown_values(admin):
    html = post(admin, {"search_contract": "C-2024-200", "action": "buscar"}).text
    assert 'value="Luis Pérez"' in html and 'value="luis@cliente.pe"' in html
    assert '<option selected value="Las Palmas">' in html and 'value="E-12"' in html
    r = post(admin, {"search_document": "99999999", "action": "buscar"})
    assert r.status_code == 400 and errors(r.text) == {
        "search_document": ["No hay un cliente con el documento 99999999."]}
    r = post(admin, {"search_contract": "X-1", "action": "buscar"})
    assert errors(r.text) == {"search_contract": ["No existe el contrato X-1."]}
    r = post(admin, {"action": "buscar"})
    assert list(errors(r.text)) == ["search_document"]


def test_create_from_buscar_por_has_its_fields_logbook_and_one_acknowledgement(panel_app, admin):
    data = {**VALID, "requester_name": "Ana Torres", "requester_email": "ana@cliente.pe",
            "requester_document": "DNI 40000001", "subdivision": "Torre A", "unit": "101",
            "contract_number": "C-2024-100", "assignee": AGENT, "area": "Postventa"}
    r = post(admin, data)
    assert r.status_code == 302 and r.location == "/atenciones/AT-000006", r.text[:2000]
    assert "Atención AT-000006 creada." in admin.get("/atenciones/AT-000006").text
    with panel(panel_app).sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000006"))
        assert (t.subject, t.detail, t.channel, t.kind) == (
            "Puerta descolgada", "La puerta del closet se salió del riel.", "phone", "atencion")
        assert (t.type.name, t.category.name, t.priority.name, t.area.name) == ("Atención", "Acabados", "Alta",
                                                                                 "Postventa")
        assert (t.project.name, t.subdivision.name, t.unit.number, t.contract_number) == (
            "Los Olivos", "Torre A", "101", "C-2024-100")
        assert (t.holder.name, t.requester_client.name, t.promoter.name) == ("Ana Torres", "Ana Torres",
                                                                             "Inmobiliaria Sol")
        assert t.registered_by.name == "Ana Administradora" and t.assignee.email == AGENT
        first = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id)
                          .order_by(LogbookEntry.id)).first()
        assert first.kind == "event" and "Ana Administradora" in first.text
        acks = [(m.recipient, m.state) for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id == t.id, OutboxMessage.event == "acknowledgement"))]
        assert acks == [("ana@cliente.pe", "sent")]
        requester_mail = s.scalars(select(OutboxMessage.event).where(
            OutboxMessage.ticket_id == t.id, OutboxMessage.recipient == "ana@cliente.pe")).all()
        assert requester_mail == ["acknowledgement"]


def test_a_legal_user_cannot_create(staff):
    assert staff.login(LEGAL).status_code == 302
    r = staff.get(URL)
    assert r.status_code == 403 and "Sin permiso" in r.text
    assert "Nueva atención</a>" not in staff.get("/").text


def options(html: str, select_id: str) -> list[str]:
    """The option labels of the select ``select_id`` of a page."""
    m = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert m, select_id
    return re.findall(r"<option[^>]*>([^<]*)</option>", m.group(1))


def unit_suggestions(html: str) -> list[str]:
    """The unit numbers the Dpto./Unidad field suggests (its datalist)."""
    assert re.search(r'<input [^>]*\bid="unit"[^>]* list="dl-unit"', html)
    m = re.search(r'<datalist id="dl-unit">(.*?)</datalist>', html, re.S)
    assert m
    return re.findall(r'<option value="([^"]*)">', m.group(1))


def test_enter_runs_crear_not_buscar(admin):
    """The form's first submit button (what Enter in a field submits) is a hidden Crear; the
    visible Buscar comes after it, and Enter in a Buscar por field is the script's business."""
    html = admin.get(URL).text
    form = html[html.index('<form method="post" action="/atenciones/nueva"'):]
    buttons = re.findall(r'<button type="submit"[^>]*>', form)
    assert 'value="crear"' in buttons[0] and " hidden" in buttons[0]
    assert 'id="buscar"' in buttons[1]
    assert 'src="/static/new_ticket.js"' in html
    assert 'data-form="new-ticket-form"' in html and 'src="/static/filters.js"' in html


def test_torre_and_unit_follow_the_project_without_a_script(panel_app, admin):
    html = admin.get(URL).text
    assert options(html, "subdivision") == ["—", "Bloque B", "Torre A"]  # no project yet: every torre
    assert 'list="dl-unit"' in html and unit_suggestions(html) == []
    # a project chosen (a failed Crear re-renders): its torres only, its units suggested
    html = post(admin, {"action": "crear", "project": "Los Olivos"}).text
    assert options(html, "subdivision") == ["—", "Torre A"] and unit_suggestions(html) == ["101", "D-5"]
    html = post(admin, {"search_contract": "C-2024-200", "action": "buscar"}).text
    assert options(html, "subdivision") == ["—", "Bloque B"] and unit_suggestions(html) == ["E-12"]


def test_a_torre_or_unit_of_another_project_or_torre_is_refused_next_to_it(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:  # a second torre in Los Olivos, with its own 101
        olivos = s.scalar(select(Project).where(Project.name == "Los Olivos"))
        s.add(Subdivision(project=olivos, name="Torre C", units=[Unit(number="101"), Unit(number="301")]))
    r = post(admin, {**VALID, "subdivision": "Bloque B"})
    assert r.status_code == 400
    assert errors(r.text) == {"subdivision": ["La torre/bloque 'Bloque B' no es de Los Olivos."]}
    assert options(r.text, "subdivision") == ["—", "Torre A", "Torre C", "Bloque B"]  # kept, marked
    assert '<option selected value="Bloque B">' in r.text
    r = post(admin, {**VALID, "subdivision": "Torre A", "unit": "301"})
    assert errors(r.text) == {"unit": ["La unidad '301' no es de Torre A (Los Olivos)."]}
    assert unit_suggestions(r.text) == ["101", "D-5"]
    r = post(admin, {**VALID, "unit": "E-12"})
    assert errors(r.text) == {"unit": ["La unidad 'E-12' no existe en Los Olivos."]}
    r = post(admin, {**VALID, "unit": "101"})  # two 101s in Los Olivos: the torre decides
    assert errors(r.text) == {"unit": ["Hay varias unidades '101' en Los Olivos: indique la torre/bloque."]}
    with panel(panel_app).sessions() as s:
        assert len(s.scalars(select(Ticket.id)).all()) == 5
    r = post(admin, {**VALID, "subdivision": "Torre C", "unit": "101"})
    assert r.status_code == 302
    with panel(panel_app).sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000006"))
        assert (t.project.name, t.subdivision.name, t.unit.number) == ("Los Olivos", "Torre C", "101")
