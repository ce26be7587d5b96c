"""Take outbox rows through claim → compose → send → mark (DESIGN, "Outbound mail and workers").

`deliver` is what a worker does with the ids a message from the broker carries, and what
``send-pending`` and the embedded default do in process. Each copy is marked in its own short
transaction right after the server's answer, so a worker that dies loses at most the copy in
flight (sent again after its lease, with the same Message-ID). Temporary failures wait
``retry_backoff_s`` × 2^(attempt − 1) (at most an hour) and fail after ``max_attempts``;
a 5xx answer fails the copy at once with the server's words. Automatic mail to an external
address waits when that address already got ``rate_limit_per_hour`` mails in the last hour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from mail.outbound.compose import ComposeError, compose
from mail.outbound.send import SendError
from tickets import outbox
from tickets.db import READONLY_OPTION
from tickets.models import BouncedAddress, OutboxMessage, utcnow
from tickets.outbox import CLIENT_EVENTS

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0
#: Automatic mail to staff that the hourly limit still counts: its sending is caused by whoever
#: writes in the staff member's name (30 forged replies must not make 30 refusals).
LIMITED_STAFF_EVENTS = frozenset({"commands_refused"})


@dataclass
class DeliveryReport:
    """What one `deliver` call did: ids sent, retried later, failed for good (id → answer),
    postponed by the hourly limit, and taken by nobody (another worker held them)."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    postponed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        """Merge ``other`` into this report."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed.update(other.failed)
        self.postponed += other.postponed
        self.skipped += other.skipped


def backoff_s(settings, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th temporary failure (doubling, at most an hour)."""
    return min(settings.retry_backoff_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)


def deliver(sessions: sessionmaker[Session], settings, transport, ids: Iterable[int]) -> DeliveryReport:
    """Claim the rows of ``ids`` that are due and send each; returns what happened.

    ``transport``: a `mail.outbound.send` transport (its connection is reused across rows).
    Never raises for one row's failure; a database error propagates (the rows keep their lease
    and are taken again after it).
    """
    report = DeliveryReport()
    ids = list(ids)
    with sessions.begin() as session:
        claimed = outbox.claim(session, ids, lease_s=settings.outbox_lease_s)
    report.skipped = [i for i in ids if i not in set(claimed)]
    composed: dict[tuple[str, str | None], EmailMessage] = {}
    started = time.monotonic()
    for n, row_id in enumerate(claimed):
        if time.monotonic() - started > settings.outbox_lease_s / 2:
            with sessions.begin() as session:  # a slow batch: keep the rest of it
                outbox.renew(session, claimed[n:], lease_s=settings.outbox_lease_s)
            started = time.monotonic()
        _deliver_one(sessions, settings, transport, row_id, report, composed)
    return report


def _copy_key(row: OutboxMessage) -> tuple[str, str | None]:
    """Copies with the same key are the same email: the copies of one mail to the client share
    every header (To, Cc, Reply-To the mailbox); mail to staff carries each one's reply token."""
    return row.message_id, None if row.event in CLIENT_EVENTS else row.recipient


def _deliver_one(sessions, settings, transport, row_id: int, report: DeliveryReport,
                 composed: dict[tuple[str, str | None], EmailMessage]) -> None:
    """Send one claimed row. ``composed``: the batch's emails by `_copy_key`, so the To and Cc
    copies of one mail are built once (the envelope recipient is the only difference)."""
    # read and compose in a read transaction: on SQLite a write transaction (BEGIN IMMEDIATE)
    # would hold the database's one write lock through compose, and the workers would queue on it
    with sessions() as session:
        session.connection(execution_options={READONLY_OPTION: True})
        row = session.get(OutboxMessage, row_id)
        attempts, recipient = row.attempts, row.recipient
        why_not = _held_back(session, settings, row)
        msg = error = None
        if why_not is None:
            # redirected (development), each copy gets its own X-Original-To: no sharing
            key = (row.message_id, row.recipient) if settings.mail_redirect_all_to else _copy_key(row)
            msg = composed.get(key)
            if msg is None:
                try:
                    msg = composed[key] = compose(session, settings, row)
                except ComposeError as exc:
                    error = str(exc)
        # COMMIT, not the ROLLBACK a closing session sends: psycopg forgets its prepared
        # statements on ROLLBACK, and PostgreSQL would plan compose's queries again for every row
        session.commit()
    if why_not is not None or error is not None:
        with sessions.begin() as session:
            if error is not None:
                outbox.mark_failed(session, row_id, attempts, error)
                report.failed[row_id] = error
                log.error("outbox %s: %s", row_id, error)
            elif why_not[0] is None:
                outbox.mark_failed(session, row_id, attempts, why_not[1])
                report.failed[row_id] = why_not[1]
            else:
                outbox.postpone(session, row_id, attempts, *why_not)
                report.postponed.append(row_id)
        return
    envelope_to = settings.mail_redirect_all_to or recipient
    if settings.mail_redirect_all_to:
        msg["X-Original-To"] = recipient
    try:
        transport.send(msg, settings.mail_from, envelope_to, row_id=row_id)
    except SendError as exc:
        with sessions.begin() as session:
            if exc.permanent or attempts >= settings.max_attempts:
                text = str(exc) if exc.permanent else f"{exc} (tras {attempts} intentos)"
                outbox.mark_failed(session, row_id, attempts, text)
                report.failed[row_id] = text
                log.warning("outbox %s to %s failed: %s", row_id, recipient, text)
            else:
                outbox.mark_retry(session, row_id, attempts, str(exc), delay_s=backoff_s(settings, attempts))
                report.retried.append(row_id)
                log.info("outbox %s to %s: retry later: %s", row_id, recipient, exc)
        return
    with sessions.begin() as session:
        if outbox.mark_sent(session, row_id, attempts):
            report.sent.append(row_id)
        else:  # our lease expired and another worker took the row: it decides the row's state
            log.warning("outbox %s sent, but its claim had passed to another worker", row_id)
            report.sent.append(row_id)


def _held_back(session: Session, settings, row: OutboxMessage):
    """Why ``row`` may not go now: ``(None, reason)`` never (its address bounced), ``(until,
    reason)`` not before ``until`` (the hourly limit); None when it may go."""
    if session.get(BouncedAddress, row.recipient) is not None:
        return None, f"{row.recipient} está marcado como rebotado"
    if not row.automatic:
        return None
    if row.event not in LIMITED_STAFF_EVENTS and outbox.is_staff_address(session, row.recipient):
        return None  # internal mail; a refusal answers whoever wrote as staff: limited like a client's
    now = utcnow()
    recent = outbox.sent_since(session, row.recipient, now - timedelta(hours=1))
    others = [t for t in recent if t is not None]
    # the row itself is "sending": it is in `recent` with its lease time, not a past send
    if len(recent) - 1 < settings.rate_limit_per_hour:
        return None
    oldest = min(others) if others else now
    return oldest + timedelta(hours=1), (f"límite de {settings.rate_limit_per_hour} correos por hora "
                                         f"a {row.recipient}: se enviará más tarde")
