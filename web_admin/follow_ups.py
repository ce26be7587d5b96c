"""The ticket view's "Seguimiento" section (blueprint ``follow_ups``; the partial
``templates/admin/_follow_ups.html``, included by ``admin/ticket.html``):

* ``POST /atenciones/<code>/seguimientos`` — add a follow-up (fecha de vencimiento, responsable,
  nota) through `tickets.follow_ups.add_follow_up`;
* ``POST /atenciones/<code>/seguimientos/<id>/hecho`` — mark it done (``done=1``) or pending
  again (``done=0``) through `tickets.follow_ups.set_done`;
* ``GET /seguimientos`` — "Seguimientos" (the nav bar): the pending follow-ups, earliest first,
  overdue in red — the current user's, or with ``?todos=1`` everybody's (a legal user: only on
  the tickets they may see). ``Hecho`` there comes back to this page (``back=lista``).

Each runs in one transaction (the services write the bitácora and the history), then redirects
to the ticket with a message. A bad value re-renders the ticket page (400) with the Spanish
message next to its field. Roles: whoever may see the ticket (`web_admin.views.load_ticket`: a
legal user gets 404 outside their reclamos) may add and close its follow-ups.

The section's data come from the template global ``follow_up_section(ticket)`` (the list, the
form, the responsables, today), so the ticket view itself needs no change.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import Optional

from tickets import follow_ups
from tickets.models import Ticket, User
from tickets.queries import legal_scope
from tickets.services import FieldError, ServiceError
from web_admin.state import panel, read_session, send_queued
from web_admin.ticket_forms import field_error
from web_admin.views import CHANGE_LABELS, load_ticket, render_ticket

bp = Blueprint("follow_ups", __name__)

# the history's names for a follow-up's fields (`tickets.follow_ups` writes ``follow_up_<field>``)
CHANGE_LABELS.update({"follow_up_due_date": "Seguimiento: vencimiento", "follow_up_owner": "Seguimiento: responsable",
                      "follow_up_note": "Seguimiento: nota", "follow_up_done": "Seguimiento"})

DATE_MESSAGE = "Fecha no válida: use dd/mm/aaaa."


class FollowUpForm(FlaskForm):
    """Add a follow-up; the service decides what is valid (past date, blank note, owner)."""

    class Meta:
        csrf = False  # the app's CSRFProtect checks every POST

    due_date = DateField("Vence", validators=[Optional()])
    owner = SelectField("Responsable", choices=[], validate_choice=False)
    note = TextAreaField("Nota")


def _today() -> date:
    """Today in the configured zone (tests pin ``ATENCION_TODAY``)."""
    pinned = current_app.config.get("ATENCION_TODAY")
    return pinned if isinstance(pinned, date) else datetime.now(panel().zone).date()


def _owners(session) -> list[User]:
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


@bp.app_template_global()
def follow_up_section(ticket: Ticket) -> dict:
    """What ``_follow_ups.html`` shows: ``items`` (each ``fu`` and ``overdue``), ``form`` (the
    posted one when it had errors), ``owners`` (active users), ``today``."""
    session = read_session()
    today = _today()
    form = g.get("follow_up_form")
    owners = _owners(session)
    if form is None:
        me = session.get(User, current_user.id)
        default = ticket.assignee if ticket.assignee is not None and ticket.assignee.active else me
        form = FollowUpForm(prefix="follow_up", formdata=None, owner=default.email if default else "")
    form.owner.choices = [(u.email, u.name) for u in owners]
    items = [{"fu": fu, "overdue": follow_ups.is_overdue(fu, today)}
             for fu in follow_ups.list_for_ticket(session, ticket)]
    return {"items": items, "form": form, "today": today}


def _invalid(code: str, form: FollowUpForm):
    g.follow_up_form = form
    return render_ticket(code, status=400)


@bp.post("/atenciones/<code>/seguimientos")
@login_required
def add(code: str):
    """Add a follow-up to the ticket (one ``follow_up`` entry in its bitácora)."""
    load_ticket(read_session(), code)  # 404 before anything else
    form = FollowUpForm(prefix="follow_up")
    if not form.validate():
        if form.due_date.errors:
            form.due_date.errors = [DATE_MESSAGE]
        return _invalid(code, form)
    try:
        with panel().sessions.begin() as s:
            ticket = load_ticket(s, code)
            owner = s.scalar(select(User).where(User.email == (form.owner.data or "").strip().lower()))
            fu = follow_ups.add_follow_up(s, ticket, due_date=form.due_date.data, note=form.note.data,
                                          owner=owner, by=s.get(User, current_user.id), today=_today())
            message = f"Seguimiento agregado para el {follow_ups.fecha(fu.due_date)} a cargo de {fu.owner.name}."
    except FieldError as exc:
        field_error(form, exc.field, exc.message)
        return _invalid(code, form)
    send_queued()
    flash(message, "success")
    return redirect(url_for("views.ticket", code=code) + "#seguimiento")


@bp.post("/atenciones/<code>/seguimientos/<int:follow_up_id>/hecho")
@login_required
def done(code: str, follow_up_id: int):
    """Mark the follow-up done (``done=1``) or pending again (``done=0``); 404 for another
    ticket's follow-up."""
    want = request.form.get("done", "1") == "1"
    try:
        with panel().sessions.begin() as s:
            ticket = load_ticket(s, code)
            fu = follow_ups.get_follow_up(s, follow_up_id, ticket)
            follow_ups.set_done(s, fu, want, by=s.get(User, current_user.id))
    except ServiceError:
        abort(404)
    flash("Seguimiento marcado como hecho." if want else "Seguimiento pendiente otra vez.", "success")
    if request.form.get("back") == "lista":
        return redirect(url_for("follow_ups.index", **({"todos": "1"} if request.form.get("todos") else {})))
    return redirect(url_for("views.ticket", code=code) + "#seguimiento")


@bp.get("/seguimientos")
@login_required
def index():
    """The pending follow-ups: mine, or everybody's with ``todos=1`` (see the module docstring)."""
    session = read_session()
    everyone = request.args.get("todos") == "1"
    scope = legal_scope(current_user.legal_scope_id) if current_user.legal_scope_id is not None else None
    today = _today()
    rows = follow_ups.pending(session, owner_id=None if everyone else current_user.id, where=scope)
    items = [{"fu": fu, "overdue": follow_ups.is_overdue(fu, today), "today": fu.due_date == today} for fu in rows]
    return render_template("admin/follow_ups.html", items=items, everyone=everyone, today=today,
                           overdue_count=sum(1 for i in items if i["overdue"]))


__all__ = ["FollowUpForm", "add", "bp", "done", "follow_up_section", "index"]
