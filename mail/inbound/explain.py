"""How one message is read and what the rule chain would decide, writing nothing (`atencion parse`).

The tool an admin uses to see why a mail became what it became: the same parse, the same rules on
the same database, in a transaction that is rolled back.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.ingest import MailboxRules
from mail.inbound.parse import ParsedMessage, UnparseableMessage, parse_message
from mail.inbound.rules import Decision, ForwardPayload, TicketPayload, classify, prepare

__all__ = ["explain"]


def _requester(msg: ParsedMessage, decision: Decision) -> str | None:
    """Who the mail is for as the system reads it: a new ticket's requester, a staff forward's
    client, else the sender (after our group's From rewrite is undone)."""
    if isinstance(decision.payload, TicketPayload):
        return decision.payload.requester.email or None
    if isinstance(decision.payload, ForwardPayload):
        return decision.payload.forwarded.from_addr
    return msg.from_addr


def explain(session: Session, raw: bytes, mbox: MailboxRules) -> dict:
    """The reading and the decision for ``raw``, as a JSON-ready dict with the keys of DESIGN's
    ``parse --json`` (but ``file``): message_id, from, from_name, requester, reply_to, subject, text,
    new_text, attachments (name, content_type, size, inline), outcome, reason, ticket (a code or None),
    and rule. Reads the database through ``session``; the caller rolls it back.
    """
    if len(raw) > mbox.max_message_bytes:
        return _unread("too_large", "limits")
    try:
        msg = prepare(parse_message(raw), mbox.rules)
    except UnparseableMessage:
        return _unread("unparseable", "unparseable")
    decision = classify(session, msg, mbox.rules)
    return {
        "message_id": msg.message_id, "from": msg.from_addr, "from_name": msg.from_name,
        "requester": _requester(msg, decision), "reply_to": list(msg.reply_to), "subject": msg.subject,
        "text": msg.text, "new_text": msg.new_text,
        "attachments": [{"name": a.filename, "content_type": a.content_type, "size": len(a.data),
                         "inline": a.inline} for a in msg.attachments],
        "outcome": decision.outcome.value, "reason": decision.reason,
        "ticket": decision.ticket.code if decision.ticket is not None else None, "rule": decision.rule,
    }


def _unread(reason: str, rule: str) -> dict:
    """A message held before it could be read."""
    return {"message_id": None, "from": None, "from_name": "", "requester": None, "reply_to": [],
            "subject": "", "text": "", "new_text": "", "attachments": [], "outcome": "held",
            "reason": reason, "ticket": None, "rule": rule}
