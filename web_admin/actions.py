"""The ticket view's actions (POST, CSRF-checked; on the ``views`` blueprint): Asignado, Estado,
Comentario (internal or public, with files), Email (a template to the requester), the
classification (tipo, categoría, prioridad, área, formulario), the form of the ticket's kind, and
"Reintentar" for a failed outbound mail.

Each one runs in one transaction through the same `tickets` services as the CLI (which write
the history and the outbox), then sends the mail it queued (`web_admin.state.send_queued`) and
redirects to the ticket with a message. A bad value re-renders the page (400) with the Spanish
message next to its field.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from tickets import edits, outbox, services
from tickets.filenames import sanitize_filename
from tickets.models import OutboxMessage, User
from tickets.services import Context, FieldError, ServiceError
from tickets.storage import NewFile
from web_admin.state import panel, read_session, send_queued
from web_admin.ticket_forms import (
    EMAIL_TEMPLATES,
    KIND_FORMS,
    AssignForm,
    ClassifyForm,
    CommentForm,
    EmailForm,
    StatusForm,
    attended_datetime,
    field_error,
    spanish_date_errors,
)
from web_admin.views import bp, load_ticket, render_ticket

MAX_FILES = 10
"""Files one comment may carry."""


def _done(code: str, message: str):
    send_queued()
    flash(message, "success")
    return redirect(url_for("views.ticket", code=code))


def _invalid(code: str, name: str, form):
    return render_ticket(code, posted={name: form}, status=400)


def _me(session) -> User:
    return session.get(User, current_user.id)


def _run(code: str, name: str, form, act):
    """Run ``act(session, ticket)`` in a transaction; a FieldError/ServiceError lands on ``form``
    (field ``exc.field``, else the form's own message). Returns the message ``act`` returned, or
    None when it failed (``form`` then holds the error)."""
    try:
        with panel().sessions.begin() as s:
            ticket = load_ticket(s, code)
            return act(s, ticket)
    except FieldError as exc:
        field_error(form, exc.field, exc.message)
    except ServiceError as exc:
        form.form_errors.append(str(exc))
    return None


@bp.post("/atenciones/<code>/asignar")
@login_required
def assign(code: str):
    """Asignado: the user gets the assignment mail; Registrado becomes Asignado."""
    form = AssignForm(prefix="assign")
    if not form.validate():
        return _invalid(code, "assign", form)

    def act(s, ticket):
        user = services.find_user_by_email(s, form.assignee.data)
        if user is None:
            raise FieldError("assignee", "Ese usuario no existe o está desactivado.")
        services.assign(s, Context.from_settings(panel().settings), ticket, user, by=_me(s))
        return f"Atención asignada a {user.name}."

    message = _run(code, "assign", form, act)
    return _done(code, message) if message else _invalid(code, "assign", form)


@bp.post("/atenciones/<code>/estado")
@login_required
def status(code: str):
    """Estado: the requester is mailed when the status says so."""
    form = StatusForm(prefix="status")
    if not form.validate():
        return _invalid(code, "status", form)

    def act(s, ticket):
        try:
            services.set_status(s, Context.from_settings(panel().settings), ticket, form.status.data, by=_me(s))
        except FieldError:
            raise
        except ServiceError as exc:
            raise FieldError("status", str(exc).capitalize() + ".") from exc
        return f"Estado: {ticket.status.name}."

    message = _run(code, "status", form, act)
    return _done(code, message) if message else _invalid(code, "status", form)


def _uploaded_files() -> list[NewFile]:
    """The comment's uploaded files (empty file inputs skipped)."""
    files = []
    for upload in request.files.getlist("comment-files"):
        if not upload or not upload.filename:
            continue
        data = upload.read()
        ctype = (upload.mimetype or "application/octet-stream").lower()
        files.append(NewFile(filename=sanitize_filename(upload.filename, ctype), content_type=ctype, data=data))
    return files


@bp.post("/atenciones/<code>/comentar")
@login_required
def comment(code: str):
    """A staff comment, internal or public (public: mailed to the requester with its files)."""
    form = CommentForm(prefix="comment")
    if not form.validate():
        return _invalid(code, "comment", form)
    files = _uploaded_files()
    if len(files) > MAX_FILES:
        field_error(form, "files", f"Máximo {MAX_FILES} archivos por comentario.")
        return _invalid(code, "comment", form)

    def act(s, ticket):
        services.add_comment(s, Context.from_settings(panel().settings), ticket, text=form.text.data.strip(),
                             author_user=_me(s), public=form.public.data, files=files)
        return "Comentario público agregado y enviado al solicitante." if form.public.data \
            else "Comentario interno agregado."

    message = _run(code, "comment", form, act)
    return _done(code, message) if message else _invalid(code, "comment", form)


@bp.post("/atenciones/<code>/correo")
@login_required
def email(code: str):
    """The seed's "Email": the chosen template's title with the staff's text, to the requester."""
    form = EmailForm(prefix="email")
    if not form.validate():
        return _invalid(code, "email", form)
    if form.template.data not in EMAIL_TEMPLATES:
        field_error(form, "template", "Elija una plantilla de la lista.")
        return _invalid(code, "email", form)
    title = EMAIL_TEMPLATES[form.template.data][0]

    def act(s, ticket):
        edits.notify_requester(s, Context.from_settings(panel().settings), ticket, title=title,
                                  text=form.text.data, by=_me(s))
        return f"Correo «{title}» enviado a {ticket.requester_email}."

    message = _run(code, "email", form, act)
    return _done(code, message) if message else _invalid(code, "email", form)


@bp.post("/atenciones/<code>/clasificar")
@login_required
def classify(code: str):
    """Tipo de atención (and with it the SLA), categoría, prioridad, área and formulario."""
    form = ClassifyForm(prefix="classify")
    if not form.validate():
        return _invalid(code, "classify", form)

    def act(s, ticket):
        changed = edits.set_fields(
            s, Context.from_settings(panel().settings), ticket, by=_me(s), type=form.type.data,
            category=form.category.data, priority=form.priority.data, area=form.area.data, kind=form.kind.data)
        return "Clasificación guardada." if changed else "Sin cambios."

    message = _run(code, "classify", form, act)
    return _done(code, message) if message else _invalid(code, "classify", form)


@bp.post("/atenciones/<code>/formulario")
@login_required
def kind_form(code: str):
    """The form of the ticket's kind (Atención, Reclamo/Queja or Solicitud)."""
    ticket = load_ticket(read_session(), code)
    kind = ticket.kind
    form = KIND_FORMS.get(kind, KIND_FORMS["atencion"])(prefix="form")
    if not form.validate():
        spanish_date_errors(form)
        return _invalid(code, "form", form)

    def act(s, ticket):
        values = {name: field.data for name, field in form._fields.items()}
        if "attended_at" in values:
            values["attended_at"] = attended_datetime(values["attended_at"], ticket.attended_at, panel().zone)
        if ticket.kind != kind:  # changed meanwhile: the submitted form is another kind's
            raise ServiceError("El formulario de la atención cambió; vuelva a cargar la página.")
        changed = edits.set_fields(s, Context.from_settings(panel().settings), ticket, by=_me(s), **values)
        return "Formulario guardado." if changed else "Sin cambios."

    message = _run(code, "form", form, act)
    return _done(code, message) if message else _invalid(code, "form", form)


@bp.post("/atenciones/<code>/correos-salientes/<int:outbox_id>/reintentar")
@login_required
def retry(code: str, outbox_id: int):
    """"Reintentar": a failed (or bounced) copy back to pending, then sent as any queued mail."""
    with panel().sessions.begin() as s:
        ticket = load_ticket(s, code)
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.id == outbox_id,
                                                   OutboxMessage.ticket_id == ticket.id))
        if row is None:
            flash("Ese correo no es de esta atención.", "error")
            return redirect(url_for("views.ticket", code=code))
        try:
            outbox.retry(s, row.id)
        except (LookupError, ValueError) as exc:
            error = str(exc)
        else:
            error = None
        recipient = row.recipient
    if error:
        flash(error[0].upper() + error[1:] + ".", "error")
        return redirect(url_for("views.ticket", code=code))
    return _done(code, f"Correo a {recipient} puesto otra vez en cola.")


__all__ = ["assign", "classify", "comment", "email", "kind_form", "retry", "status"]
