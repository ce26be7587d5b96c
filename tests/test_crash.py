"""The crash test (DESIGN.md, "Inbound mail"): the poller process is SIGKILLed in the middle of a
batch — after some commits, before flagging — and run again; the tickets and comments are the same
as in a clean run, nothing is lost and nothing is imported twice.

Everything goes through the real command (``python -m worker.cli``) as a subprocess, a real Dovecot
and SQLite or PostgreSQL. The kill is the poller's own fault injection, ``ATENCION_CRASH_AFTER_COMMITS``:
SIGKILL after N ingests, each after its commit and before its ``\\Seen`` flag.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mail.inbound.poller import CRASH_ENV
from tests.support import MINI_CATALOG, REPO, SUPPORT, build
from tickets.catalog import load_catalog_data
from tickets.db import make_engine, make_sessionmaker
from tickets.models import (
    InboundMessage,
    LogbookEntry,
    MailboxState,
    OutboxMessage,
    Ticket,
    utcnow,
)

pytestmark = pytest.mark.slow

MAILBOX = "default"  # the name of the mailbox configured by ATENCION_IMAP_URL
ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
PERCY = "Percy Villanueva Soto <percy.vsoto@hotmail.com>"
LUCIA = "Lucía Fernández <lucia.fernandez@outlook.com>"
MARCO = "Marco Salazar <marco.salazar@yahoo.es>"
ANA = "Ana Torres <ana.torres84@gmail.com>"
CARLA = "Carla Mendoza Ríos <carla.mendoza@inmobiliaria-andina.pe>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def batch() -> list[bytes]:
    """16 realistic messages; the numbers in the comments are their positions (= Dovecot UIDs)."""
    first = build("Filtración en el baño del Dpto 504",
                  "Buenos días,\nHay una filtración de agua en el baño principal del Dpto 504.\n"
                  "Adjunto una foto.\n\nRosa Quispe", sender=ROSA, cc=PERCY,
                  attachments=[("filtracion.png", "image/png", PNG)],
                  message_id="<CAJ1filtracion504@mail.gmail.com>")
    llaves = build("Consulta sobre la entrega de llaves",
                   "Hola, compré un departamento en la Torre A y quisiera saber cuándo entregan las "
                   "llaves.\nGracias,\nMarco Salazar", sender=MARCO,
                   message_id="<1700000000.llaves@yahoo.es>")
    precios = build("Solicitud de información de precios",
                    "Buenas tardes, ¿tienen departamentos de 3 dormitorios disponibles? Saludos, Ana",
                    sender=ANA, message_id="<CAK9precios@mail.gmail.com>")
    return [
        first,                                                                        # 1 AT-000001
        llaves,                                                                       # 2 AT-000002
        build("Rajadura en la pared de la sala",                                      # 3 AT-000003
              "Buenos días, apareció una rajadura en la pared de la sala de mi departamento.\n"
              "Lucía Fernández", sender=LUCIA),
        build("Re: [AT-000001] Filtración en el baño del Dpto 504",                   # 4 comment
              "Buenas tardes, ya tomé más fotos. El técnico puede venir el jueves.\n\n"
              "El lun, 23 nov 2026 a las 10:15, Postventa Inmobiliaria Andina "
              "(<postventa@inmobiliaria-andina.pe>) escribió:\n"
              "> Estimada Sra. Quispe:\n> Hemos registrado su solicitud AT-000001.\n",
              sender=ROSA, in_reply_to="<CAJ1filtracion504@mail.gmail.com>"),
        build("Humedad en el estacionamiento E-12",                                   # 5 AT-000004
              "Estimados, hay humedad y salitre en la pared del estacionamiento E-12.\nPercy",
              sender=PERCY),
        build("Respuesta automática: [AT-000004] Hemos recibido su solicitud",        # 6 ignored
              "Estoy fuera de la oficina hasta el lunes 30 de noviembre.", sender=PERCY,
              headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}),
        build("RE: at-2 Consulta sobre la entrega de llaves",                         # 7 comment
              "Les escribo de nuevo: necesito la fecha para coordinar la mudanza.\n\nMarco",
              sender=MARCO),
        b"Received: from mx2.inmobiliaria-andina.pe by imap.inmobiliaria-andina.pe; "  # 8 duplicate
        b"Fri, 20 Nov 2026 15:10:00 +0000\r\n" + llaves,
        build("RV: [AT-000003] Rajadura en la pared de la sala",                      # 9 comment
              "Les reenvío la foto de la rajadura.", sender=LUCIA,
              attachments=[("rajadura.png", "image/png", PNG + b"rajadura")]),
        precios,                                                                      # 10 AT-000005
        build("RE: [AT-000001] Filtración en el baño del Dpto 504",                   # 11 comment
              "Please note the leak got worse last night.\n\nPercy\n\n"
              "________________________________\nFrom: Rosa Quispe <rosa.quispe.h@gmail.com>\n"
              "Sent: Monday, November 23, 2026 10:15 AM\nSubject: Filtración\n\nHay una filtración.\n",
              sender=PERCY),
        build("Re: [AT-000003] Rajadura en la pared de la sala",                      # 12 held
              "Yo también tengo una rajadura, ¿me pueden atender?",
              sender="Vecino Curioso <curioso@example.org>"),
        build("Re: Solicitud de información de precios",                              # 13 comment
              "¿Y tienen estacionamiento incluido?", sender=ANA,
              in_reply_to="<CAK9precios@mail.gmail.com>"),
        build("Puerta del depósito no cierra",                                        # 14 AT-000006
              "La puerta del depósito no cierra bien desde ayer.", sender=ROSA),
        build("Re: [AT-000002] Consulta sobre la entrega de llaves",                  # 15 staff comment
              "Sr. Salazar, la entrega de llaves de la Torre A está programada para diciembre.",
              sender=CARLA),
        precios,                                                                      # 16 duplicate
    ]


# --- running the command -------------------------------------------------------------------------


def run_cli(tmp: Path, database_url: str, imap_url: str, *args: str, timeout: float = 120,
            **extra: str) -> subprocess.CompletedProcess:
    """``python -m worker.cli ARGS`` in ``tmp`` with only our configuration in the environment (and
    this checkout first on PYTHONPATH: the code under test, not the one the venv was installed from)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    env.update(ATENCION_DATABASE_URL=database_url, ATENCION_DATA_DIR=str(tmp / "var"),
               ATENCION_IMAP_URL=imap_url, ATENCION_MAIL_FROM=SUPPORT, PYTHONPATH=str(REPO), **extra)
    return subprocess.run([sys.executable, "-m", "worker.cli", *args], check=False, cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


class Run:
    """One fresh database + one fresh Dovecot user holding the batch."""

    def __init__(self, database_url: str, tmp: Path, dovecot, user: str, password: str):
        self.url, self.tmp, self.dovecot, self.user = database_url, tmp, dovecot, user
        tmp.mkdir(parents=True, exist_ok=True)
        self.imap_url = dovecot.url(user, password)
        ok(self.cli("migrate"))
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)
        with self.sessions.begin() as s:
            load_catalog_data(s, MINI_CATALOG)
        self.uids = [dovecot.append(user, raw) for raw in batch()]

    def cli(self, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return run_cli(self.tmp, self.url, self.imap_url, *args, **extra)

    def poll(self, **extra: str) -> subprocess.CompletedProcess:
        return self.cli("poll", "--once", **extra)

    def inbound_count(self) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(InboundMessage))

    def seen(self) -> list[bool]:
        return ["\\Seen" in self.dovecot.flags(self.user, uid) for uid in self.uids]

    def state(self) -> MailboxState:
        with self.sessions() as s:
            return s.scalar(select(MailboxState).where(MailboxState.name == MAILBOX))

    def expire_lease(self) -> None:
        """What the passing of the lease's TTL does to a dead holder's lock."""
        with self.sessions.begin() as s:
            s.execute(update(MailboxState).where(MailboxState.name == MAILBOX)
                      .values(lock_until=utcnow() - timedelta(seconds=1)))

    def snapshot(self) -> dict:
        """Everything a clean run and a crashed-and-resumed run must agree on (no ids, no times)."""
        with self.sessions() as s:
            tickets = s.scalars(select(Ticket).order_by(Ticket.code)).all()
            ticket_rows = [(t.code, t.subject, t.requester_email, t.status.name,
                            t.contract.number if t.contract else None, t.detail) for t in tickets]
            logbook = {}
            for t in tickets:
                entries = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id)
                                    .order_by(LogbookEntry.id)).all()
                logbook[t.code] = [(e.kind, e.author_email, e.text, e.field, e.old, e.new, e.public,
                                    tuple((a.filename, a.sha256) for a in e.attachments))
                                   for e in entries]
            records = s.scalars(select(InboundMessage).order_by(InboundMessage.uid)).all()
            uid_of = {r.id: r.uid for r in records}
            per_uid = [(r.uid, r.outcome,
                        re.sub(r"#(\d+)", lambda m: f"uid {uid_of[int(m.group(1))]}", r.reason or ""),
                        r.ticket.code if r.ticket else None, r.text) for r in records]
            code_of = {t.id: t.code for t in tickets}
            outbox = Counter((code_of.get(o.ticket_id), o.event, tuple(o.to_addrs))
                             for o in s.scalars(select(OutboxMessage)))
        return {
            "tickets": ticket_rows,
            "logbook": logbook,
            "inbound": per_uid,
            "outcomes": Counter((outcome, reason) for _uid, outcome, reason, _code, _text in per_uid),
            "outbox": outbox,
        }

    def close(self) -> None:
        self.engine.dispose()


def _clean(database_url: str, tmp: Path, dovecot, user: str, password: str) -> dict:
    run = Run(database_url, tmp, dovecot, user, password)
    try:
        out = ok(run.poll()).stdout
        assert f"{MAILBOX}: {len(run.uids)} mensajes" in out, out
        assert run.inbound_count() == len(run.uids)
        assert all(run.seen())
        return run.snapshot()
    finally:
        run.close()


@pytest.fixture
def fresh_database(database_url):
    """A second fresh database on the same backend as ``database_url`` (for the crashed run)."""
    from tests import servers

    if database_url.startswith("sqlite"):
        yield database_url.replace("atencion.db", "crashed.db")
        return
    url = servers.obtain(servers.fresh_postgres_database, "PostgreSQL")
    yield url
    servers.drop_database(url)


def test_sigkill_mid_batch_then_rerun_equals_clean_run(database_url, fresh_database, tmp_path, dovecot):
    n = len(batch())
    # --- the clean run: one `poll --once` over the whole batch
    clean = _clean(database_url, tmp_path / "clean", dovecot, *_new_user(dovecot))
    assert [t[0] for t in clean["tickets"]] == [f"AT-00000{i}" for i in range(1, 7)]
    assert clean["outcomes"] == Counter({
        ("ticket", ""): 6, ("comment", ""): 6, ("ignored", "auto_reply"): 1,
        ("held", "sender_not_allowed"): 1,
        ("duplicate", "duplicate of inbound uid 2"): 1, ("duplicate", "duplicate of inbound uid 10"): 1,
    })
    comments = {code: [(e[1], e[2]) for e in entries if e[0] == "comment"]
                for code, entries in clean["logbook"].items()}
    assert [a for a, _ in comments["AT-000001"]] == ["rosa.quispe.h@gmail.com", "percy.vsoto@hotmail.com"]
    assert comments["AT-000001"][0][1].startswith("Buenas tardes, ya tomé más fotos")
    assert "Estimada" not in comments["AT-000001"][0][1]
    assert [a for a, _ in comments["AT-000002"]] == ["marco.salazar@yahoo.es",
                                                     "carla.mendoza@inmobiliaria-andina.pe"]
    assert len(comments["AT-000003"]) == 1 and len(comments["AT-000005"]) == 1

    # --- the crashed run: same messages, another fresh database and mailbox
    run = Run(fresh_database, tmp_path / "crashed", dovecot, *_new_user(dovecot))
    try:
        # 1. SIGKILL after the 5th commit, before its \Seen flag
        p = run.poll(**{CRASH_ENV: "5"})
        assert p.returncode == -signal.SIGKILL, (p.returncode, p.stdout, p.stderr)
        assert run.inbound_count() == 5
        assert run.seen() == [True] * 4 + [False] * (n - 4)  # the 5th: committed, not flagged
        assert run.state().last_uid == run.uids[3]
        with run.sessions() as s:
            assert s.scalars(select(Ticket.code).order_by(Ticket.code)).all() == \
                ["AT-000001", "AT-000002", "AT-000003", "AT-000004"]

        # 2. restarted at once on the same host: the dead process's lease is taken over (its pid is
        #    gone), and it is killed again 4 items later (the 5th again, then 6, 7, 8)
        p = run.poll(**{CRASH_ENV: "4"})
        assert p.returncode == -signal.SIGKILL, (p.returncode, p.stdout, p.stderr)
        assert run.inbound_count() == 8  # the 5th was not recorded twice
        assert run.seen() == [True] * 7 + [False] * (n - 7)  # the 8th (a duplicate): not flagged

        # 3. another host's lease is respected until it expires
        with run.sessions.begin() as s:
            s.execute(update(MailboxState).values(lock_owner="otro-servidor:4242",
                                                  lock_until=utcnow() + timedelta(seconds=60)))
        p = ok(run.poll())
        assert "otro proceso lo está leyendo" in p.stdout
        assert run.inbound_count() == 8
        run.expire_lease()

        # 4. the final run: picks up at the 8th (recorded: only flagged), then the rest
        p = ok(run.poll())
        assert f"{MAILBOX}: {n - 7} mensajes" in p.stdout, p.stdout  # 8..16 read; 8 not counted
        assert "duplicados: 1" in p.stdout, p.stdout  # the 16th; the 8th counted in its own run
        assert all(run.seen())
        assert run.inbound_count() == n
        with run.sessions() as s:
            uids = s.scalars(select(InboundMessage.uid)).all()
        assert sorted(uids) == run.uids  # one record per message, none twice
        assert run.snapshot() == clean

        # 5. and a third pass has nothing to do
        p = ok(run.poll())
        assert f"{MAILBOX}: 0 mensajes" in p.stdout, p.stdout
        assert run.inbound_count() == n
        assert run.snapshot() == clean
        state = run.state()
        assert state.last_uid == run.uids[-1] and state.lock_owner is None
    finally:
        run.close()


_users = iter(range(1, 1_000_000))


def _new_user(dovecot) -> tuple[str, str]:
    """A fresh Dovecot user (the `imap_user` fixture gives one per test; this test needs two)."""
    user = f"crash{next(_users)}x{os.getpid()}"
    dovecot.add_user(user, "secret")
    return user, "secret"


def test_module_runs_as_a_command(tmp_path):
    """``python -m worker.cli`` is the command the tests above drive (``atencion`` itself)."""
    p = subprocess.run([sys.executable, "-m", "worker.cli", "--help"], check=False, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "poll" in p.stdout and "migrate" in p.stdout
