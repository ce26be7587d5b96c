"""Releasing a held message ("Correos retenidos"): staff decided it belongs, so it becomes a comment
or a new ticket through the same handlers as any other message, and the record says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mail.inbound.apply import Record, Result, apply, record_text
from mail.inbound.parse import UnparseableMessage, parse_message
from mail.inbound.rules import CommentPayload, Decision, TicketPayload, prepare
from mail.inbound.rules.new_ticket import requester_of
from tickets import services, storage
from tickets.held import state_label
from tickets.models import HeldMessage, InboundMessage, Outcome, Ticket, utcnow
from tickets.services import Context

if TYPE_CHECKING:
    from mail.inbound.ingest import MailboxRules

__all__ = ["ReleaseError", "release_held"]

class ReleaseError(ValueError):
    """A held message cannot be released (already resolved, unparseable); the message is user-facing."""


def release_held(session: Session, ctx: Context, mbox: MailboxRules, held: HeldMessage,
                 to_ticket: Ticket | None = None) -> Result:
    """Release a held message: a comment on ``to_ticket`` (or on the ticket it named, its sender then
    allowed on that ticket), else a new ticket with an acknowledgement. Raises ReleaseError."""
    if held.state != "held":
        raise ReleaseError(f"el correo retenido {held.id} ya fue {state_label(held.state)}")
    try:
        if held.raw is None:
            raise UnparseableMessage("demasiado grande para procesarlo; el original está en el almacén")
        msg = prepare(parse_message(held.raw), mbox.rules)
    except UnparseableMessage as exc:
        raise ReleaseError(f"el correo retenido {held.id} no se puede interpretar: {exc}") from exc
    if not msg.from_addr:
        raise ReleaseError(f"el correo retenido {held.id} no tiene remitente")
    inbound = held.inbound or InboundMessage(
        mailbox="held", raw_sha256=storage.sha256_hex(held.raw), raw=held.raw, raw_size=len(held.raw),
        received_at=held.received_at, outcome=Outcome.HELD.value)
    if inbound.id is None:
        session.add(inbound)
        session.flush()
    reason = f"released_from_held_{held.id}"
    ticket = to_ticket or (session.get(Ticket, held.ticket_id) if held.ticket_id else None)
    if ticket is not None:
        staff = services.find_user_by_email(session, msg.from_addr)
        if staff is None:
            services.add_participants(session, ticket, [msg.from_addr])
        decision = Decision(Outcome.COMMENT, "released", reason, ticket=ticket, payload=CommentPayload(author=staff))
    else:
        decision = Decision(Outcome.TICKET, "released", reason,
                            payload=TicketPayload(requester_of(session, msg, mbox.rules)))
    result = apply(session, ctx, mbox.defaults, mbox.rules.own_addresses, msg, decision,
                   Record(inbound.id, inbound.mailbox, inbound.received_at), held.raw)
    inbound.text, inbound.outcome, inbound.reason = record_text(msg, decision), decision.outcome.value, reason
    inbound.ticket_id = held.ticket_id = result.id
    held.state, held.resolved_at = "released", utcnow()
    session.flush()
    return Result(decision.outcome, decision.rule, reason, result.code, inbound.id)
