"""Nueva Atención (on the ``views`` blueprint, endpoint ``views.new_ticket``, ``/atenciones/nueva``):
the seed's "Pliego de requerimiento" and "Requerimiento" sections.

One form, two buttons, no JavaScript needed: "Buscar" (``action=buscar``) runs "Buscar por"
(`tickets.intake.lookup`: a document number or a contract) and renders the form again with the
header filled, plus "Datos del cliente" and "Atenciones previas"; a client with several contracts
gets them listed, each a button that picks it. "Crear atención" checks DESIGN's required fields
(a Spanish message per field), then `tickets.intake.create_ticket` opens the ticket in one
transaction (channel "web", registered by the staff user, the acknowledgement in the outbox),
`send_queued()` sends it, and the browser goes to the new ticket with a message.

Enter in a field submits the form's default button, a hidden "Crear atención" placed first; Enter
in a "Buscar por" field runs "Buscar" (static/new_ticket.js). Torre/Bloque follows Proyecto and
Dpto./Unidad follows Torre/Bloque through the list's static/filters.js; without it the server
narrows them after each submit, and `tickets.intake.create_ticket` refuses a torre or a unit that
is not of the chosen project or torre, with a Spanish message next to that field.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from tickets import intake
from tickets.models import Area, Category, Priority, Project, TicketType, User
from tickets.services import Context, FieldError
from tickets.text import fold
from web_admin.auth import role_required
from web_admin.filter_form import subdivision_names, unit_numbers
from web_admin.listing import _today
from web_admin.state import panel, read_session, send_queued
from web_admin.ticket_forms import KIND_LABELS, MAX_TEXT, _Form, _names, _staff, field_error, spanish_date_errors
from web_admin.views import bp

CHANNEL_LABELS = {"web": "Panel", "phone": "Teléfono", "email": "Correo"}

#: `tickets.intake.create_ticket`'s field names → this form's.
SERVICE_FIELDS = {"document": "requester_document", "contract": "contract_number"}


class NewTicketForm(_Form):
    """The fields of "Nueva Atención"; ``REQUIRED`` lists those marked with the red asterisk."""

    REQUIRED = ("requester_name", "project", "type", "category", "priority", "requested_at", "subject", "detail")

    search_document = StringField("Documento del cliente (DNI, CE, RUC)", validators=[Length(max=30)])
    search_contract = StringField("N° de contrato", validators=[Length(max=50)])
    requester_name = StringField("Solicitante", validators=[DataRequired("Escriba el nombre del solicitante."),
                                                            Length(max=200, message="Máximo 200 caracteres.")])
    requester_email = StringField("Correo del solicitante", validators=[
        Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Correo no válido."),
        Length(max=320, message="Máximo 320 caracteres.")])
    requester_document = StringField("Documento del solicitante", validators=[Length(max=30)])
    project = SelectField("Proyecto", validate_choice=False, validators=[DataRequired("Elija el proyecto.")])
    subdivision = SelectField("Torre/Bloque", validate_choice=False)
    unit = StringField("Dpto./Unidad", validators=[Length(max=50)])
    holder = StringField("Titular", render_kw={"readonly": True})
    contract_number = StringField("N° de contrato", validators=[Length(max=50)])
    promoter = StringField("Promotor", render_kw={"readonly": True})
    type = SelectField("Tipo de atención", validate_choice=False,
                       validators=[DataRequired("Elija el tipo de atención.")])
    category = SelectField("Categoría", validate_choice=False, validators=[DataRequired("Elija la categoría.")])
    priority = SelectField("Prioridad", validate_choice=False, validators=[DataRequired("Elija la prioridad.")])
    requested_at = DateField("Fecha de solicitud", validators=[DataRequired("Indique la fecha de solicitud.")],
                             render_kw={"placeholder": "aaaa-mm-dd"})
    subject = StringField("Asunto", validators=[DataRequired("Escriba el asunto."),
                                                Length(max=2000, message="Máximo 2000 caracteres.")])
    detail = TextAreaField("Detalle", validators=[DataRequired("Escriba el detalle."),
                                                  Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])
    area = SelectField("Área", validate_choice=False)
    assignee = SelectField("Usuario asignado", validate_choice=False)
    channel = SelectField("Canal", validate_choice=False, choices=list(CHANNEL_LABELS.items()))
    kind = SelectField("Formulario", validate_choice=False, choices=list(KIND_LABELS.items()))


def _fill_choices(session, form: NewTicketForm) -> list[str]:
    """The select fields' choices from the catalog, Torre/Bloque narrowed to the chosen Proyecto (a
    chosen torre that is not among them stays listed, so that its error shows next to it). Returns
    the unit numbers to suggest for Dpto./Unidad (the chosen torre's, else the project's)."""
    form.project.choices = [("", "— Elija —"), *((n, n) for n in _names(session, Project))]
    project, subdivision = form.project.data or None, form.subdivision.data or None
    subs = subdivision_names(session, project)
    if subdivision and all(fold(s) != fold(subdivision) for s in subs):
        subs.append(subdivision)
    form.subdivision.choices = [("", "—"), *((n, n) for n in subs)]
    form.type.choices = [("", "— Elija —"), *((n, n) for n in _names(session, TicketType))]
    form.category.choices = [("", "— Elija —"), *((n, n) for n in _names(session, Category))]
    form.priority.choices = [(p, p) for p in session.scalars(select(Priority.name).order_by(Priority.id))]
    form.area.choices = [("", "—"), *((n, n) for n in _names(session, Area))]
    form.assignee.choices = [("", "— Sin asignar —"), *_staff(session)]
    return unit_numbers(session, project, subdivision) if project else []


def _today_local():
    return _today() or datetime.now(panel().zone).date()


def _render(form: NewTicketForm, found: intake.Lookup | None = None, status: int = 200):
    units = _fill_choices(read_session(), form)
    return render_template("admin/new_ticket.html", form=form, found=found, unit_choices=units,
                           required=NewTicketForm.REQUIRED), status


def _fill_header(form: NewTicketForm, found: intake.Lookup) -> None:
    """Put what "Buscar por" found into the form (the fields the staff may still edit)."""
    if found.requester_name:
        form.requester_name.data = found.requester_name
    if found.requester_email:
        form.requester_email.data = found.requester_email
    if found.client:
        form.requester_document.data = found.client["document"]
    h = found.header
    if h is not None:
        form.project.data, form.subdivision.data, form.unit.data = h.project, h.subdivision, h.unit
        form.holder.data, form.contract_number.data, form.promoter.data = h.holder, h.contract_number, h.promoter
    else:
        form.contract_number.data = ""


def _search(form: NewTicketForm):
    """"Buscar": the header from a document (a contract picked among its ``pick``) or a contract."""
    document = (form.search_document.data or "").strip()
    contract = (request.form.get("pick") or form.search_contract.data or "").strip()
    if not document and not contract:
        form.search_document.errors = ["Escriba un documento o un N° de contrato para buscar."]
        return _render(form, status=400)
    try:
        found = intake.lookup(read_session(), document=document, contract=contract)
    except FieldError as exc:
        target = form.search_document if exc.field == "document" else form.search_contract
        target.errors = [exc.message[0].upper() + exc.message[1:]]
        return _render(form, status=400)
    if request.form.get("pick"):
        form.search_contract.data = contract
    _fill_header(form, found)
    return _render(form, found)


def _create(form: NewTicketForm):
    ok = form.validate()
    spanish_date_errors(form)
    if not "".join(form.requested_at.raw_data or []).strip():  # empty: "required", not "not a date"
        form.requested_at.errors = ["Indique la fecha de solicitud."]
    email, document = (form.requester_email.data or "").strip(), (form.requester_document.data or "").strip()
    if not email and not document and not form.contract_number.data:
        form.requester_email.errors = [*form.requester_email.errors,
                                       "Indique el correo o el documento del solicitante."]
        ok = False
    if form.requested_at.data and form.requested_at.data > _today_local():
        form.requested_at.errors = [*form.requested_at.errors, "La fecha de solicitud no puede ser futura."]
        ok = False
    if not ok:
        return _render(form, status=400)
    zone = panel().zone
    day = form.requested_at.data
    now = datetime.now(zone)
    requested = None if day == now.date() else datetime.combine(day, now.time(), zone)
    settings = panel().settings
    try:
        with panel().sessions.begin() as s:
            ticket = intake.create_ticket(
                s, Context.from_settings(settings), subject=form.subject.data, detail=form.detail.data,
                requester_name=form.requester_name.data, requester_email=email or None,
                document=document or None,
                contract=(form.contract_number.data or "").strip() or None, kind=form.kind.data or "atencion",
                type=form.type.data, category=form.category.data, priority=form.priority.data,
                project=form.project.data, subdivision=form.subdivision.data or None,
                unit=(form.unit.data or "").strip() or None, area=form.area.data or None,
                assignee=form.assignee.data or None, channel=form.channel.data or "web",
                requested_at=requested, registered_by=s.get(User, current_user.id))
            code = ticket.code
    except FieldError as exc:
        field_error(form, SERVICE_FIELDS.get(exc.field, exc.field), exc.message[0].upper() + exc.message[1:])
        return _render(form, status=400)
    send_queued()
    flash(f"Atención {code} creada.", "success")
    return redirect(url_for("views.ticket", code=code))


@bp.route("/atenciones/nueva", methods=["GET", "POST"])
@role_required("admin", "agent")
def new_ticket():
    """GET: the empty form (Prioridad Media, Fecha de solicitud today); POST: Buscar or Crear."""
    if request.method == "GET":
        form = NewTicketForm(formdata=None, priority="Media", requested_at=_today_local(), channel="web",
                             kind="atencion")
        return _render(form)
    form = NewTicketForm()
    if request.form.get("action") == "buscar" or request.form.get("pick"):
        return _search(form)
    return _create(form)
