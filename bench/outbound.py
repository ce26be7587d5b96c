"""Outbound throughput: outbox rows to an SMTP server through Redis and 2 workers, next to bare aiosmtplib.

    .venv/bin/python bench/outbound.py [--count 2000] [--repeat 3] [--db sqlite,postgres] [--quick] [--json]

Everything runs on this machine and is started by the script: an SMTP server that accepts and
counts (aiosmtpd, `bench/helpers/smtp_sink.py`, in its own process), a redis-server on a free port
(no persistence), a fresh database migrated with ``atencion migrate`` (SQLite; PostgreSQL too when
127.0.0.1:5432 database ``test`` answers: a throwaway database, dropped at the end) with the
generated catalog of bench/corpus.py loaded, and two ``atencion worker --threads 4`` processes.
Each round writes fresh outbox rows the way the product does: a client's mail (with co-owners in
Cc) is ingested — a ticket and its acknowledgement to the requester and the Cc — and a staff
member answers it in public (the public reply, to the same people), so every row has a real
ticket, thread and comment for compose to read, and every copy goes to its own recipient.
A round then times, back to back:

(b) one connection  bare aiosmtplib, one connection reused, the round's mails composed beforehand
                    (untimed) sent one after the other, each to its own envelope recipient;
(c) ten connections the same mails over ten concurrent aiosmtplib connections (one event loop);
(a) ours            the rows enqueued on Redis as the sweep does (`worker.outbound.Outbound.sweep`,
                    batches of 20 ids), until the last row is ``sent`` in the database: claim,
                    compose, send, mark in the two worker processes.

Figures: msg/s of each, and (a)/(b) and (a)/(c), the median of the rounds' own ratios (the
machine is shared: a round's three figures see the same stretch of time). Floor: (a)/(b) ≥ 0.5.
The SMTP server's count is checked after every figure, and the rows must all be ``sent``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)
from helpers.machine import machine  # noqa: E402  (bench/helpers/machine.py)

FLOOR = 0.5
SMTP_CONNECTIONS = 10
PG_ADMIN = "postgresql+psycopg://{user}@127.0.0.1:5432/test"
STAFF = f"carla.mendoza@{corpus_mod.DOMAIN}"
#: Cc co-owners per ticket, in turn: rows per ticket are 2 × (1 + this)
CC_CYCLE = (1, 0, 2, 4, 1, 0, 3, 1)


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_line(path: Path, text: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}: {path.read_text(errors='replace')}")
        time.sleep(0.05)
    raise RuntimeError(f"{proc.args} did not say {text!r} within {timeout} s")


@dataclass
class Servers:
    """The processes of one run: the SMTP sink, redis-server, and (per database) the workers."""

    tmp: Path
    procs: list[subprocess.Popen] = field(default_factory=list)
    smtp_port: int = 0
    redis_port: int = 0

    def spawn(self, args: list[str], name: str, ready: str, **kw) -> subprocess.Popen:
        out = self.tmp / f"{name}.log"
        with open(out, "w") as fh:
            proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, **kw)
        self.procs.append(proc)
        wait_for_line(out, ready, proc)
        return proc

    def start(self) -> Servers:
        self.smtp_port = free_port()
        self.sink = self.spawn([sys.executable, str(HERE / "helpers" / "smtp_sink.py"), str(self.smtp_port)],
                               "smtp", "ready")
        self.redis_port = free_port()
        rdir = self.tmp / "redis"
        rdir.mkdir()
        self.redis = self.spawn(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", str(rdir)],
                                "redis", "Ready to accept connections")
        return self

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


async def sink_count(port: int) -> int:
    """Messages the SMTP sink accepted so far (it answers NOOP with the count)."""
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    response = await client.noop()
    await client.quit()
    return int(response.message.split()[0])


# --- the database and its rows --------------------------------------------------------------------


def postgres_admin_url() -> str | None:
    """The local PostgreSQL's ``test`` database, when it answers (trust auth)."""
    import getpass

    import psycopg

    for user in dict.fromkeys((getpass.getuser(), "postgres")):
        try:
            with psycopg.connect(f"postgresql://{user}@127.0.0.1:5432/test", connect_timeout=3):
                return PG_ADMIN.format(user=user)
        except Exception:  # noqa: BLE001 - any failure: not usable
            continue
    return None


def _pg(url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True, connect_timeout=5)


def postgres_version(admin: str) -> str:
    with _pg(admin) as conn:
        return conn.execute("show server_version").fetchone()[0]


def create_postgres(admin: str) -> str:
    from sqlalchemy.engine import make_url

    name = f"atencion_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _pg(admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with _pg(admin) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def product_env(db_url: str, servers: Servers, data_dir: Path) -> dict:
    """The environment of the product's processes: only our ATENCION_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    env.update(PYTHONPATH=str(ROOT), ATENCION_DATABASE_URL=db_url, ATENCION_BROKER_URL=servers.redis_url,
               ATENCION_SMTP_URL=servers.smtp_url, ATENCION_MAIL_FROM=corpus_mod.SUPPORT,
               ATENCION_MAIL_FROM_NAME=corpus_mod.SUPPORT_NAME, ATENCION_DATA_DIR=str(data_dir),
               ATENCION_CODE_PREFIX=corpus_mod.CODE_PREFIX)
    return env


class Database:
    """One database under test: migrated, catalog loaded; writes each round's rows."""

    def __init__(self, kind: str, url: str, servers: Servers, workdir: Path, catalog: dict):
        from mail.mailboxes import import_rules
        from tickets.catalog import load_catalog_data
        from tickets.db import make_engine, make_reader, make_sessionmaker
        from tickets.services import Context
        from tickets.settings import Settings

        self.kind, self.url, self.workdir = kind, url, workdir
        self.env = product_env(url, servers, workdir / "var")
        subprocess.run([sys.executable, "-m", "worker.cli", "migrate"], env=self.env, cwd=workdir,
                       check=True, stdout=subprocess.DEVNULL)
        self.settings = Settings(_env_file=None, database_url=url, data_dir=workdir / "var",
                                 mail_from=corpus_mod.SUPPORT, mail_from_name=corpus_mod.SUPPORT_NAME,
                                 code_prefix=corpus_mod.CODE_PREFIX, broker_url=servers.redis_url,
                                 smtp_url=servers.smtp_url, config=None, imap_url=None)
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.reader = make_reader(self.engine)
        with self.sessions.begin() as s:
            load_catalog_data(s, catalog)
        self.ctx = Context.from_settings(self.settings)
        self.rules = import_rules(self.settings).resolved(self.sessions)
        self.clients = [c["emails"][0] for c in catalog["clients"]]
        self.names = {c["emails"][0]: c["name"] for c in catalog["clients"]}
        self.next_client = 0
        self.batch = 0

    def write_rows(self, n_rows: int) -> tuple[int, int]:
        """Tickets from client mail, each answered by staff in public, until at least ``n_rows``
        outbox rows are pending; returns (first id, row count)."""
        from sqlalchemy import func, select

        from mail.inbound.ingest import Envelope, ingest
        from tickets import services
        from tickets.models import OutboxMessage, User

        self.batch += 1
        with self.reader() as s:
            before = s.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        rows, k = 0, 0
        while rows < n_rows:
            requester = self.clients[self.next_client % len(self.clients)]
            self.next_client += 1
            ccs = [f"copropietario{j}.b{self.batch}.t{k}@gmail.com" for j in range(CC_CYCLE[k % len(CC_CYCLE)])]
            raw = client_mail(requester, self.names[requester], ccs, k, self.batch)
            result = ingest(self.sessions, self.ctx, self.rules, raw, Envelope(mailbox="import"))
            if result.code is None:
                raise RuntimeError(f"the bench mail did not open a ticket: {result}")
            with self.sessions.begin() as s:
                ticket = services.get_ticket(s, result.code, self.ctx.code_prefix)
                staff = s.scalar(select(User).where(User.email == STAFF))
                services.add_comment(s, self.ctx, ticket, author_user=staff, public=True, text=(
                    f"Estimado(a) {self.names[requester]}:\n\nCoordinamos la visita técnica para revisar "
                    "la filtración del baño principal el próximo martes entre las 9:00 y las 12:00. "
                    "Por favor confirme si alguien podrá recibir al técnico.\n\nSaludos cordiales,\n"
                    "Carla Mendoza Ríos\nPostventa"))
            rows += 2 * (1 + len(ccs))
            k += 1
        with self.reader() as s:
            got = s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.id > before,
                                                                       OutboxMessage.state == "pending"))
        if got != rows:
            raise RuntimeError(f"expected {rows} pending outbox rows, the database has {got}")
        return before + 1, rows

    def sent(self, first_id: int) -> int:
        from sqlalchemy import func, select

        from tickets.models import OutboxMessage

        with self.reader() as s:
            return s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.id >= first_id,
                                                                       OutboxMessage.state == "sent"))

    def states(self, first_id: int) -> dict:
        from sqlalchemy import func, select

        from tickets.models import OutboxMessage

        with self.reader() as s:
            return dict(s.execute(select(OutboxMessage.state, func.count()).where(OutboxMessage.id >= first_id)
                                  .group_by(OutboxMessage.state)).all())

    def compose_all(self, first_id: int) -> list[tuple[EmailMessage, str]]:
        """The mails of the rows from ``first_id`` on, as a worker would compose them, with their
        envelope recipients (for the bare aiosmtplib figures)."""
        from sqlalchemy import select

        from mail.outbound.compose import compose
        from tickets.models import OutboxMessage

        with self.reader() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.id >= first_id).order_by(OutboxMessage.id))
            return [(compose(s, self.settings, row), row.recipient) for row in rows]

    def close(self) -> None:
        self.engine.dispose()


def client_mail(requester: str, name: str, ccs: list[str], k: int, batch: int) -> bytes:
    """A client's plain request, with co-owners in Cc (a new ticket)."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{requester}>"
    msg["To"] = corpus_mod.SUPPORT
    if ccs:
        msg["Cc"] = ", ".join(ccs)
    msg["Subject"] = f"Filtración en el baño principal ({batch}-{k})"
    msg["Message-ID"] = f"<bench.{batch}.{k}.{uuid.uuid4().hex[:12]}@mail.gmail.com>"
    msg["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg.set_content("Buenos días:\n\nDesde hace una semana hay una filtración en el techo del baño principal "
                    "de mi departamento; la mancha crece cada día y el yeso empieza a caerse. Adjunto "
                    "detalles cuando venga el técnico.\n\nQuedo atenta a su respuesta.\n" + name + "\n")
    return msg.as_bytes()


# --- the three figures ----------------------------------------------------------------------------


async def _send_over(port: int, mails: list[tuple[EmailMessage, str]]) -> None:
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
    await client.connect()
    for msg, rcpt in mails:
        await client.send_message(msg, sender=corpus_mod.SUPPORT, recipients=[rcpt])
    await client.quit()


def bare(port: int, mails: list[tuple[EmailMessage, str]], connections: int) -> float:
    """Seconds to send ``mails`` over ``connections`` concurrent aiosmtplib connections."""
    share = [mails[i::connections] for i in range(connections)]

    async def run():
        await asyncio.gather(*(_send_over(port, part) for part in share if part))

    t0 = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - t0


def ours(db: Database, outbound, first_id: int, n: int, timeout: float = 600.0) -> float:
    """Seconds from enqueueing the due rows to the last of the ``n`` rows from ``first_id`` being sent."""
    t0 = time.perf_counter()
    enqueued = outbound.sweep()
    if enqueued != n:
        raise RuntimeError(f"the sweep enqueued {enqueued} ids, expected {n}")
    while db.sent(first_id) < n:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"not all sent after {timeout} s: {db.states(first_id)}")
        time.sleep(0.02)
    return time.perf_counter() - t0


# --- a run ----------------------------------------------------------------------------------------


def measure(kind: str, url: str, servers: Servers, workdir: Path, catalog: dict, args) -> dict:
    from worker.outbound import Outbound

    db = Database(kind, url, servers, workdir, catalog)
    workers = [servers.spawn([sys.executable, "-m", "worker.cli", "worker", "--threads", str(args.threads)],
                             f"worker-{kind}-{i}", "worker:", env=db.env, cwd=workdir)
               for i in range(args.workers)]
    outbound = Outbound(db.settings, db.sessions)
    port = servers.smtp_port
    watched = {"bench": os.getpid(), "workers": None, "smtp": servers.sink.pid, "redis": servers.redis.pid}

    def cpu() -> dict:
        return {k: (sum(cpu_s(w.pid) for w in workers) if k == "workers" else cpu_s(pid))
                for k, pid in watched.items()}

    def spent(before: dict) -> dict:
        after = cpu()
        return {k: round(after[k] - before[k], 3) for k in after}

    try:
        # warm-up, untimed: the workers' imports, connections and statement caches; the client's too
        first, n = db.write_rows(100)
        ours(db, outbound, first, n)
        rounds, mails = [], None
        for _ in range(args.repeat):
            first, n = db.write_rows(args.count)
            if mails is None:  # the same mails for (b) and (c) in every round: the first round's
                mails = db.compose_all(first)
                bare(port, mails[:200], 1)
                bare(port, mails[:200], SMTP_CONNECTIONS)
            os.sync()
            start = asyncio.run(sink_count(port))
            c0 = cpu()
            one = bare(port, mails, 1)
            cpu_one = spent(c0)
            c0 = cpu()
            ten = bare(port, mails, SMTP_CONNECTIONS)
            cpu_ten = spent(c0)
            mid = asyncio.run(sink_count(port))
            c0 = cpu()
            ours_s = ours(db, outbound, first, n)
            cpu_ours = spent(c0)
            end = asyncio.run(sink_count(port))
            states = db.states(first)
            if mid - start != 2 * len(mails) or end - mid != n or states != {"sent": n}:
                raise RuntimeError(f"implausible: the server got {mid - start} bare and {end - mid} of ours "
                                   f"(expected {2 * len(mails)} and {n}); rows {states}")
            rate = {"one": len(mails) / one, "ten": len(mails) / ten, "ours": n / ours_s}
            rounds.append({"rows": n, "mails": len(mails), "one_s": one, "ten_s": ten, "ours_s": ours_s, **rate,
                           "ours_one": rate["ours"] / rate["one"], "ours_ten": rate["ours"] / rate["ten"],
                           "cpu": {"one": cpu_one, "ten": cpu_ten, "ours": cpu_ours}})
        size = sum(len(m.as_bytes()) for m, _ in mails) / len(mails)
    finally:
        outbound.close()
        for w in workers:
            servers.stop(w)
        db.close()
    return {"database": kind, "rounds": rounds, "mean_mail_bytes": round(size),
            "ours_one": statistics.median(r["ours_one"] for r in rounds),
            "ours_ten": statistics.median(r["ours_ten"] for r in rounds)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="outbox rows per round (default 2000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--db", default="sqlite,postgres",
                    help="databases, comma-separated (default sqlite,postgres; postgres only when reachable)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 200 rows, 1 round, SQLite only")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    if args.quick:
        args.count, args.repeat, args.db = 200, 1, "sqlite"
    if args.repeat < 1 or args.count < 1:
        ap.error("--count and --repeat must be at least 1")
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if not kinds or set(kinds) - {"sqlite", "postgres"}:
        ap.error("--db takes sqlite and/or postgres")
    if not shutil.which("redis-server"):
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 1

    import logging

    logging.basicConfig(level=logging.WARNING)
    catalog = corpus_mod.generate(5, n_clients=2000).catalog
    pg_admin = postgres_admin_url() if "postgres" in kinds else None
    pg_version = postgres_version(pg_admin) if pg_admin else None
    skipped = [] if pg_admin or "postgres" not in kinds else ["postgres (127.0.0.1:5432 'test' did not answer)"]
    results = []
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="atencion-bench-out-") as tmp:
        servers = Servers(Path(tmp)).start()
        try:
            for kind in kinds:
                workdir = Path(tmp) / kind
                workdir.mkdir()
                if kind == "sqlite":
                    results.append(measure(kind, f"sqlite:///{workdir / 'atencion.db'}", servers, workdir,
                                           catalog, args))
                elif pg_admin:
                    url = create_postgres(pg_admin)
                    try:
                        results.append(measure(kind, url, servers, workdir, catalog, args))
                    finally:
                        drop_postgres(pg_admin, url)
        finally:
            servers.close()
    result = {"date": date, "machine": machine(postgresql=pg_version), "workers": args.workers, "threads": args.threads,
              "connections": SMTP_CONNECTIONS, "floor": FLOOR, "results": results, "skipped": skipped}
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    m = result["machine"]
    print(f"Atención outbound benchmark — {date}")
    print(f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; SQLite {m['sqlite']}; "
          f"PostgreSQL {m['postgresql'] or '—'}; load average {m['load_average'][0]}")
    print(f"ours: {args.workers} worker processes × {args.threads} threads, Redis broker; "
          f"bare: aiosmtplib, 1 and {SMTP_CONNECTIONS} connections; same local aiosmtpd (own process)")
    for s in skipped:
        print(f"skipped: {s}")
    for res in results:
        print()
        print(f"[{res['database']}] {res['rounds'][0]['rows']} rows a round, mails of {res['mean_mail_bytes']} "
              "bytes on average; msg/s (cpu s: client / workers / smtp / redis)")
        for i, r in enumerate(res["rounds"], 1):
            c = r["cpu"]
            print(f"  round {i}: (b) one connection {r['one']:7.1f}   (c) ten {r['ten']:7.1f}   "
                  f"(a) ours {r['ours']:7.1f}   (a)/(b) {r['ours_one']:.2f}   (a)/(c) {r['ours_ten']:.2f}")
            print("           cpu s " + "   ".join(
                f"{label} " + " / ".join(f"{c[key][k]:.2f}" for k in ("bench", "workers", "smtp", "redis"))
                for label, key in (("(b)", "one"), ("(c)", "ten"), ("(a)", "ours"))))
        verdict = "floor met" if res["ours_one"] >= FLOOR else "BELOW THE FLOOR"
        print(f"  median (a)/(b) = {res['ours_one']:.2f} (floor {FLOOR}: {verdict});  "
              f"median (a)/(c) = {res['ours_ten']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
