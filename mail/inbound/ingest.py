"""One inbound message, start to end, in one database transaction.

The flow, once per message: parse (`mail.inbound.parse`) → rules (`mail.inbound.rules`) → apply
(`mail.inbound.apply`, through the ticket services, which write the outbox rows) → the inbound
record with its one outcome and its raw bytes — all in one transaction (a message over the size
limit has its bytes in the content store instead). The caller (poller or importer) flags or moves
the message on the server only after this returns. Nothing raises out of `ingest` for a bad
message: it is held instead.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from mail.inbound.apply import Record, Result, apply, clean_text, record_text, subject_of_raw
from mail.inbound.held import ReleaseError, release_held
from mail.inbound.parse import ParsedMessage, UnparseableMessage, parse_message
from mail.inbound.rules import Decision, HeldPayload, RuleSettings, classify, prepare
from tickets import storage
from tickets.models import HeldMessage, InboundMessage, Outcome, utcnow
from tickets.services import Context, ResolvedDefaults, TicketDefaults, resolve_defaults

__all__ = ["Envelope", "MailboxRules", "ReleaseError", "Result", "already_recorded", "ingest", "ingest_oversized",
           "raw_of", "release_held"]

log = logging.getLogger(__name__)


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
    """Per mailbox: the rules' settings, the defaults of new tickets (names, or resolved to ids), the
    size limit (bytes)."""

    rules: RuleSettings
    defaults: TicketDefaults | ResolvedDefaults
    max_message_bytes: int = 25 * 1024 * 1024

    def resolved(self, sessions: sessionmaker[Session]) -> MailboxRules:
        """These rules with the defaults resolved to ids: a pass over a source reads the reference
        data once, not for every message. Raises ServiceError (no such status or priority)."""
        if isinstance(self.defaults, ResolvedDefaults):
            return self
        with sessions.begin() as session:
            return dataclasses.replace(self, defaults=resolve_defaults(session, self.defaults))


_RECORDED = select(InboundMessage).where(
    InboundMessage.mailbox == bindparam("mailbox"), InboundMessage.uidvalidity == bindparam("uidvalidity"),
    InboundMessage.uid == bindparam("uid"))
_RAW_OF = select(InboundMessage.raw, InboundMessage.raw_sha256).where(InboundMessage.id == bindparam("rid"))
_INSERT_INBOUND = insert(InboundMessage)
_SET_TICKET = update(InboundMessage).where(InboundMessage.id == bindparam("rid")).values(
    ticket_id=bindparam("tid"))


def already_recorded(session: Session, env: Envelope) -> InboundMessage | None:
    """The inbound record for this mailbox + UIDVALIDITY + UID, if it was processed before."""
    if env.uid is None:
        return None
    return session.scalar(_RECORDED, {"mailbox": env.mailbox, "uidvalidity": env.uidvalidity, "uid": env.uid})


def _seen(prior: InboundMessage) -> Result:
    """The outcome a message already recorded got the first time."""
    return Result(Outcome(prior.outcome), "seen-uid", prior.reason, prior.ticket.code if prior.ticket else None,
                  prior.id, True)


def raw_of(session: Session, ctx: Context, inbound_id: int) -> bytes:
    """The message exactly as received: from its inbound record, or from the content store when it
    was over the size limit. Raises LookupError when there is no such record, FileNotFoundError
    when an oversized message's file is missing from the store."""
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
    oversized = len(raw) > mbox.max_message_bytes
    # a message over the limit is not for a database row: the content store keeps it
    raw_sha = storage.store_bytes(ctx.storage_dir, raw) if oversized else storage.sha256_hex(raw)
    try:
        return _ingest_once(sessions, ctx, mbox, raw, raw_sha, env, oversized=oversized)
    except IntegrityError:
        with sessions.begin() as session:  # another poller recorded the same UID first: its outcome stands
            prior = already_recorded(session, env)
            if prior is None:
                raise
            return _seen(prior)
    except (OperationalError, ProgrammingError, InterfaceError):
        raise  # the database is down or not migrated: a system fault, the message stays unread
    except Exception as exc:  # a bug on odd input must not lose the message: hold it
        log.exception("ingest failed for %s uid=%s; holding it", env.mailbox, env.uid)
        return _hold_after_error(sessions, raw, raw_sha, env, exc, keep_raw=not oversized)


def _read(raw: bytes, oversized: bool) -> tuple[ParsedMessage | None, Decision | None]:
    """The parsed message, or the decision to hold what cannot be parsed (no database needed)."""
    if oversized:
        return None, Decision(Outcome.HELD, "limits", "too_large", payload=HeldPayload(f"{len(raw)} bytes"))
    try:
        return parse_message(raw), None
    except UnparseableMessage as exc:
        return None, Decision(Outcome.HELD, "unparseable", "unparseable", payload=HeldPayload(str(exc)))


def _ingest_once(sessions, ctx: Context, mbox: MailboxRules, raw: bytes, raw_sha: str, env: Envelope, *,
                 oversized: bool) -> Result:
    received = env.received_at or utcnow()
    msg, decision = _read(raw, oversized)
    with sessions.begin() as session:
        prior = already_recorded(session, env)  # e.g. committed, then a crash before the flag
        if prior is not None:
            return _seen(prior)
        if msg is not None:
            msg = prepare(msg, mbox.rules)
            decision = classify(session, msg, mbox.rules)
        conn = session.connection()
        record_id = conn.execute(_INSERT_INBOUND, {
            "mailbox": env.mailbox, "uidvalidity": env.uidvalidity, "uid": env.uid, "source_ref": env.source_ref,
            "message_id": msg.message_id if msg else None, "body_digest": msg.body_digest if msg else None,
            "raw_sha256": raw_sha, "raw_size": len(raw), "raw": None if oversized else raw,
            "from_addr": msg.from_addr if msg else None, "from_name": msg.from_name[:200] if msg else None,
            "subject": msg.subject[:2000] if msg else None, "received_at": received,
            "outcome": decision.outcome.value, "reason": decision.reason,
            "ticket_id": decision.ticket.id if decision.ticket else None,
            "text": record_text(msg, decision),
        }).inserted_primary_key[0]
        ticket = apply(session, ctx, mbox.defaults, mbox.rules.own_addresses, msg, decision,
                       Record(record_id, env.mailbox, received), raw, raw_kept_elsewhere=oversized)
        if ticket is not None and decision.ticket is None:  # a new ticket: the record names it
            conn.execute(_SET_TICKET, {"rid": record_id, "tid": ticket.id})
    code = ticket.code if ticket is not None else None
    log.info("inbound %s uid=%s -> %s (%s%s) %s", env.mailbox, env.uid, decision.outcome.value, decision.rule,
             f": {decision.reason}" if decision.reason else "", code or "")
    return Result(decision.outcome, decision.rule, decision.reason, code, record_id)


def ingest_oversized(sessions: sessionmaker[Session], ctx: Context, path: Path | str, env: Envelope) -> Result:
    """Hold a file too large to read into memory: streamed into the content store, never parsed."""
    raw_sha, size = storage.store_file(ctx.storage_dir, Path(path))
    with open(path, "rb") as fh:
        head = fh.read(65536)
    with sessions.begin() as session:
        record = InboundMessage(mailbox=env.mailbox, uidvalidity=env.uidvalidity, uid=env.uid,
                                source_ref=env.source_ref, raw_sha256=raw_sha, raw_size=size,
                                received_at=env.received_at or utcnow(), outcome=Outcome.HELD.value,
                                reason="too_large", subject=subject_of_raw(head))
        session.add(record)
        session.add(HeldMessage(inbound=record, reason="too_large", detail=f"{size} bytes",
                                received_at=record.received_at, raw=None, subject=record.subject))
    return Result(Outcome.HELD, "limits", "too_large", None, record.id)


def _hold_after_error(sessions, raw: bytes, raw_sha: str, env: Envelope, exc: Exception, *,
                      keep_raw: bool) -> Result:
    with sessions.begin() as session:
        record = InboundMessage(mailbox=env.mailbox, uidvalidity=env.uidvalidity, uid=env.uid,
                                source_ref=env.source_ref, raw_sha256=raw_sha, raw_size=len(raw),
                                raw=raw if keep_raw else None, received_at=env.received_at or utcnow(),
                                outcome=Outcome.HELD.value, reason="processing_error")
        session.add(record)
        session.flush()
        session.add(HeldMessage(inbound=record, reason="processing_error",
                                detail=clean_text(f"{type(exc).__name__}: {exc}")[:2000],
                                received_at=record.received_at, raw=raw, subject=subject_of_raw(raw)))
        return Result(Outcome.HELD, "error", "processing_error", None, record.id)
