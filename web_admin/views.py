"""One ticket (blueprint ``views``): ``/atenciones/<code>``, the seed's two sections — left the
ticket's data and the form of its kind, right the bitácora (`tickets.reports.ticket_detail`:
comments, files, inbound and outbound mail with their states, the history of changes) — plus
``/atenciones/<code>/adjuntos/<id>`` (a file, always as a download) and
``/atenciones/<code>/correos/<id>`` (an inbound mail's full original, its HTML sanitised with nh3).

A legal user gets 404 for a ticket outside their scope (`tickets.queries.legal_scope`), exactly
as the list hides it. The actions (POST) live in `web_admin.actions`, on this same blueprint.
"""

from __future__ import annotations

import mimetypes

import nh3
from flask import Blueprint, Response, abort, current_app, render_template, send_file
from flask_login import current_user, login_required
from sqlalchemy import select

from tickets import copies, storage
from tickets.models import Attachment, InboundMessage, LogbookEntry, Ticket, User
from tickets.queries import legal_scope
from tickets.reports import ticket_detail
from tickets.services import Context
from web_admin.state import panel, read_session
from web_admin.ticket_forms import (
    CLAIM_LABELS,
    EMAIL_TEMPLATES,
    GOOD_LABELS,
    KIND_LABELS,
    build_forms,
    fill_choices,
)

bp = Blueprint("views", __name__)

#: Content types a download keeps; any other (HTML, SVG, scripts…) is sent as octet-stream.
SAFE_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff",
    "text/plain", "text/csv", "application/zip", "application/msword", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "audio/mpeg", "video/mp4", "message/rfc822",
})

#: Roles that may create tickets ("Nueva atención", "Duplicar", "Crear requerimiento").
CREATOR_ROLES = ("admin", "agent")

#: The history's field names in the users' words.
CHANGE_LABELS = {
    "status": "Estado", "assignee": "Usuario asignado", "attended_at": "Fecha de atención",
    "priority": "Prioridad", "category": "Categoría", "area": "Área", "type": "Tipo de atención",
    "kind": "Formulario", "observation": "Observación/Respuesta", "detail": "Detalle",
    "contracted_good": "Bien contratado", "good_description": "Descripción del bien",
    "claim_type": "Tipo de reclamación", "legal_adviser": "Asesor legal", "discharge": "Descargo",
    "request_type": "Tipo de solicitud", "request_detail": "Detalle de la solicitud",
    "subject": "Asunto", "project": "Proyecto", "group": "Pliego", "duplicated_from": "Duplicada desde",
    "event": "Evento", "event_reply": "Respuesta a un evento",
}
#: History fields whose values are staff users' addresses (shown with the user's name).
PERSON_FIELDS = ("assignee", "legal_adviser")

ENTRY_LABELS = {"comment": "Comentario", "email_in": "Correo recibido", "email_out": "Correo enviado",
                "attachment": "Adjuntos", "note": "Nota", "follow_up": "Seguimiento", "event": "Evento"}
MAIL_STATE_LABELS = {"pending": "Pendiente", "sending": "Enviando", "sent": "Enviado", "failed": "Fallido",
                     "bounced": "Rebotado"}

#: What the original-mail page may load: nothing from the network (no tracking pixels, no scripts).
ORIGINAL_CSP = "default-src 'none'; img-src data:; style-src 'self' 'unsafe-inline'; form-action 'none'"


def with_staff_names(session, changes: list[dict]) -> list[dict]:
    """The history's entries (dicts with ``field``, ``old``, ``new``) with a staff user's address
    in a :data:`PERSON_FIELDS` field shown as "Name (address)" — the history stores the address,
    which stays exact when a name changes or two people share one. An address no user has any
    more is shown as stored."""
    emails = {v for c in changes if c["field"] in PERSON_FIELDS for v in (c["old"], c["new"]) if v}
    if not emails:
        return changes
    names = dict(session.execute(select(User.email, User.name).where(User.email.in_(emails))).all())

    def shown(value):
        return f"{names[value]} ({value})" if value and names.get(value) else value

    return [{**c, "old": shown(c["old"]), "new": shown(c["new"])} if c["field"] in PERSON_FIELDS else c
            for c in changes]


def load_ticket(session, code: str) -> Ticket:
    """The ticket ``code`` as the current user may see it, else 404 (unknown, or outside a legal
    user's scope). Exact code, or tolerant as the CLI (``at-12``)."""
    from tickets.codes import find_codes

    found = find_codes(code, panel().settings.code_prefix)
    norm = found[0] if found else code.strip().upper()
    stmt = select(Ticket).where(Ticket.code == norm)
    if current_user.legal_scope_id is not None:
        stmt = stmt.where(legal_scope(current_user.legal_scope_id))
    ticket = session.scalar(stmt)
    if ticket is None:
        abort(404)
    return ticket


def render_ticket(code: str, posted: dict | None = None, status: int = 200):
    """The ticket page; ``posted``: forms submitted with errors (shown in place), answered 400.

    Beside the data: the ticket it was duplicated from and its duplicates, and "Requerimientos del
    pliego" (`tickets.copies.pliego_of`) — for a legal user only those in their scope."""
    session = read_session()
    ticket = load_ticket(session, code)
    state = panel()
    data = ticket_detail(session, state.settings, ticket.code, today=current_app.config.get("ATENCION_TODAY"))
    forms = build_forms(ticket, state.zone, posted)
    fill_choices(session, forms)
    scope = legal_scope(current_user.legal_scope_id) if current_user.legal_scope_id is not None else None
    duplicated_from = None
    if ticket.duplicated_from_id is not None:
        stmt = select(Ticket).where(Ticket.id == ticket.duplicated_from_id)
        duplicated_from = session.scalar(stmt.where(scope) if scope is not None else stmt)
    entries = [e for e in data["logbook"] if e["kind"] != "change"]
    changes = with_staff_names(session, [e for e in data["logbook"] if e["kind"] == "change"])
    return render_template(
        "admin/ticket.html", t=ticket, data=data, forms=forms, entries=entries, changes=changes,
        kind_labels=KIND_LABELS, good_labels=GOOD_LABELS, claim_labels=CLAIM_LABELS,
        change_labels=CHANGE_LABELS, entry_labels=ENTRY_LABELS, mail_states=MAIL_STATE_LABELS,
        email_templates=EMAIL_TEMPLATES, open_form=next(iter(posted), None) if posted else None,
        pliego=copies.pliego_of(session, ticket, where=scope), duplicated_from=duplicated_from,
        duplicates=copies.duplicates_of(session, ticket, where=scope),
        can_create=current_user.role in CREATOR_ROLES,
    ), status


@bp.app_template_filter("iso_local")
def iso_local(value: str | None) -> str:
    """An ISO 8601 local time of `ticket_detail` as ``dd/mm/aaaa hh:mm`` (as the list shows dates)."""
    from datetime import datetime

    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value


@bp.get("/atenciones/<code>")
@login_required
def ticket(code: str):
    """The ticket view (see the module docstring)."""
    return render_ticket(code)


def safe_type(content_type: str | None, filename: str) -> str:
    """The Content-Type a download is served with: the stored one when it is in `SAFE_TYPES`,
    else the one the file name suggests when that is safe, else application/octet-stream."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in SAFE_TYPES:
        return ctype
    guessed = mimetypes.guess_type(filename)[0]
    return guessed if guessed in SAFE_TYPES else "application/octet-stream"


def _no_sniff(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def stored_download(row, fallback_name: str) -> Response:
    """A stored file (``row``: an Attachment or a RelatedFile — ``sha256``, ``content_type``,
    ``filename``) as a download: ``Content-Disposition: attachment`` with its sanitised name
    (``fallback_name`` when it has none), a safe content type (`safe_type`), ``nosniff``, a sandbox
    CSP and no caching. 404 when the bytes are missing from the content store."""
    path = storage.path_for(panel().settings.storage_dir, row.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=safe_type(row.content_type, row.filename), as_attachment=True,
                         download_name=row.filename or fallback_name, conditional=False, etag=False)
    return _no_sniff(response)


@bp.get("/atenciones/<code>/adjuntos/<int:attachment_id>")
@login_required
def attachment(code: str, attachment_id: int):
    """One of the ticket's files, as a download (``Content-Disposition: attachment`` with its
    sanitised name, a safe content type, ``nosniff``). 404 for another ticket's file."""
    session = read_session()
    ticket = load_ticket(session, code)
    row = session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    return stored_download(row, "adjunto")


def _inbound_of(session, ticket: Ticket, inbound_id: int) -> InboundMessage:
    """The inbound message ``inbound_id`` when it belongs to ``ticket`` (its record or one of the
    ticket's logbook entries names it), else 404."""
    row = session.get(InboundMessage, inbound_id)
    if row is None:
        abort(404)
    if row.ticket_id != ticket.id and session.scalar(
            select(LogbookEntry.id).where(LogbookEntry.ticket_id == ticket.id,
                                          LogbookEntry.inbound_id == row.id).limit(1)) is None:
        abort(404)
    return row


@bp.get("/atenciones/<code>/correos/<int:inbound_id>")
@login_required
def original(code: str, inbound_id: int):
    """An inbound mail of the ticket as received: headers, its HTML sanitised with nh3 (or its
    text), its files. No remote content loads (`ORIGINAL_CSP`)."""
    from mail.inbound.ingest import raw_of
    from mail.inbound.parse import UnparseableMessage, parse_message

    session = read_session()
    ticket = load_ticket(session, code)
    row = _inbound_of(session, ticket, inbound_id)
    raw = raw_of(session, Context.from_settings(panel().settings), row.id)
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        msg = None
    html = nh3.clean(msg.html, url_schemes={"http", "https", "mailto"}) if msg and msg.html else None
    response = Response(render_template("admin/original.html", t=ticket, row=row, msg=msg, html=html,
                                        raw_text=None if msg else raw.decode("utf-8", "replace")))
    response.headers["Content-Security-Policy"] = ORIGINAL_CSP
    return response


@bp.get("/atenciones/<code>/correos/<int:inbound_id>.eml")
@login_required
def original_eml(code: str, inbound_id: int):
    """The inbound mail's bytes exactly as received, as a .eml download."""
    from mail.inbound.ingest import raw_of

    session = read_session()
    ticket = load_ticket(session, code)
    row = _inbound_of(session, ticket, inbound_id)
    raw = raw_of(session, Context.from_settings(panel().settings), row.id)
    response = Response(raw, mimetype="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="{ticket.code}-correo-{row.id}.eml"'})
    return _no_sniff(response)
