"""Edits of an existing ticket that are not its workflow: the priority, the Atención form's
fields and the kind's form (the panel's "Atención / Reclamo / Solicitud" and classification
forms, the CLI's `set`, a staff reply's ``#prioridad``), and the seed's "Email" action (a
message from staff to the requester through the outbox).

Like `tickets.services` (whose helpers these use), each function works inside the caller's
transaction and writes every change to the history.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import Area, Category, EntryKind, Priority, Ticket, TicketType, User, utcnow
from tickets.services import (
    Context,
    FieldError,
    add_entry,
    client_recipients,
    find_user_by_email,
    get_by_name,
    queue_mail,
    record_change,
    require_by_name,
    touch,
)
from tickets.text import fold, unknown_value


def set_priority(session: Session, ctx: Context, ticket: Ticket, priority_name: str, *,
                 by: User | None = None) -> Ticket:
    """Change the priority (case- and accent-insensitive name), written to the history; nobody is
    mailed. Raises ServiceError for an unknown priority, listing the valid ones."""
    priority = require_by_name(session, Priority, priority_name, "prioridad", feminine=True)
    if priority.id == ticket.priority_id:
        return ticket
    record_change(session, ticket, "priority", ticket.priority.name, priority.name, by=by)
    ticket.priority = priority
    ticket.updated_at = utcnow()
    session.flush()
    return ticket


# --- the ticket's data and its form (panel's "Atención / Reclamo / Solicitud", CLI `set`) ----------

#: Fields `set_fields` changes by catalog name: (model, Ticket attribute, Spanish noun, feminine).
_CATALOG_FIELDS = {
    "type": (TicketType, "type", "tipo de atención", False),
    "category": (Category, "category", "categoría", True),
    "area": (Area, "area", "área", True),
}
#: Free-text fields `set_fields` sets as given (blank clears them), with their maximum length.
TEXT_FIELDS = {"observation": None, "detail": None, "good_description": None, "discharge": None,
               "request_type": 100, "request_detail": None}
#: Fields with a fixed set of values.
CHOICE_FIELDS = {"kind": ("atencion", "reclamo", "solicitud"), "contracted_good": ("producto", "servicio"),
                 "claim_type": ("reclamo", "queja")}
SET_FIELDS = (*_CATALOG_FIELDS, "priority", *CHOICE_FIELDS, *TEXT_FIELDS, "attended_at", "legal_adviser")


def set_fields(session: Session, ctx: Context, ticket: Ticket, *, by: User | None = None,
               **values) -> list[str]:
    """Change the ticket's classification and the fields of its form, each change written to the
    history (field, old, new, who); nobody is mailed (a type change moves the SLA: its days are
    computed from the type when listed).

    Parameters — only the keys given are changed (`SET_FIELDS`):
    ``type``/``category``/``area``/``priority``: catalog names (case and accents ignored;
    category and area may be "" to clear); ``kind``, ``contracted_good``, ``claim_type``: one of
    `CHOICE_FIELDS` ("" clears the last two); text fields (`TEXT_FIELDS`): "" clears;
    ``attended_at``: an aware datetime or None (clears); ``legal_adviser``: a staff email or "".
    Returns: the names of the fields that changed. Raises: FieldError (field, Spanish message) for
    the first bad value, before anything is changed.
    """
    unknown = set(values) - set(SET_FIELDS)
    if unknown:
        raise FieldError(sorted(unknown)[0], "campo desconocido")
    resolved: dict[str, object] = {}
    for name, value in values.items():
        resolved[name] = _resolve_field(session, name, value)
    changed = []
    for name, value in resolved.items():
        if name == "priority":
            before = ticket.priority_id
            set_priority(session, ctx, ticket, value.name, by=by)
            if ticket.priority_id != before:
                changed.append(name)
            continue
        if name in _CATALOG_FIELDS or name == "legal_adviser":
            attr = _CATALOG_FIELDS[name][1] if name in _CATALOG_FIELDS else "legal_adviser"
            old = getattr(ticket, attr)
            old_s = None if old is None else (old.email if name == "legal_adviser" else old.name)
            new_s = None if value is None else (value.email if name == "legal_adviser" else value.name)
            if record_change(session, ticket, name, old_s, new_s, by=by) is not None:
                setattr(ticket, attr, value)
                changed.append(name)
            continue
        old = getattr(ticket, name)
        shown = (lambda v: v.isoformat() if v is not None else None) if name == "attended_at" else (lambda v: v)
        if record_change(session, ticket, name, shown(old), shown(value), by=by) is not None:
            setattr(ticket, name, value)
            changed.append(name)
    if changed:
        ticket.updated_at = utcnow()
        session.flush()
    return changed


def _resolve_field(session: Session, name: str, value):
    """The value `set_fields` stores for ``name``. Raises FieldError."""
    if name == "priority":
        row = get_by_name(session, Priority, value)
        if row is None:
            valid = sorted(session.scalars(select(Priority.name)), key=fold)
            raise FieldError(name, unknown_value("prioridad", value or "", valid, feminine=True))
        return row
    if name in _CATALOG_FIELDS:
        model, _, noun, feminine = _CATALOG_FIELDS[name]
        if not (value or "").strip():
            if name == "type":
                raise FieldError(name, "elija un tipo de atención")
            return None
        row = get_by_name(session, model, value)
        if row is None:
            valid = sorted(session.scalars(select(model.name)), key=fold)
            raise FieldError(name, unknown_value(noun, value, valid, feminine=feminine))
        return row
    if name in CHOICE_FIELDS:
        value = (value or "").strip().lower()
        if not value and name != "kind":
            return None
        if value not in CHOICE_FIELDS[name]:
            raise FieldError(name, f"valor no válido '{value}' (válidos: {', '.join(CHOICE_FIELDS[name])})")
        return value
    if name in TEXT_FIELDS:
        value = (value or "").strip()
        limit = TEXT_FIELDS[name]
        if limit and len(value) > limit:
            raise FieldError(name, f"a lo más {limit} caracteres")
        if name == "detail":
            return value
        return value or None
    if name == "attended_at":
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise FieldError(name, "fecha de atención no válida")
        return value
    # legal_adviser
    if not (value or "").strip():
        return None
    user = find_user_by_email(session, value.strip())
    if user is None:
        raise FieldError(name, f"no existe el usuario activo {value.strip()}")
    return user


def notify_requester(session: Session, ctx: Context, ticket: Ticket, *, title: str, text: str,
                     by: User | None = None) -> int:
    """The seed's "Email" action: a mail with the staff's ``text`` under ``title`` to the
    requester (To) and the ticket's other client addresses (Cc), event ``notification``, queued
    in the outbox; the text is kept in the logbook as a public comment (the mail quotes it).

    Returns: the comment's entry id. Raises: FieldError (``text``: empty; ``to``: the ticket has
    no requester address).
    """
    text = text.strip()
    if not text:
        raise FieldError("text", "escriba el texto del correo")
    to, cc = client_recipients(session, ctx, ticket)
    if not to:
        raise FieldError("to", "la atención no tiene un correo de solicitante")
    entry_id = add_entry(session, ticket, EntryKind.COMMENT, text, public=True,
                         author_user_id=by.id if by else None, author_email=by.email if by else None,
                         author_name=by.name if by else None)
    touch(session, ticket)
    queue_mail(session, ctx, ticket, "notification", to,
               {"code": ticket.code, "entry_id": entry_id, "title": title.strip()[:200]}, cc=cc, automatic=False)
    return entry_id


def attended_datetime(day: date | None, current: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The ``attended_at`` to store for the local date ``day`` (a form's or the CLI's "fecha de
    atención"): the current value when it falls on that date (nothing changes), else noon of
    ``day`` in ``zone``; None clears it."""
    if day is None:
        return None
    if current is not None and current.astimezone(zone).date() == day:
        return current
    return datetime.combine(day, time(12), zone)
