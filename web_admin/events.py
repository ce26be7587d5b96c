"""Eventos on the ticket view (blueprint ``events``; the section is ``templates/admin/_events.html``):

* ``POST /atenciones/<code>/eventos`` — schedule a visit or a reminder (`tickets.events.schedule`):
  the invitation with its .ics goes to the attendees through the outbox;
* ``GET|POST /atenciones/<code>/eventos/<id>/editar`` — change it (`tickets.events.update`: SEQUENCE
  raised, the invitation sent again);
* ``POST /atenciones/<code>/eventos/<id>/cancelar`` — cancel it (`tickets.events.cancel`: METHOD:CANCEL).

Every form is CSRF-checked; a bad value shows the form again (400) with the Spanish message next to
its field. Roles as the ticket view: any logged-in user, a legal user only on the tickets of their
scope (`web_admin.views.load_ticket`: 404 otherwise). Times are typed and shown in the configured
zone; the services store UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from tickets import events
from tickets.events import EventInvalid
from tickets.models import Event, Ticket, User
from tickets.services import Context
from web_admin.state import panel, read_session, send_queued
from web_admin.views import load_ticket, render_ticket

bp = Blueprint("events", __name__)

#: The form's fields, as posted (``event-<name>``).
FIELDS = ("title", "kind", "date", "start", "end", "location", "attendees")


def _posted() -> dict[str, str]:
    return {name: request.form.get(f"event-{name}", "") for name in FIELDS}


def _place(ticket: Ticket) -> str:
    """The ticket's unit in words (the default place of a visit)."""
    parts = [ticket.project.name if ticket.project else None,
             ticket.subdivision.name if ticket.subdivision else None,
             f"Dpto. {ticket.unit.number}" if ticket.unit else None]
    return ", ".join(p for p in parts if p)


def default_values(ticket: Ticket, zone) -> dict[str, str]:
    """A new visit's form: tomorrow 10:00–11:00 (local), at the ticket's unit, the requester invited."""
    tomorrow = (datetime.now(zone) + timedelta(days=1)).date()
    return {"title": "", "kind": "visit", "date": tomorrow.isoformat(), "start": "10:00", "end": "11:00",
            "location": _place(ticket), "attendees": ticket.requester_email or ""}


def form_values(event: Event, zone) -> dict[str, str]:
    """An existing event's values as its edit form shows them (local date and times)."""
    s, e = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    return {"title": event.title, "kind": event.kind, "date": s.date().isoformat(), "start": f"{s:%H:%M}",
            "end": f"{e:%H:%M}", "location": event.location, "attendees": "\n".join(a.email for a in event.attendees)}


def event_rows(session, ticket: Ticket, zone) -> list[dict]:
    """The ticket's events as the section lists them (local times, Spanish labels)."""
    return [{
        "id": ev.id, "title": ev.title, "kind": ev.kind, "kind_label": events.KIND_LABELS.get(ev.kind, ev.kind),
        "when": events.when_text(ev.starts_at, ev.ends_at, zone), "location": ev.location, "status": ev.status,
        "status_label": events.STATUS_LABELS.get(ev.status, ev.status), "sequence": ev.sequence,
        "attendees": [{"email": a.email, "name": a.name, "partstat": a.partstat,
                       "answer": events.PARTSTAT_LABELS.get(a.partstat, a.partstat)} for a in ev.attendees],
    } for ev in events.events_of(session, ticket.id)]


@bp.app_context_processor
def _event_section() -> dict:
    """``event_section(t)`` in every template: what ``admin/_events.html`` shows for ticket ``t``."""

    def event_section(ticket: Ticket) -> dict:
        zone = panel().zone
        posted = g.get("event_form")
        return {"events": event_rows(read_session(), ticket, zone),
                "values": posted["values"] if posted else default_values(ticket, zone),
                "errors": posted["errors"] if posted else {}, "open": posted is not None,
                "kind_labels": events.KIND_LABELS}

    return {"event_section": event_section}


def _me(session) -> User:
    return session.get(User, current_user.id)


def _event(session, ticket: Ticket, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.ticket_id != ticket.id:
        abort(404)
    return event


def _done(code: str, message: str):
    send_queued()
    flash(message, "success")
    return redirect(url_for("views.ticket", code=code) + "#eventos")


@bp.post("/atenciones/<code>/eventos")
@login_required
def schedule(code: str):
    """Programar: the event, its logbook entry and history, the invitation to its attendees."""
    state = panel()
    raw = _posted()
    try:
        values = events.read_form(raw, state.zone)
        with state.sessions.begin() as s:
            ticket = load_ticket(s, code)
            event = events.schedule(s, Context.from_settings(state.settings), ticket, zone=state.zone,
                                    by=_me(s), **values)
            done = events.kind_participle(event.kind, "programad")
            title, to = event.title, [a.email for a in event.attendees]
    except EventInvalid as exc:
        load_ticket(read_session(), code)  # 404 before showing a form
        g.event_form = {"values": raw, "errors": exc.errors}
        return render_ticket(code, status=400)
    return _done(code, f"{done}: «{title}»; invitación enviada a {', '.join(to)}.")


@bp.route("/atenciones/<code>/eventos/<int:event_id>/editar", methods=["GET", "POST"])
@login_required
def edit(code: str, event_id: int):
    """Editar: the form with the event's values (GET); saving sends the updated invitation."""
    state = panel()
    reader = read_session()
    ticket = load_ticket(reader, code)
    event = _event(reader, ticket, event_id)
    if event.status == "cancelled":
        flash("El evento está cancelado; programe uno nuevo.", "error")
        return redirect(url_for("views.ticket", code=code) + "#eventos")
    if request.method == "GET":
        return render_template("admin/event_edit.html", t=ticket, event=event, values=form_values(event, state.zone),
                               errors={}, kind_labels=events.KIND_LABELS)
    raw = _posted()
    try:
        values = events.read_form(raw, state.zone)
        values.pop("kind")  # a visit stays a visit
        with state.sessions.begin() as s:
            ticket_w = load_ticket(s, code)
            event_w = _event(s, ticket_w, event_id)
            events.update(s, Context.from_settings(state.settings), event_w, zone=state.zone, by=_me(s), **values)
            title = event_w.title
    except EventInvalid as exc:
        return render_template("admin/event_edit.html", t=ticket, event=event, values=raw, errors=exc.errors,
                               kind_labels=events.KIND_LABELS), 400
    return _done(code, f"Evento «{title}» actualizado; los invitados reciben la invitación con los cambios.")


@bp.post("/atenciones/<code>/eventos/<int:event_id>/cancelar")
@login_required
def cancel(code: str, event_id: int):
    """Cancelar: STATUS:CANCELLED and METHOD:CANCEL to every attendee."""
    state = panel()
    try:
        with state.sessions.begin() as s:
            ticket = load_ticket(s, code)
            event = events.cancel(s, Context.from_settings(state.settings), _event(s, ticket, event_id),
                                  zone=state.zone, by=_me(s))
            title = event.title
    except EventInvalid as exc:
        flash(str(exc), "error")
        return redirect(url_for("views.ticket", code=code) + "#eventos")
    return _done(code, f"Evento «{title}» cancelado; aviso de cancelación enviado a los invitados.")


__all__ = ["bp", "cancel", "default_values", "edit", "event_rows", "form_values", "schedule"]
