"""Seen before: the same Message-ID with the same body once line endings are normalised.

A second delivery with an extra Received header is a duplicate; two different messages that
share a Message-ID are not (DESIGN step 1). The same mailbox + UIDVALIDITY + UID is caught
earlier, by ingest, before the message is parsed again.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, RuleSettings
from tickets.models import InboundMessage, Outcome, Ticket

name = "duplicate"
description = "The same Message-ID and body as a message already recorded: nothing happens."

_PRIOR_DELIVERY = select(InboundMessage.id, InboundMessage.ticket_id).where(
    InboundMessage.message_id == bindparam("mid"), InboundMessage.body_digest == bindparam("digest"),
    InboundMessage.outcome != Outcome.DUPLICATE.value).limit(1)


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if not msg.message_id:
        return None
    prior = session.connection().execute(_PRIOR_DELIVERY, {"mid": msg.message_id, "digest": msg.body_digest}).first()
    if prior is None:
        return None
    ticket = session.get(Ticket, prior.ticket_id) if prior.ticket_id else None
    return Decision(Outcome.DUPLICATE, name, f"duplicate of inbound #{prior.id}", ticket=ticket)
