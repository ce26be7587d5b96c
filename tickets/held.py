"""Held messages ("Correos retenidos"): look them up, list them, discard one.

Releasing one runs it through the mail pipeline (``mail.inbound.ingest.release_held``); discarding
is a domain decision and lives here. Functions work inside the caller's transaction, never commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import EntryKind, HeldMessage, Ticket, User, utcnow
from tickets.services import ServiceError, add_entry

HELD, RELEASED, DISCARDED = "held", "released", "discarded"

STATE_LABELS = {HELD: "retenido", RELEASED: "liberado", DISCARDED: "descartado"}
"""What a held message's state is called in the users' words."""

REASON_LABELS = {
    "sender_not_allowed": "remitente no autorizado", "unparseable": "no se pudo leer",
    "no_sender": "sin remitente", "too_large": "demasiado grande",
    "too_many_attachments": "demasiados adjuntos", "processing_error": "error al procesar",
    "calendar_unknown_event": "respuesta de calendario a un evento desconocido",
    "calendar_unknown_attendee": "respuesta de calendario de alguien no invitado",
    "calendar_reply_not_from_attendee": "respuesta de calendario enviada por otra persona",
    "calendar_reply_unknown_answer": "respuesta de calendario que no se sabe anotar",
}
"""What the held reasons mean, in the users' words."""


def state_label(state: str) -> str:
    """The Spanish name of a held message's state (the code itself when unknown)."""
    return STATE_LABELS.get(state, state)


def get_held(session: Session, held_id: int) -> HeldMessage:
    """The held message with this id. Raises ServiceError when there is none."""
    row = session.get(HeldMessage, held_id)
    if row is None:
        raise ServiceError(f"no existe el correo retenido {held_id}")
    return row


def get_pending_held(session: Session, held_id: int) -> HeldMessage:
    """The held message with this id, still waiting for a decision.

    Raises: ServiceError when there is none, or when it was already released or discarded
    ("el correo retenido 7 ya fue liberado").
    """
    row = get_held(session, held_id)
    if row.state != HELD:
        raise ServiceError(f"el correo retenido {held_id} ya fue {state_label(row.state)}")
    return row


def list_held(session: Session, *, include_resolved: bool = False) -> list[HeldMessage]:
    """Held messages, oldest first: those waiting for a decision, or all with ``include_resolved``."""
    stmt = select(HeldMessage).order_by(HeldMessage.id)
    if not include_resolved:
        stmt = stmt.where(HeldMessage.state == HELD)
    return list(session.scalars(stmt))


def discard_held(session: Session, held_id: int, by: User | None = None) -> HeldMessage:
    """Discard a held message: its state becomes ``discarded`` and ``resolved_at`` now (UTC); the
    record and its raw bytes are kept. When it named a ticket, an internal note on that ticket's
    logbook says so (and who, when ``by`` is given).

    Returns: the held message, flushed. Raises: ServiceError as `get_pending_held`.
    """
    row = get_pending_held(session, held_id)
    row.state = DISCARDED
    row.resolved_at = utcnow()
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    if ticket is not None:
        sender = row.from_addr or "remitente desconocido"
        add_entry(session, ticket, EntryKind.NOTE,
                  f"Correo retenido {row.id} descartado ({sender}: {row.subject or '(sin asunto)'})",
                  author_user_id=by.id if by else None, author_email=by.email if by else None,
                  author_name=by.name if by else None, public=False)
    session.flush()
    return row
