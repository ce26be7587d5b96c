"""Generar Documento (the seed's "Acciones de un requerimiento"): the documents staff issue from a
ticket, the free text each one needs, who signs them, what their templates are filled with, and
the service that keeps a sent document in the bitácora and queues it to the requester.

Nothing here renders: the templates are ``templates/documents/<key>.html`` and
`mail.outbound.documents` turns them into HTML and PDF (WeasyPrint). The panel
(`web_admin.documents`) asks `validate` for the staff's text, shows the preview, renders the PDF
and hands its bytes to `record_sent_document`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tickets.models import EntryKind, Promoter, Ticket, User
from tickets.services import Context, FieldError, add_entry, attach_files, client_recipients, queue_mail, touch
from tickets.storage import NewFile
from tickets.text import typed_clock, typed_day

log = logging.getLogger(__name__)

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")

#: Image types a logo may be, by file suffix; an SVG logo is drawn by WeasyPrint, never fetched.
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".svg": "image/svg+xml"}
MAX_LOGO_BYTES = 1 << 20


@dataclass(frozen=True)
class DocField:
    """One free field of a document: ``name`` (the form's and the template's key), its Spanish
    ``label``, ``kind`` (``text``, ``textarea``, ``date`` as aaaa-mm-dd, ``time`` as HH:MM),
    ``required`` and ``max_length`` (characters)."""

    name: str
    label: str
    kind: str = "textarea"
    required: bool = True
    max_length: int = 5000
    hint: str = ""


@dataclass(frozen=True)
class DocumentKind:
    """A document staff can issue: ``key`` (URL and template name), ``title`` (Spanish, also the
    mail's), ``stem`` of the PDF's file name and its free ``fields``."""

    key: str
    title: str
    stem: str
    fields: tuple[DocField, ...]

    def filename(self, code: str) -> str:
        """The PDF's name: ``acta-de-visita-AT-000123.pdf``."""
        return f"{self.stem}-{code}.pdf"


DOCUMENTS: dict[str, DocumentKind] = {d.key: d for d in (
    DocumentKind("carta_recepcion", "Carta de recepción", "carta-de-recepcion", (
        DocField("body", "Texto de la carta"),)),
    DocumentKind("acta_visita", "Acta de visita", "acta-de-visita", (
        DocField("visit_date", "Fecha de la visita", "date", max_length=10),
        DocField("visit_start", "Hora de inicio", "time", max_length=5),
        DocField("visit_end", "Hora de término", "time", required=False, max_length=5),
        DocField("attendees", "Asistentes", hint="Uno por línea: nombre y cargo o relación con la unidad."),
        DocField("observations", "Observaciones"),
        DocField("agreements", "Acuerdos", required=False))),
    DocumentKind("carta_respuesta", "Carta de respuesta", "carta-de-respuesta", (
        DocField("body", "Respuesta"),)),
)}


def get_document(key: str) -> DocumentKind | None:
    """The document kind ``key`` (`DOCUMENTS`), or None for an unknown key."""
    return DOCUMENTS.get(key)


def long_date(day: date) -> str:
    """A date as a Spanish letter writes it: ``6 de enero de 2025``."""
    return f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"


def validate(kind: DocumentKind, raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Check the staff's values for ``kind``'s fields.

    ``raw``: field name → submitted text (missing names count as empty). Returns ``(values,
    errors)``: the cleaned text of every field (stripped, Windows line ends made ``\\n``) and, per
    field name, one message in Spanish (empty when everything is valid). Dates are dd/mm/aaaa or
    aaaa-mm-dd (returned as aaaa-mm-dd), times HH:MM (24 h); an end time before the start time is
    an error.
    """
    values, errors = {}, {}
    for f in kind.fields:
        text = (raw.get(f.name) or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        values[f.name] = text
        if not text:
            if f.required:
                errors[f.name] = f"Complete «{f.label}»."
            continue
        if len(text) > f.max_length:
            errors[f.name] = f"Máximo {f.max_length:,} caracteres.".replace(",", " ")
        elif f.kind == "date":
            day = typed_day(text)
            if day is None:
                errors[f.name] = "Fecha no válida: use dd/mm/aaaa."
            else:
                values[f.name] = day.isoformat()
        elif f.kind == "time" and typed_clock(text) is None:
            errors[f.name] = "Hora no válida: use HH:MM (24 horas)."
    start, end = values.get("visit_start"), values.get("visit_end")
    if start and end and "visit_start" not in errors and "visit_end" not in errors \
            and _minutes(end) <= _minutes(start):
        errors["visit_end"] = "La hora de término debe ser posterior a la de inicio."
    return values, errors


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def default_values(kind: DocumentKind, ticket: Ticket, *, staff: User | None, today: date) -> dict[str, str]:
    """The text a document proposes before staff edit it: the acknowledgement's standard wording,
    the visit on ``today`` with the requester and the staff member attending, the ticket's
    Observación/Respuesta (or a reclamo's descargo) as the answer."""
    if kind.key == "carta_recepcion":
        return {"body": (
            "Por medio de la presente dejamos constancia de que hemos recibido su requerimiento, "
            "registrado con el código indicado. Nuestro equipo de postventa lo evaluará y se comunicará "
            "con usted para coordinar su atención dentro del plazo establecido.")}
    if kind.key == "acta_visita":
        attendees = [f"{ticket.requester_name} — Solicitante"] if ticket.requester_name else []
        if staff is not None:
            attendees.append(f"{staff.name} — {staff.area.name if staff.area else 'Atención al Cliente'}")
        return {"visit_date": today.isoformat(), "visit_start": "", "visit_end": "",
                "attendees": "\n".join(attendees), "observations": "", "agreements": ""}
    return {"body": ticket.observation or ticket.discharge or ""}


@dataclass(frozen=True)
class Company:
    """The company that signs a document: ``name``, ``ruc``, ``address`` and ``logo`` (a ``data:``
    URI of the image, so that neither the browser nor WeasyPrint fetches anything)."""

    name: str
    ruc: str | None = None
    address: str | None = None
    logo: str | None = None


def logo_data_uri(path: str | Path | None) -> str | None:
    """The image at ``path`` as a ``data:`` URI; None (and a warning in the log) when there is no
    path, the file is missing or unreadable, over `MAX_LOGO_BYTES`, or its name is not a
    `LOGO_TYPES` one: a misconfigured logo is left out of the letterhead, the document still goes.
    (An image whose bytes are corrupt is dropped by WeasyPrint with an error in the log, or
    fails the rendering: `mail.outbound.documents.RenderError`.)"""
    if not path:
        return None
    path = Path(path)
    ctype = LOGO_TYPES.get(path.suffix.lower())
    try:
        if ctype is None:
            raise ValueError(f"not a {', '.join(LOGO_TYPES)} file")
        if path.stat().st_size > MAX_LOGO_BYTES:
            raise ValueError("larger than 1 MiB")
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        log.warning("logo %s left out: %s", path, exc)
        return None
    return f"data:{ctype};base64,{base64.b64encode(data).decode('ascii')}"


def signing_company(settings, promoter: Promoter | None) -> Company:
    """Who signs a ticket's documents (DESIGN, "Domain"): the ticket's promoter when it has one —
    its name, RUC, address and logo, those it lacks left out rather than borrowed from another
    company — else ``ATENCION_COMPANY_NAME``, ``_RUC``, ``_ADDRESS`` and ``_LOGO``."""
    if promoter is not None:
        return Company(promoter.name, promoter.ruc or None, promoter.address or None, logo_data_uri(promoter.logo))
    return Company(settings.company_name, settings.company_ruc or None, settings.company_address or None,
                   logo_data_uri(settings.company_logo))


def _client_document(client) -> str | None:
    return f"{client.document_type} {client.document_number}" if client is not None else None


def document_context(settings, ticket: Ticket, kind: DocumentKind, values: Mapping[str, str], *,
                     staff: User | None, today: date) -> dict:
    """What a document template is filled with: ``doc`` (title, file name), ``company``
    (`signing_company`), ``ticket`` (code, subject, detail, request and attention dates as
    dd/mm/aaaa in the configured zone, requester name/email/document, holder and their document,
    project, tower, unit with its type, contract number, type, status), ``staff`` (name, email,
    area: who issues it), ``values`` (the validated free text) and ``date`` (``today``, a local
    date, written out: ``6 de enero de 2025``)."""
    zone = ZoneInfo(settings.timezone)

    def local(dt: datetime | None) -> str:
        return dt.astimezone(zone).strftime("%d/%m/%Y") if dt else ""

    holder = ticket.holder
    if holder is None and ticket.contract is not None and ticket.contract.holders:
        holder = ticket.contract.holders[0]
    unit = ticket.unit
    visit_date = values.get("visit_date")
    return {
        "doc": {"key": kind.key, "title": kind.title, "filename": kind.filename(ticket.code)},
        "company": signing_company(settings, ticket.promoter),
        "ticket": {
            "code": ticket.code, "subject": ticket.subject, "detail": ticket.detail,
            "requested_on": local(ticket.requested_at), "attended_on": local(ticket.attended_at),
            "requester_name": ticket.requester_name or "", "requester_email": ticket.requester_email or "",
            "requester_document": _client_document(ticket.requester_client),
            "holder_name": holder.name if holder else "", "holder_document": _client_document(holder),
            "project": ticket.project.name if ticket.project else "",
            "project_address": ticket.project.address if ticket.project else "",
            "subdivision": ticket.subdivision.name if ticket.subdivision else "",
            "unit": f"{unit.number} ({unit.unit_type})" if unit else "",
            "contract_number": ticket.contract_number or (ticket.contract.number if ticket.contract else ""),
            "type": ticket.type.name if ticket.type else "", "status": ticket.status.name if ticket.status else "",
        },
        "staff": {"name": staff.name if staff else "", "email": staff.email if staff else "",
                  "area": staff.area.name if staff and staff.area else ""},
        "values": dict(values),
        "visit_date_long": long_date(date.fromisoformat(visit_date)) if visit_date else "",
        "date": long_date(today),
    }


def record_sent_document(session: Session, ctx: Context, ticket: Ticket, kind: DocumentKind, pdf: bytes, *,
                         by: User | None = None) -> int:
    """Keep a generated document in the bitácora and queue it to the requester.

    Writes an ``attachment`` entry ("Documento «Acta de visita» enviado a …", public, by ``by``)
    with ``pdf`` (the rendered bytes) stored as its file ``kind.filename(code)``, and queues one
    ``document`` mail (To the requester, Cc the ticket's other client addresses: the rows of
    `services.client_recipients`), which carries the entry's file. Runs in the caller's
    transaction. Returns the entry's id. Raises FieldError (``to``) when the ticket has no
    requester address.
    """
    to, cc = client_recipients(session, ctx, ticket)
    if not to:
        raise FieldError("to", "La atención no tiene un correo de solicitante.")
    filename = kind.filename(ticket.code)
    entry_id = add_entry(session, ticket, EntryKind.ATTACHMENT,
                         f"Documento «{kind.title}» enviado a {', '.join(to + cc)}", public=True,
                         author_user_id=by.id if by else None, author_email=by.email if by else None,
                         author_name=by.name if by else None)
    attach_files(session, ctx, ticket, entry_id, [NewFile(filename, "application/pdf", pdf)])
    touch(session, ticket)
    queue_mail(session, ctx, ticket, "document", to, {"code": ticket.code, "entry_id": entry_id,
                                                      "title": kind.title, "filename": filename},
               cc=cc, automatic=False)
    return entry_id


__all__ = ["DOCUMENTS", "Company", "DocField", "DocumentKind", "default_values", "document_context",
           "get_document", "logo_data_uri", "long_date", "record_sent_document", "signing_company", "validate"]
