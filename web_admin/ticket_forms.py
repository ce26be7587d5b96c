"""The forms of the ticket view (WTForms, Spanish messages): the actions Asignado, Estado,
Comentario, Email, the classification (tipo, categoría, prioridad, área, formulario) and the form of
the ticket's kind (Atención, Reclamo/Queja, Solicitud).

Each form has a ``prefix`` (its fields are ``assign-assignee``, ``form-category``…), so that
several forms on one page never share an HTML id. CSRF is checked for every POST by the app's
`CSRFProtect` (each template form carries ``csrf_token``), not per form. Choices come from the
catalog at request time (`fill_choices`); the services decide what is valid and their
`tickets.services.FieldError` lands next to its field (`field_error`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from tickets.edits import attended_datetime  # noqa: F401 - the actions use it from here
from tickets.models import Area, Category, Priority, Status, Ticket, TicketType, User
from tickets.text import fold

KIND_LABELS = {"atencion": "Atención", "reclamo": "Reclamo/Queja", "solicitud": "Solicitud"}
GOOD_LABELS = {"producto": "Producto", "servicio": "Servicio"}
CLAIM_LABELS = {"reclamo": "Reclamo", "queja": "Queja"}

#: The "Email" action's templates: key → (title, the text it proposes). The staff edit the text.
EMAIL_TEMPLATES = {
    "seguimiento": ("Seguimiento de su atención",
                    "Le escribimos para informarle que su requerimiento sigue en atención. "
                    "Le avisaremos en cuanto tengamos novedades."),
    "visita": ("Coordinación de visita",
               "Para atender su requerimiento necesitamos visitar la unidad. Por favor, indíquenos "
               "dos fechas y horarios en los que podamos ingresar."),
    "informacion": ("Solicitud de información",
                    "Para continuar con su requerimiento necesitamos que nos envíe fotos del problema "
                    "y su número de documento de identidad."),
    "libre": ("Aviso sobre su atención", ""),
}

MAX_TEXT = 20_000
"""Characters of a comment or a form's long text."""


class _Form(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect checks every POST (the templates send csrf_token)


class AssignForm(_Form):
    assignee = SelectField("Asignado", validate_choice=False,
                           validators=[DataRequired("Elija el usuario a asignar.")])


class StatusForm(_Form):
    status = SelectField("Estado", validate_choice=False, validators=[DataRequired("Elija un estado.")])


class CommentForm(_Form):
    text = TextAreaField("Comentario", validators=[DataRequired("Escriba el comentario."),
                                                   Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])
    public = BooleanField("Público: se envía por correo al solicitante")
    files = MultipleFileField("Adjuntos")


class ClassifyForm(_Form):
    type = SelectField("Tipo de atención", validate_choice=False,
                       validators=[DataRequired("Elija un tipo de atención.")])
    category = SelectField("Categoría", validate_choice=False)
    priority = SelectField("Prioridad", validate_choice=False, validators=[DataRequired("Elija una prioridad.")])
    area = SelectField("Área", validate_choice=False)
    kind = SelectField("Formulario", validate_choice=False, choices=list(KIND_LABELS.items()),
                       validators=[DataRequired("Elija el formulario.")])


class AtencionForm(_Form):
    category = SelectField("Categoría", validate_choice=False)
    attended_at = DateField("Fecha de atención", validators=[Optional()],
                            render_kw={"placeholder": "aaaa-mm-dd"})
    detail = TextAreaField("Detalle", validators=[Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])
    observation = TextAreaField("Observación/Respuesta",
                                validators=[Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])


class ReclamoForm(_Form):
    contracted_good = SelectField("Identificación del bien contratado", validate_choice=False,
                                  choices=[("", "—"), *GOOD_LABELS.items()])
    good_description = TextAreaField("Descripción del bien contratado",
                                     validators=[Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])
    claim_type = SelectField("Tipo de reclamación", validate_choice=False, choices=[("", "—"), *CLAIM_LABELS.items()])
    legal_adviser = SelectField("Asesor legal", validate_choice=False)
    discharge = TextAreaField("Descargo del reclamo",
                              validators=[Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])


class SolicitudForm(_Form):
    request_type = StringField("Tipo de solicitud", validators=[Length(max=100, message="Máximo 100 caracteres.")])
    request_detail = TextAreaField("Detalle de la solicitud",
                                   validators=[Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])


class EmailForm(_Form):
    template = SelectField("Plantilla", validate_choice=False,
                           choices=[(k, title) for k, (title, _) in EMAIL_TEMPLATES.items()])
    text = TextAreaField("Texto del correo", validators=[DataRequired("Escriba el texto del correo."),
                                                         Length(max=MAX_TEXT, message="Máximo 20 000 caracteres.")])


#: The kind forms' free-text fields, filled from the ticket's columns of the same name.
TEXT_FORM_FIELDS = ("detail", "observation", "good_description", "discharge", "request_type", "request_detail")

KIND_FORMS = {"atencion": AtencionForm, "reclamo": ReclamoForm, "solicitud": SolicitudForm}
DATE_MESSAGE = "Fecha no válida: use aaaa-mm-dd."


def _names(session: Session, model) -> list[str]:
    return sorted(session.scalars(select(model.name)), key=fold)


def _staff(session: Session, roles: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    stmt = select(User).where(User.active.is_(True))
    if roles:
        stmt = stmt.where(User.role.in_(roles))
    return [(u.email, f"{u.name} <{u.email}>") for u in sorted(session.scalars(stmt), key=lambda u: fold(u.name))]


def fill_choices(session: Session, forms: dict) -> None:
    """Put the catalog's current names in the select fields of ``forms`` (the view's dict)."""
    statuses = [(s.name, s.name) for s in session.scalars(select(Status).order_by(Status.position, Status.id))]
    priorities = [(p.name, p.name) for p in session.scalars(select(Priority).order_by(Priority.id))]
    forms["assign"].assignee.choices = [("", "— Elija —"), *_staff(session)]
    forms["status"].status.choices = statuses
    c = forms["classify"]
    c.type.choices = [(n, n) for n in _names(session, TicketType)]
    c.category.choices = [("", "—"), *((n, n) for n in _names(session, Category))]
    c.priority.choices = priorities
    c.area.choices = [("", "—"), *((n, n) for n in _names(session, Area))]
    form = forms["form"]
    if isinstance(form, AtencionForm):
        form.category.choices = c.category.choices
    elif isinstance(form, ReclamoForm):
        form.legal_adviser.choices = [("", "—"), *_staff(session, ("legal", "admin"))]


def build_forms(ticket: Ticket, zone: ZoneInfo, posted: dict | None = None) -> dict:
    """The page's forms, filled from ``ticket``; ``posted`` replaces some with submitted ones."""
    posted = posted or {}
    local_attended = ticket.attended_at.astimezone(zone).date() if ticket.attended_at else None
    form_cls = KIND_FORMS.get(ticket.kind, AtencionForm)
    defaults = {
        "assign": lambda: AssignForm(prefix="assign", formdata=None,
                                     assignee=ticket.assignee.email if ticket.assignee else ""),
        "status": lambda: StatusForm(prefix="status", formdata=None, status=ticket.status.name),
        "comment": lambda: CommentForm(prefix="comment", formdata=None),
        "classify": lambda: ClassifyForm(
            prefix="classify", formdata=None, type=ticket.type.name, priority=ticket.priority.name,
            category=ticket.category.name if ticket.category else "", kind=ticket.kind,
            area=ticket.area.name if ticket.area else ""),
        "form": lambda: form_cls(prefix="form", formdata=None, attended_at=local_attended,
                                 **{name: getattr(ticket, name) or "" for name in TEXT_FORM_FIELDS},
                                 category=ticket.category.name if ticket.category else "",
                                 legal_adviser=ticket.legal_adviser.email if ticket.legal_adviser else "",
                                 contracted_good=ticket.contracted_good or "", claim_type=ticket.claim_type or ""),
        "email": lambda: EmailForm(prefix="email", formdata=None, template="seguimiento",
                                   text=EMAIL_TEMPLATES["seguimiento"][1]),
    }
    return {name: posted.get(name) or make() for name, make in defaults.items()}


def field_error(form, field: str, message: str) -> None:
    """Show ``message`` next to ``field`` of ``form`` (a service's FieldError)."""
    target = getattr(form, field, None)
    if target is None:
        form.form_errors.append(message)
    else:
        target.errors = [*(target.errors or []), message]


def spanish_date_errors(form) -> None:
    """WTForms' English "Not a valid date value." → Spanish."""
    for field in form:
        if isinstance(field, DateField) and field.errors:
            field.errors = [DATE_MESSAGE]
