"""Administración › Usuarios (issue 10, item 7): create (hashed like `atencion users add`; a
duplicate email refused), edit role and area, deactivate and reactivate, set a new password, and
the refusals with their reason (removing your own admin role, deactivating yourself, deactivating
or moving an area's lead before another is named). Deactivating an agent lists their open tickets;
reassigning them (one, or all at once) goes through the panel's «Asignado» service: the history's
change entry and the assignment mail through the outbox. Flask test client, SQLite and PostgreSQL
(tests.panel_harness: admin@, maria@ agent of Postventa with AT-000001, jorge@ legal, baja@ off)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.panel_harness import ADMIN, AGENT, INACTIVE, PASSWORD, csrf_token, refusal
from tests.panel_harness import field_errors as errors
from tickets.models import Area, LogbookEntry, OutboxMessage, Ticket, User
from web_admin.state import panel


def post(staff, path: str, data: dict | None = None):
    token = csrf_token(staff.get("/admin/usuarios").text)
    return staff.client.post(path, data={**(data or {}), "csrf_token": token})



def flashes(staff, path: str) -> str:
    return " ".join(unescape(m) for m in re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', staff.get(path).text))


def user(app, email: str) -> User:
    with panel(app).sessions() as s:
        u = s.scalar(select(User).where(User.email == email))
        s.expunge(u)
        return u


def test_create_user_then_log_in(panel_app, admin, staff):
    r = post(admin, "/admin/usuarios", {"email": " Lucia.Ramos@Empresa.pe ", "name": "Lucía  Ramos",
                                        "role": "agent", "area": "Área Legal", "password": "nueva-clave-1"})
    assert r.status_code == 302
    assert "Usuario lucia.ramos@empresa.pe creado." in flashes(admin, "/admin/usuarios")
    u = user(panel_app, "lucia.ramos@empresa.pe")
    assert (u.name, u.role, u.active) == ("Lucía Ramos", "agent", True)
    assert check_password_hash(u.password_hash, "nueva-clave-1") and "nueva-clave-1" not in u.password_hash
    assert "Lucía Ramos" in admin.get("/admin/usuarios").text
    admin.logout()
    assert staff.login("lucia.ramos@empresa.pe", "nueva-clave-1").status_code == 302


def test_create_refusals_per_field(panel_app, admin):
    with panel(panel_app).sessions() as s:
        before = s.scalar(select(func.count()).select_from(User))
    cases = [
        ({"email": AGENT.upper()}, {"email": f"Ya existe un usuario con el correo {AGENT}."}),
        ({"email": "sin-arroba"}, {"email": "Correo no válido 'sin-arroba'."}),
        ({"password": "corta"}, {"password": "Debe tener al menos 8 caracteres."}),
        ({"name": "  "}, {"name": "El nombre está vacío."}),
        ({"area": "Marte"}, {"area": "Área desconocida 'Marte' (válidas: Área Legal, Postventa)"}),
    ]
    for change, expected in cases:
        data = {"email": "nuevo@empresa.pe", "name": "Nuevo", "role": "agent", "area": "",
                "password": "clave-larga-1", **change}
        r = post(admin, "/admin/usuarios", data)
        assert r.status_code == 400 and errors(r.text) == expected, change
        assert f'value="{data["email"]}"' in r.text  # the typed email stays
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == before


def test_edit_role_and_area(panel_app, admin):
    maria = user(panel_app, AGENT)
    r = post(admin, f"/admin/usuarios/{maria.id}", {"name": "María Quispe Ruiz", "role": "legal",
                                                     "area": "Área Legal"})
    assert r.status_code == 302
    u = user(panel_app, AGENT)
    with panel(panel_app).sessions() as s:
        assert (u.name, u.role, s.get(Area, u.area_id).name) == ("María Quispe Ruiz", "legal", "Área Legal")


def test_refusals_for_self_and_area_leads(panel_app, admin):
    me, maria = user(panel_app, ADMIN), user(panel_app, AGENT)
    r = post(admin, f"/admin/usuarios/{me.id}", {"name": me.name, "role": "agent", "area": ""})
    assert r.status_code == 400
    assert errors(r.text) == {"role": "No puede quitarse a sí mismo el rol de administrador."}
    r = post(admin, f"/admin/usuarios/{me.id}/desactivar")
    assert r.status_code == 409 and refusal(r.text) == "No puede desactivarse a sí mismo."
    assert user(panel_app, ADMIN).role == "admin" and user(panel_app, ADMIN).active

    with panel(panel_app).sessions.begin() as s:
        s.scalar(select(Area).where(Area.name == "Postventa")).lead_id = maria.id
    assert "líder de Postventa" in admin.get("/admin/usuarios").text
    r = post(admin, f"/admin/usuarios/{maria.id}/desactivar")
    assert r.status_code == 409
    assert refusal(r.text) == ("No se puede desactivar a María Quispe: es líder del área «Postventa». "
                               "Nombre antes a otro líder en Administración › Áreas.")
    r = post(admin, f"/admin/usuarios/{maria.id}", {"name": "María Quispe", "role": "agent", "area": "Área Legal"})
    assert errors(r.text) == {"area": "María Quispe es líder del área «Postventa»: nombre antes a otro líder."}
    assert user(panel_app, AGENT).active
    # another lead named (through the Áreas catalog page): now she can go
    with panel(panel_app).sessions() as s:
        postventa = s.scalar(select(Area).where(Area.name == "Postventa")).id
    assert post(admin, f"/admin/catalogo/areas/{postventa}", {"name": "Postventa", "lead_id": str(me.id)}
                ).status_code == 302
    assert post(admin, f"/admin/usuarios/{maria.id}/desactivar").status_code == 302
    assert not user(panel_app, AGENT).active


def test_deactivate_agent_and_reassign_open_tickets(panel_app, admin, staff, caplog):
    caplog.set_level("INFO", logger="tickets.user_admin")
    maria, me = user(panel_app, AGENT), user(panel_app, ADMIN)
    with panel(panel_app).sessions.begin() as s:  # a second open ticket for María
        t3 = s.scalar(select(Ticket).where(Ticket.code == "AT-000003"))
        t3.assignee_id = maria.id
        ids = {t.code: t.id for t in s.scalars(select(Ticket))}
    row = re.search(rf'<tr id="user-{maria.id}".*?</tr>', admin.get("/admin/usuarios").text, re.S).group(0)
    assert '<td class="num">2</td>' in row  # her open tickets, in the list
    r = post(admin, f"/admin/usuarios/{maria.id}/desactivar")
    assert r.status_code == 302
    page = admin.get(f"/admin/usuarios/{maria.id}").text
    assert "Usuario desactivado. Tiene 2 atenciones abiertas: reasígnelas abajo." in unescape(page)
    assert 'id="open-AT-000001"' in page and 'id="open-AT-000003"' in page
    assert f'<option value="{maria.id}"' not in page  # never back to her
    assert not user(panel_app, AGENT).active

    bad = post(admin, f"/admin/usuarios/{maria.id}/reasignar",
               {"ticket": str(ids["AT-000001"]), "to": str(user(panel_app, INACTIVE).id)})
    assert bad.status_code == 400 and errors(bad.text) == {"to": "Elija otro usuario activo."}
    r = post(admin, f"/admin/usuarios/{maria.id}/reasignar", {"ticket": str(ids["AT-000001"]), "to": str(me.id)})
    assert r.status_code == 302
    assert "Reasignada a Ana Administradora: AT-000001." in flashes(admin, f"/admin/usuarios/{maria.id}")
    r = admin.client.post(f"/admin/usuarios/{maria.id}/reasignar", data={
        "ticket": [str(ids["AT-000003"])], "to": str(me.id),
        "csrf_token": csrf_token(admin.get("/admin/usuarios").text)})
    assert r.status_code == 302
    assert "No tiene atenciones abiertas." in admin.get(f"/admin/usuarios/{maria.id}").text
    with panel(panel_app).sessions() as s:
        for code in ("AT-000001", "AT-000003"):
            t = s.scalar(select(Ticket).where(Ticket.code == code))
            assert t.assignee_id == me.id
            last = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id,
                                                        LogbookEntry.field == "assignee")
                             .order_by(LogbookEntry.id.desc())).first()
            assert (last.old, last.new, last.author_user_id) == (AGENT, ADMIN, me.id)
            mail = s.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id,
                                                         OutboxMessage.event == "assignment")
                             .order_by(OutboxMessage.id.desc())).first()
            assert (mail.recipient, mail.state) == (ADMIN, "sent")
    assert [r.getMessage() for r in caplog.records if r.name == "tickets.user_admin"] == [
        f"user {AGENT} deactivated by {ADMIN}",
        f"user {AGENT}: 1 tickets reassigned to {ADMIN} by {ADMIN}",
        f"user {AGENT}: 1 tickets reassigned to {ADMIN} by {ADMIN}",
    ]
    admin.logout()
    assert staff.login(AGENT).status_code == 401  # deactivated: no login


def test_reassign_all_at_once_and_reactivate(panel_app, admin):
    maria, jorge = user(panel_app, AGENT), user(panel_app, "jorge@empresa.pe")
    with panel(panel_app).sessions.begin() as s:
        for code in ("AT-000003", "AT-000005"):
            s.scalar(select(Ticket).where(Ticket.code == code)).assignee_id = maria.id
        ids = [t.id for t in s.scalars(select(Ticket).where(Ticket.assignee_id == maria.id))]
    assert post(admin, f"/admin/usuarios/{maria.id}/desactivar").status_code == 302
    page = admin.get(f"/admin/usuarios/{maria.id}").text
    form = re.search(r'<form[^>]*id="reassign-all".*?</form>', page, re.S).group(0)
    assert sorted(int(v) for v in re.findall(r'name="ticket" value="(\d+)"', form)) == sorted(ids)
    r = admin.client.post(f"/admin/usuarios/{maria.id}/reasignar", data={
        "ticket": [str(i) for i in ids], "to": str(jorge.id), "csrf_token": csrf_token(page)})
    assert r.status_code == 302
    assert "Reasignadas a Jorge Ríos: AT-000001, AT-000003, AT-000005." in flashes(
        admin, f"/admin/usuarios/{maria.id}")
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.assignee_id == maria.id)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "assignment", OutboxMessage.recipient == "jorge@empresa.pe",
            OutboxMessage.ticket_id.in_(ids))) == 3
    assert post(admin, f"/admin/usuarios/{maria.id}/reactivar").status_code == 302
    assert user(panel_app, AGENT).active


def test_reset_password(panel_app, admin, staff):
    maria = user(panel_app, AGENT)
    r = post(admin, f"/admin/usuarios/{maria.id}/clave", {"password": "otra-clave-9", "password2": "otra-clave-8"})
    assert r.status_code == 400 and errors(r.text) == {"password2": "Las dos contraseñas no coinciden."}
    r = post(admin, f"/admin/usuarios/{maria.id}/clave", {"password": "corta", "password2": "corta"})
    assert errors(r.text) == {"password": "Debe tener al menos 8 caracteres."}
    assert check_password_hash(user(panel_app, AGENT).password_hash, PASSWORD)
    r = post(admin, f"/admin/usuarios/{maria.id}/clave", {"password": "otra-clave-9", "password2": "otra-clave-9"})
    assert r.status_code == 302
    page = admin.get(f"/admin/usuarios/{maria.id}").text
    assert "Contraseña cambiada." in page and "otra-clave-9" not in page
    admin.logout()
    assert staff.login(AGENT).status_code == 401
    assert staff.login(AGENT, "otra-clave-9").status_code == 302


def test_reloading_the_catalog_keeps_a_deactivated_user_off(panel_app, admin, staff):
    """`atencion catalog load` again (the same file, its users without `active:`) must not bring back
    someone an admin deactivated here; `active: true` in the file does, on purpose."""
    from tickets.catalog import load_catalog_data

    maria = user(panel_app, AGENT)
    assert post(admin, f"/admin/usuarios/{maria.id}/desactivar").status_code == 302
    entry = {"email": AGENT, "name": maria.name, "role": "agent", "area": "Postventa"}
    with panel(panel_app).sessions.begin() as s:
        report = load_catalog_data(s, {"users": [entry]})
    assert report.summary() == "sin cambios"
    assert not user(panel_app, AGENT).active
    admin.logout()
    assert staff.login(AGENT).status_code == 401
    with panel(panel_app).sessions.begin() as s:
        load_catalog_data(s, {"users": [{**entry, "active": True}]})
    assert user(panel_app, AGENT).active
    with panel(panel_app).sessions.begin() as s:  # a new user from the file is active
        load_catalog_data(s, {"users": [{"email": "nuevo@empresa.pe", "name": "Nuevo", "role": "agent"}]})
    assert user(panel_app, "nuevo@empresa.pe").active
