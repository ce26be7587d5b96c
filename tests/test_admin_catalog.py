"""Administración › catalogs (issue 10, item 7): create, edit and delete rows of each catalog through
the panel, validated like `atencion catalog load` (natural keys, the loader's checks, Spanish
messages per field), and the refusals with their reason (a row in use, the default status, the
last closed status, a duplicate). Every /admin page (enumerated from the app's url_map, so a new
one cannot slip through) is a 403 for an agent and a legal user. Flask test client, SQLite and
PostgreSQL (tests.panel_harness)."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.panel_harness import ADMIN, AGENT, LEGAL, csrf_token, refusal
from tests.panel_harness import field_errors as errors
from tickets.catalog import load_catalog_data
from tickets.catalog_specs import KINDS
from tickets.models import (
    Area,
    Category,
    Client,
    ClosedDay,
    Contract,
    Priority,
    Project,
    Promoter,
    Status,
    Subdivision,
    Ticket,
    TicketType,
    Unit,
    User,
)
from web_admin.state import panel


def post(staff, path: str, data: dict | None = None, page: str | None = None):
    token = csrf_token(staff.get(page or "/admin/").text)
    return staff.client.post(path, data={**(data or {}), "csrf_token": token})



def one(app, model, **key):
    with panel(app).sessions() as s:
        row = s.scalar(select(model).filter_by(**key))
        if row is not None:
            s.expunge(row)
        return row


def test_index_lists_every_catalog_and_users(admin):
    html = admin.get("/admin/").text
    assert ">Administración</a>" in html  # the nav link, for an admin
    for slug, kind in KINDS.items():
        assert f'id="tile-{slug}"' in html and kind.title in unescape(html)
    assert 'id="tile-usuarios"' in html
    assert 'href="/admin/catalogo/entregas"' in html  # handovers (entregas) are a catalog too


def test_status_create_edit_delete(panel_app, admin, caplog):
    caplog.set_level("INFO", logger="tickets.catalog_edit")
    r = admin.client.post("/admin/catalogo/estados", data={"name": "Sin token", "position": "1"})
    assert r.status_code == 400 and "Formulario caducado" in r.text  # CSRF
    assert one(panel_app, Status, name="Sin token") is None
    r = post(admin, "/admin/catalogo/estados", {"name": "En espera de cliente", "position": "7",
                                                 "notify_requester": "1"})
    assert r.status_code == 302
    assert "El estado «En espera de cliente» se creó." in unescape(admin.get("/admin/catalogo/estados").text)
    st = one(panel_app, Status, name="En espera de cliente")
    assert (st.position, st.attended, st.closed, st.notify_requester) == (7, False, False, True)

    r = post(admin, f"/admin/catalogo/estados/{st.id}", {"name": "En espera del cliente", "position": "8",
                                                          "attended": "1"})
    assert r.status_code == 302
    st = one(panel_app, Status, id=st.id)
    assert (st.name, st.position, st.attended, st.notify_requester) == ("En espera del cliente", 8, True, False)
    edit = admin.get(f"/admin/catalogo/estados/{st.id}").text
    assert "Editar «En espera del cliente»" in unescape(edit) and 'name="attended" value="1" checked' in edit

    assert post(admin, f"/admin/catalogo/estados/{st.id}/eliminar").status_code == 302
    assert one(panel_app, Status, id=st.id) is None
    assert [r.getMessage() for r in caplog.records if r.name == "tickets.catalog_edit"] == [
        f"catalog estados: created 'En espera de cliente' by {ADMIN}",
        f"catalog estados: updated 'En espera del cliente' by {ADMIN}",
        f"catalog estados: deleted 'En espera del cliente' by {ADMIN}",
    ]


def test_delete_in_use_is_refused_with_the_count(panel_app, admin):
    with panel(panel_app).sessions() as s:
        asignado = s.scalar(select(Status).where(Status.name == "Asignado"))
        n = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status_id == asignado.id))
        olivos = s.scalar(select(Project).where(Project.name == "Los Olivos")).id
        postventa = s.scalar(select(Area).where(Area.name == "Postventa")).id
    assert n == 1
    r = post(admin, f"/admin/catalogo/estados/{asignado.id}/eliminar")
    assert r.status_code == 409
    assert refusal(r.text) == "No se puede eliminar el estado «Asignado»: lo usa 1 atención."
    r = post(admin, f"/admin/catalogo/proyectos/{olivos}/eliminar")
    assert refusal(r.text) == "No se puede eliminar el proyecto «Los Olivos»: lo usan 1 atención y 1 torre o bloque."
    r = post(admin, f"/admin/catalogo/areas/{postventa}/eliminar")
    assert refusal(r.text) == "No se puede eliminar el área «Postventa»: la usan 4 atenciones y 1 usuario."
    with panel(panel_app).sessions() as s:
        assert s.get(Status, asignado.id) and s.get(Project, olivos) and s.get(Area, postventa)


def test_default_and_last_closed_status_are_kept(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:
        registrado = s.scalar(select(Status).where(Status.name == "Registrado"))
        for st in s.scalars(select(Status).where(Status.name.in_(("Anulado",)))):
            st.closed = False
        cerrado = s.scalar(select(Status).where(Status.name == "Cerrado"))
        ids = registrado.id, cerrado.id
    with panel(panel_app).sessions.begin() as s:  # Registrado in use by nothing: still refused
        for t in s.scalars(select(Ticket).where(Ticket.status_id == ids[0])):
            t.status_id = ids[1]
    r = post(admin, f"/admin/catalogo/estados/{ids[0]}/eliminar")
    assert refusal(r.text) == ("No se puede eliminar el estado «Registrado»: es el estado de las "
                               "atenciones nuevas.")
    r = post(admin, f"/admin/catalogo/estados/{ids[0]}", {"name": "Nuevo", "position": "1"})
    assert r.status_code == 400
    assert errors(r.text) == {"name": "No se puede cambiar el nombre de «Registrado»: es el estado de las "
                                      "atenciones nuevas."}
    r = post(admin, f"/admin/catalogo/estados/{ids[1]}", {"name": "Cerrado", "position": "5", "attended": "1"})
    assert errors(r.text) == {"closed": "«Cerrado» es el único estado cerrado: marque otro como cerrado antes."}
    with panel(panel_app).sessions.begin() as s:  # no ticket uses it any more
        for t in s.scalars(select(Ticket).where(Ticket.status_id == ids[1])):
            t.status_id = ids[0]
    r = post(admin, f"/admin/catalogo/estados/{ids[1]}/eliminar")
    assert refusal(r.text) == ("No se puede eliminar el estado «Cerrado»: es el único estado cerrado "
                               "(las atenciones no podrían cerrarse).")
    assert one(panel_app, Status, id=ids[1]).closed


@pytest.mark.parametrize("slug, data, expected", [
    ("estados", {"name": "asignado", "position": "9"},
     {"name": "Ya existe el estado «Asignado» con el mismo valor en «Nombre»."}),
    ("estados", {"name": "", "position": "x"}, {"name": "Complete «Nombre».",
                                                "position": "Escriba un número entero mayor o igual a 0."}),
    ("tipos", {"name": "Garantía", "max_response_days": "5", "day_rule": "semanal",
               "priority_days": "Urgente=1, Rápida=2"},
     {"day_rule": "Day_rule 'semanal' no válido (calendar, business)",
      "priority_days": "«Rápida=2» no es «Prioridad=días» con una prioridad existente."}),
    ("clientes", {"document_type": "DNI", "document_number": "40000001", "name": "Otra Ana"},
     {"document_number": "Ya existe el cliente «Ana Torres (DNI 40000001)» con el mismo valor en «N° de documento»."}),
    ("clientes", {"document_type": "LE", "document_number": "1", "name": "X", "emails": "sin-arroba"},
     {"document_type": "Tipo de documento 'LE' no válido (DNI, CE, RUC, PASAPORTE)",
      "emails": "Correo no válido 'sin-arroba'"}),
    ("contratos", {"number": "C-9", "holders": "DNI 99999999", "signed_on": "2025-02-30"},
     {"holders": "El titular «DNI 99999999» no es un cliente registrado.",
      "signed_on": "Fecha '2025-02-30' no válida (AAAA-MM-DD)"}),
    ("dias-no-laborables", {"day": ""}, {"day": "Complete «Fecha»."}),
    ("unidades", {"subdivision_id": "", "number": "101", "unit_type": "castillo"},
     {"subdivision_id": "Complete «Torre o bloque».", "unit_type": "Tipo de unidad 'castillo' no válido"}),
])
def test_bad_values_are_refused_per_field(panel_app, admin, slug, data, expected):
    model = KINDS[slug].model
    with panel(panel_app).sessions() as s:
        before = s.scalar(select(func.count()).select_from(model))
    r = post(admin, f"/admin/catalogo/{slug}", data)
    assert r.status_code == 400
    assert errors(r.text) == expected
    typed = {f.name for f in KINDS[slug].fields if f.kind in ("text", "emails", "holders", "priority_days", "date")}
    for name, value in data.items():  # what was typed stays in the form
        if name in typed:
            assert f'name="{name}" value="{value}"' in r.text, name
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(model)) == before


def test_every_catalog_creates_like_the_loader(panel_app, admin):
    """One row per catalog through the panel; then the YAML loader finds them by natural key and
    reports nothing to create (same keys, same values)."""
    def create(slug, data):
        r = post(admin, f"/admin/catalogo/{slug}", data)
        assert r.status_code == 302, (slug, errors(r.text))

    create("promotores", {"name": "Inmobiliaria Ñandú", "ruc": "20555666777", "address": "Av. Larco 345",
                          "logo": "/srv/logos/nandu.png"})
    promoter = one(panel_app, Promoter, name="Inmobiliaria Ñandú")
    create("proyectos", {"name": "Mirador", "promoter_id": str(promoter.id), "address": "Jr. Lima 1"})
    project = one(panel_app, Project, name="Mirador")
    create("torres", {"project_id": str(project.id), "name": "Torre 1"})
    tower = one(panel_app, Subdivision, name="Torre 1")
    create("unidades", {"subdivision_id": str(tower.id), "number": "301", "unit_type": "departamento"})
    unit = one(panel_app, Unit, number="301")
    create("clientes", {"document_type": "CE", "document_number": "001234", "name": "Rosa Díaz",
                        "emails": "Rosa@Gmail.com, rosa.diaz@trabajo.pe", "phone": "999 111 222"})
    create("contratos", {"number": "C-2025-001", "unit_id": str(unit.id), "holders": "CE 001234, DNI 40000001",
                         "signed_on": "2025-01-15"})
    with panel(panel_app).sessions() as s:
        maria = s.scalar(select(User).where(User.email == AGENT)).id
    create("areas", {"name": "Calidad", "lead_id": str(maria)})
    create("tipos", {"name": "Garantía", "max_response_days": "10", "priority_days": "urgente=2, Alta=5",
                     "day_rule": "business"})
    create("categorias", {"name": "Humedad"})
    create("prioridades", {"name": "Crítica", "position": "5"})
    create("dias-no-laborables", {"day": "2025-07-29", "note": "Fiestas Patrias"})

    with panel(panel_app).sessions() as s:
        c = s.scalar(select(Contract).where(Contract.number == "C-2025-001"))
        assert [h.name for h in c.holders] == ["Ana Torres", "Rosa Díaz"] and c.signed_on == date(2025, 1, 15)
        client = s.scalar(select(Client).where(Client.document_number == "001234"))
        assert [e.email for e in client.emails] == ["rosa@gmail.com", "rosa.diaz@trabajo.pe"]
        t = s.scalar(select(TicketType).where(TicketType.name == "Garantía"))
        assert (t.max_response_days, t.priority_days, t.day_rule) == (10, {"Urgente": 2, "Alta": 5}, "business")
        assert s.scalar(select(Area).where(Area.name == "Calidad")).lead.email == AGENT
        assert s.get(ClosedDay, date(2025, 7, 29)).note == "Fiestas Patrias"
        assert s.scalar(select(Category).where(Category.name == "Humedad"))
        assert s.scalar(select(Priority).where(Priority.name == "Crítica")).position == 5
    with panel(panel_app).sessions.begin() as s:
        report = load_catalog_data(s, {
            "promoters": [{"name": "Inmobiliaria Ñandú", "ruc": "20555666777", "address": "Av. Larco 345",
                           "logo": "/srv/logos/nandu.png"}],
            "projects": [{"name": "Mirador", "promoter": "Inmobiliaria Ñandú", "address": "Jr. Lima 1",
                          "subdivisions": [{"name": "Torre 1", "units": [{"number": "301"}]}]}],
            "clients": [{"document_type": "CE", "document_number": "001234", "name": "Rosa Díaz",
                         "phone": "999 111 222", "emails": ["rosa@gmail.com"]}],
            "ticket_types": [{"name": "Garantía", "max_response_days": 10, "day_rule": "business",
                              "priority_days": {"Urgente": 2, "Alta": 5}}],
            "categories": [{"name": "Humedad"}], "priorities": [{"name": "Crítica", "order": 5}],
            "closed_days": ["2025-07-29"],
        })
        assert report.summary() == "sin cambios"
    # the list shows Spanish labels
    html = unescape(admin.get("/admin/catalogo/tipos").text)
    assert "Días hábiles" in html and "Urgente=2, Alta=5" in html


def test_renaming_a_priority_keeps_the_type_overrides(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:
        urgente = s.scalar(select(Priority).where(Priority.name == "Urgente"))
        for t in s.scalars(select(Ticket).where(Ticket.priority_id == urgente.id)):
            t.priority_id = s.scalar(select(Priority.id).where(Priority.name == "Alta"))
    r = post(admin, f"/admin/catalogo/prioridades/{urgente.id}/eliminar")  # no ticket, but a type's days
    assert refusal(r.text) == ("No se puede eliminar la prioridad «Urgente»: la usa 1 tipo de atención "
                               "(días por prioridad).")
    r = post(admin, f"/admin/catalogo/prioridades/{urgente.id}", {"name": "Muy urgente", "position": "4"})
    assert r.status_code == 302
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(TicketType).where(TicketType.name == "Atención")).priority_days == {"Muy urgente": 1}


def test_closed_day_by_date_and_unknown_rows(panel_app, admin):
    assert post(admin, "/admin/catalogo/dias-no-laborables", {"day": "2025-12-08", "note": "Inmaculada"}
                ).status_code == 302
    assert "Inmaculada" in admin.get("/admin/catalogo/dias-no-laborables/2025-12-08").text
    r = post(admin, "/admin/catalogo/dias-no-laborables", {"day": "2025-12-08"})
    assert errors(r.text) == {"day": "Ya existe el día no laborable «08/12/2025» con el mismo valor en «Fecha»."}
    assert post(admin, "/admin/catalogo/dias-no-laborables/2025-12-08/eliminar").status_code == 302
    assert one(panel_app, ClosedDay, day=date(2025, 12, 8)) is None
    assert admin.get("/admin/catalogo/dias-no-laborables/2025-12-08").status_code == 404
    assert admin.get("/admin/catalogo/no-existe").status_code == 404
    assert admin.get("/admin/catalogo/estados/99999").status_code == 404


def sample_url(rule) -> str:
    """A concrete URL for an /admin rule (its variables filled with plausible values)."""
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:\w+:)?{name}>", {"slug": "estados", "key": "1", "user_id": "1"}[name], url)
    return url


def test_every_admin_page_is_refused_to_agent_and_legal(panel_app, staff):
    rules = [r for r in panel_app.url_map.iter_rules() if r.rule.startswith("/admin")]
    assert len(rules) >= 12  # catalog (6) and users (7) routes at least
    for rule in rules:  # logged out: to the login page
        r = staff.client.get(sample_url(rule)) if "GET" in rule.methods else None
        assert r is None or (r.status_code == 302 and "/login" in r.location), rule.rule
    with panel(panel_app).sessions() as s:
        statuses = s.scalar(select(func.count()).select_from(Status))
    for email in (AGENT, LEGAL):
        staff.login(email)
        token = csrf_token(staff.get("/").text)
        assert ">Administración</a>" not in staff.get("/").text
        for rule in rules:
            url = sample_url(rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token, "name": "X", "position": "1"} if method == "POST" else None
                r = staff.client.open(url, method=method, data=data)
                assert r.status_code == 403, (email, method, url, r.status_code)
                assert "Su rol no permite usar esta página." in r.text
        staff.logout()
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(Status)) == statuses
    staff.login(ADMIN)
    for rule in rules:
        if "GET" in rule.methods:
            assert staff.get(sample_url(rule)).status_code == 200, rule.rule


def test_search_narrows_a_long_catalog(panel_app, admin):
    from tickets.catalog_edit import list_rows

    html = unescape(admin.get("/admin/catalogo/clientes", q="TORRES").text)
    assert "Ana Torres" in html and "Luis Pérez" not in html
    assert 'id="catalog-total">1 registro encontrado.' in html
    assert "Luis Pérez" in admin.get("/admin/catalogo/clientes").text
    html = admin.get("/admin/catalogo/clientes", q="100%").text  # LIKE wildcards are literal
    assert 'id="catalog-total">0 registros encontrados.' in html
    with panel(panel_app).sessions() as s:
        rows, total = list_rows(s, KINDS["clientes"], limit=1)
        assert ([r.name for r in rows], total) == (["Ana Torres"], 2)


def test_the_last_ticket_type_stays(panel_app, admin):
    with panel(panel_app).sessions.begin() as s:
        keep = s.scalar(select(TicketType).where(TicketType.name == "Atención"))
        for t in s.scalars(select(Ticket)):
            t.type_id = keep.id
        others = [tt.id for tt in s.scalars(select(TicketType).where(TicketType.id != keep.id))]
        keep_id = keep.id
    for type_id in others:
        assert post(admin, f"/admin/catalogo/tipos/{type_id}/eliminar").status_code == 302
    r = post(admin, f"/admin/catalogo/tipos/{keep_id}/eliminar")
    assert r.status_code == 409
    assert refusal(r.text) == ("No se puede eliminar el tipo de atención «Atención»: es el único tipo de "
                               "atención (las atenciones nuevas necesitan uno).")
    assert one(panel_app, TicketType, id=keep_id) is not None


def test_handovers_are_a_catalog_and_block_deleting_their_unit(panel_app, admin):
    """Entregas: created and edited like the other catalogs (natural key unit + contract); a unit
    with an entrega, and an entrega with a related file, cannot be deleted (the reason says why)."""
    from tickets.models import Handover, RelatedFile

    unit = one(panel_app, Unit, number="101")
    r = post(admin, "/admin/catalogo/entregas", {"unit_id": str(unit.id), "handed_over_on": "2024-03-15",
                                                "observations": "Fisura en el muro de la sala."})
    assert r.status_code == 302, errors(r.text)
    handover = one(panel_app, Handover, unit_id=unit.id)
    assert (handover.handed_over_on, handover.contract_id) == (date(2024, 3, 15), None)
    page = admin.get("/admin/catalogo/entregas").text
    assert "15/03/2024" in page
    r = post(admin, "/admin/catalogo/entregas", {"unit_id": str(unit.id), "handed_over_on": "2024-04-01"})
    assert r.status_code != 302 and (refusal(r.text) or errors(r.text))  # same unit, no contract: a duplicate
    r = post(admin, "/admin/catalogo/entregas", {"unit_id": "", "handed_over_on": "no"})
    assert set(errors(r.text)) >= {"unit_id", "handed_over_on"}
    r = post(admin, f"/admin/catalogo/unidades/{unit.id}/eliminar")
    assert "1 entrega" in refusal(r.text)
    with panel(panel_app).sessions.begin() as s:
        s.add(RelatedFile(handover_id=handover.id, sha256="0" * 64, filename="acta.pdf",
                          content_type="application/pdf", size=10))
    r = post(admin, f"/admin/catalogo/entregas/{handover.id}/eliminar")
    assert refusal(r.text).startswith("No se puede eliminar la entrega «")
    assert refusal(r.text).endswith(": la usa 1 archivo relacionado.")
    assert one(panel_app, Handover, id=handover.id) is not None
