"""Outbound mail under faults (issue 8, DESIGN "Outbound mail and workers"): real `atencion worker`
and `atencion scheduler` processes, the real SMTP server (aiosmtpd) and Redis, both databases.

Intervals are short by settings (`FAST`). Every test ends by counting what the SMTP server
received per recipient against the outbox rows marked sent (`Rig.assert_once`): no duplicates.

"Delivered once" (the SIGKILL test): the test SMTP server takes a message when it answers 250
to a client still connected (tests/servers/smtp.py, ``data_delay_s``). A worker killed after the
server received the DATA but before that 250 has not delivered: the row stays ``sending`` until
its lease expires, the sweep hands it to another worker, which sends it; the recipient gets it
exactly once, the server having seen two DATA. (A worker dying after the 250 but before its
commit would send a second copy with the same Message-ID: DESIGN accepts that window.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cli_harness import Cli
from tests.servers.smtp import SmtpServer
from tests.support import Env, build
from tickets.models import OutboxMessage

ROSA = "rosa.quispe.h@gmail.com"
PERCY = "percy.vsoto@hotmail.com"
FAST = {"ATENCION_RETRY_BACKOFF_S": "0.2", "ATENCION_OUTBOX_LEASE_S": "2", "ATENCION_SWEEP_INTERVAL_S": "0.5"}
DEADLINE_S = 20.0


@dataclass
class Rig:
    """One test's database (catalog loaded), CLI, SMTP server, broker URL and child processes."""

    env: Env
    cli: Cli
    smtp: SmtpServer
    home: Path
    broker: str | None = None
    redis: object = None
    procs: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    def penv(self, **extra: str) -> dict[str, str]:
        """The settings of every process this test starts."""
        broker = {"ATENCION_BROKER_URL": self.broker} if self.broker else {}
        return {**FAST, "ATENCION_SMTP_URL": self.smtp.url, **broker, **extra}

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        """A one-shot `atencion` command as a real process."""
        return self.cli.run(*args, **self.penv(**extra))

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen:
        """A long-running `atencion` process (worker, scheduler), its output in a log file."""
        log = self.home / f"proc{len(self.procs)}-{args[0]}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "worker.cli", *args], cwd=self.home,
                                    env={**self.cli.env, **self.penv(**extra)}, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append((proc, log))
        return proc

    def workers(self) -> subprocess.Popen:
        """A scheduler and a worker with two threads; returns the worker."""
        self.spawn("scheduler")
        return self.spawn("worker", "--threads", "2")

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for _, log in self.procs)

    def mail(self, subject: str, *, cc: str | None = None) -> list[int]:
        """A client mail from Rosa opens a ticket (in the test's process): the ids of the
        acknowledgement's outbox rows, To first. Nothing is sent here."""
        before = {r.id for r in self.rows()}
        result = self.env.ingest_bytes(build(subject, f"{subject}.\nRosa", cc=cc), ref=subject)
        assert result.code, result
        return sorted(r.id for r in self.rows() if r.id not in before)

    def rows(self) -> list[OutboxMessage]:
        with self.env.sessions() as s:
            found = list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            s.expunge_all()
            return found

    def row(self, row_id: int) -> OutboxMessage:
        [found] = [r for r in self.rows() if r.id == row_id]
        return found

    def until(self, what: str, check, timeout: float = DEADLINE_S):
        """Poll ``check()`` until it is true (returned); AssertionError naming ``what`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > deadline:
                states = [(r.id, r.recipient, r.state, r.attempts, r.last_error) for r in self.rows()]
                raise AssertionError(f"not within {timeout} s: {what}\noutbox: {states}\n"
                                     f"smtp DATA {self.smtp.data_commands}, delivered {self.smtp.count()}\n"
                                     f"{self.logs()}")
            time.sleep(0.05)

    def broker_messages(self) -> int:
        """Messages waiting in the broker's queue (Redis)."""
        import redis

        client = redis.Redis.from_url(self.broker)
        try:
            return sum(client.hlen(k) for k in client.keys("atencion:*.msgs"))
        finally:
            client.close()

    def all_sent(self) -> bool:
        return all(r.state == "sent" for r in self.rows())

    def received(self) -> Counter:
        """Deliveries per envelope recipient."""
        return Counter(rcpt.lower() for d in self.smtp.deliveries() for rcpt in d.rcpt_tos)

    def assert_once(self) -> None:
        """Every recipient received exactly as many mails as it has outbox rows marked sent, and
        each delivered mail is a different outbox row's copy (Message-ID + recipient once)."""
        sent = Counter(r.recipient for r in self.rows() if r.state == "sent")
        assert self.received() == sent, self.logs()
        copies = Counter((d.message["Message-ID"], d.rcpt_tos) for d in self.smtp.deliveries())
        assert all(n == 1 for n in copies.values()), copies


@pytest.fixture
def rig(env, cli, smtp, tmp_path):
    r = Rig(env, cli, smtp, tmp_path)
    yield r
    r.stop_all()


@pytest.fixture
def redis_rig(rig, throwaway_redis):
    """The rig with a Redis broker of this test's own (never the machine's shared server)."""
    rig.broker = throwaway_redis.url
    rig.redis = throwaway_redis
    return rig


# --------------------------------------------------------------------------- SMTP answers


def test_permanent_refusal_fails_one_copy_and_the_others_go(rig):
    """550 for the Cc recipient: that copy fails with the server's words, the To copy is sent,
    ``send-pending`` exits 1 naming it; ``outbox retry`` sends it once the address works."""
    rig.smtp.reject_rcpt[PERCY] = (550, "5.1.1 Buzón inexistente")
    to_id, cc_id = rig.mail("Filtración en el baño", cc=f"Percy <{PERCY}>")
    assert (rig.row(to_id).recipient, rig.row(cc_id).recipient) == (ROSA, PERCY)

    proc = rig.run("send-pending")
    assert proc.returncode == 1, proc
    assert "enviados: 1; fallidos: 1" in proc.stdout
    assert f"{cc_id}: 550 5.1.1 Buzón inexistente" in proc.stderr
    failed = rig.row(cc_id)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "550 5.1.1 Buzón inexistente" in failed.last_error
    assert rig.row(to_id).state == "sent"
    assert rig.received() == {ROSA: 1}

    again = rig.run("send-pending")  # a failed copy is not taken again by itself
    assert again.returncode == 0 and "enviados: 0; fallidos: 0" in again.stdout, again
    del rig.smtp.reject_rcpt[PERCY]
    retried = rig.run("outbox", "retry", str(cc_id))
    assert retried.returncode == 0, retried
    assert rig.row(cc_id).state == "sent"
    assert rig.received() == {ROSA: 1, PERCY: 1}
    [first, second] = rig.smtp.deliveries()
    assert first.message["Message-ID"] == second.message["Message-ID"]  # copies of one mail
    rig.assert_once()


def test_temporary_failures_are_retried_by_the_workers(redis_rig):
    """Two 451 answers to DATA, then success: the row is sent on its third attempt."""
    rig = redis_rig
    rig.smtp.fail_next_data(2)
    [row_id] = rig.mail("Puerta principal no cierra")
    rig.workers()
    rig.until("the row sent", rig.all_sent)
    row = rig.row(row_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 3, None)
    assert rig.smtp.data_commands == 3
    rig.assert_once()


def test_max_attempts_fails_the_row_and_retry_sends_it(redis_rig):
    """With ATENCION_MAX_ATTEMPTS=2, two 451 answers fail the row "(tras 2 intentos)";
    ``outbox retry`` puts it back and a worker sends it."""
    rig = redis_rig
    rig.smtp.fail_next_data(2, text="4.2.2 Buzón lleno")
    [row_id] = rig.mail("Consulta sobre la entrega")
    rig.spawn("scheduler", ATENCION_MAX_ATTEMPTS="2")
    rig.spawn("worker", "--threads", "2", ATENCION_MAX_ATTEMPTS="2")
    row = rig.until("the row failed", lambda: next((r for r in rig.rows() if r.state == "failed"), None))
    assert row.attempts == 2
    assert row.last_error == "451 4.2.2 Buzón lleno (tras 2 intentos)"
    assert rig.smtp.count() == 0

    retried = rig.run("outbox", "retry", str(row_id))
    assert retried.returncode == 0 and f"{row_id}: pendiente otra vez, para {ROSA}" in retried.stdout, retried
    rig.until("the retried row sent", rig.all_sent)
    assert rig.received() == {ROSA: 1}
    rig.assert_once()


# --------------------------------------------------------------------------- outages


def test_smtp_down_rows_wait_then_go_once(redis_rig, tmp_path):
    """SMTP stopped: `import` (a real process) leaves the acknowledgement pending with the
    connection error; the workers keep retrying it; once the server is back it is sent once."""
    rig = redis_rig
    rig.smtp.stop()
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "01.eml").write_bytes(build("Humedad en el dormitorio", "Hay humedad.\nRosa",
                                          cc=f"Percy <{PERCY}>"))
    proc = rig.run("import", folder, ATENCION_BROKER_URL="")  # no broker: it tries to send itself
    assert proc.returncode == 0, proc
    rows = rig.rows()
    assert [(r.recipient, r.state, r.attempts) for r in rows] == [(ROSA, "pending", 1), (PERCY, "pending", 1)]
    assert all("sin conexión con el servidor SMTP" in r.last_error for r in rows)

    rig.workers()
    rig.until("two more attempts while SMTP is down", lambda: all(r.attempts >= 3 for r in rig.rows()))
    assert all(r.state in ("pending", "sending") for r in rig.rows()) and rig.smtp.count() == 0
    rig.smtp.start()
    rig.until("every row sent after SMTP came back", rig.all_sent)
    assert rig.received() == {ROSA: 1, PERCY: 1}
    rig.assert_once()


def test_redis_down_rows_wait_and_drain_when_it_returns(redis_rig, tmp_path):
    """Broker messages enqueued, then Redis killed (they are lost: it comes back empty); a
    worker started and a command run while it is down keep going (the command commits and
    exits 0); once Redis is back, the worker reconnects, the scheduler's sweep enqueues every
    row again from the database, and each is sent once."""
    rig = redis_rig
    first = rig.mail("Ventana rota")
    rig.spawn("scheduler")
    rig.until("the sweep enqueued the row", rig.broker_messages)
    rig.redis.stop()
    worker = rig.spawn("worker", "--threads", "2")
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "01.eml").write_bytes(build("Timbre malogrado", "No suena el timbre.\nRosa", cc=f"Percy <{PERCY}>"))
    proc = rig.run("import", folder)
    assert proc.returncode == 0, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "aviso: la cola de correo no responde" in proc.stderr
    rows = rig.rows()
    assert len(rows) == len(first) + 2 and all(r.state == "pending" and r.attempts == 0 for r in rows)

    assert worker.poll() is None, rig.logs()
    rig.redis.start()
    rig.until("every row sent after Redis came back", rig.all_sent)
    assert rig.received() == {ROSA: 2, PERCY: 1}
    assert all(r.attempts == 1 for r in rig.rows())
    rig.assert_once()


def test_worker_killed_before_the_final_reply(redis_rig):
    """SIGKILL while the server holds back its 250: after the lease, another worker sends the
    row; the recipient gets it once (see the module docstring)."""
    rig = redis_rig
    rig.smtp.data_delay_s = 30
    [row_id] = rig.mail("Grieta en la pared")
    worker = rig.workers()
    rig.until("the server received the DATA", lambda: rig.smtp.data_commands >= 1)
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(10) == -signal.SIGKILL
    rig.smtp.data_delay_s = 0
    held = rig.row(row_id)
    assert (held.state, held.attempts) == ("sending", 1)  # the dead worker's claim, until its lease ends

    rig.spawn("worker", "--threads", "2")
    rig.until("the row sent by the second worker", rig.all_sent)
    row = rig.row(row_id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert rig.smtp.data_commands == 2
    assert rig.received() == {ROSA: 1}
    rig.assert_once()
