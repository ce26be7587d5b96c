"""Hostile input found by trying to break the importer: each case keeps its fixed outcome.

The rules: every message ends with one outcome (nothing raises, nothing vanishes), held messages
keep their bytes, our own address cannot be spoofed past the loop guard, the CLI answers in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from mail.inbound.poller import process_source
from mail.inbound.sources import FileSource, SourceError
from mail.mailboxes import import_rules
from tests.support import REPO, SUPPORT, build
from tickets import storage
from tickets.models import HeldMessage, InboundMessage, utcnow

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"


def run_import(env, *paths, max_bytes=None):
    rules = import_rules(env.settings)
    source = FileSource(list(paths), max_bytes=max_bytes or rules.max_message_bytes)
    return process_source(env.sessions, env.ctx, rules, source, "import", checkpoint=False)


def test_nul_bytes_and_oversized_fields_are_stored_or_held_on_every_database(env, tmp_path):
    d = tmp_path / "mails"
    d.mkdir()
    (d / "01.eml").write_bytes(b"From: Na\x00me <stranger\x00@evil.com>\nSubject: nul\x00subject\n"
                               b"Message-ID: <nul\x00id@x>\n\nbody\n")
    (d / "02.eml").write_bytes(build("Nombre largo", "Hola", sender='"' + "R" * 300 + '" <rosa.quispe.h@gmail.com>'))
    (d / "03.eml").write_bytes(build("Cc largo", "Hola", cc="x" * 400 + "@example.com"))
    (d / "04.eml").write_bytes(build("Message-ID largo", "Hola", message_id="<" + "m" * 5000 + "@x>"))
    (d / "05.eml").write_bytes(build("Tipo largo", "Hola", attachments=[("a.bin", "application/" + "x" * 300, b"1")]))
    (d / "06.eml").write_bytes(b"From: Ana <ana@example.pe>\nSubject: ok\nIn-Reply-To: <a\x00b@x>\n"
                               b"Cc: c\x00d@example.pe\n\nhola\n")
    report = run_import(env, d)
    assert report.processed == 6 and not report.unreadable
    inbound = env.inbound()
    assert len(inbound) == 6
    assert not [m.source_ref for m in inbound if m.reason == "processing_error"], [
        (m.source_ref, m.reason) for m in inbound]
    assert all(m.ticket_id for m in inbound if m.outcome in {"ticket", "comment"})


def test_own_address_with_invisible_characters_is_not_a_client(env):
    raw = build("Eco", "bucle", sender=f"Postventa <{SUPPORT}\u200b>")
    result = env.ingest_bytes(raw)
    assert result.outcome.value == "held" and result.reason == "no_sender"
    raw = build("Eco", "bucle", sender="=?utf-8?q?rosa.quispe.h=40gmail.com?= <\"x\"@y>")
    assert env.ingest_bytes(raw).outcome.value in {"held", "ticket"}
    assert not [t for t in env.tickets() if t.requester_email and '"' in t.requester_email.split("@")[-1]]


def test_escape_sequences_never_reach_stored_headers(env):
    raw = build("=?utf-8?q?[AT-000001]_=1B[2J=1B[H_falso?=", "hola", sender="Ana \x1b]8;;x\x07 <ana@example.pe>")
    env.ingest_bytes(raw)
    [m] = env.inbound()
    assert "\x1b" not in (m.subject or "") and "\x1b" not in (m.from_name or "")


def test_a_file_too_large_is_held_without_reading_it_into_memory(env, tmp_path):
    big = tmp_path / "grande.eml"
    with open(big, "wb") as fh:
        fh.write(b"From: Ana <ana@example.pe>\r\nSubject: planos\r\n\r\n")
        fh.write(b"0" * 300_000)
    report = run_import(env, big, tmp_path / "grande.eml", max_bytes=100_000)
    assert report.counts == {"held": 2}
    with env.sessions() as s:
        held = s.scalars(select(HeldMessage)).all()
        records = s.scalars(select(InboundMessage)).all()
    assert [h.reason for h in held] == ["too_large", "too_large"] and held[0].raw is None
    assert held[0].subject == "planos"
    assert storage.read_bytes(env.settings.storage_dir, records[0].raw_sha256) == big.read_bytes()


def test_vanished_and_unreadable_files_do_not_stop_the_import(env, tmp_path, monkeypatch):
    d = tmp_path / "mails"
    d.mkdir()
    for i in range(5):
        (d / f"{i:02d}.eml").write_bytes(build(f"Consulta {i}", "hola", sender=ROSA))
    source = FileSource([d])
    items = source.pending()
    first = next(items)
    (d / "02.eml").unlink()  # vanishes mid-import
    rest = list(items)
    assert first.raw and [i.error is not None for i in rest] == [False, True, False, False]
    report = run_import(env, d)
    assert report.processed == 4 and report.unreadable == []


def test_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "tubo.eml"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="no es un archivo"):
        FileSource([fifo])


def test_implausible_dates_take_the_file_time(env, tmp_path):
    for name, date in (("1900.eml", "1 Jan 1900 00:00:00 +0000"), ("futuro.eml", "1 Jan 2999 00:00:00 +0000")):
        raw = build(f"Fecha {name}", "hola", sender=ROSA).replace(b"Date: ", b"X-Date: ", 1)
        (tmp_path / name).write_bytes(b"Date: " + date.encode() + b"\r\n" + raw)
    run_import(env, tmp_path / "1900.eml", tmp_path / "futuro.eml")
    for t in env.tickets():
        assert abs(t.requested_at - utcnow()) < timedelta(days=1)


def test_mbox_import_reads_the_file_once(env, tmp_path):
    mbox = tmp_path / "buzon.mbox"
    with open(mbox, "wb") as fh:
        for i in range(300):
            fh.write(b"From ana@example.pe Mon Nov 30 10:00:00 2026\n")
            fh.write(build(f"Consulta {i}", f"Texto {i}", sender=ROSA).replace(b"\r\n", b"\n") + b"\n")
    report = run_import(env, mbox)
    assert report.processed == 300 and report.counts["ticket"] == 300


@pytest.mark.parametrize("args,needle", [
    (["export", "--requested-to", "9999-12-31", "-o", "x.json"], "--requested-to"),
    (["held", "release", "99999999999999999999"], "99999999999999999999"),
    (["held", "discard", "0"], "0"),
])
def test_cli_odd_values_are_one_line(tmp_path, args, needle):
    env = {**os.environ, "ATENCION_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
           "ATENCION_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO)}  # this checkout's code
    subprocess.run([sys.executable, "-m", "worker.cli", "migrate"], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "worker.cli", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and needle in proc.stderr


def test_cli_bad_timezone_is_one_line(tmp_path):
    env = {**os.environ, "ATENCION_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "ATENCION_TIMEZONE": "Mars/Olympus",
           "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "worker.cli", "health"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "ATENCION_TIMEZONE" in proc.stderr
