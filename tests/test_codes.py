"""Ticket codes (tickets.codes): their format, their tolerant recognition in subjects, and the
sequence under concurrent writers on SQLite and PostgreSQL (unique, gap-free, a rolled-back number
given back)."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tickets.codes import current_value, find_codes, format_code, next_code
from tickets.models import Ticket

# --- format -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix, seq, code", [
    ("AT", 1, "AT-000001"),
    ("AT", 123, "AT-000123"),
    ("AT", 999_999, "AT-999999"),
    ("AT", 1_000_000, "AT-1000000"),  # more digits when the number needs them
    ("PV", 42, "PV-000042"),
])
def test_format_code(prefix, seq, code):
    assert format_code(prefix, seq) == code


# --- recognition in free text -----------------------------------------------------------------------


@pytest.mark.parametrize("text, codes", [
    ("[AT-000123] Filtración en el baño", ["AT-000123"]),
    ("Re: [AT-000123] Filtración", ["AT-000123"]),
    ("at-123", ["AT-000123"]),
    ("AT 123", ["AT-000123"]),
    ("AT123", ["AT-000123"]),
    ("Re: RV: [at-0000123] Rajadura", ["AT-000123"]),  # extra zero-padding
    ("RE: TR: Fwd: AT-000007 sigue igual", ["AT-000007"]),
    ("AW: [At_45]", ["AT-000045"]),
    ("Consulta (AT#9)", ["AT-000009"]),
    ("AT:000010 y AT-11", ["AT-000010", "AT-000011"]),
    ("Re: [AT-1000000] grande", ["AT-1000000"]),
    ("", []),
    (None, []),
])
def test_find_codes_tolerant(text, codes):
    assert find_codes(text, "AT") == codes


@pytest.mark.parametrize("text", [
    "CAT-123",                # another word that ends in the prefix
    "Re: CAT-000123 precios",
    "xAT-123",
    "AT-12345678901",         # too many digits: a phone or an account number, not a code
    "Pedido 2AT-15",
    "ATENCION: sin código",
    "Torre A, dpto 504",
])
def test_find_codes_no_match(text):
    assert find_codes(text, "AT") == []


def test_find_codes_other_prefix_is_escaped():
    assert find_codes("Re: [pv-12] y [AT-3]", "PV") == ["PV-000012"]
    assert find_codes("A.T-12", "A.T") == ["A.T-000012"]
    assert find_codes("AXT-12", "A.T") == []  # the prefix is literal, not a regex


# --- the sequence -------------------------------------------------------------------------------------
# The child processes import this module (spawn): it imports nothing from tests.support, so that the
# children need only the `tickets` package.

SUPPORT = "postventa@inmobiliaria-andina.pe"

PER_WORKER = 25
WORKERS = 4


def _open_many(url: str, data_dir: str, worker: int, barrier, out) -> None:
    """Child process: open PER_WORKER tickets, each in its own transaction."""
    try:
        from tickets.db import make_engine, make_sessionmaker
        from tickets.services import Context, open_ticket
        from tickets.settings import Settings

        settings = Settings(_env_file=None, database_url=url, data_dir=Path(data_dir), mail_from=SUPPORT)
        ctx = Context.from_settings(settings)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with engine.connect():
            pass  # connect before the start line, so the race is on the counter, not on connecting
        barrier.wait(timeout=60)
        codes = []
        for i in range(PER_WORKER):
            with sessions.begin() as s:
                t = open_ticket(s, ctx, subject=f"Proceso {worker} solicitud {i}",
                                detail="Consulta concurrente.", requester_email=f"cliente{worker}@example.com")
                codes.append(t.code)
        engine.dispose()
        out.put((worker, codes, None))
    except BaseException:  # noqa: BLE001 - the traceback goes to the parent instead of dying silently
        out.put((worker, [], traceback.format_exc()))


def _ensure_counter_row(env) -> None:
    """The counter row as `migrate` leaves it (value 0), so that this test measures the steady state;
    the first-writer race on a missing row is `test_first_tickets_of_a_fresh_database_under_concurrency`."""
    from tickets.codes import TICKET_COUNTER
    from tickets.models import Counter

    with env.sessions.begin() as s:
        if s.get(Counter, TICKET_COUNTER) is None:
            s.add(Counter(name=TICKET_COUNTER, value=0))


def test_concurrent_writers_get_unique_gap_free_codes(env, tmp_path):
    _ensure_counter_row(env)
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(WORKERS)
    out = mp.Queue()
    url = env.engine.url.render_as_string(hide_password=False)
    env.engine.dispose()
    procs = [mp.Process(target=_open_many, args=(url, str(tmp_path / "var"), w, barrier, out))
             for w in range(WORKERS)]
    started = time.monotonic()
    for p in procs:
        p.start()
    results = _collect(out, procs, timeout=180)
    elapsed = time.monotonic() - started
    errors = [err for _w, _codes, err in results if err]
    assert not errors, "a writer failed:\n" + "\n".join(errors)

    codes = [c for _w, cs, _e in results for c in cs]
    assert len(codes) == WORKERS * PER_WORKER
    assert len(set(codes)) == len(codes), "a code was handed out twice"
    assert sorted(codes) == [format_code("AT", i) for i in range(1, WORKERS * PER_WORKER + 1)]
    for _w, cs, _e in results:  # each writer's own codes increase
        assert cs == sorted(cs)
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == WORKERS * PER_WORKER
        assert sorted(s.scalars(select(Ticket.code))) == sorted(codes)
        assert current_value(s) == WORKERS * PER_WORKER
    assert elapsed < 120


def _collect(out, procs, timeout: float) -> list:
    """One result per process; fails at once (not after the timeout) when a process dies."""
    import queue

    results = []
    deadline = time.monotonic() + timeout
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=0.5))
            continue
        except queue.Empty:
            pass
        dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
        assert not dead, f"a writer process died (exit codes {dead}); see its stderr above"
        assert time.monotonic() < deadline, f"writers still running after {timeout} s"
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


class _Rollback(Exception):
    pass


def _open(env, subject: str) -> str:
    from tickets.services import open_ticket

    with env.sessions.begin() as s:
        return open_ticket(s, env.ctx, subject=subject, detail="-", requester_email="rosa.quispe.h@gmail.com").code


def test_rolled_back_transaction_gives_its_number_back(env):
    assert _open(env, "primera") == "AT-000001"
    from tickets.services import open_ticket

    with pytest.raises(_Rollback), env.sessions.begin() as s:
        t = open_ticket(s, env.ctx, subject="abandonada", detail="-", requester_email=None)
        assert t.code == "AT-000002"
        raise _Rollback
    assert _open(env, "segunda") == "AT-000002"  # the number came back
    with env.sessions() as s:
        assert s.scalars(select(Ticket.subject).order_by(Ticket.code)).all() == ["primera", "segunda"]
        assert current_value(s) == 2


def test_next_code_starts_the_counter_when_missing(env):
    from tickets.models import Counter

    with env.sessions.begin() as s:
        s.query(Counter).delete()
    with env.sessions.begin() as s:
        assert current_value(s) == 0
        assert next_code(s, "AT") == "AT-000001"
        assert next_code(s, "AT") == "AT-000002"


def _writer_b(env, took: threading.Event, result: dict) -> threading.Thread:
    """Writer B, started: once ``took`` is set it opens a ticket; its code (or the traceback of
    what it raised) goes into ``result``."""

    def run():
        took.wait(10)
        try:
            result["code"] = _open(env, "escritor B")
        except BaseException:  # noqa: BLE001 - reported by the caller's assertions
            result["error"] = traceback.format_exc()

    b = threading.Thread(target=run)
    b.start()
    return b


def test_waiting_writer_gets_the_number_a_rollback_gives_back(env):
    """Writer A takes a number and holds its transaction; writer B waits (row lock on PostgreSQL,
    BEGIN IMMEDIATE on SQLite); A rolls back; B gets A's number — no gap, no duplicate."""
    from tickets.services import open_ticket

    took, result = threading.Event(), {}
    b = _writer_b(env, took, result)
    with pytest.raises(_Rollback), env.sessions.begin() as s:
        t = open_ticket(s, env.ctx, subject="escritor A", detail="-", requester_email=None)
        assert t.code == "AT-000001"
        took.set()
        time.sleep(0.5)
        assert b.is_alive() and "code" not in result, "B did not wait for A's transaction"
        raise _Rollback
    b.join(30)
    assert not b.is_alive()
    assert result.get("code") == "AT-000001", result.get("error")


def _first_two_writers(env):
    """A opens the very first ticket of a fresh database and holds its transaction; B starts its
    own first ticket meanwhile; A commits. Returns (A's code, B's result dict)."""
    from tickets.services import open_ticket

    took, result = threading.Event(), {}
    b = _writer_b(env, took, result)
    with env.sessions.begin() as s:
        code_a = open_ticket(s, env.ctx, subject="escritor A", detail="-", requester_email=None).code
        took.set()
        time.sleep(0.5)
        waited = b.is_alive() and not result
    b.join(30)
    assert not b.is_alive()
    return code_a, waited, result


@pytest.mark.parametrize("counter_row", ["as_migrated", "missing"])
def test_first_tickets_of_a_fresh_database_under_concurrency(env, counter_row):
    """The two first writers of a fresh database both succeed, in order: A holds its transaction,
    B waits, A commits, B gets AT-000002. "missing": a schema without the counter row (made by
    hand, or by an older `migrate`), where the first writers must create the row themselves —
    before the fix, on PostgreSQL, B failed with UniqueViolation on pk_counters."""
    if counter_row == "missing":
        from tickets.models import Counter

        with env.sessions.begin() as s:
            s.query(Counter).delete()
    code_a, waited, result = _first_two_writers(env)
    assert code_a == "AT-000001"
    assert waited, "B did not wait for A's transaction"
    assert result.get("code") == "AT-000002", result.get("error")
