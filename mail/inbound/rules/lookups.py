"""Look-ups the rules share: which ticket a message refers to (DESIGN step 5) and who a sender is."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select, union_all
from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from tickets.codes import find_codes
from tickets.models import ClientEmail, InboundMessage, OutboxMessage, Ticket

__all__ = ["find_ticket_by_codes", "find_ticket_by_thread", "is_known_client", "plus_address_ticket",
           "referenced_ticket"]

#: Most Message-IDs of a References header looked at (the newest ones).
MAX_THREAD_IDS = 100

_TICKET_BY_CODE = select(Ticket).where(Ticket.code == bindparam("code"))
# a ticket's thread: the messages that came in about it and the ones we sent (RFC 5322 3.6.4)
_THREAD_TICKETS = union_all(
    select(InboundMessage.message_id, InboundMessage.ticket_id)
    .where(InboundMessage.message_id.in_(bindparam("ids", expanding=True)), InboundMessage.ticket_id.is_not(None)),
    select(OutboxMessage.message_id, OutboxMessage.ticket_id)
    .where(OutboxMessage.message_id.in_(bindparam("ids", expanding=True)), OutboxMessage.ticket_id.is_not(None)),
)
_CLIENT_BY_EMAIL = select(ClientEmail.client_id).where(ClientEmail.email == bindparam("email")).limit(1)


def find_ticket_by_codes(session: Session, text: str, prefix: str) -> Ticket | None:
    """The first existing ticket whose code ``text`` mentions (tolerant: `tickets.codes.find_codes`)."""
    for code in find_codes(text, prefix):
        ticket = session.scalar(_TICKET_BY_CODE, {"code": code})
        if ticket is not None:
            return ticket
    return None


def find_ticket_by_thread(session: Session, ids: Iterable[str]) -> Ticket | None:
    """The ticket one of these Message-IDs belongs to, the first id that has one winning
    (pass In-Reply-To first, then References newest first)."""
    ids = [i for i in dict.fromkeys(ids) if i][:MAX_THREAD_IDS]
    if not ids:
        return None
    found = dict(session.connection().execute(_THREAD_TICKETS, {"ids": ids}).all())
    return next((session.get(Ticket, found[mid]) for mid in ids if mid in found), None)


def plus_address_ticket(session: Session, msg: ParsedMessage, prefix: str) -> Ticket | None:
    """A ticket named in a plus-address the message was sent to: ``postventa+AT-000123@…``."""
    for addr in (*msg.to, *msg.cc, *msg.delivered_to):
        local = addr.partition("@")[0]
        if "+" in local and (ticket := find_ticket_by_codes(session, local.partition("+")[2], prefix)):
            return ticket
    return None


def referenced_ticket(session: Session, msg: ParsedMessage, prefix: str) -> Ticket | None:
    """The ticket a message refers to: the code in its subject, else its thread (In-Reply-To,
    References), else a plus-address (DESIGN step 5)."""
    return (find_ticket_by_codes(session, msg.subject, prefix)
            or find_ticket_by_thread(session, [*msg.in_reply_to, *reversed(msg.references)])
            or plus_address_ticket(session, msg, prefix))


def is_known_client(session: Session, email: str | None) -> bool:
    """Is ``email`` one of a catalog client's addresses?"""
    return bool(email) and session.connection().execute(_CLIENT_BY_EMAIL, {"email": email}).first() is not None
