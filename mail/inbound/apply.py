"""Carrying out a rule chain's decision through the ticket services (GNU Mailman's handlers).

Each function does one effect inside the caller's transaction and returns the ticket it touched;
none changes the decision. The services write the logbook and the outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from mail.inbound.delivery_report import describe
from mail.inbound.markers import REPLY_PREFIX_RE
from mail.inbound.parse import ParsedMessage
from mail.inbound.rules import BouncePayload, CommentPayload, Decision, ForwardPayload, HeldPayload, TicketPayload
from mail.inbound.rules.calendar_reply import CalendarReplyPayload
from mail.inbound.staff_reply import StaffReply
from tickets import edits, outbox, services
from tickets.models import EntryKind, HeldMessage, OutboxMessage, Outcome, Ticket, User
from tickets.services import Context, NewTicket, ResolvedDefaults, TicketDefaults

__all__ = ["Record", "Result", "apply", "clean_text", "record_text", "subject_of_raw"]

#: Longest detail or comment kept in the database (the raw message is kept whole).
MAX_TEXT_CHARS = 200_000
#: Text kept on the inbound record itself, for review and search.
RECORD_TEXT_CHARS = 5_000

_INSERT_HELD = insert(HeldMessage)


@dataclass(frozen=True)
class Result:
    """What happened to one message: outcome, rule, reason, ticket code, inbound record id;
    ``already_recorded`` when the same mailbox + UIDVALIDITY + UID had been processed before."""

    outcome: Outcome
    rule: str
    reason: str | None
    code: str | None
    inbound_id: int | None
    already_recorded: bool = False


@dataclass(frozen=True)
class Record:
    """The inbound record being written: its id, mailbox and receive time (UTC)."""

    id: int
    mailbox: str
    received_at: datetime


def clean_text(text: str | None) -> str:
    """Text safe for every database: no NULs, surrounding blanks trimmed, at most `MAX_TEXT_CHARS`."""
    return (text or "").replace("\x00", "").strip()[:MAX_TEXT_CHARS]


def subject_of_raw(raw: bytes) -> str | None:
    """The raw Subject line, printable characters only (for messages that could not be parsed)."""
    for line in raw[:65536].splitlines():
        if not line.strip():
            break
        if line.lower().startswith(b"subject:"):
            text = line[8:].decode("utf-8", "replace")
            return "".join(ch for ch in text if ch.isprintable()).strip()[:500] or None
    return None


def record_text(msg: ParsedMessage | None, decision: Decision) -> str | None:
    """What the inbound record keeps of the message: a comment's new text, a staff forward's
    client text, else the whole text; at most `RECORD_TEXT_CHARS` characters."""
    if msg is None:
        return None
    if isinstance(decision.payload, ForwardPayload):
        text = decision.payload.forwarded.text
    elif decision.outcome is Outcome.COMMENT or (isinstance(decision.payload, TicketPayload)
                                                  and decision.payload.linked_from is not None):
        text = msg.new_text
    else:
        text = msg.text
    return clean_text(text)[:RECORD_TEXT_CHARS]


def hold(session: Session, msg: ParsedMessage | None, decision: Decision, record: Record, raw: bytes,
         *, raw_kept_elsewhere: bool = False) -> None:
    """Keep the message for review in the panel ("Correos retenidos"), raw bytes included (a
    message over the size limit stays in the content store); nobody is mailed."""
    payload = decision.payload if isinstance(decision.payload, HeldPayload) else HeldPayload()
    session.connection().execute(_INSERT_HELD, {
        "inbound_id": record.id, "reason": decision.reason or decision.rule, "detail": payload.detail,
        "from_addr": msg.from_addr if msg else None,
        "subject": msg.subject[:2000] if msg else subject_of_raw(raw),
        "received_at": record.received_at, "text": clean_text(msg.text) if msg else None,
        "raw": None if raw_kept_elsewhere else raw,
        "ticket_id": decision.ticket.id if decision.ticket else None})


def note_bounce(session: Session, decision: Decision, received_at: datetime) -> list[OutboxMessage]:
    """Mark each copy the report says failed (`BouncePayload`) bounced, flag its address
    (`tickets.outbox.flag_bounced`: status and diagnostic kept in ``last_error``), and leave one
    note on its ticket naming the addresses and the diagnostics. Nothing is mailed and nothing
    else changes. A copy already bounced, or queued again (pending, sending), is left alone: a
    second report of the same copy changes nothing, and writes no second note. Returns the rows
    marked now."""
    payload = decision.payload
    assert isinstance(payload, BouncePayload)
    marked: list[OutboxMessage] = []
    for copy in payload.copies:
        row = session.get(OutboxMessage, copy.outbox_id)
        if row is None or row.state in ("bounced", "pending", "sending"):
            continue
        marked.append(outbox.flag_bounced(session, row.id, describe(copy.status, copy.diagnostic)))
    ticket = decision.ticket
    if not marked or ticket is None:
        return marked
    events = dict.fromkeys(outbox.EVENT_LABELS.get(r.event, r.event) for r in marked)
    who = "; a ".join(f"{r.recipient}: {r.last_error}" for r in marked)
    services.add_entry(session, ticket, EntryKind.NOTE,
                       f"No se pudo entregar el correo «{', '.join(events)}» a {who} (rebote).", at=received_at)
    return marked


def note_calendar_reply(session: Session, ctx: Context, decision: Decision, record: Record) -> None:
    """An attendee's answer to our invitation, recorded on the event (`tickets.events.record_reply`:
    their PARTSTAT and a logbook ``event`` entry linked to this message), never as a comment."""
    from zoneinfo import ZoneInfo

    from tickets.events import record_reply

    reply = decision.payload
    assert isinstance(reply, CalendarReplyPayload)
    record_reply(session, reply.uid, reply.attendee, reply.partstat, reply.sequence, zone=ZoneInfo(ctx.timezone),
                 name=reply.name, at=record.received_at, inbound_id=record.id)


def open_ticket(session: Session, ctx: Context, defaults: TicketDefaults | ResolvedDefaults, own: frozenset[str],
                msg: ParsedMessage, decision: Decision, record: Record) -> NewTicket:
    """A new ticket from the message; for a staff forward, from the client's forwarded mail, with
    the staff member's own words as an internal comment."""
    payload = decision.payload
    if isinstance(payload, ForwardPayload):
        original, staff = payload.forwarded, payload.staff
        ticket = services.open_ticket_row(
            session, ctx, subject=original.subject or REPLY_PREFIX_RE.sub("", msg.subject).strip(),
            detail=clean_text(original.text), requester_email=original.from_addr,
            requester_name=original.from_name, requested_at=record.received_at, mailbox=record.mailbox,
            defaults_=defaults, registered_by=staff, files=list(msg.attachments), inbound_id=record.id)
        if words := clean_text(msg.forwarder_text):
            services.add_entry(session, ticket, EntryKind.COMMENT, words, author_user_id=staff.id,
                               author_email=staff.email, author_name=staff.name, public=False,
                               inbound_id=record.id)
        return ticket
    assert isinstance(payload, TicketPayload)
    linked = payload.linked_from
    participants = [a for a in (msg.cc if linked else (*msg.to, *msg.cc)) if a not in own]
    return services.open_ticket_row(
        session, ctx, subject=msg.subject, detail=clean_text(msg.new_text if linked else msg.text),
        requester_email=payload.requester.email, requester_name=payload.requester.name,
        requested_at=record.received_at, mailbox=record.mailbox, defaults_=defaults, files=list(msg.attachments),
        participants=participants, inbound_id=record.id, linked_from=linked)


def comment(session: Session, ctx: Context, own: frozenset[str], msg: ParsedMessage, decision: Decision,
            record: Record) -> Ticket:
    """A comment on the decision's ticket with the reply's new text only; a client's Cc joins the
    thread (they may write too); a client's reply reopens an attended or closed ticket. A staff
    reply with command lines is `staff_reply`'s."""
    payload = decision.payload if isinstance(decision.payload, CommentPayload) else CommentPayload()
    ticket = decision.ticket
    if payload.author is not None and payload.staff_reply is not None:
        return staff_reply(session, ctx, msg, ticket, payload.author, payload.staff_reply, record)
    if payload.author is None:
        services.add_participants(session, ticket, [a for a in msg.cc if a not in own])
    services.add_comment(session, ctx, ticket, text=clean_text(msg.new_text) or "(sin texto)",
                         author_user=payload.author, author_email=msg.from_addr, author_name=msg.from_name,
                         inbound_id=record.id, files=list(msg.attachments), reopen=True, at=record.received_at)
    return ticket


def staff_reply(session: Session, ctx: Context, msg: ParsedMessage, ticket: Ticket, staff: User,
                reply: StaffReply, record: Record) -> Ticket:
    """A staff reply with commands: its text (without the command lines) as a comment, then every
    command through the services — or, when refused, none of them.

    Accepted: the comment (public with ``#publico``, then mailed to the requester by
    `services.add_comment`), then the assignment, the priority and the status, each by ``staff``
    (history entries, the assignment and status mails as from the panel). The reply was checked in
    full beforehand (`mail.inbound.staff_reply`), and all of it runs in the message's transaction:
    a failure rolls every change back. Refused: an internal comment with the text, a note naming
    the refused commands and why, and a ``commands_refused`` mail to the staff member's own
    address (context: ``code``, ``errors``, ``commands`` as written).
    """
    text, files = clean_text(reply.text), list(msg.attachments)
    public = reply.accepted and reply.public
    if text or files:
        services.add_comment(session, ctx, ticket, text=text or "(sin texto)", author_user=staff,
                             public=public, inbound_id=record.id, files=files, reopen=False,
                             at=record.received_at)
    if not reply.accepted:
        services.add_entry(session, ticket, EntryKind.NOTE,
                           f"Comandos por correo de {staff.name} no aplicados ({'; '.join(reply.written)}): "
                           + "; ".join(reply.errors),
                           author_user_id=staff.id, author_email=staff.email, author_name=staff.name,
                           public=False, inbound_id=record.id, at=record.received_at)
        services.queue_mail(session, ctx, ticket, "commands_refused", [staff.email],
                            {"code": ticket.code, "errors": list(reply.errors), "commands": reply.written})
        return ticket
    if reply.assignee is not None:
        services.assign(session, ctx, ticket, reply.assignee, by=staff)
    if reply.priority is not None:
        edits.set_priority(session, ctx, ticket, reply.priority, by=staff)
    if reply.status is not None:
        services.set_status(session, ctx, ticket, reply.status, by=staff)
    return ticket


def apply(session: Session, ctx: Context, defaults: TicketDefaults | ResolvedDefaults, own: frozenset[str],
          msg: ParsedMessage | None, decision: Decision, record: Record, raw: bytes, *,
          raw_kept_elsewhere: bool = False) -> Ticket | NewTicket | None:
    """Carry out ``decision``; returns the ticket it opened or touched (None for none).

    ``defaults``: the mailbox's defaults for new tickets; ``own``: our own addresses (never
    participants of a thread, never mailed).
    """
    if not own <= ctx.own_addresses:
        ctx = replace(ctx, own_addresses=ctx.own_addresses | own)
    if decision.outcome is Outcome.HELD:
        hold(session, msg, decision, record, raw, raw_kept_elsewhere=raw_kept_elsewhere)
    elif decision.outcome is Outcome.IGNORED and isinstance(decision.payload, BouncePayload):
        note_bounce(session, decision, record.received_at)
    elif decision.outcome is Outcome.IGNORED and isinstance(decision.payload, CalendarReplyPayload):
        note_calendar_reply(session, ctx, decision, record)
    elif decision.outcome is Outcome.TICKET:
        return open_ticket(session, ctx, defaults, own, msg, decision, record)
    elif decision.outcome is Outcome.COMMENT:
        return comment(session, ctx, own, msg, decision, record)
    return decision.ticket
