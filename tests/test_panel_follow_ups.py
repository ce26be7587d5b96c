"""The ticket view's "Seguimiento" section (web_admin.follow_ups) through Flask's test client, on
SQLite and PostgreSQL (tests.panel_harness: today pinned to 2025-01-06, the filter test data):
the list with dd/mm/aaaa dates and "vencido" in red, the add form (CSRF, per-field Spanish
errors, owner defaulting to the assignee or the current user), "Hecho"/"Reabrir", the legal
role's 404 — and what each action leaves in the bitácora, the history and the outbox.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.panel_harness import ADMIN, AGENT, LEGAL, csrf_token
from tickets import follow_ups
from tickets.models import FollowUp, LogbookEntry, OutboxMessage, Ticket, User
from web_admin.state import panel

NOTE = "Llamar a la Sra. Díaz para coordinar la visita del gasfitero"


def post_add(admin, code: str, **values):
    page = admin.get(f"/atenciones/{code}")
    data = {"csrf_token": csrf_token(page.text), "follow_up-due_date": "2025-01-08",
            "follow_up-owner": AGENT, "follow_up-note": NOTE}
    data.update({f"follow_up-{k}": v for k, v in values.items()})
    return admin.client.post(f"/atenciones/{code}/seguimientos", data=data)


def post_done(staff, code: str, fid: int, done: str = "1", page_code: str | None = None):
    page = staff.get(f"/atenciones/{page_code or code}")
    return staff.client.post(f"/atenciones/{code}/seguimientos/{fid}/hecho",
                             data={"csrf_token": csrf_token(page.text), "done": done})


def state(app, code: str) -> dict:
    """What the database holds for ``code``: follow-ups, follow_up entries, follow-up changes, outbox rows."""
    with panel(app).sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == code))
        entries = list(s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id).order_by(LogbookEntry.id)))
        fus = s.scalars(select(FollowUp).where(FollowUp.ticket_id == t.id).order_by(FollowUp.id))
        return {
            "follow_ups": [(f.due_date, f.note, f.owner.email, f.done, f.created_by.email if f.created_by else None)
                           for f in fus],
            "logbook": [(e.text, e.author_email) for e in entries if e.kind == "follow_up"],
            "history": [(e.field, e.old, e.new, e.author_email) for e in entries
                        if e.kind == "change" and (e.field or "").startswith("follow_up")],
            "outbox": s.scalar(select(func.count()).select_from(OutboxMessage)),
        }


def section(html: str) -> str:
    m = re.search(r'<div class="card" id="seguimiento">(.*?)</form>\s*</div>', html, re.S)
    assert m, "no Seguimiento section"
    return m.group(1)


def selected_owner(html: str) -> str:
    m = re.search(r'<select id="follow_up-owner" name="follow_up-owner">(.*?)</select>', html, re.S)
    assert m
    return re.search(r'<option selected value="([^"]+)"', m.group(1)).group(1)


def test_an_empty_section_proposes_the_assignee_or_the_current_user(panel_app, admin) -> None:
    page = admin.get("/atenciones/AT-000001")
    assert page.status_code == 200
    html = section(page.text)
    assert "<h2>Seguimiento</h2>" in html and "Sin seguimientos." in html
    assert selected_owner(page.text) == AGENT  # María is the assignee
    assert 'type="date"' in html and 'min="2025-01-06"' in html  # today, pinned
    assert selected_owner(admin.get("/atenciones/AT-000003").text) == ADMIN  # unassigned: the admin herself
    assert "baja@empresa.pe" not in html  # an inactive user is no choice


def test_add_lists_it_and_writes_the_logbook_not_the_history_nor_mail(panel_app, admin) -> None:
    before = state(panel_app, "AT-000001")["outbox"]
    r = post_add(admin, "AT-000001")
    assert r.status_code == 302 and r.headers["Location"].endswith("/atenciones/AT-000001#seguimiento")
    got = state(panel_app, "AT-000001")
    assert got["follow_ups"] == [(date(2025, 1, 8), NOTE, AGENT, False, ADMIN)]
    assert got["logbook"] == [(f"Seguimiento para el 08/01/2025 a cargo de María Quispe: {NOTE}", ADMIN)]
    assert got["history"] == [] and got["outbox"] == before  # the reminder goes on the due day
    page = admin.get("/atenciones/AT-000001")
    assert "Seguimiento agregado para el 08/01/2025 a cargo de María Quispe." in page.text
    html = unescape(section(page.text))
    assert "08/01/2025" in html and NOTE in html and "María Quispe" in html and "vencido" not in html
    assert "Seguimiento para el 08/01/2025" in unescape(page.text.split('id="logbook"')[1])


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"note": "   "}, "note", "Escriba la nota del seguimiento."),
    ({"due_date": "2025-01-05"}, "due_date", "La fecha de vencimiento no puede ser anterior a hoy (06/01/2025)."),
    ({"due_date": "08/01/2025x"}, "due_date", "Fecha no válida: use dd/mm/aaaa."),
    ({"due_date": ""}, "due_date", "Indique la fecha de vencimiento (dd/mm/aaaa)."),
    ({"owner": "baja@empresa.pe"}, "owner", "El responsable debe ser un usuario activo del equipo."),
], ids=["blank-note", "past", "bad-date", "no-date", "inactive-owner"])
def test_bad_values_come_back_in_spanish_next_to_their_field(panel_app, admin, values, field, message) -> None:
    before = state(panel_app, "AT-000001")
    r = post_add(admin, "AT-000001", **values)
    assert r.status_code == 400
    m = re.search(rf'<p class="field-error" id="err-follow_up-{field}">([^<]+)</p>', r.text)
    assert m and unescape(m.group(1)) == message, r.text[-3000:]
    assert state(panel_app, "AT-000001") == before
    if field != "note":
        assert NOTE in unescape(section(r.text))  # what was typed stays


def test_done_and_reopen_write_the_logbook_and_the_history(panel_app, admin) -> None:
    post_add(admin, "AT-000001", due_date="2025-01-06")
    ((_, _, _, _, _),) = state(panel_app, "AT-000001")["follow_ups"]
    with panel(panel_app).sessions() as s:
        fid = s.scalar(select(FollowUp.id))
    before = state(panel_app, "AT-000001")["outbox"]
    r = post_done(admin, "AT-000001", fid)
    assert r.status_code == 302
    got = state(panel_app, "AT-000001")
    assert got["follow_ups"][0][3] is True
    assert got["history"] == [("follow_up_done", "pendiente", "hecho", ADMIN)]
    assert got["logbook"][-1] == (f"Seguimiento del 06/01/2025 hecho: {NOTE}", ADMIN)
    assert got["outbox"] == before
    page = admin.get("/atenciones/AT-000001")
    assert "Seguimiento marcado como hecho." in page.text
    row = re.search(rf'<tr id="follow-up-{fid}" class="([^"]*)">(.*?)</tr>', page.text, re.S)
    assert row.group(1) == "fu-done" and "Reabrir" in row.group(2) and " checked " in row.group(2)
    history = page.text.split('id="history"')[1]
    assert "<td>Seguimiento</td>" in history and "<td>pendiente</td>" in history and "<td>hecho</td>" in history

    assert post_done(admin, "AT-000001", fid, "1").status_code == 302  # twice: nothing more
    assert len(state(panel_app, "AT-000001")["history"]) == 1
    assert post_done(admin, "AT-000001", fid, "0").status_code == 302
    got = state(panel_app, "AT-000001")
    assert got["follow_ups"][0][3] is False
    assert got["history"][-1] == ("follow_up_done", "hecho", "pendiente", ADMIN)
    assert got["logbook"][-1] == (f"Seguimiento del 06/01/2025 pendiente otra vez: {NOTE}", ADMIN)


def test_an_overdue_follow_up_is_marked_vencido_in_red(panel_app, admin) -> None:
    with panel(panel_app).sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        maria = s.scalar(select(User).where(User.email == AGENT))
        late = follow_ups.add_follow_up(s, t, due_date=date(2025, 1, 3), note="Enviar presupuesto", owner=maria,
                                        by=maria, today=date(2025, 1, 2))
        on_time = follow_ups.add_follow_up(s, t, due_date=date(2025, 1, 6), note="Confirmar visita", owner=maria,
                                           by=maria, today=date(2025, 1, 2))
        ids = late.id, on_time.id
    page = admin.get("/atenciones/AT-000001")
    html = section(page.text)
    late_row = re.search(rf'<tr id="follow-up-{ids[0]}" class="([^"]*)">(.*?)</tr>', html, re.S)
    today_row = re.search(rf'<tr id="follow-up-{ids[1]}" class="([^"]*)">(.*?)</tr>', html, re.S)
    assert late_row.group(1).strip() == "fu-overdue"
    assert '03/01/2025 <span class="fu-pill fu-pill-overdue">vencido</span>' in late_row.group(2)
    assert "vencido" not in today_row.group(2) and "06/01/2025" in today_row.group(2)  # due today: not yet
    assert html.index(f"follow-up-{ids[0]}") < html.index(f"follow-up-{ids[1]}")  # earliest first
    assert "tr.fu-overdue td.date { color: var(--red)" in page.text


def test_the_reminder_of_a_follow_up_added_in_the_panel_goes_to_its_owner_through_the_outbox(panel_app, admin) -> None:
    post_add(admin, "AT-000003", due_date="2025-01-06", owner=AGENT, note="Revisar fotos del cliente")
    settings = panel(panel_app).settings
    with panel(panel_app).sessions.begin() as s:  # 2025-01-06 08:00 in Lima
        assert follow_ups.queue_due_reminders(s, settings, now=datetime(2025, 1, 6, 13, 0, tzinfo=UTC)) == 1
    with panel(panel_app).sessions() as s:
        (row,) = s.scalars(select(OutboxMessage).where(OutboxMessage.event == "follow_up_reminder"))
        assert (row.recipient, row.ticket.code) == (AGENT, "AT-000003")
        assert row.context["note"] == "Revisar fotos del cliente"
    page = admin.get("/atenciones/AT-000003")  # the bitácora lists the reminder among the mail sent
    assert "recordatorio de seguimiento" in unescape(page.text)


def test_a_legal_user_uses_the_section_of_their_tickets_only(panel_app, admin, staff) -> None:
    post_add(admin, "AT-000001")
    with panel(panel_app).sessions() as s:
        other = s.scalar(select(FollowUp.id))
    admin.logout()
    assert staff.login(LEGAL).status_code == 302
    assert staff.get("/atenciones/AT-000001").status_code == 404
    page = staff.get("/atenciones/AT-000002")
    token = csrf_token(page.text)
    r = staff.client.post("/atenciones/AT-000001/seguimientos", data={
        "csrf_token": token, "follow_up-due_date": "2025-01-08", "follow_up-owner": LEGAL, "follow_up-note": "x"})
    assert r.status_code == 404
    assert staff.client.post(f"/atenciones/AT-000001/seguimientos/{other}/hecho",
                             data={"csrf_token": token, "done": "1"}).status_code == 404
    # another ticket's follow-up through one of theirs: 404 too, and nothing changes
    assert staff.client.post(f"/atenciones/AT-000002/seguimientos/{other}/hecho",
                             data={"csrf_token": token, "done": "1"}).status_code == 404
    assert state(panel_app, "AT-000001")["follow_ups"][0][3] is False
    assert selected_owner(page.text) == LEGAL  # Jorge is AT-000002's assignee
    r = staff.client.post("/atenciones/AT-000002/seguimientos", data={
        "csrf_token": token, "follow_up-due_date": "2025-01-07", "follow_up-owner": LEGAL,
        "follow_up-note": "Redactar el descargo"})
    assert r.status_code == 302
    assert state(panel_app, "AT-000002")["logbook"] == [
        ("Seguimiento para el 07/01/2025 a cargo de Jorge Ríos: Redactar el descargo", LEGAL)]


def test_a_post_without_its_csrf_token_is_refused(panel_app, admin) -> None:
    r = admin.client.post("/atenciones/AT-000001/seguimientos", data={
        "follow_up-due_date": "2025-01-08", "follow_up-owner": AGENT, "follow_up-note": NOTE})
    assert r.status_code == 400 and "Formulario caducado" in r.text
    assert state(panel_app, "AT-000001")["follow_ups"] == []


def _seed_for_list(app) -> dict[str, int]:
    """María: one overdue (AT-000001), one due today (AT-000003); Jorge: one on his reclamo AT-000002."""
    with panel(app).sessions.begin() as s:
        users = {u.email: u for u in s.scalars(select(User))}
        tickets = {t.code: t for t in s.scalars(select(Ticket))}
        add = follow_ups.add_follow_up
        ids = {
            "late": add(s, tickets["AT-000001"], due_date=date(2025, 1, 3), note="Enviar presupuesto",
                        owner=users[AGENT], by=users[ADMIN], today=date(2025, 1, 2)).id,
            "today": add(s, tickets["AT-000003"], due_date=date(2025, 1, 6), note="Confirmar visita",
                         owner=users[AGENT], by=users[ADMIN], today=date(2025, 1, 2)).id,
            "jorge": add(s, tickets["AT-000002"], due_date=date(2025, 1, 9), note="Redactar el descargo",
                         owner=users[LEGAL], by=users[ADMIN], today=date(2025, 1, 2)).id,
        }
    return ids


def test_the_seguimientos_page_lists_mine_or_everybodys_pending_ones(panel_app, staff) -> None:
    ids = _seed_for_list(panel_app)
    assert staff.login(AGENT).status_code == 302
    page = staff.get("/seguimientos")
    assert page.status_code == 200 and 'id="nav-follow-ups"' in page.text
    text = unescape(page.text)
    assert "2 seguimientos pendientes a su cargo, 1 vencido. Hoy es 06/01/2025." in text
    rows = re.findall(r'<tr id="follow-up-(\d+)" class="([^"]*)">', page.text)
    assert rows == [(str(ids["late"]), "fu-overdue"), (str(ids["today"]), "")]  # earliest first
    assert '03/01/2025 <span class="fu-pill fu-pill-overdue">vencido</span>' in page.text
    assert '06/01/2025 <span class="fu-pill fu-pill-today">hoy</span>' in page.text
    everyone = staff.get("/seguimientos", todos="1")
    assert re.findall(r'<tr id="follow-up-(\d+)"', everyone.text) == [str(ids["late"]), str(ids["today"]),
                                                                      str(ids["jorge"])]
    # "Hecho" from the list: back to the list, written as from the ticket view
    r = staff.client.post(f"/atenciones/AT-000001/seguimientos/{ids['late']}/hecho",
                          data={"csrf_token": csrf_token(page.text), "done": "1", "back": "lista"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/seguimientos")
    got = state(panel_app, "AT-000001")
    assert got["history"] == [("follow_up_done", "pendiente", "hecho", AGENT)]
    assert got["logbook"][-1] == ("Seguimiento del 03/01/2025 hecho: Enviar presupuesto", AGENT)
    page = staff.get("/seguimientos")
    assert re.findall(r'<tr id="follow-up-(\d+)"', page.text) == [str(ids["today"])]
    assert "Seguimiento marcado como hecho." in page.text


def test_a_legal_user_sees_only_the_follow_ups_of_their_tickets(panel_app, staff) -> None:
    ids = _seed_for_list(panel_app)
    assert staff.login(LEGAL).status_code == 302
    assert re.findall(r'<tr id="follow-up-(\d+)"', staff.get("/seguimientos", todos="1").text) == [str(ids["jorge"])]
    page = staff.get("/seguimientos")
    assert re.findall(r'<tr id="follow-up-(\d+)"', page.text) == [str(ids["jorge"])]
    staff.logout()
    assert staff.login(ADMIN).status_code == 302
    page = staff.get("/seguimientos")  # the admin owns none
    assert "No hay seguimientos pendientes a su cargo." in unescape(page.text)
