"""A bounce: a non-delivery report, tied to the copies of our mail it returns (DESIGN step 3).

A DSN (multipart/report, RFC 3462/6522 with message/delivery-status, RFC 3464), a mailer-daemon
sender, or a null Return-Path (RFC 5321 section 4.5.5) with a delivery-failure subject. It is
ignored — never a comment, a ticket or an answer. The payload names each copy of ours that the
report says failed for good (`mail.inbound.delivery_report`): the outbox rows with the returned
Message-ID and the failed recipient; `mail.inbound.apply.note_bounce` marks them bounced.

A report that only tells of a delay, a delivery or a relay (every DSN Action other than failed,
or a plain-text warning that speaks of trying again) is no bounce: ignored as a
``delivery_notice``, nothing marked. A returned Message-ID that is not ours matches nothing, and
a report that does not come from the mail system (`from_the_mail_system`) marks nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.inbound import delivery_report as report
from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import BouncedCopy, BouncePayload, Decision, RuleSettings
from mail.inbound.rules.lookups import find_ticket_by_codes, referenced_ticket
from tickets.models import OutboxMessage, Outcome, Ticket

name = "bounce"
description = "A delivery report: ignored; the copies of our mail it says failed are marked bounced."

BOUNCE_SENDER_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver(able|ed)|delivery (status notification|failure|has failed)|returned mail|mail delivery failed"
    r"|no se pudo entregar|no entregado|error de entrega|notificaci[oó]n de estado de entrega)", re.IGNORECASE)
_COPIES = select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.ticket_id).where(
    OutboxMessage.message_id == bindparam("mid")).order_by(OutboxMessage.id)


def is_bounce(msg: ParsedMessage) -> bool:
    """See the module docstring."""
    if msg.is_delivery_report or (msg.from_addr and BOUNCE_SENDER_RE.match(msg.from_addr)):
        return True
    return msg.return_path == "" and bool(BOUNCE_SUBJECT_RE.search(msg.subject or ""))


def failed_copies(session: Session, msg: ParsedMessage, settings: RuleSettings) -> tuple[list, list[BouncedCopy]]:
    """The copies (id, recipient, ticket_id rows) of the first returned Message-ID of ours that the
    outbox knows, and those of them the report says failed for good (DSN blocks, else the words of
    a plain-text report). ([], []) when no returned Message-ID is ours."""
    blocks = report.dsn_recipients(msg)
    for mid in report.our_message_ids(msg, settings.mail_domain):
        copies = session.connection().execute(_COPIES, {"mid": mid}).all()
        if not copies:
            continue
        by_rcpt = {c.recipient: c for c in copies}
        if blocks:
            failures = [f for f in (b.failure for b in blocks) if f is not None]
        else:
            failures = list(report.text_failures(report.report_words(msg), by_rcpt))
        failed: dict[int, BouncedCopy] = {}
        for f in failures:
            copy = next((by_rcpt[a] for a in f.addresses if a in by_rcpt), None)
            if copy is not None and copy.id not in failed:
                failed[copy.id] = BouncedCopy(copy.id, copy.recipient, f.status, f.diagnostic)
        return copies, list(failed.values())
    return [], []


def from_the_mail_system(msg: ParsedMessage) -> bool:
    """Sent as the mail system sends reports: a null reverse-path (RFC 5321 §4.5.5, RFC 3464 §2)
    or a mailer-daemon/postmaster sender. A report from anyone else (a client who writes a
    "DSN" naming another recipient of our mail) flags nothing."""
    return msg.return_path == "" or bool(msg.from_addr and BOUNCE_SENDER_RE.match(msg.from_addr))


def is_notice(msg: ParsedMessage) -> bool:
    """A report of a delay, a delivery or a relay, not of a failure: DSN blocks none of which is
    failed, or (without DSN blocks) words of a delay."""
    blocks = report.dsn_recipients(msg)
    if blocks:
        return not any(b.action in ("failed", "") for b in blocks)
    return report.is_delay_notice(report.report_words(msg))


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if not is_bounce(msg):
        return None
    notice = is_notice(msg)
    copies, failed = ([], []) if notice else failed_copies(session, msg, settings)
    if failed and not from_the_mail_system(msg):
        failed = []  # anyone can write a report: only the mail system's flags an address
    ticket_id = next((c.ticket_id for c in copies if c.ticket_id), None)
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    original = msg.report_original
    if ticket is None and original is not None:
        ticket = referenced_ticket(session, original, settings.code_prefix)
    if ticket is None:
        ticket = find_ticket_by_codes(session, msg.subject, settings.code_prefix)
    if notice:
        return Decision(Outcome.IGNORED, name, "delivery_notice", ticket=ticket)
    return Decision(Outcome.IGNORED, name, "bounce", ticket=ticket, payload=BouncePayload(tuple(failed)))
