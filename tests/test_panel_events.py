"""Eventos on the ticket view (web_admin.events; Flask test client, SQLite and PostgreSQL on
tests.panel_harness's data): the section and its form; Programar writes the event, a logbook
``event`` entry, the history and the invitation (sent in process as an .eml file under the data
directory, read back as a mail client would, its .ics parsed with icalendar); Spanish messages per
field and nothing written for bad values; CSRF required; Editar raises SEQUENCE and sends the
invitation again; Cancelar sends METHOD:CANCEL; the attendees' answers are listed; a legal user
gets 404 on a ticket outside their scope.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from html import unescape
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from tests.panel_harness import LEGAL, csrf_token
from tickets import events
from tickets.models import Event, LogbookEntry, OutboxMessage, Ticket
from web_admin.state import panel

LIMA = ZoneInfo("America/Lima")
CODE = "AT-000003"  # Rosa Díaz <rosa@gmail.com>


def future_day(days: int = 5) -> str:
    return (datetime.now(LIMA) + timedelta(days=days)).date().isoformat()


def form(**values) -> dict:
    data = {"title": "Revisión de la humedad", "kind": "visit", "date": future_day(), "start": "10:00",
            "end": "11:30", "location": "Torre B, Dpto. 504", "attendees": "rosa@gmail.com, Luis@Example.com"}
    data |= values
    return {f"event-{k}": v for k, v in data.items()}


def post(staff, path: str, data: dict):
    token = csrf_token(staff.get(f"/atenciones/{CODE}").text)
    return staff.client.post(path, data={**data, "csrf_token": token})


def field_errors(html: str) -> dict[str, str]:
    return {m[1]: unescape(m[2]) for m in re.finditer(r'<p class="field-error" id="err-event-(\w+)">([^<]*)</p>', html)}


def state(app):
    """(events, event entries' texts, history (field, old, new), outbox (event, recipient, state))."""
    with panel(app).sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == CODE))
        evs = list(s.scalars(select(Event).where(Event.ticket_id == t.id).order_by(Event.id)))
        for ev in evs:
            _ = (list(ev.attendees), ev.organizer)
        texts = [e.text for e in s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id,
                                                                       LogbookEntry.kind == "event",
                                                                       ~LogbookEntry.text.like("Atención registrada%"))
                                           .order_by(LogbookEntry.id))]
        history = [(e.field, e.old, e.new) for e in s.scalars(
            select(LogbookEntry).where(LogbookEntry.ticket_id == t.id, LogbookEntry.kind == "change",
                                       LogbookEntry.field.like("event%")).order_by(LogbookEntry.id))]
        rows = [(r.event, r.recipient, r.state) for r in s.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == t.id, OutboxMessage.event.like("event%"))
            .order_by(OutboxMessage.id))]
        s.expunge_all()
        return evs, texts, history, rows


def sent_eml(app, recipient: str, event: str):
    """The last .eml the in-process worker wrote for ``recipient``'s copy of ``event``, parsed."""
    with panel(app).sessions() as s:
        row_id = s.scalars(select(OutboxMessage.id).where(OutboxMessage.recipient == recipient,
                                                          OutboxMessage.event == event)
                           .order_by(OutboxMessage.id.desc())).first()
    (path,) = (panel(app).settings.data_dir / "outbox").glob(f"*-{row_id}.eml")
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def ics_of(mail) -> Calendar:
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_content())


def test_section_shows_the_form_with_the_requester_invited(admin):
    html = admin.get(f"/atenciones/{CODE}").text
    assert 'id="eventos"' in html and "Generar nuevo evento" in html and "Sin eventos." in html
    assert re.search(r'<textarea id="event-attendees"[^>]*>rosa@gmail.com</textarea>', html)
    assert 'name="event-date" type="date"' in html


def test_schedule_edit_cancel_and_their_effects(admin, panel_app):
    app = panel_app
    response = post(admin, f"/atenciones/{CODE}/eventos", form())
    assert response.status_code == 302 and response.location.endswith(f"/atenciones/{CODE}#eventos")
    (ev,), texts, history, rows = state(app)
    assert ev.title == "Revisión de la humedad" and ev.sequence == 0 and ev.status == "confirmed"
    assert ev.starts_at.astimezone(LIMA).strftime("%Y-%m-%d %H:%M") == f"{future_day()} 10:00"
    assert [a.email for a in ev.attendees] == ["rosa@gmail.com", "luis@example.com"]
    assert ev.organizer.email == "admin@empresa.pe"
    assert texts[0].startswith("Visita programada: «Revisión de la humedad»") and "luis@example.com" in texts[0]
    assert history[0][0] == "event" and history[0][1] is None
    assert rows == [("event_invitation", "rosa@gmail.com", "sent"), ("event_invitation", "luis@example.com", "sent")]
    mail = sent_eml(app, "rosa@gmail.com", "event_invitation")
    assert "Invitación: Revisión de la humedad" in mail["Subject"]
    cal = ics_of(mail)
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST" and str(vev["UID"]) == ev.uid and vev["SEQUENCE"] == 0
    page = admin.get(f"/atenciones/{CODE}").text
    assert "Visita: Revisión de la humedad" in page
    assert 'Rosa Díaz · rosa@gmail.com — <span class="answer">Sin respuesta' in page
    assert "invitación a evento (.ics) para rosa@gmail.com, luis@example.com" in page  # the logbook's mail entry
    assert "<td>Evento</td>" in page  # the history

    edit_url = f"/atenciones/{CODE}/eventos/{ev.id}/editar"
    page = admin.get(edit_url).text
    assert 'value="Revisión de la humedad"' in page and 'value="10:00"' in page
    response = post(admin, edit_url, form(start="15:00", end="16:00", attendees="rosa@gmail.com"))
    assert response.status_code == 302
    (ev2,), texts, history, rows = state(app)
    assert ev2.uid == ev.uid and ev2.sequence == 1
    assert ev2.starts_at.astimezone(LIMA).strftime("%H:%M") == "15:00"
    assert texts[-1].startswith("Visita modificada:") and "Sin invitación ya: luis@example.com." in texts[-1]
    assert rows[2:] == [("event_invitation", "rosa@gmail.com", "sent"), ("event_cancel", "luis@example.com", "sent")]
    (vev,) = ics_of(sent_eml(app, "rosa@gmail.com", "event_invitation")).walk("VEVENT")
    assert vev["SEQUENCE"] == 1 and vev.decoded("DTSTART").strftime("%H:%M") == "15:00"

    with panel(app).sessions.begin() as s:  # Rosa accepts (the inbound rule's service)
        events.record_reply(s, ev.uid, "rosa@gmail.com", "ACCEPTED", 1, zone=LIMA)
    assert 'rosa@gmail.com — <span class="answer">Aceptó' in admin.get(f"/atenciones/{CODE}").text

    response = post(admin, f"/atenciones/{CODE}/eventos/{ev.id}/cancelar", {})
    assert response.status_code == 302
    (ev3,), texts, history, rows = state(app)
    assert ev3.status == "cancelled" and ev3.sequence == 2
    assert texts[-1].startswith("Visita cancelada:")
    assert history[-1][2].startswith("Cancelado: Visita «Revisión de la humedad»")
    assert rows[-1] == ("event_cancel", "rosa@gmail.com", "sent")
    cal = ics_of(sent_eml(app, "rosa@gmail.com", "event_cancel"))
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and vev["STATUS"] == "CANCELLED" and vev["SEQUENCE"] == 2
    page = admin.get(f"/atenciones/{CODE}").text
    assert "Cancelado" in page and f'id="edit-event-{ev.id}"' not in page
    assert admin.get(edit_url).status_code == 302  # a cancelled event is not edited


def test_bad_values_are_refused_per_field_in_spanish_and_nothing_is_written(admin, panel_app):
    past = (datetime.now(LIMA) - timedelta(days=2)).date().isoformat()
    response = post(admin, f"/atenciones/{CODE}/eventos",
                    form(title=" ", date=past, end="09:00", attendees="rosa@gmail.com, no-es-correo"))
    assert response.status_code == 400
    assert field_errors(response.text) == {
        "title": "Complete «Título».", "start": "El evento no puede empezar en el pasado.",
        "end": "La hora de término debe ser posterior a la de inicio.", "attendees": "Correo no válido: no-es-correo."}
    assert 'id="eventos" open' in response.text and "rosa@gmail.com, no-es-correo</textarea>" in response.text
    response = post(admin, f"/atenciones/{CODE}/eventos", form(date="31/02/2026", start="25:00", end=""))
    assert field_errors(response.text) == {"date": "Fecha no válida: use dd/mm/aaaa.",
                                           "start": "Hora no válida: use HH:MM (24 horas).",
                                           "end": "Complete «Hora de término»."}
    response = post(admin, f"/atenciones/{CODE}/eventos", form(attendees=" "))
    assert field_errors(response.text) == {"attendees": "Indique al menos un invitado (correo)."}
    assert state(panel_app)[0] == [] and state(panel_app)[3] == []


def test_edit_refuses_bad_values_and_keeps_the_event(admin, panel_app):
    post(admin, f"/atenciones/{CODE}/eventos", form())
    (ev,), *_ = state(panel_app)
    response = post(admin, f"/atenciones/{CODE}/eventos/{ev.id}/editar", form(end="09:00"))
    assert response.status_code == 400
    assert field_errors(response.text) == {"end": "La hora de término debe ser posterior a la de inicio."}
    (ev2,), *_ = state(panel_app)
    assert ev2.sequence == 0


def test_csrf_is_required(admin, panel_app):
    response = admin.client.post(f"/atenciones/{CODE}/eventos", data=form())
    assert response.status_code == 400 and "Formulario caducado" in response.text
    assert state(panel_app)[0] == []


def test_a_legal_user_gets_404_outside_their_scope_and_login_is_required(staff, panel_app):
    assert "/login" in staff.get(f"/atenciones/{CODE}/eventos/1/editar").location
    assert staff.login(LEGAL).status_code == 302
    token = csrf_token(staff.get("/").text)
    response = staff.client.post(f"/atenciones/{CODE}/eventos", data={**form(), "csrf_token": token})
    assert response.status_code == 404
    assert staff.get(f"/atenciones/{CODE}/eventos/1/editar").status_code == 404
    assert state(panel_app)[0] == []
    # their own reclamo: allowed
    response = staff.client.post("/atenciones/AT-000002/eventos", data={**form(), "csrf_token": token})
    assert response.status_code == 302
