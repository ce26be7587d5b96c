"""Held mail, "Correos retenidos" (blueprint ``held``): ``/correos-retenidos`` lists the messages
waiting for a decision (reason, sender, subject, text, the ticket they named); each can be
released — as a comment on a ticket (the one typed, else the one it named) or as a new ticket —
or discarded. Through the same code as ``atencion held release/discard``
(`mail.inbound.held.release_held`, `tickets.held.discard_held`), which write the ticket's
logbook; the acknowledgement or comment mail is then sent (`web_admin.state.send_queued`).
Legal users have no access (403): held mail may concern any ticket.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tickets.held import REASON_LABELS, discard_held, get_pending_held, list_held
from tickets.models import Role, Ticket, User
from tickets.services import Context, ServiceError, get_ticket
from web_admin.auth import role_required
from web_admin.state import panel, read_session, send_queued

bp = Blueprint("held", __name__)

STAFF = (Role.ADMIN.value, Role.AGENT.value)
TEXT_CHARS = 1500
"""Characters of a held message's text shown on the page."""


def _render(errors: dict[int, str] | None = None, values: dict[int, str] | None = None, status: int = 200):
    session = read_session()
    rows = list_held(session)
    ids = {h.ticket_id for h in rows if h.ticket_id}
    codes = dict(session.execute(select(Ticket.id, Ticket.code).where(Ticket.id.in_(ids))).all()) if ids else {}
    errors = errors or {}
    listed = {h.id for h in rows}
    other_errors = [m for held_id, m in errors.items() if held_id not in listed]  # resolved meanwhile
    return render_template("admin/held.html", rows=rows, codes=codes, reasons=REASON_LABELS, errors=errors,
                           other_errors=other_errors, values=values or {}, text_chars=TEXT_CHARS), status


@bp.get("/correos-retenidos")
@role_required(*STAFF)
def index():
    """The held messages waiting for a decision, oldest first."""
    return _render()


@bp.post("/correos-retenidos/<int:held_id>/liberar")
@role_required(*STAFF)
def release(held_id: int):
    """Release: ``to`` (a ticket code, optional) makes it a comment there; without it, a comment
    on the ticket it named, else a new ticket with its acknowledgement."""
    from mail.inbound.ingest import ReleaseError, release_held
    from mail.mailboxes import import_rules

    to_code = request.form.get("to", "").strip()
    settings = panel().settings
    try:
        with panel().sessions.begin() as s:
            row = get_pending_held(s, held_id)
            try:
                ticket = get_ticket(s, to_code, settings.code_prefix) if to_code else None
            except ServiceError as exc:
                raise ReleaseError(f"No existe la atención {to_code}.") from exc
            result = release_held(s, Context.from_settings(settings), import_rules(settings), row, ticket)
    except (ReleaseError, ServiceError) as exc:
        message = str(exc)
        return _render({held_id: message[0].upper() + message[1:]}, {held_id: to_code}, 400)
    send_queued()
    what = "como comentario en" if result.outcome.value == "comment" else "como nueva atención"
    flash(f"Correo liberado {what} {result.code}.", "success")
    return redirect(url_for("held.index"))


@bp.post("/correos-retenidos/<int:held_id>/descartar")
@role_required(*STAFF)
def discard(held_id: int):
    """Discard (the record and the original are kept; the ticket it named gets a note)."""
    try:
        with panel().sessions.begin() as s:
            discard_held(s, held_id, by=s.get(User, current_user.id))
    except ServiceError as exc:
        message = str(exc)
        return _render({held_id: message[0].upper() + message[1:]}, status=400)
    flash(f"Correo retenido {held_id} descartado.", "success")
    return redirect(url_for("held.index"))
