"""Classification of a parsed inbound message: an ordered table of small rules (the "chain").

Each rule answers one question and returns a `Decision` or None (not mine, next rule). The first
rule that returns a Decision wins; `classify` records which rule decided (``Decision.rule``, the
kebab-case name logs and the inbound record show). Rules read the database but never write it:
`mail.inbound.ingest` applies the decision. Order and meaning follow DESIGN.md, "Inbound mail".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from sqlalchemy import bindparam, select, union_all
from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from tickets.codes import find_codes
from tickets.models import InboundMessage, OutboxMessage, Outcome, Ticket, User
from tickets.services import NewTicket, find_user_by_email


@dataclass(frozen=True)
class Rules:
    """What the rules need from the configuration of the mailbox being read."""

    code_prefix: str = "AT"
    own_addresses: frozenset[str] = frozenset()  # exact addresses, lower-case; not whole domains
    max_attachments: int = 50


@dataclass
class Decision:
    """The outcome of one message, the rule that chose it and what the action needs."""

    outcome: Outcome
    rule: str
    reason: str | None = None
    ticket: Ticket | NewTicket | None = None  # NewTicket: one ingest just opened
    staff: User | None = None  # the staff sender, when the sender is a staff user
    data: dict = field(default_factory=dict)


# --- pure predicates --------------------------------------------------------------------------------

AUTO_SUBJECT_RE = re.compile(
    # a known auto-reply label, then ":" or the end of the subject ("Estoy fuera del país, ¿…?" is
    # a client's question, not an auto-reply)
    r"^\s*(respuesta\s+autom[aá]tica|auto(matic|matische)?[\s-]*(reply|response|antwort|respuesta)|"
    r"fuera\s+de\s+(la\s+)?oficina|out\s+of\s+(the\s+)?office(\s+auto\s*reply)?|autoreply|auto|"
    r"r[ée]ponse\s+automatique|absence\s+du\s+bureau|abwesenheitsnotiz|ausencia|ausente|vacaciones|"
    r"vacation)\s*(:|$)|^\s*(out\s+of\s+(the\s+)?office|fuera\s+de\s+(la\s+)?oficina)\s+-",
    re.IGNORECASE,
)
BOUNCE_SENDER_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver(able|ed)|delivery (status notification|failure|has failed)|returned mail|"
    r"mail delivery failed|no se pudo entregar|no entregado|error de entrega|"
    r"notificaci[oó]n de estado de entrega)",
    re.IGNORECASE,
)
FORWARD_SUBJECT_RE = re.compile(r"^\s*(fwd?|rv|tr|wg|reenviado|reenv)\s*:", re.IGNORECASE)
FORWARD_MARKER_RE = re.compile(
    r"^-{2,}\s*(forwarded message|mensaje reenviado|original message|mensaje original)\s*-{2,}",
    re.IGNORECASE | re.MULTILINE)
PREFIX_RE = re.compile(r"^\s*((re|rv|fw|fwd|tr|aw|wg|sv|vs|antw|r)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def header(msg: ParsedMessage, name: str) -> str:
    """The first value of a top-level header, lower-cased and stripped ('' when absent)."""
    values = msg.headers.get(name.lower()) or ()
    return values[0].strip().lower() if values else ""


def is_auto_reply(msg: ParsedMessage) -> str | None:
    """Why this is an automatic message (RFC 3834 and the usual vendor headers), or None.

    Auto-Submitted other than ``no`` (RFC 3834), X-Autoreply, X-Autorespond, Precedence
    bulk/junk/list/auto_reply, List-Id (RFC 2919) or List-Unsubscribe (RFC 2369), Exchange's
    inbox-rule headers, and out-of-office subjects in Spanish and English.
    """
    if any(v.strip().lower() not in {"", "no"} for v in msg.headers.get("auto-submitted", ())):
        return "auto_reply"
    if header(msg, "x-autoreply") or header(msg, "x-autorespond") or header(msg, "x-autoresponder"):
        return "auto_reply"
    if header(msg, "precedence") in {"bulk", "junk", "list", "auto_reply"}:
        return "bulk" if header(msg, "precedence") != "auto_reply" else "auto_reply"
    if header(msg, "list-id") or header(msg, "list-unsubscribe"):
        return "bulk"
    if header(msg, "x-ms-exchange-generated-message-source") or \
            header(msg, "x-ms-exchange-inbox-rules-loop"):
        return "auto_reply"
    subject = msg.subject or ""
    if AUTO_SUBJECT_RE.search(subject) or AUTO_SUBJECT_RE.search(strip_prefixes(subject)):
        return "auto_reply"  # also "RE: Respuesta automática: …" (an auto-reply quoting a reply)
    return None


def is_bounce(msg: ParsedMessage) -> bool:
    """A non-delivery report: a DSN (RFC 3464), a mailer-daemon sender, or a null Return-Path
    (RFC 5321 §4.5.5) with a delivery-failure subject."""
    if msg.is_delivery_report:
        return True
    if msg.from_addr and BOUNCE_SENDER_RE.match(msg.from_addr):
        return True
    return msg.return_path == "" and bool(BOUNCE_SUBJECT_RE.search(msg.subject or ""))


def failed_recipients(raw: bytes) -> list[str]:
    """The Final-Recipient addresses of a DSN whose Action is failed (RFC 3464 §2.3)."""
    found: list[str] = []
    try:
        m = message_from_bytes(raw, policy=policy.compat32)
        for part in m.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            if not blocks:
                text = part.get_payload(decode=True) or b""
                blocks = [message_from_bytes(b) for b in text.split(b"\n\n")]
            for block in blocks:
                action = (block.get("Action") or "").strip().lower()
                rcpt = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
                addr = rcpt.split(";", 1)[-1].strip().strip("<>").lower()
                if addr and action in {"failed", ""} and "@" in addr:
                    found.append(addr)
    except Exception:  # a malformed report still is a bounce; we only lose the address
        return found
    if not found:
        text = raw.decode("utf-8", "replace")
        found = [a.lower() for a in re.findall(r"<([^<>@\s]+@[^<>\s]+)>:", text)]
    return sorted(set(found))


def strip_prefixes(subject: str) -> str:
    """Remove leading Re:/RV:/RE:/Fwd:/TR:/AW: (any case, repeated) from a subject."""
    return PREFIX_RE.sub("", subject or "").strip()


# --- rules that look things up -----------------------------------------------------------------------


_TICKET_BY_CODE = select(Ticket).where(Ticket.code == bindparam("code"))
# a ticket's thread: the messages that came in about it and the ones we sent (RFC 5322 3.6.4)
_THREAD_TICKETS = union_all(
    select(InboundMessage.message_id, InboundMessage.ticket_id)
    .where(InboundMessage.message_id.in_(bindparam("ids", expanding=True)), InboundMessage.ticket_id.is_not(None)),
    select(OutboxMessage.message_id, OutboxMessage.ticket_id)
    .where(OutboxMessage.message_id.in_(bindparam("ids", expanding=True)), OutboxMessage.ticket_id.is_not(None)),
)
_PRIOR_DELIVERY = select(InboundMessage.id, InboundMessage.ticket_id).where(
    InboundMessage.message_id == bindparam("mid"), InboundMessage.body_digest == bindparam("digest"),
    InboundMessage.outcome != Outcome.DUPLICATE.value).limit(1)  # by the message_id index
_OUTBOX_BY_MESSAGE_ID = select(OutboxMessage.id, OutboxMessage.ticket_id).where(
    OutboxMessage.message_id == bindparam("mid")).limit(1)


def find_ticket_by_codes(session: Session, text: str, prefix: str) -> Ticket | None:
    """The first existing ticket whose code is mentioned in ``text``."""
    for code in find_codes(text, prefix):
        t = session.scalar(_TICKET_BY_CODE, {"code": code})
        if t is not None:
            return t
    return None


def find_ticket_by_thread(session: Session, ids) -> Ticket | None:
    """The ticket one of these Message-IDs belongs to (In-Reply-To first, then References, newest)."""
    ids = [i for i in dict.fromkeys(ids) if i][:100]
    if not ids:
        return None
    found = dict(session.connection().execute(_THREAD_TICKETS, {"ids": ids}).all())
    for mid in ids:
        if mid in found:
            return session.get(Ticket, found[mid])
    return None


def plus_address_ticket(session: Session, msg: ParsedMessage, prefix: str) -> Ticket | None:
    """A ticket named in a plus-address we received at: ``postventa+AT-000123@…``."""
    for addr in (*msg.to, *msg.cc, *msg.delivered_to):
        local = addr.partition("@")[0]
        if "+" in local:
            t = find_ticket_by_codes(session, local.partition("+")[2], prefix)
            if t is not None:
                return t
    return None


def referenced_ticket(session: Session, msg: ParsedMessage, prefix: str) -> Ticket | None:
    """The ticket this message refers to: code in the subject, else thread ids, else plus-address."""
    return (find_ticket_by_codes(session, msg.subject, prefix)
            or find_ticket_by_thread(session, [*msg.in_reply_to, *reversed(msg.references)])
            or plus_address_ticket(session, msg, prefix))


def rule_duplicate(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """Seen before: the same Message-ID with the same normalised body (a re-delivery)."""
    if not msg.message_id:
        return None
    prior = session.connection().execute(
        _PRIOR_DELIVERY, {"mid": msg.message_id, "digest": msg.body_digest}).first()
    if prior is None:
        return None
    return Decision(Outcome.DUPLICATE, "duplicate", f"duplicate of inbound #{prior.id}",
                    ticket=session.get(Ticket, prior.ticket_id) if prior.ticket_id else None)


def rule_no_sender(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """No usable From address: held (we could not answer, nor tell who wrote)."""
    if not msg.from_addr or "@" not in msg.from_addr:
        return Decision(Outcome.HELD, "no-sender", "no_sender")
    return None


def rule_limits(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """More attachments than allowed: held."""
    if len(msg.attachments) > rules.max_attachments:
        return Decision(Outcome.HELD, "limits", "too_many_attachments",
                        data={"count": len(msg.attachments)})
    return None


def rule_own_address(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """Sent by one of our own addresses (exactly, not the domain): a loop, ignored."""
    if msg.from_addr in rules.own_addresses:
        return Decision(Outcome.IGNORED, "own-address", "own_address")
    return None


def rule_bounce(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """A bounce: tied to the outbound message it returns (marked bounced) and its ticket."""
    if not is_bounce(msg):
        return None
    original = msg.report_original
    outbox = None
    ticket = None
    if original is not None and original.message_id:
        outbox = session.connection().execute(_OUTBOX_BY_MESSAGE_ID, {"mid": original.message_id}).first()
    if outbox is not None and outbox.ticket_id:
        ticket = session.get(Ticket, outbox.ticket_id)
    if ticket is None and original is not None:
        ticket = referenced_ticket(session, original, rules.code_prefix)
    if ticket is None:
        ticket = find_ticket_by_codes(session, msg.subject, rules.code_prefix)
    return Decision(Outcome.IGNORED, "bounce", "bounce", ticket=ticket,
                    data={"outbox_id": outbox.id if outbox else None,
                          "failed": failed_recipients(msg.raw)})


def rule_auto_reply(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """An auto-reply or bulk mail: ignored; the record names the ticket it refers to, if any."""
    why = is_auto_reply(msg)
    if why is None:
        return None
    return Decision(Outcome.IGNORED, "auto-reply", why,
                    ticket=referenced_ticket(session, msg, rules.code_prefix))


def rule_staff_forward(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """A client's mail forwarded by a staff user (inline or attached), not about a known ticket:
    a new ticket for the original client, registered by the staff user."""
    if not msg.forwarded:
        return None
    staff = find_user_by_email(session, msg.from_addr)
    if staff is None:
        return None
    fwd = msg.forwarded[0]
    if not (fwd.attached or FORWARD_SUBJECT_RE.match(msg.subject or "") or FORWARD_MARKER_RE.search(msg.text)):
        return None  # an ordinary reply whose quoted header block looks like a forward
    if not fwd.from_addr or find_user_by_email(session, fwd.from_addr) is not None:
        return None
    if fwd.from_addr in rules.own_addresses:
        return None
    if referenced_ticket(session, msg, rules.code_prefix) is not None:
        return None
    return Decision(Outcome.TICKET, "staff-forward", "forwarded_by_staff", staff=staff,
                    data={"forwarded": fwd})


def rule_matches_ticket(session: Session, msg: ParsedMessage, rules: Rules) -> Decision | None:
    """A reply to a known ticket: a comment from an allowed sender, else held for review."""
    from tickets.services import is_allowed_sender

    ticket = referenced_ticket(session, msg, rules.code_prefix)
    if ticket is None:
        return None
    staff = find_user_by_email(session, msg.from_addr)
    if staff is None and not is_allowed_sender(session, ticket, msg.from_addr):
        return Decision(Outcome.HELD, "matches-ticket", "sender_not_allowed", ticket=ticket)
    return Decision(Outcome.COMMENT, "matches-ticket", None, ticket=ticket, staff=staff)


def rule_new_ticket(session: Session, msg: ParsedMessage, rules: Rules) -> Decision:
    """Everything else: a new ticket."""
    return Decision(Outcome.TICKET, "new-ticket", None)


#: The built-in chain, in DESIGN.md's order.
RULES = (
    rule_duplicate,
    rule_no_sender,
    rule_limits,
    rule_own_address,
    rule_bounce,
    rule_auto_reply,
    rule_staff_forward,
    rule_matches_ticket,
    rule_new_ticket,
)


def classify(session: Session, msg: ParsedMessage, rules: Rules) -> Decision:
    """Walk `RULES` and return the first decision (the last rule always decides)."""
    for rule in RULES:
        decision = rule(session, msg, rules)
        if decision is not None:
            return decision
    raise AssertionError("rule_new_ticket always decides")  # pragma: no cover
