"""The poller's mailbox lock (a lease in ``mailbox_states``), the UIDVALIDITY checkpoint reset, and
``atencion health`` — on SQLite and PostgreSQL, through a real Dovecot where a mailbox is needed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mail.inbound.poller import acquire_lock, release_lock
from tests.support import REPO, SUPPORT, build
from tickets.models import InboundMessage, MailboxState, Ticket, utcnow

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
MARCO = "Marco Salazar <marco.salazar@yahoo.es>"
A = "poller-a.example:101"
B = "poller-b.example:202"


def state(env, name: str) -> MailboxState:
    with env.sessions() as s:
        return s.scalar(select(MailboxState).where(MailboxState.name == name))


def set_state(env, name: str, **values) -> None:
    with env.sessions.begin() as s:
        s.execute(update(MailboxState).where(MailboxState.name == name).values(**values))


def count(env, model) -> int:
    with env.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- the lease ----------------------------------------------------------------------------------------


def test_second_poller_is_refused_until_the_lease_expires(env):
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=300)
    assert not acquire_lock(env.sessions, "postventa", B, ttl_s=300)
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=300)  # the holder renews
    st = state(env, "postventa")
    assert st.lock_owner == A and st.lock_until > utcnow() + timedelta(seconds=290)
    assert not acquire_lock(env.sessions, "postventa", B, ttl_s=300)

    # A dies without releasing: once its lease is over, B takes the mailbox and A is refused
    set_state(env, "postventa", lock_until=utcnow() - timedelta(seconds=1))
    assert acquire_lock(env.sessions, "postventa", B, ttl_s=300)
    assert state(env, "postventa").lock_owner == B
    assert not acquire_lock(env.sessions, "postventa", A, ttl_s=300)


def test_short_lease_runs_out_by_itself(env):
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=1)
    assert not acquire_lock(env.sessions, "postventa", B, ttl_s=1)
    time.sleep(1.2)
    assert acquire_lock(env.sessions, "postventa", B, ttl_s=1)
    assert state(env, "postventa").lock_owner == B


def test_locks_are_per_mailbox(env):
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=300)
    assert acquire_lock(env.sessions, "legal", B, ttl_s=300)
    assert not acquire_lock(env.sessions, "legal", A, ttl_s=300)


def test_release_only_releases_your_own_lock(env):
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=300)
    release_lock(env.sessions, "postventa", B)  # not B's: nothing happens
    st = state(env, "postventa")
    assert st.lock_owner == A and st.lock_until is not None
    assert not acquire_lock(env.sessions, "postventa", B, ttl_s=300)

    release_lock(env.sessions, "postventa", A)
    st = state(env, "postventa")
    assert st.lock_owner is None and st.lock_until is None
    assert acquire_lock(env.sessions, "postventa", B, ttl_s=300)
    release_lock(env.sessions, "postventa", A)  # A's lock is gone: B's stays
    assert state(env, "postventa").lock_owner == B


def test_concurrent_acquirers_exactly_one_wins(env):
    """Eight threads race for a free mailbox: exactly one lease is granted."""
    import threading

    start = threading.Barrier(8)
    won: list[str] = []
    errors: list[BaseException] = []

    def contender(i: int) -> None:
        try:
            start.wait(10)
            if acquire_lock(env.sessions, "postventa", f"host{i}:1", ttl_s=300):
                won.append(f"host{i}:1")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(won) == 1 and state(env, "postventa").lock_owner == won[0]


# --- poll_mailbox under someone else's lock -------------------------------------------------------------


def test_poll_with_a_held_lock_is_locked_out(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    uids = [dovecot.append(user, build("Filtración en el baño del Dpto 504", "Hay una filtración.", sender=ROSA)),
            dovecot.append(user, build("Consulta sobre la entrega de llaves", "¿Cuándo?", sender=MARCO))]
    assert acquire_lock(env.sessions, "postventa", A, ttl_s=300)

    report = env.poll(mb, owner=B)
    assert report.locked_out and report.processed == 0 and report.error is None and not report.counts
    assert count(env, InboundMessage) == 0 and count(env, Ticket) == 0
    assert all("\\Seen" not in dovecot.flags(user, u) for u in uids)
    st = state(env, "postventa")
    assert st.lock_owner == A  # B did not touch A's lease, nor the health columns
    assert st.last_poll_at is None and st.last_success_at is None

    release_lock(env.sessions, "postventa", A)
    report = env.poll(mb, owner=B)
    assert not report.locked_out and report.counts == {"ticket": 2}
    assert state(env, "postventa").lock_owner is None  # released after the pass
    assert all("\\Seen" in dovecot.flags(user, u) for u in uids)


# --- UIDVALIDITY -----------------------------------------------------------------------------------------


def _three_messages():
    first = build("Filtración en el baño del Dpto 504", "Hay una filtración en el baño.", sender=ROSA,
                  message_id="<filtracion-uv@mail.gmail.com>")
    return [first,
            build("Consulta sobre la entrega de llaves", "¿Cuándo entregan las llaves?", sender=MARCO,
                  message_id="<llaves-uv@yahoo.es>"),
            build("Re: [AT-000001] Filtración en el baño del Dpto 504", "Ya tengo fotos.", sender=ROSA,
                  message_id="<fotos-uv@mail.gmail.com>")]


def test_uidvalidity_change_in_the_database_resets_the_checkpoint(env, dovecot, imap_user):
    """The recorded UIDVALIDITY no longer matches the server's: the checkpoint goes back to 0, every
    message is read again, and each is recognised (already recorded): nothing new is created."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    for raw in _three_messages():
        dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 2, "comment": 1}
    st = state(env, "postventa")
    real_validity, last_uid = st.uidvalidity, st.last_uid
    assert real_validity and last_uid == 3
    assert env.poll(mb).processed == 0

    set_state(env, "postventa", uidvalidity=real_validity + 12345)
    report = env.poll(mb)
    assert report.error is None
    assert report.processed == 3  # read again from UID 1 ...
    assert not report.counts      # ... and recognised: no new outcome
    assert count(env, InboundMessage) == 3 and count(env, Ticket) == 2
    assert len(env.entries("AT-000001", "comment")) == 1
    st = state(env, "postventa")
    assert (st.uidvalidity, st.last_uid) == (real_validity, 3)
    assert env.poll(mb).processed == 0


def test_uidvalidity_change_on_the_server_gives_duplicates_not_new_tickets(env, dovecot, imap_user):
    """The folder is rebuilt on the server (new UIDVALIDITY, same messages under new UIDs): the
    messages are seen again and recognised as duplicates by Message-ID + body."""
    user, password = imap_user
    dovecot.create_folder(user, "Entrada")
    mb = env.mailbox("postventa", dovecot.url(user, password, folder="Entrada"))
    messages = _three_messages()
    for raw in messages:
        dovecot.append(user, raw, folder="Entrada")
    assert env.poll(mb).counts == {"ticket": 2, "comment": 1}
    old_validity = state(env, "postventa").uidvalidity

    im = dovecot.connect(user)
    try:
        typ, data = im.delete("Entrada")
        assert typ == "OK", data
    finally:
        im.logout()
    dovecot.create_folder(user, "Entrada")
    # the server's copy adds a header on the new delivery: still the same message
    uids = [dovecot.append(user, b"X-Restored: backup 2026-11-21\r\n" + raw, folder="Entrada")
            for raw in messages]

    report = env.poll(mb)
    st = state(env, "postventa")
    assert st.uidvalidity != old_validity, "Dovecot kept the UIDVALIDITY: nothing was tested"
    assert report.error is None and report.processed == 3
    assert report.counts == {"duplicate": 3}
    assert count(env, Ticket) == 2
    assert len(env.entries("AT-000001", "comment")) == 1
    with env.sessions() as s:
        new = s.scalars(select(InboundMessage).where(InboundMessage.uidvalidity == st.uidvalidity)
                        .order_by(InboundMessage.uid)).all()
    assert [(m.uid, m.outcome) for m in new] == [(u, "duplicate") for u in uids]
    assert [m.ticket.code if m.ticket_id else None for m in _with_tickets(env, new)] == \
        ["AT-000001", "AT-000002", "AT-000001"]
    assert all("\\Seen" in dovecot.flags(user, u, folder="Entrada") for u in uids)


def _with_tickets(env, records):
    with env.sessions() as s:
        out = [s.get(InboundMessage, r.id) for r in records]
        for r in out:
            _ = r.ticket
        return out


# --- atencion health --------------------------------------------------------------------------------------


def run_cli(tmp: Path, database_url: str, imap_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    env.update(ATENCION_DATABASE_URL=database_url, ATENCION_DATA_DIR=str(tmp / "var"),
               ATENCION_IMAP_URL=imap_url, ATENCION_MAIL_FROM=SUPPORT, PYTHONPATH=str(REPO))  # this checkout
    return subprocess.run([sys.executable, "-m", "worker.cli", *args], check=False, cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=120)


def health(tmp, database_url, imap_url, *, text: bool = False) -> tuple[int, dict]:
    """``health --json``: (exit code, data); with ``text``, the plain form must exit the same."""
    p = run_cli(tmp, database_url, imap_url, "health", "--json")
    try:
        data = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"health --json printed no JSON (exit {p.returncode}): {p.stdout!r} {p.stderr!r}")
    if text:
        plain = run_cli(tmp, database_url, imap_url, "health")
        assert plain.returncode == p.returncode, (plain.stdout, plain.stderr)
        assert ("OK   default" if p.returncode == 0 else "MAL  default") in plain.stdout, plain.stdout
    return p.returncode, data


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_after_a_successful_poll(env, database_url, tmp_path, dovecot, imap_user):
    user, password = imap_user
    url = dovecot.url(user, password)
    dovecot.append(user, build("Puerta del depósito no cierra", "No cierra bien.", sender=ROSA))
    code, data = health(tmp_path, database_url, url)  # configured, never polled
    assert code == 1 and data["healthy"] is False
    assert data["mailboxes"] == [{"name": "default", "healthy": False, "last_poll_at": None,
                                  "last_success_at": None, "last_error": None, "last_error_at": None}]

    p = run_cli(tmp_path, database_url, url, "poll", "--once")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "default: 1 mensaje — " in p.stdout
    code, data = health(tmp_path, database_url, url, text=True)
    assert code == 0 and data["healthy"] is True
    [mb] = data["mailboxes"]
    assert mb["name"] == "default" and mb["healthy"] and mb["last_error"] is None
    assert mb["last_success_at"] and mb["last_success_at"] == mb["last_poll_at"]
    assert data["outbox"]["pending"] == 0  # poll --once sent the acknowledgement before it exited

    # 9 minutes ago is still fine under the default --max-age 600; 11 minutes ago is not
    set_state(env, "default", last_success_at=utcnow() - timedelta(minutes=9))
    assert health(tmp_path, database_url, url)[0] == 0
    set_state(env, "default", last_success_at=utcnow() - timedelta(minutes=11))
    code, data = health(tmp_path, database_url, url)
    assert code == 1 and data["healthy"] is False and data["mailboxes"][0]["healthy"] is False
    p = run_cli(tmp_path, database_url, url, "health", "--max-age", "900")
    assert p.returncode == 0, p.stdout


def test_health_of_an_unreachable_mailbox(env, database_url, tmp_path):
    url = f"imap://postventa:secret@127.0.0.1:{closed_port()}/INBOX"
    p = run_cli(tmp_path, database_url, url, "poll", "--once")
    assert p.returncode == 1 and "default: error:" in p.stderr, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    code, data = health(tmp_path, database_url, url)
    assert code == 1 and data["healthy"] is False
    [mb] = data["mailboxes"]
    assert mb["last_success_at"] is None and mb["last_poll_at"] is not None
    assert mb["last_error"] and "127.0.0.1" in mb["last_error"] and mb["last_error_at"]
    st = state(env, "default")
    assert st.lock_owner is None  # the failed pass gave its lock back


def test_health_of_a_mailbox_never_polled(env, database_url, tmp_path):
    url = f"imap://postventa:secret@127.0.0.1:{closed_port()}/INBOX"
    code, data = health(tmp_path, database_url, url, text=True)
    assert code == 1 and data["healthy"] is False
    assert [m["name"] for m in data["mailboxes"]] == ["default"]
    assert data["mailboxes"][0]["last_success_at"] is None
