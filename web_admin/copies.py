"""The ticket view's "Duplicar" and "Crear requerimiento" (on the ``views`` blueprint), through
`tickets.copies`.

* ``POST /atenciones/<code>/duplicar`` (endpoint ``views.duplicate``): the copy is made in one
  transaction and the browser goes to it with a message.
* ``GET|POST /atenciones/<code>/requerimiento`` (``views.requirement``): the new-ticket form's
  "Requerimiento" section, with the pliego (requester, holder, project, torre, unit, contract,
  promoter) fixed and shown read-only beside it, and the pliego's tickets listed. DESIGN's
  required fields (Tipo de atención, Categoría, Prioridad, Fecha de solicitud, Asunto, Detalle)
  are checked on the server, a Spanish message next to each; the service's own errors (an unknown
  name, a user that is not active) land next to their field too.

Who: both create tickets, so they follow "Nueva atención": admin and agent. A legal user gets 404
for a ticket outside their scope (as every page of a ticket), and 403 on one of their own.
Neither mails the requester (DESIGN, "Outbound mail").
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectField

from tickets import copies
from tickets.models import Area, Category, Priority, Ticket, TicketType, User
from tickets.queries import legal_scope
from tickets.services import Context, FieldError
from web_admin.new_ticket import CHANNEL_LABELS, NewTicketForm, _today_local
from web_admin.state import panel, read_session, send_queued
from web_admin.ticket_forms import KIND_LABELS, _Form, _names, _staff, field_error, spanish_date_errors
from web_admin.views import CREATOR_ROLES, bp, load_ticket


class RequirementForm(_Form):
    """"Crear requerimiento": the requirement part of `NewTicketForm` (same fields, same Spanish
    messages); ``REQUIRED`` lists those marked with the red asterisk."""

    REQUIRED = ("type", "category", "priority", "requested_at", "subject", "detail")

    type = NewTicketForm.type
    category = NewTicketForm.category
    priority = NewTicketForm.priority
    requested_at = NewTicketForm.requested_at
    subject = NewTicketForm.subject
    detail = NewTicketForm.detail
    area = NewTicketForm.area
    assignee = NewTicketForm.assignee
    channel = SelectField("Canal", validate_choice=False, choices=list(CHANNEL_LABELS.items()))
    kind = SelectField("Formulario", validate_choice=False, choices=list(KIND_LABELS.items()))


def _fill_choices(session, form: RequirementForm) -> None:
    """The select fields' choices from the catalog (as "Nueva atención")."""
    form.type.choices = [("", "— Elija —"), *((n, n) for n in _names(session, TicketType))]
    form.category.choices = [("", "— Elija —"), *((n, n) for n in _names(session, Category))]
    form.priority.choices = [(p, p) for p in session.scalars(select(Priority.name).order_by(Priority.id))]
    form.area.choices = [("", "—"), *((n, n) for n in _names(session, Area))]
    form.assignee.choices = [("", "— Sin asignar —"), *_staff(session)]


def _scope():
    return legal_scope(current_user.legal_scope_id) if current_user.legal_scope_id is not None else None


def _may_create(code: str) -> None:
    """404 when the user may not see ticket ``code``; 403 when they see it but may not create."""
    load_ticket(read_session(), code)
    if current_user.role not in CREATOR_ROLES:
        abort(403)


@bp.post("/atenciones/<code>/duplicar")
@login_required
def duplicate(code: str):
    """"Duplicar": a copy of the ticket (`tickets.copies.duplicate_ticket`), then to the copy."""
    _may_create(code)
    with panel().sessions.begin() as s:
        original = load_ticket(s, code)
        new = copies.duplicate_ticket(s, Context.from_settings(panel().settings), original,
                                      by=s.get(User, current_user.id), channel="web")
        new_code, original_code = new.code, original.code
    send_queued()
    flash(f"Atención {new_code} creada como duplicado de {original_code}.", "success")
    return redirect(url_for("views.ticket", code=new_code))


def _render(code: str, form: RequirementForm, status: int = 200):
    session = read_session()
    ticket = load_ticket(session, code)
    _fill_choices(session, form)
    return render_template("admin/requirement.html", t=ticket, form=form, required=RequirementForm.REQUIRED,
                           pliego=copies.pliego_of(session, ticket, where=_scope())), status


def _create(code: str, form: RequirementForm):
    ok = form.validate()
    spanish_date_errors(form)
    if not "".join(form.requested_at.raw_data or []).strip():  # empty: "required", not "not a date"
        form.requested_at.errors = ["Indique la fecha de solicitud."]
    if form.requested_at.data and form.requested_at.data > _today_local():
        form.requested_at.errors = [*form.requested_at.errors, "La fecha de solicitud no puede ser futura."]
        ok = False
    if not ok:
        return _render(code, form, 400)
    zone = panel().zone
    day, now = form.requested_at.data, datetime.now(panel().zone)
    requested = None if day == now.date() else datetime.combine(day, now.time(), zone)
    try:
        with panel().sessions.begin() as s:
            original = load_ticket(s, code)
            new = copies.create_requirement(
                s, Context.from_settings(panel().settings), original, subject=form.subject.data,
                detail=form.detail.data, type=form.type.data, category=form.category.data,
                priority=form.priority.data, area=form.area.data or None, kind=form.kind.data or "atencion",
                assignee=form.assignee.data or None, requested_at=requested, by=s.get(User, current_user.id),
                channel=form.channel.data or "web")
            new_code, head = new.code, s.get(Ticket, new.group_id).code
    except FieldError as exc:
        field_error(form, exc.field, exc.message[0].upper() + exc.message[1:])
        return _render(code, form, 400)
    send_queued()
    flash(f"Requerimiento {new_code} creado en el pliego de {head}.", "success")
    return redirect(url_for("views.ticket", code=new_code))


@bp.route("/atenciones/<code>/requerimiento", methods=["GET", "POST"])
@login_required
def requirement(code: str):
    """GET: the form (Prioridad Media, Fecha de solicitud today); POST: create the requirement."""
    _may_create(code)
    if request.method == "GET":
        form = RequirementForm(formdata=None, priority="Media", requested_at=_today_local(), channel="web",
                               kind="atencion")
        return _render(code, form)
    return _create(code, RequirementForm())


__all__ = ["RequirementForm", "duplicate", "requirement"]
