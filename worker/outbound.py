"""The outbound side of one process: its broker, its `send_outbox` actor, its SMTP connections.

Broker (DESIGN, "Outbound mail and workers"): Redis when ``ATENCION_BROKER_URL`` is set, else
Dramatiq's in-process `StubBroker`, consumed by a worker thread of this same process (`run`) or
not at all — a one-shot command (`poll --once`, `import`, `assign`…) then sends what it wrote
before it exits (`Outbound.after_commit`). The broker only carries row ids; the database is the
source of truth, so a lost broker message costs a sweep interval, never a mail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session, sessionmaker

from mail.outbound.deliver import DeliveryReport, deliver
from mail.outbound.send import transport_for
from tickets import outbox

log = logging.getLogger(__name__)

#: The broker queue the actor reads.
QUEUE = "outbox"
#: Row ids per broker message: one message per row would cost a broker round trip and a claim
#: UPDATE each (bench/README.md, "Outbound").
BATCH_SIZE = 20


class BrokerUnavailable(Exception):
    """The broker (Redis) did not take a message. The rows it named stay pending in the database,
    where the scheduler's sweep finds them once the broker is back. ``str()``: one Spanish line."""


def batches(ids: Iterable[int], size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size``."""
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Outbound:
    """This process's broker, actor and per-thread transports, for ``settings`` and ``sessions``.

    Make one per process (`setup`); actors find it through `current`.
    """

    def __init__(self, settings, sessions: sessionmaker[Session]):
        self.settings = settings
        self.sessions = sessions
        self.broker = self._make_broker()
        dramatiq.set_broker(self.broker)
        self.actor = dramatiq.actor(_send_outbox, actor_name="send_outbox", queue_name=QUEUE,
                                    max_retries=0, broker=self.broker)
        self._local = threading.local()
        self._transports: list = []
        self._lock = threading.Lock()

    def _make_broker(self):
        if self.settings.broker_url:
            from dramatiq.brokers.redis import RedisBroker

            return RedisBroker(url=self.settings.broker_url, namespace="atencion")
        return StubBroker()

    @property
    def in_process(self) -> bool:
        """No broker URL: the embedded default."""
        return not self.settings.broker_url

    def transport(self):
        """This thread's transport (an SMTP connection kept open, or the .eml writer)."""
        t = getattr(self._local, "transport", None)
        if t is None:
            t = self._local.transport = transport_for(self.settings)
            with self._lock:
                self._transports.append(t)
        return t

    def deliver(self, ids: Iterable[int]) -> DeliveryReport:
        """Send the rows of ``ids`` that are due, in this thread (what the actor does)."""
        return deliver(self.sessions, self.settings, self.transport(), ids)

    def due_ids(self) -> list[int]:
        """Rows a worker may take now (pending and due, or with an expired lease)."""
        with self.sessions() as session:
            return outbox.due_ids(session)

    def enqueue(self, ids: Iterable[int]) -> int:
        """Send broker messages for ``ids`` (in batches); returns how many ids. Raises
        BrokerUnavailable when the broker cannot be reached (the rows wait for the sweep)."""
        n = 0
        for batch in batches(ids):
            try:
                self.actor.send(batch)
            except Exception as exc:
                from redis.exceptions import RedisError  # loaded already when the broker is Redis

                if not isinstance(exc, RedisError | dramatiq.errors.BrokerError):
                    raise
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise BrokerUnavailable(f"la cola de correo no responde ({first})") from exc
            n += len(batch)
        return n

    def sweep(self) -> int:
        """The periodic sweep: enqueue every due row again (a lost broker message, an expired
        lease, a retry whose time came). Returns how many ids were enqueued."""
        return self.enqueue(self.due_ids())

    def send_pending(self) -> DeliveryReport:
        """Send every due row now, in this thread, until none is left (``send-pending``; a
        one-shot command's last step). Rows postponed or retried later are not waited for."""
        report = DeliveryReport()
        seen: set[int] = set()
        while True:
            ids = [i for i in self.due_ids() if i not in seen]
            if not ids:
                return report
            seen.update(ids)
            for batch in batches(ids):
                report.add(self.deliver(batch))

    def after_commit(self) -> DeliveryReport | None:
        """What a command does after writing outbox rows: without a broker, send them now (the
        process may exit next); with Redis, enqueue them for the workers (BrokerUnavailable when
        Redis is down: the rows are committed and wait for the sweep)."""
        if self.in_process:
            return self.send_pending()
        self.sweep()
        return None

    def close(self) -> None:
        """Close every transport this process opened."""
        with self._lock:
            transports, self._transports = self._transports, []
        for t in transports:
            t.close()


_current: Outbound | None = None


def setup(settings, sessions: sessionmaker[Session]) -> Outbound:
    """Make this process's `Outbound` (replacing an earlier one) and return it."""
    global _current
    if _current is not None:
        _current.close()
    _current = Outbound(settings, sessions)
    return _current


def current() -> Outbound:
    """This process's `Outbound`; RuntimeError when `setup` was not called."""
    if _current is None:
        raise RuntimeError("worker.outbound.setup() was not called in this process")
    return _current


def _send_outbox(ids: list[int]) -> None:
    """Actor ``send_outbox``: send the outbox rows ``ids`` (claimed first; rows another worker
    holds or that are not due are left alone)."""
    report = current().deliver(ids)
    if report.failed:
        log.warning("outbox: %d sent, %d failed", len(report.sent), len(report.failed))
