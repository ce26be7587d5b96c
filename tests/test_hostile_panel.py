"""Hostile text typed into the panel's new forms (issue 10), through Flask's test client on SQLite
and PostgreSQL: a NUL byte (``%00``) in a follow-up's note, an event's title, a catalog value or
the list's searches is refused with a Spanish 400 page and nothing is written — never a 500
(PostgreSQL cannot store NUL in text) nor stored (SQLite would keep it). Wildcards, long strings,
combining marks and bidi overrides in the searches match literally."""

from __future__ import annotations

import sqlite3
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.panel_harness import AGENT, codes_in, csrf_token
from tests.test_panel_events import CODE, field_errors, form
from tickets.models import Area, Event, FollowUp
from tickets.text import MAX_ID, as_id
from web_admin.state import panel

NUL = "antes\x00después"


def post(admin, path: str, data: dict):
    token = csrf_token(admin.get(f"/atenciones/{CODE}").text)
    return admin.client.post(path, data={**data, "csrf_token": token})


def count(app, model) -> int:
    with panel(app).sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def refused(r) -> bool:
    return r.status_code == 400 and "Solicitud no válida" in r.text and "caracteres no válidos" in r.text


@pytest.mark.parametrize(("path", "model", "data"), [
    (f"/atenciones/{CODE}/seguimientos", FollowUp,
     {"follow_up-due_date": "2025-01-08", "follow_up-owner": AGENT, "follow_up-note": NUL}),
    (f"/atenciones/{CODE}/eventos", Event, form(title=NUL)),
    (f"/atenciones/{CODE}/eventos", Event, form(location=NUL)),
    ("/admin/catalogo/areas", Area, {"name": NUL, "lead_id": ""}),
    ("/admin/catalogo/areas", Area, {"name": "Área nueva", "lead_id": "", "x\x00": "1"}),
], ids=["follow-up-note", "event-title", "event-location", "catalog-value", "field-name"])
def test_a_nul_in_a_form_is_refused_and_nothing_is_written(admin, panel_app, path, model, data):
    before = count(panel_app, model)
    r = post(admin, path, data)
    assert refused(r)
    assert count(panel_app, model) == before


@pytest.mark.parametrize("field", ["q", "comment"])
def test_a_nul_in_a_search_is_refused(admin, field):
    assert refused(admin.get("/", **{field: NUL}))
    assert refused(admin.get("/admin/catalogo/areas", q=NUL))
    assert refused(admin.get("/seguimientos", q=NUL))


@pytest.mark.parametrize(("text", "codes"), [
    ("%", ["AT-000003"]),  # its detail says "50% de descuento": the % is literal, not "anything"
    ("50%_", []), ("_", []), ("\\", []), ("50\\%", []), ("humedad\u0301\u0301", []), ("\u202eotneimatrapeD", []),
])
@pytest.mark.parametrize("field", ["q", "comment"])
def test_searches_with_wildcards_and_odd_text_match_literally(admin, text, codes, field):
    page = admin.get("/", **{field: text})
    assert page.status_code == 200 and codes_in(page.text) == (codes if field == "q" else [])
    catalog = admin.get("/admin/catalogo/tipos", q=text)
    assert catalog.status_code == 200 and "/admin/catalogo/tipos/" not in catalog.text


def test_a_search_too_long_is_a_spanish_field_error(admin):
    page = admin.get("/", q="x" * 5000)
    assert page.status_code == 400 and "texto demasiado largo (5000 caracteres; máximo 200)" in page.text


BIG = "9" * 25  # beyond a 64-bit id: PostgreSQL "out of range", SQLite OverflowError (both were a 500)


def test_as_id_reads_only_what_a_database_can_compare():
    assert [as_id(t) for t in (" 42 ", "1", str(MAX_ID))] == [42, 1, MAX_ID]
    assert [as_id(t) for t in ("", None, "0", "-1", "²", "١٢", "4a", str(MAX_ID + 1), BIG)] == [None] * 9


@pytest.mark.parametrize("path", [
    f"/archivos-relacionados/{BIG}", f"/admin/usuarios/{BIG}", f"/admin/catalogo/areas/{BIG}",
    f"/admin/catalogo/tipos/{BIG}", f"/atenciones/{CODE}/eventos/{BIG}/editar",
])
def test_a_huge_id_in_a_url_is_not_found(admin, path):
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize("path", [
    f"/atenciones/{CODE}/seguimientos/{BIG}/hecho", f"/atenciones/{CODE}/eventos/{BIG}/cancelar",
    f"/archivos-relacionados/{BIG}/eliminar", f"/admin/usuarios/{BIG}/desactivar",
    f"/admin/catalogo/areas/{BIG}/eliminar", "/admin/usuarios/1/reasignar",
])
def test_a_huge_id_posted_is_not_found_or_refused(admin, path):
    r = post(admin, path, {"ticket": [BIG, "²"], "to": BIG})
    assert r.status_code in (404, 409)  # 409: "No eligió ninguna atención" (the ids were dropped)


@pytest.mark.parametrize("query", [{"proyecto": "²"}, {"proyecto": BIG}, {"proyecto": "1", "torre": BIG}])
def test_tampered_picker_ids_choose_nothing(admin, query):
    page = admin.get("/archivos-relacionados", **query)
    assert page.status_code == 200


@pytest.mark.parametrize(("slug", "data"), [
    ("areas", {"name": "Nueva", "lead_id": BIG}),
    ("torres", {"name": "T", "project_id": BIG}),
    ("torres", {"name": "T", "project_id": "²"}),
    ("tipos", {"name": "Reclamo X", "max_response_days": "5", "day_rule": "calendar",
               "priority_days": "Alta=" + BIG}),
])
def test_tampered_catalog_references_are_field_errors(admin, panel_app, slug, data):
    r = post(admin, f"/admin/catalogo/{slug}", data)
    assert r.status_code == 400 and 'class="field-error"' in r.text


@pytest.mark.parametrize("day", ["9999-12-31", "31/12/9999", "2199-01-01"])
def test_an_event_in_year_9999_is_a_field_error_not_a_500(admin, panel_app, day):
    """31/12/9999 20:00 in Lima is year 10000 in UTC: comparing it with now overflowed (a 500)."""
    before = count(panel_app, Event)
    r = post(admin, f"/atenciones/{CODE}/eventos", form(date=day, start="20:00", end="21:00"))
    assert r.status_code == 400
    assert field_errors(r.text)["date"] == "El evento debe ser dentro de los próximos 5 años."
    assert count(panel_app, Event) == before


def meanwhile(app, work) -> dict:
    """Just before the panel's next flush, another admin's request: ``work(session)`` committed in
    another session (a real race, no mock). On SQLite every write transaction is BEGIN IMMEDIATE,
    so the race cannot happen: the other request is locked out (returned ``{"locked": True}``)."""
    from sqlalchemy import event

    sessions = panel(app).sessions
    engine = sessions.kw["bind"]
    seen: dict = {}

    def other_admin(_session, _flush_context, _instances) -> None:
        if engine.dialect.name == "sqlite":
            raw = engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA busy_timeout=50")
                raw.driver_connection.execute("BEGIN IMMEDIATE")
                seen["locked"] = False
            except sqlite3.OperationalError as exc:
                seen["locked"] = "locked" in str(exc)
            finally:
                raw.invalidate()  # never back to the pool with the short timeout
            return
        with sessions.begin() as other:
            work(other)
        seen["committed"] = True

    event.listen(sessions, "before_flush", other_admin, once=True)
    return seen


def test_two_admins_creating_the_same_area_at_once(admin, panel_app):
    seen = meanwhile(panel_app, lambda s: s.add(Area(name="Área de Calidad")))
    r = post(admin, "/admin/catalogo/areas", {"name": "Área de Calidad", "lead_id": ""})
    if seen == {"locked": True}:  # SQLite: one writer at a time, ours went through
        assert r.status_code == 302
    else:
        assert seen == {"committed": True}
        assert r.status_code == 400 and "Otro usuario cambió el catálogo al mismo tiempo" in r.text
    with panel(panel_app).sessions() as s:
        assert s.scalars(select(Area.name).where(Area.name == "Área de Calidad")).all() == ["Área de Calidad"]


def test_an_area_deleted_while_someone_starts_using_it(admin, panel_app):
    from tickets.models import User

    assert post(admin, "/admin/catalogo/areas", {"name": "Área de Calidad", "lead_id": ""}).status_code == 302
    with panel(panel_app).sessions() as s:
        area_id = s.scalar(select(Area.id).where(Area.name == "Área de Calidad"))

    def assign(s):
        s.scalar(select(User).where(User.email == AGENT)).area_id = area_id

    seen = meanwhile(panel_app, assign)
    r = post(admin, f"/admin/catalogo/areas/{area_id}/eliminar", {})
    with panel(panel_app).sessions() as s:
        if seen == {"locked": True}:  # SQLite: one writer at a time, the delete went through
            assert r.status_code == 302 and s.get(Area, area_id) is None
        else:
            assert seen == {"committed": True}
            assert r.status_code == 409 and "se empezó a usar mientras se eliminaba" in unescape(r.text)
            assert s.get(Area, area_id) is not None


def test_two_admins_creating_the_same_user_at_once(admin, panel_app):
    from tickets.models import User

    def other(s):
        s.add(User(email="lucia@empresa.pe", name="Lucía", role="agent", active=True))

    seen = meanwhile(panel_app, other)
    token = csrf_token(admin.get("/admin/usuarios").text)
    r = admin.client.post("/admin/usuarios", data={"csrf_token": token, "email": "Lucia@Empresa.pe", "name": "Lucía R.",
                                                   "role": "agent", "area": "", "password": "clave-segura-123"})
    if seen == {"locked": True}:  # SQLite: one writer at a time, ours went through
        assert r.status_code == 302
    else:
        assert seen == {"committed": True}
        assert r.status_code == 400 and "Ya existe un usuario con el correo lucia@empresa.pe." in r.text
    with panel(panel_app).sessions() as s:
        assert len(s.scalars(select(User).where(User.email == "lucia@empresa.pe")).all()) == 1
