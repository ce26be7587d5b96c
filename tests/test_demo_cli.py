"""`atencion demo` as a user runs it: a process in a folder holding a copy of examples/, no
ATENCION_DATABASE_URL (the demo's own SQLite under var/)."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.support import REPO, build

EXPECTED = json.loads((REPO / "examples" / "mailbox" / "expected.json").read_text(encoding="utf-8"))
TICKET_CODES = sorted(e["code"] for e in EXPECTED if e["outcome"] == "ticket")
COUNTS = re.compile(r"^\d+ mensajes — atenciones: (\d+), comentarios: \d+, duplicados: \d+, "
                    r"ignorados: \d+, retenidos: \d+$")
REQUESTERS = {e["code"]: e["requester"] for e in EXPECTED if e["outcome"] == "ticket"}
DEMO_ADDRESS = "postventa@inmobiliaria-andina.pe"  # the sample company's own mailbox (Cc'd in 0022.eml)
ACKS = re.compile(r"^Acuses de recibo enviados: (\d+) correos \((\d+) archivos \.eml, uno por destinatario\) "
                  r"en var/outbox/ \(ábralos con su cliente de correo\)$")


def atencion() -> list[str]:
    """The command as a process of the checkout under test: ``python -m worker.cli`` with the repo on
    PYTHONPATH (`demo_env`). Not the venv's console script: that one runs whichever checkout the
    venv was installed from, which need not be this one (a worktree, a fresh clone)."""
    return [sys.executable, "-m", "worker.cli"]


@pytest.fixture
def demo_dir(tmp_path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    # narrow terminal: lines must still not wrap; same code as the tests (not another checkout)
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", COLUMNS="40", LINES="10")
    return env


def check_listing(stdout: str) -> list[str]:
    """catálogo line, counts line, one line per ticket, the acknowledgements line, then how to keep
    the demo's sender; returns the ticket lines."""
    lines = stdout.splitlines()
    assert lines[0].startswith("catálogo: "), stdout
    m = COUNTS.match(lines[1])
    assert m, lines[1]
    assert lines[-1].endswith("export ATENCION_MAIL_FROM=postventa@inmobiliaria-andina.pe"), stdout
    acks = ACKS.match(lines[-2])
    assert acks and int(acks.group(1)) == len(TICKET_CODES), stdout
    tickets = lines[2:-2]
    assert int(m.group(1)) == len(tickets) == len(TICKET_CODES), stdout
    for line in tickets:
        assert line.startswith("AT-0000"), f"not a ticket line (wrapped?): {line!r}"
    assert [line.split()[0] for line in tickets] == TICKET_CODES
    return tickets


def test_demo_no_run(demo_dir):
    assert TICKET_CODES == [f"AT-{n:06d}" for n in range(1, 14)]
    proc = subprocess.run([*atencion(), "demo", "--no-run"], cwd=demo_dir, env=demo_env(),
                          capture_output=True, text=True, check=False, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    first = check_listing(proc.stdout)
    assert (demo_dir / "var" / "atencion.db").exists()
    inbox = demo_dir / "var" / "demo" / "inbox"
    assert (inbox / "new").is_dir()
    assert not [p for p in inbox.rglob(".*")], "the sample's .keep/.gitkeep placeholders were copied"
    check_acknowledgements(demo_dir / "var" / "outbox", proc.stdout)
    # again: a fresh database each time, the same tickets
    again = subprocess.run([*atencion(), "demo", "--no-run"], cwd=demo_dir, env=demo_env(),
                           capture_output=True, text=True, check=False, timeout=180)
    assert again.returncode == 0, again.stderr
    assert [line.split()[0] for line in check_listing(again.stdout)] == [line.split()[0] for line in first]
    # the second run's line counts its own files, not the first run's (both are there)
    assert len(list((demo_dir / "var" / "outbox").glob("*.eml"))) == 2 * int(ACKS.match(
        again.stdout.splitlines()[-2]).group(2))


def check_acknowledgements(outbox: Path, stdout: str) -> None:
    """The .eml files the acknowledgements line announces: one acknowledgement per ticket, to its
    requester (co-owners on the thread in Cc), one file per recipient, never to our own mailbox."""
    m = ACKS.match(stdout.splitlines()[-2])
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == int(m.group(2)) > int(m.group(1)) == len(TICKET_CODES)
    by_code: dict[str, set[str]] = {}
    for f in files:
        msg = BytesParser(policy=policy.default).parsebytes(f.read_bytes())
        assert not msg.defects, (f.name, msg.defects)
        code = re.match(r"^\[(AT-0000\d\d)\] Hemos recibido su solicitud: ", msg["Subject"])
        assert code, msg["Subject"]
        code = code.group(1)
        assert code in REQUESTERS
        assert [a.addr_spec for a in msg["To"].addresses] == [REQUESTERS[code]]
        envelope = msg["X-Envelope-To"].strip("<>")
        cc = [a.addr_spec for a in msg["Cc"].addresses] if msg["Cc"] else []
        assert envelope in [REQUESTERS[code], *cc]
        assert DEMO_ADDRESS not in [envelope, *cc]
        assert msg["From"].addresses[0].addr_spec == DEMO_ADDRESS
        assert code in msg.get_body(("plain",)).get_content()
        by_code.setdefault(code, set()).add(envelope)
    assert sorted(by_code) == TICKET_CODES  # every ticket acknowledged, none twice to one address
    assert sum(len(v) for v in by_code.values()) == len(files)
    assert by_code["AT-000001"] == {"rosa.quispe.h@gmail.com", "percy.vsoto@hotmail.com"}


def test_demo_with_an_smtp_server_sends_the_acknowledgements_there(demo_dir, smtp):
    env = {**demo_env(), "ATENCION_SMTP_URL": smtp.url}
    proc = subprocess.run([*atencion(), "demo", "--no-run"], cwd=demo_dir, env=env,
                          capture_output=True, text=True, check=False, timeout=180)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    last = proc.stdout.splitlines()[-2]
    m = re.match(r"^Acuses de recibo enviados a (\d+) destinatarios por 127\.0\.0\.1:(\d+)$", last)
    assert m and int(m.group(2)) == smtp.port, last
    got = smtp.wait_for(int(m.group(1)))
    assert len(got) == int(m.group(1)) > len(TICKET_CODES)
    assert len({d.message["Message-ID"] for d in got}) == len(TICKET_CODES)
    assert DEMO_ADDRESS not in {r for d in got for r in d.rcpt_tos}
    assert not (demo_dir / "var" / "outbox").exists()


def test_demo_refuses_another_database(demo_dir, tmp_path):
    env = {**demo_env(), "ATENCION_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"}
    proc = subprocess.run([*atencion(), "demo", "--no-run"], cwd=demo_dir, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "ATENCION_DATABASE_URL" in proc.stderr


def _reader(stream, q: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        q.put(line.rstrip("\n"))
    q.put(None)


def _wait_for(q: queue.Queue, pred, timeout: float, seen: list[str]) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            return None
        seen.append(line)
        if pred(line):
            return line
    return None


def test_demo_run_picks_up_a_dropped_file(demo_dir):
    stderr_path = demo_dir / "demo.stderr"
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen([*atencion(), "demo"], cwd=demo_dir, env=demo_env(), stdout=subprocess.PIPE,
                                stderr=err, text=True, start_new_session=True)
        q: queue.Queue = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True).start()
        seen: list[str] = []
        try:
            assert _wait_for(q, lambda s: s.startswith("Vigilando"), 120, seen), \
                "\n".join(seen) + stderr_path.read_text()
            assert [s.split()[0] for s in seen if s.startswith("AT-")] == TICKET_CODES
            assert any(ACKS.match(s) for s in seen), seen
            outbox = demo_dir / "var" / "outbox"
            before = set(outbox.glob("*.eml"))

            inbox = demo_dir / "var" / "demo" / "inbox"
            raw = build("Caño de la cocina gotea", "El caño de la cocina gotea desde ayer.",
                        sender="Vecina Nueva <vecina.nueva@example.org>",
                        date=datetime.now(UTC))
            tmp = inbox / "tmp" / "1900000000.P1Q1.test"
            tmp.write_bytes(raw)
            tmp.rename(inbox / "new" / tmp.name)  # Maildir delivery: write in tmp/, move to new/
            dropped = time.monotonic()
            line = _wait_for(q, lambda s: s.startswith("AT-000014"), 15, seen)
            assert line, "no AT-000014 within 15 s:\n" + "\n".join(seen) + stderr_path.read_text()
            assert time.monotonic() - dropped < 15
            assert "Caño de la cocina gotea" in line
            sent = _wait_for(q, lambda s: s.startswith("Correo enviado"), 15, seen)
            assert sent == "Correo enviado: 1 correo en var/outbox/ (ábralo con su cliente de correo)", seen
            (new,) = set(outbox.glob("*.eml")) - before
            msg = BytesParser(policy=policy.default).parsebytes(new.read_bytes())
            assert msg["To"] == "vecina.nueva@example.org"
            assert msg["Subject"].startswith("[AT-000014] Hemos recibido su solicitud: Caño de la cocina")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                rc = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
    _wait_for(q, lambda s: False, 2, seen)  # drain what is left
    stderr = stderr_path.read_text()
    assert rc == 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in "\n".join(seen)
    assert "hasta luego" in seen


def test_demo_never_deletes_a_configured_sqlite_database(demo_dir, tmp_path):
    precious = tmp_path / "produccion.db"
    precious.write_bytes(b"SQLite format 3\x00 not really, but not the demo's either")
    env = {**demo_env(), "ATENCION_DATABASE_URL": f"sqlite:///{precious}"}
    proc = subprocess.run([*atencion(), "demo", "--no-run"], cwd=demo_dir, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert precious.read_bytes().startswith(b"SQLite format 3\x00 not really")
