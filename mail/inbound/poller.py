"""The poller: one mailbox at a time, under a lock, from the UID checkpoint, one transaction a message.

For each message: `ingest` commits its outcome, then the source flags/moves it, then the checkpoint
moves past its UID. A crash anywhere leaves the message either unrecorded (processed again) or
recorded but not yet flagged (recognised by its UID and only flagged) — never lost, never twice.

The lock is a lease row in ``mailbox_states`` (owner host:pid + expiry, renewed while working), so
pollers on several hosts never read the same mailbox at once; a dead holder's lock expires, and on
the holder's own host it is taken over at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mail.inbound.ingest import Envelope, MailboxRules, Result, ingest, ingest_oversized
from mail.inbound.sources import SourceError
from tickets.models import MailboxState, utcnow
from tickets.services import Context

log = logging.getLogger(__name__)

#: Fault injection for the crash test: SIGKILL this process after N commits, before flagging.
CRASH_ENV = "ATENCION_CRASH_AFTER_COMMITS"


@dataclass
class PollReport:
    """The result of one pass over one mailbox."""

    mailbox: str
    counts: Counter = field(default_factory=Counter)  # outcome value -> messages
    processed: int = 0
    error: str | None = None
    locked_out: bool = False
    unreadable: list = field(default_factory=list)  # "ref: why" of items that could not be read


def default_owner() -> str:
    """This process's lock owner id: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def ensure_state(sessions: sessionmaker[Session], name: str) -> None:
    """Create the mailbox's state row when missing (safe against a concurrent creator)."""
    with sessions.begin() as s:
        if s.scalar(select(MailboxState.id).where(MailboxState.name == name)) is not None:
            return
    try:
        with sessions.begin() as s:
            s.add(MailboxState(name=name))
    except IntegrityError:
        pass


def acquire_lock(sessions: sessionmaker[Session], name: str, owner: str, ttl_s: int) -> bool:
    """Take (or renew) the mailbox lease; False when another live owner holds it."""
    ensure_state(sessions, name)
    now = utcnow()
    with sessions.begin() as s:
        holder = s.scalar(select(MailboxState.lock_owner).where(MailboxState.name == name))
        free = or_(MailboxState.lock_owner.is_(None), MailboxState.lock_owner == owner,
                   MailboxState.lock_until < now)
        if holder and holder != owner and is_dead_local_owner(holder):
            free = or_(free, MailboxState.lock_owner == holder)  # a crashed poller on this host
        res = s.execute(update(MailboxState).where(MailboxState.name == name, free)
                        .values(lock_owner=owner, lock_until=now + timedelta(seconds=ttl_s)))
        return res.rowcount == 1


def is_dead_local_owner(owner: str) -> bool:
    """True when ``owner`` (host:pid) is a process of this host that no longer runs."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a zombie is dead too (PID 1 here reaps late)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


def release_lock(sessions: sessionmaker[Session], name: str, owner: str) -> None:
    """Give the lease back (only if we still hold it)."""
    with sessions.begin() as s:
        s.execute(update(MailboxState).where(MailboxState.name == name, MailboxState.lock_owner == owner)
                  .values(lock_owner=None, lock_until=None))


def record_health(sessions: sessionmaker[Session], name: str, error: str | None) -> None:
    """Note the poll time, and either the success time or the error."""
    now = utcnow()
    values = {"last_poll_at": now}
    if error is None:
        values["last_success_at"] = now
    else:
        values.update(last_error=error[:2000], last_error_at=now)
    with sessions.begin() as s:
        s.execute(update(MailboxState).where(MailboxState.name == name).values(**values))


def process_source(sessions: sessionmaker[Session], ctx: Context, rules: MailboxRules, source,
                   mailbox: str, *, checkpoint: bool, owner: str | None = None, ttl_s: int = 300,
                   on_result: Callable[[Result], None] | None = None,
                   report: PollReport | None = None) -> PollReport:
    """Ingest every pending item of ``source`` (flag after commit; checkpoint for IMAP)."""
    report = report or PollReport(mailbox)
    rules = rules.resolved(sessions)
    after_uid = 0
    uidvalidity = source.uidvalidity
    if checkpoint:
        with sessions.begin() as s:
            state = s.scalar(select(MailboxState).where(MailboxState.name == mailbox))
            if state.uidvalidity != uidvalidity:
                state.uidvalidity = uidvalidity
                state.last_uid = 0
            after_uid = state.last_uid or 0
    crash_after = int(os.environ.get(CRASH_ENV, "0") or 0)
    for item in source.pending(after_uid):
        if item.error is not None:  # vanished or unreadable: nothing to hold; reported
            report.unreadable.append(item.error)
            continue
        env = Envelope(mailbox=mailbox, uidvalidity=uidvalidity, uid=item.uid, source_ref=item.ref,
                       received_at=item.received_at)
        if item.raw is None:
            result = ingest_oversized(sessions, ctx, item.path, env)
        else:
            result = ingest(sessions, ctx, rules, item.raw, env)
        report.processed += 1
        if not result.already_recorded:
            report.counts[result.outcome.value] += 1
        if crash_after and report.processed >= crash_after:
            os.kill(os.getpid(), signal.SIGKILL)
        source.done(item)
        if checkpoint and item.uid is not None:
            with sessions.begin() as s:
                s.execute(update(MailboxState).where(MailboxState.name == mailbox,
                                                     MailboxState.last_uid < item.uid)
                          .values(last_uid=item.uid))
        if owner and report.processed % 20 == 0:
            acquire_lock(sessions, mailbox, owner, ttl_s)
        if on_result:
            on_result(result)
    return report


def poll_mailbox(sessions: sessionmaker[Session], ctx: Context, settings, mb, *, owner: str | None = None,
                 on_result: Callable[[Result], None] | None = None) -> PollReport:
    """One pass over one configured mailbox (a `mail.mailboxes.MailboxConfig`), under its lock.

    Never raises for a mailbox problem: the error is recorded for `atencion health` and returned.
    """
    owner = owner or default_owner()
    report = PollReport(mb.name)
    if not acquire_lock(sessions, mb.name, owner, settings.lock_ttl_s):
        report.locked_out = True
        log.info("mailbox %s is being polled by another process", mb.name)
        return report
    source = None
    try:
        source = mb.open_source()
        process_source(sessions, ctx, mb.rules(settings), source, mb.name,
                       checkpoint=source.uidvalidity is not None, owner=owner,
                       ttl_s=settings.lock_ttl_s, on_result=on_result, report=report)
        record_health(sessions, mb.name, None)
    except (SourceError, OSError) as exc:
        report.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.error("mailbox %s: %s", mb.name, report.error)
        record_health(sessions, mb.name, report.error)
    except Exception as exc:  # imap-tools protocol errors and the like: recorded, poller goes on
        report.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.exception("mailbox %s failed", mb.name)
        record_health(sessions, mb.name, report.error)
    finally:
        if source is not None:
            source.close()
        release_lock(sessions, mb.name, owner)
    return report
