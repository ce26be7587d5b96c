"""Generar Documento, on the ticket view's blueprint (``views``):

* ``GET /atenciones/<code>/documentos?tipo=<key>`` — the ticket's "Generar documento" card: goes
  to the chosen document's page;
* ``GET|POST /atenciones/<code>/documentos/<key>`` — the free text the document needs, proposed
  by `tickets.documents.default_values` (a POST comes back from the preview with the edited text);
* ``POST …/<key>/vista-previa`` — the document as the printable HTML page it will be (A4, print
  CSS), with a toolbar (Imprimir, Editar, Enviar) that printing hides;
* ``POST …/<key>/enviar`` — renders the PDF with WeasyPrint and, in one transaction, keeps it in
  the bitácora and queues it to the requester (`tickets.documents.record_sent_document`), then
  sends it as the other actions do.

A bad value re-renders the document's page (400) with the Spanish message next to its field. A
legal user gets 404 for a ticket outside their scope (`web_admin.views.load_ticket`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from mail.outbound.documents import RenderError, render_html, render_pdf
from tickets.documents import (
    DOCUMENTS,
    DocumentKind,
    default_values,
    document_context,
    get_document,
    record_sent_document,
    validate,
)
from tickets.models import User
from tickets.services import Context, FieldError
from web_admin.state import panel, read_session, send_queued
from web_admin.views import bp, load_ticket

log = logging.getLogger(__name__)

#: What the preview page may load: its own inline CSS, the logo (a data: URI), the print script.
PREVIEW_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'self'; "
               "form-action 'self'; base-uri 'none'")


@bp.app_context_processor
def _document_kinds() -> dict:
    """``document_kinds`` in every template: the ticket view's "Generar documento" card lists them."""
    return {"document_kinds": DOCUMENTS}


def _kind(key: str) -> DocumentKind:
    kind = get_document(key)
    if kind is None:
        abort(404)
    return kind


def _today() -> date:
    """The local date documents are dated with (the configured zone; tests pin ATENCION_TODAY)."""
    pinned = current_app.config.get("ATENCION_TODAY")
    return pinned if isinstance(pinned, date) else datetime.now(panel().zone).date()


def _posted(kind: DocumentKind) -> dict[str, str]:
    return {f.name: request.form.get(f"doc-{f.name}", "") for f in kind.fields}


def _edit_page(code: str, kind: DocumentKind, values: dict | None = None, errors: dict | None = None,
               form_error: str | None = None, status: int = 200):
    session = read_session()
    ticket = load_ticket(session, code)
    staff = session.get(User, current_user.id)
    if values is None:
        values = default_values(kind, ticket, staff=staff, today=_today())
    return render_template("admin/document.html", t=ticket, kind=kind, values=values, errors=errors or {},
                           form_error=form_error, documents=DOCUMENTS), status


@bp.get("/atenciones/<code>/documentos")
@login_required
def documents(code: str):
    """The "Generar documento" card's choice (``tipo``): to that document's page."""
    load_ticket(read_session(), code)
    key = request.args.get("tipo", "")
    if get_document(key) is None:
        flash("Elija un documento de la lista.", "error")
        return redirect(url_for("views.ticket", code=code) + "#documento")
    return redirect(url_for("views.document", code=code, key=key))


@bp.route("/atenciones/<code>/documentos/<key>", methods=["GET", "POST"])
@login_required
def document(code: str, key: str):
    """The document's free text: proposed (GET) or as edited (POST, back from the preview)."""
    kind = _kind(key)
    values = _posted(kind) if request.method == "POST" else None
    return _edit_page(code, kind, values)


@bp.post("/atenciones/<code>/documentos/<key>/vista-previa")
@login_required
def document_preview(code: str, key: str):
    """The document as a printable HTML page (the PDF's own source), with its toolbar."""
    kind = _kind(key)
    values, errors = validate(kind, _posted(kind))
    if errors:
        return _edit_page(code, kind, values, errors, status=400)
    session = read_session()
    ticket = load_ticket(session, code)
    context = document_context(panel().settings, ticket, kind, values,
                               staff=session.get(User, current_user.id), today=_today())
    toolbar = render_template("admin/_document_toolbar.html", t=ticket, kind=kind, values=values)
    response = current_app.make_response(render_html(kind, context, preview=True, toolbar=toolbar))
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/atenciones/<code>/documentos/<key>/enviar")
@login_required
def document_send(code: str, key: str):
    """"Enviar": the PDF to the requester through the outbox, kept in the bitácora."""
    kind = _kind(key)
    values, errors = validate(kind, _posted(kind))
    if errors:
        return _edit_page(code, kind, values, errors, status=400)
    state = panel()
    reader = read_session()
    ticket = load_ticket(reader, code)
    if not ticket.requester_email:
        return _edit_page(code, kind, values, form_error="La atención no tiene un correo de solicitante.",
                          status=400)
    context = document_context(state.settings, ticket, kind, values, staff=reader.get(User, current_user.id),
                               today=_today())
    try:  # rendered before the write transaction: SQLite's write lock is not held while WeasyPrint works
        pdf = render_pdf(render_html(kind, context))
    except RenderError:
        log.exception("document %s of %s", kind.key, code)
        return _edit_page(code, kind, values, form_error="No se pudo generar el PDF; el error quedó en el "
                          "registro del servidor.", status=500)
    try:
        with state.sessions.begin() as s:
            ticket = load_ticket(s, code)
            record_sent_document(s, Context.from_settings(state.settings), ticket, kind, pdf,
                                 by=s.get(User, current_user.id))
            recipient = ticket.requester_email
    except FieldError as exc:  # the address went away meanwhile
        return _edit_page(code, kind, values, form_error=exc.message, status=400)
    send_queued()
    flash(f"Documento «{kind.title}» enviado a {recipient} y guardado en la bitácora.", "success")
    return redirect(url_for("views.ticket", code=code))


__all__ = ["PREVIEW_CSP", "document", "document_preview", "document_send", "documents"]
