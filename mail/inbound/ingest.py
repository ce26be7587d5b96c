"""One inbound message, start to end, in one database transaction.

`ingest` parses, classifies, applies the decision through the ticket services (which write the
outbox rows), and records the message with its one outcome and its raw bytes — all in one
transaction (a message over the size limit has its bytes in the content store instead). The
caller (poller or importer) flags or moves the message on the server only after this returns.
Nothing raises out of `ingest` for a bad message: it is held instead.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from mail.inbound.classify import Decision, Rules, classify, strip_prefixes
from mail.inbound.parse import ParsedMessage, UnparseableMessage, parse_message
from mail.inbound.quotes import extract_new_text
from tickets import services, storage
from tickets.models import EntryKind, HeldMessage, InboundMessage, OutboxMessage, Outcome, utcnow
from tickets.services import Context, NewFile, TicketDefaults

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000  # longest detail/comment kept in the database (the raw is kept whole)
RECORD_TEXT_CHARS = 5_000  # text kept on the inbound record itself, for review and search


@dataclass(frozen=True)
class Envelope:
    """Where a message came from: mailbox name, IMAP UIDVALIDITY/UID or a file, receive time (UTC)."""

    mailbox: str
    uidvalidity: int | None = None
    uid: int | None = None
    source_ref: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class MailboxRules:
    """Per mailbox: the classification settings, the defaults of new tickets, size limit."""

    rules: Rules
    defaults: TicketDefaults
    max_message_bytes: int = 25 * 1024 * 1024
    reopen_closed: bool = True


@dataclass
class Record:
    """The inbound record being written: its id, and what the actions read or refine.

    ``received_at`` is UTC; ``text`` is what the record keeps of the message (the new text of a
    reply, the client's mail of a forward), at most `RECORD_TEXT_CHARS` characters.
    """

    id: int
    mailbox: str
    received_at: datetime
    text: str | None = None


@dataclass(frozen=True)
class Result:
    """What happened to one message: outcome, rule, reason, ticket code, inbound record id."""

    outcome: Outcome
    rule: str
    reason: str | None
    code: str | None
    inbound_id: int | None
    already_recorded: bool = False


_RECORDED = select(InboundMessage).where(
    InboundMessage.mailbox == bindparam("mailbox"), InboundMessage.uidvalidity == bindparam("uidvalidity"),
    InboundMessage.uid == bindparam("uid"))


def already_recorded(session: Session, env: Envelope) -> InboundMessage | None:
    """The inbound record for this mailbox + UIDVALIDITY + UID, if it was processed before."""
    if env.uid is None:
        return None
    return session.scalar(_RECORDED, {"mailbox": env.mailbox, "uidvalidity": env.uidvalidity, "uid": env.uid})


def _seen(prior: InboundMessage) -> Result:
    """The outcome a message already recorded got the first time."""
    return Result(Outcome(prior.outcome), "seen-uid", prior.reason,
                  prior.ticket.code if prior.ticket else None, prior.id, True)


_RAW_OF = select(InboundMessage.raw, InboundMessage.raw_sha256).where(InboundMessage.id == bindparam("rid"))


def raw_of(session: Session, ctx: Context, inbound_id: int) -> bytes:
    """The message exactly as received: from its inbound record, or from the content store when
    it was over the size limit. Raises LookupError when there is no such record, FileNotFoundError
    when an oversized message's file is missing from the store.
    """
    row = session.connection().execute(_RAW_OF, {"rid": inbound_id}).first()
    if row is None:
        raise LookupError(f"no inbound message #{inbound_id}")
    return row.raw if row.raw is not None else storage.read_bytes(ctx.storage_dir, row.raw_sha256)


def ingest(sessions: sessionmaker[Session], ctx: Context, mbox: MailboxRules, raw: bytes,
           env: Envelope) -> Result:
    """Process one message in one transaction and return its outcome (never raises for bad mail).

    A message already recorded for the same mailbox + UIDVALIDITY + UID is not processed again
    (``Result.already_recorded``). Raises only for system faults (database down, disk full).
    """
    raw_sha = storage.sha256_hex(raw)
    oversized = len(raw) > mbox.max_message_bytes
    if oversized:  # not for a database row: the content store keeps it
        storage.store_bytes(ctx.storage_dir, raw)
    try:
        return _ingest_once(sessions, ctx, mbox, raw, raw_sha, env, oversized=oversized)
    except IntegrityError:
        # another poller recorded the same UID first: its outcome stands
        with sessions.begin() as session:
            prior = already_recorded(session, env)
            if prior is None:
                raise
            return _seen(prior)
    except (OperationalError, ProgrammingError, InterfaceError):
        raise  # the database is down or not migrated: a system fault, the message stays unread
    except Exception as exc:  # a bug on odd input must not lose the message: hold it
        log.exception("ingest failed for %s uid=%s; holding it", env.mailbox, env.uid)
        return _hold_after_error(sessions, raw, raw_sha, env, exc, keep_raw=not oversized)


_INSERT_INBOUND = insert(InboundMessage)
_UPDATE_INBOUND = update(InboundMessage).where(InboundMessage.id == bindparam("rid"))
_INSERT_HELD = insert(HeldMessage)
_MARK_BOUNCED = update(OutboxMessage).where(OutboxMessage.id == bindparam("oid")).values(state="bounced")


def _ingest_once(sessions, ctx, mbox: MailboxRules, raw: bytes, raw_sha: str, env: Envelope, *,
                 oversized: bool) -> Result:
    received = env.received_at or utcnow()
    msg: ParsedMessage | None = None
    decision: Decision
    if oversized:
        decision = Decision(Outcome.HELD, "limits", "too_large", data={"size": len(raw)})
    else:
        try:
            msg = parse_message(raw, max_attachments=None)
        except UnparseableMessage as exc:
            decision = Decision(Outcome.HELD, "unparseable", "unparseable", data={"error": str(exc)})
    with sessions.begin() as session:
        prior = already_recorded(session, env)  # e.g. committed, then a crash before the flag
        if prior is not None:
            return _seen(prior)
        if msg is not None:
            decision = classify(session, msg, mbox.rules)
        # the record is written first (the logbook links to it), then refined once if an action
        # changed it: Core statements, as for the other append-only rows (tickets.services)
        values = {
            "mailbox": env.mailbox, "uidvalidity": env.uidvalidity, "uid": env.uid,
            "source_ref": env.source_ref, "message_id": msg.message_id if msg else None,
            "body_digest": msg.body_digest if msg else None, "raw_sha256": raw_sha, "raw_size": len(raw),
            "raw": None if oversized else raw,
            "from_addr": msg.from_addr if msg else None, "from_name": msg.from_name[:200] if msg else None,
            "subject": msg.subject[:2000] if msg else None, "received_at": received,
            "outcome": decision.outcome.value, "reason": decision.reason,
            "ticket_id": decision.ticket.id if decision.ticket else None,
            "text": clean_text(msg.text)[:RECORD_TEXT_CHARS] if msg else None,
        }
        conn = session.connection()
        record = Record(conn.execute(_INSERT_INBOUND, values).inserted_primary_key[0], env.mailbox,
                        received, values["text"])
        apply(session, ctx, mbox, msg, decision, record, raw)
        changed = {key: new for key, new in (
            ("ticket_id", decision.ticket.id if decision.ticket else None),
            ("text", record.text), ("reason", decision.reason), ("outcome", decision.outcome.value))
            if new != values[key]}
        if changed:
            conn.execute(_UPDATE_INBOUND, {"rid": record.id, **changed})
    code = decision.ticket.code if decision.ticket else None
    log.info("inbound %s uid=%s -> %s (%s%s) %s", env.mailbox, env.uid, decision.outcome.value,
             decision.rule, f": {decision.reason}" if decision.reason else "", code or "")
    return Result(decision.outcome, decision.rule, decision.reason, code, record.id)


def ingest_oversized(sessions: sessionmaker[Session], ctx: Context, path, env: Envelope) -> Result:
    """Hold a file too large to read into memory: streamed into the content store, never parsed."""
    from pathlib import Path

    raw_sha, size = storage.store_file(ctx.storage_dir, Path(path))
    with open(path, "rb") as fh:
        head = fh.read(65536)
    with sessions.begin() as session:
        record = InboundMessage(mailbox=env.mailbox, uidvalidity=env.uidvalidity, uid=env.uid,
                                source_ref=env.source_ref, raw_sha256=raw_sha, raw_size=size,
                                received_at=env.received_at or utcnow(), outcome=Outcome.HELD.value,
                                reason="too_large", subject=_raw_subject(head))
        session.add(record)
        session.add(HeldMessage(inbound=record, reason="too_large", detail=f"{size} bytes",
                                received_at=record.received_at, raw=None, subject=record.subject))
    return Result(Outcome.HELD, "limits", "too_large", None, record.id)


def _hold_after_error(sessions, raw: bytes, raw_sha: str, env: Envelope, exc: Exception, *,
                      keep_raw: bool) -> Result:
    with sessions.begin() as session:
        record = InboundMessage(mailbox=env.mailbox, uidvalidity=env.uidvalidity, uid=env.uid,
                                source_ref=env.source_ref, raw_sha256=raw_sha, raw_size=len(raw),
                                raw=raw if keep_raw else None,
                                received_at=env.received_at or utcnow(), outcome=Outcome.HELD.value,
                                reason="processing_error")
        session.add(record)
        session.flush()
        session.add(HeldMessage(inbound=record, reason="processing_error",
                                detail=clean_text(f"{type(exc).__name__}: {exc}")[:2000],
                                received_at=record.received_at, raw=raw,
                                subject=_raw_subject(raw)))
        return Result(Outcome.HELD, "error", "processing_error", None, record.id)


def _raw_subject(raw: bytes) -> str | None:
    """The raw Subject line, printable characters only (for messages that could not be parsed)."""
    for line in raw[:65536].splitlines():
        if not line.strip():
            break
        if line.lower().startswith(b"subject:"):
            text = line[8:].decode("utf-8", "replace")
            return "".join(ch for ch in text if ch.isprintable()).strip()[:500] or None
    return None


# --- applying a decision --------------------------------------------------------------------------


def files_of(msg: ParsedMessage) -> list[NewFile]:
    """The message's attachments as files to store (inline signature images included)."""
    return [NewFile(a.filename, a.content_type, a.data) for a in msg.attachments]


def best_text(msg: ParsedMessage) -> str:
    """The body to keep: the text/plain alternative, unless the HTML alternative says clearly more.

    Some clients send a plain part that lacks most of what the HTML shows (a greeting and a
    signature only); then the HTML converted to text is the message the client wrote.
    """
    text = msg.text or ""
    if not msg.html:
        return text
    enough = 2 * len(text.split()) + 5
    if html_word_bound(msg.html) <= enough:
        return text  # the HTML cannot say clearly more: no need to convert it
    from mail.inbound.parse import html_to_text

    html_text = html_to_text(msg.html)
    if len(html_text.split()) > enough:
        return html_text
    return text


#: Elements whose content a browser shows as literal text, tags and all: no bound is attempted.
_RAWTEXT_RE = re.compile(r"<(?:xmp|plaintext|textarea|listing|noembed|noframes|noscript|iframe)(?=[\s/>])",
                         re.IGNORECASE)
#: A style sheet or script with nothing tag-like inside (never shown).
_UNSHOWN_RE = re.compile(r"<(style|script)(?=[\s/>])[^<>]*>[^<]*</\1\s*>", re.IGNORECASE)
#: A tag starts with "<" and a letter, "/", "!" or "?" (a bare "<" is text: "Monto < S/ 5000").
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|<[!?][^<>]*>")
_ENTITY_RE = re.compile(r"&#?[A-Za-z0-9]{1,32};?")


def html_word_bound(html: str) -> int:
    """At least as many words as `parse.html_to_text` gives for ``html``, computed without it.

    Tags become spaces (that can only split words), style sheets and scripts without tags inside
    are dropped, each entity counts as a word of its own (``&gt;`` is one; ``a&nbsp;b`` three), and
    each list item may add a bullet. HTML with literal-text elements (``<xmp>``, ``<textarea>``…)
    gets no bound (its length is returned). Markup hidden in attribute values can still fool it;
    the sender then only loses the longer of its own two alternatives (the raw message is kept).
    """
    if _RAWTEXT_RE.search(html):
        return len(html)
    shown = _TAG_RE.sub(" ", _UNSHOWN_RE.sub(" ", html))
    return len(_ENTITY_RE.sub(" & ", shown).split()) + html.lower().count("<li")


def clean_text(text: str) -> str:
    """Text safe for every database: no NULs, bounded length, trailing space trimmed."""
    text = (text or "").replace("\x00", "").strip()
    return text[:MAX_TEXT_CHARS]


def apply(session: Session, ctx: Context, mbox: MailboxRules, msg: ParsedMessage | None,
          decision: Decision, record: Record, raw: bytes) -> None:
    """Carry out ``decision`` through the ticket services (updates ``decision.ticket``, ``record.text``)."""
    outcome = decision.outcome
    if outcome is Outcome.HELD:
        hold(session, msg, decision, record, raw)
    elif outcome is Outcome.IGNORED and decision.rule == "bounce":
        note_bounce(session, decision, record.received_at)
    elif outcome is Outcome.TICKET:
        decision.ticket = create_ticket(session, ctx, mbox, msg, decision, record)
    elif outcome is Outcome.COMMENT:
        comment(session, ctx, mbox, msg, decision, record)


def hold(session: Session, msg: ParsedMessage | None, decision: Decision, record: Record,
         raw: bytes) -> None:
    """Keep the message for review in the panel, raw bytes included; nobody is mailed."""
    detail = decision.data.get("error") or (
        f"de {msg.from_addr} sobre {decision.ticket.code}" if msg and decision.ticket else None)
    session.connection().execute(_INSERT_HELD, {
        "inbound_id": record.id, "reason": decision.reason or decision.rule, "detail": detail,
        "from_addr": msg.from_addr if msg else None,
        "subject": msg.subject[:2000] if msg else _raw_subject(raw),
        "received_at": record.received_at, "text": clean_text(msg.text) if msg else None,
        "raw": None if decision.reason == "too_large" else raw,  # a large one stays in the content store
        "ticket_id": decision.ticket.id if decision.ticket else None})


def note_bounce(session: Session, decision: Decision, received_at) -> None:
    """Mark the returned outbound message bounced and leave a note on its ticket."""
    outbox_id = decision.data.get("outbox_id")
    if outbox_id:
        session.connection().execute(_MARK_BOUNCED, {"oid": outbox_id})
    ticket = decision.ticket
    if ticket is None:
        return
    failed = decision.data.get("failed") or []
    who = ", ".join(failed) if failed else "un destinatario"
    services.add_entry(session, ticket, EntryKind.NOTE,
                       f"No se pudo entregar el correo a {who} (rebote del servidor de correo).",
                       at=received_at)


def create_ticket(session: Session, ctx: Context, mbox: MailboxRules, msg: ParsedMessage,
                  decision: Decision, record: Record):
    """A new ticket from the message; for a staff forward, from the client's forwarded mail."""
    participants = [a for a in (*msg.to, *msg.cc) if a not in mbox.rules.own_addresses]
    if decision.rule == "staff-forward":
        fwd = decision.data["forwarded"]
        staff = decision.staff
        subject = fwd.subject or strip_prefixes(msg.subject)
        ticket = services.open_ticket_row(
            session, ctx, subject=subject, detail=clean_text(fwd.text),
            requester_email=fwd.from_addr, requester_name=fwd.from_name,
            requested_at=record.received_at, mailbox=record.mailbox,
            defaults_=mbox.defaults, registered_by=staff, files=files_of(msg),
            participants=[], inbound_id=record.id)
        own_words = clean_text(_forwarder_words(msg))
        if own_words:
            services.add_entry(session, ticket, EntryKind.COMMENT, own_words, author_user_id=staff.id,
                               author_email=staff.email, author_name=staff.name, public=False,
                               inbound_id=record.id)
        record.text = clean_text(fwd.text)[:RECORD_TEXT_CHARS]
        return ticket
    ticket = services.open_ticket_row(
        session, ctx, subject=msg.subject, detail=clean_text(best_text(msg)),
        requester_email=msg.from_addr, requester_name=msg.from_name,
        requested_at=record.received_at, mailbox=record.mailbox, defaults_=mbox.defaults,
        files=files_of(msg), participants=participants, inbound_id=record.id)
    return ticket


def _forwarder_words(msg: ParsedMessage) -> str:
    """The staff member's own words above an inline forward (the forward itself removed)."""
    from mail.inbound.parse import split_forward

    own, _fwd = split_forward(msg.text)
    if msg.forwarded and msg.forwarded[0].attached:
        own = msg.text
    return extract_new_text(own)


def comment(session: Session, ctx: Context, mbox: MailboxRules, msg: ParsedMessage,
            decision: Decision, record: Record) -> None:
    """A comment with the reply's new text only.

    A client's reply to a closed ticket reopens it, or, when the mailbox does not reopen
    (``reopen_closed`` false), opens a new ticket linked to it (outcome "ticket"); later replies to
    the closed ticket are comments on that linked ticket while it is open.
    """
    ticket = decision.ticket
    text = clean_text(extract_new_text(msg.text, html=msg.html)) or "(sin texto)"
    record.text = text[:RECORD_TEXT_CHARS]
    cc = [a for a in msg.cc if a not in mbox.rules.own_addresses]
    if decision.staff is None and services.status_flags(session, ticket.status_id).closed \
            and not mbox.reopen_closed:
        follow_up = services.open_linked_ticket(session, ticket)
        if follow_up is None:  # the first reply after closing: a new ticket linked to the old one
            decision.ticket = services.open_ticket_row(
                session, ctx, subject=msg.subject, detail=text, requester_email=msg.from_addr,
                requester_name=msg.from_name, requested_at=record.received_at, mailbox=record.mailbox,
                defaults_=mbox.defaults, files=files_of(msg), participants=cc, inbound_id=record.id,
                linked_from=ticket)
            decision.outcome = Outcome.TICKET
            decision.reason = f"linked_to_{ticket.code}"
            return
        decision.reason = f"follow_up_of_{ticket.code}"
        decision.ticket = ticket = follow_up  # later replies go to that open linked ticket
    services.add_participants(session, ticket, cc if decision.staff is None else [])
    services.add_comment(session, ctx, ticket, text=text, author_user=decision.staff,
                         author_email=msg.from_addr, author_name=msg.from_name,
                         inbound_id=record.id, files=files_of(msg),
                         reopen=True, at=record.received_at)


# --- held messages ------------------------------------------------------------------------------


class ReleaseError(ValueError):
    """A held message cannot be released (already resolved, unparseable); message is user-facing."""


def release_held(session: Session, ctx: Context, mbox: MailboxRules, held: HeldMessage,
                 to_ticket=None) -> Result:
    """Release a held message: a comment on ``to_ticket`` (or on the ticket it named, its sender
    then allowed on that ticket), else a new ticket. Raises ReleaseError."""
    if held.state != "held":
        raise ReleaseError(f"el correo retenido {held.id} ya fue {held.state}")
    try:
        if held.raw is None:
            raise UnparseableMessage("demasiado grande para procesarlo; el original está en el almacén")
        msg = parse_message(held.raw)
    except UnparseableMessage as exc:
        raise ReleaseError(f"el correo retenido {held.id} no se puede interpretar: {exc}") from exc
    if not msg.from_addr:
        raise ReleaseError(f"el correo retenido {held.id} no tiene remitente")
    record = held.inbound or InboundMessage(
        mailbox="held", raw_sha256=storage.sha256_hex(held.raw), raw=held.raw,
        raw_size=len(held.raw), received_at=held.received_at, outcome=Outcome.HELD.value)
    if record.id is None:
        session.add(record)
        session.flush()
    rec = Record(record.id, record.mailbox, record.received_at, record.text)
    from tickets.models import Ticket

    ticket = to_ticket or (session.get(Ticket, held.ticket_id) if held.ticket_id else None)
    staff = services.find_user_by_email(session, msg.from_addr)
    if ticket is not None:
        decision = Decision(Outcome.COMMENT, "released", f"released_from_held_{held.id}",
                            ticket=ticket, staff=staff)
        if staff is None:
            services.add_participants(session, ticket, [msg.from_addr])
        comment(session, ctx, mbox, msg, decision, rec)
    else:
        decision = Decision(Outcome.TICKET, "released", f"released_from_held_{held.id}")
        decision.ticket = create_ticket(session, ctx, mbox, msg, decision, rec)
    record.text = rec.text
    record.outcome = decision.outcome.value
    record.reason = decision.reason
    record.ticket_id = decision.ticket.id
    held.state = "released"
    held.resolved_at = utcnow()
    held.ticket_id = decision.ticket.id
    session.flush()
    return Result(decision.outcome, decision.rule, decision.reason, decision.ticket.code, record.id)
