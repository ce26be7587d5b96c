"""A bounce: a non-delivery report, tied to the outbound message it returns (DESIGN step 3).

A DSN (multipart/report, RFC 3462/6522 with message/delivery-status, RFC 3464), a mailer-daemon
sender, or a null Return-Path (RFC 5321 section 4.5.5) with a delivery-failure subject. It is
ignored — never a comment, a ticket or an answer — and the returned outbox row is marked bounced.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import BouncePayload, Decision, RuleSettings
from mail.inbound.rules.lookups import find_ticket_by_codes, referenced_ticket
from tickets.models import OutboxMessage, Outcome, Ticket

name = "bounce"
description = "A delivery failure report: ignored; the returned mail is marked bounced."

BOUNCE_SENDER_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver(able|ed)|delivery (status notification|failure|has failed)|returned mail|mail delivery failed"
    r"|no se pudo entregar|no entregado|error de entrega|notificaci[oó]n de estado de entrega)", re.IGNORECASE)
_OUTBOX_BY_MESSAGE_ID = select(OutboxMessage.id, OutboxMessage.ticket_id).where(
    OutboxMessage.message_id == bindparam("mid")).limit(1)


def is_bounce(msg: ParsedMessage) -> bool:
    """See the module docstring."""
    if msg.is_delivery_report or (msg.from_addr and BOUNCE_SENDER_RE.match(msg.from_addr)):
        return True
    return msg.return_path == "" and bool(BOUNCE_SUBJECT_RE.search(msg.subject or ""))


def failed_recipients(raw: bytes) -> list[str]:
    """The Final-Recipient addresses of a DSN whose Action is failed (RFC 3464 section 2.3), sorted;
    for a report without a delivery-status part, the "<addr>:" lines of its text (Postfix)."""
    found: list[str] = []
    try:
        for part in message_from_bytes(raw, policy=policy.compat32).walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            if not blocks:
                blocks = [message_from_bytes(b) for b in (part.get_payload(decode=True) or b"").split(b"\n\n")]
            for block in blocks:
                action = (block.get("Action") or "").strip().lower()
                rcpt = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
                addr = rcpt.split(";", 1)[-1].strip().strip("<>").lower()
                if addr and action in {"failed", ""} and "@" in addr:
                    found.append(addr)
    except Exception:  # noqa: BLE001 - a malformed report still is a bounce; we only lose the address
        return sorted(set(found))
    if not found:
        found = [a.lower() for a in re.findall(r"<([^<>@\s]+@[^<>\s]+)>:", raw.decode("utf-8", "replace"))]
    return sorted(set(found))


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if not is_bounce(msg):
        return None
    original = msg.report_original
    outbox = None
    if original is not None and original.message_id:
        outbox = session.connection().execute(_OUTBOX_BY_MESSAGE_ID, {"mid": original.message_id}).first()
    ticket = session.get(Ticket, outbox.ticket_id) if outbox is not None and outbox.ticket_id else None
    if ticket is None and original is not None:
        ticket = referenced_ticket(session, original, settings.code_prefix)
    if ticket is None:
        ticket = find_ticket_by_codes(session, msg.subject, settings.code_prefix)
    return Decision(Outcome.IGNORED, name, "bounce", ticket=ticket,
                    payload=BouncePayload(outbox.id if outbox else None, tuple(failed_recipients(msg.raw))))
