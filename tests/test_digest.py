"""The daily overdue digest (DESIGN, "Outbound mail and workers"): one per recipient per local
date, at ATENCION_DIGEST_TIME (America/Lima), on business days, none when empty — through
`tickets.digest` on SQLite and PostgreSQL, then through the real `scheduler` process and aiosmtpd.

The calendar of the function-level tests (local dates in Lima, UTC−5): Tue 2026-12-08
Inmaculada Concepción and Wed 2026-12-09 Batalla de Ayacucho (holidays of Peru), Thu 2026-12-10 a
business day, Fri 2026-12-11 an admin closed day, Sat/Sun 2026-12-12/13, Mon 2026-12-14 the next
business day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from tests.support import MINI_CATALOG, REPO, SUPPORT, make_env
from tickets.digest import queue_due_digests, recipients
from tickets.models import BouncedAddress, DigestRecord, OutboxMessage, Ticket, User
from tickets.services import TicketDefaults, assign, get_ticket, open_ticket, set_status
from tickets.sla import is_business_day

LIMA = ZoneInfo("America/Lima")
CARLA = "carla.mendoza@inmobiliaria-andina.pe"   # Postventa's lead, and assignee of one ticket
DIEGO = "diego.salas@inmobiliaria-andina.pe"     # Postventa agent
JORGE = "jorge.paredes@inmobiliaria-andina.pe"   # Legal, assignee of an overdue ticket
MARTA = "marta.rojas@inmobiliaria-andina.pe"     # Obras, only an on-time ticket: no digest
RAUL = "raul.ex@inmobiliaria-andina.pe"          # inactive: Legal's lead and an assignee
NUEVA = "nueva.agente@inmobiliaria-andina.pe"    # assigned an overdue ticket later in the day

CATALOG = {
    **MINI_CATALOG,
    "areas": [{"name": "Postventa", "lead": CARLA}, {"name": "Legal", "lead": RAUL}, {"name": "Obras"}],
    "users": [
        *MINI_CATALOG["users"],
        {"email": DIEGO, "name": "Diego Salas", "role": "agent", "area": "Postventa"},
        {"email": MARTA, "name": "Marta Rojas", "role": "agent", "area": "Obras"},
        {"email": RAUL, "name": "Raúl Exempleado", "role": "agent", "area": "Legal", "active": False},
        {"email": NUEVA, "name": "Nueva Agente", "role": "agent", "area": "Obras"},
    ],
    "closed_days": ["2026-12-11"],
}


def lima(y, m, d, hh=0, mm=0) -> datetime:
    """A Lima wall-clock time as the UTC instant the functions take."""
    return datetime(y, m, d, hh, mm, tzinfo=LIMA).astimezone(UTC)


def seed(env, requested: datetime) -> dict[str, str]:
    """Tickets of the catalog above, written without outbox rows (``notify=False``: the digest's
    are the only mail); ``requested`` (UTC) is old enough to be overdue on the test's dates
    (max 5 calendar days). Returns {name: code}."""
    ctx = replace(env.ctx, notify=False)
    with env.sessions.begin() as s:
        users = {u.email: u for u in s.scalars(select(User))}

        def ticket(subject, assignee=None, area="Postventa", at=requested) -> Ticket:
            t = open_ticket(s, ctx, subject=subject, detail=subject, requester_email="rosa.quispe.h@gmail.com",
                            requested_at=at, defaults_=TicketDefaults(area=area))
            if assignee:
                assign(s, ctx, t, users[assignee])
            return t

        codes = {
            "carla": ticket("Filtración en el baño de visitas", CARLA).code,
            "diego": ticket("Puerta del dormitorio descuadrada", DIEGO).code,
            "postventa_nadie": ticket("Mancha de humedad en la sala").code,  # no assignee: to the lead
            "jorge": ticket("Observación a la minuta", JORGE, "Legal").code,
            "raul": ticket("Pendiente de un exempleado", RAUL, "Legal").code,  # inactive assignee and lead
            "marta_a_tiempo": ticket("Revisión de tableros", MARTA, "Obras", at=lima(2026, 12, 10, 7)).code,
            "nueva": ticket("Grieta en el muro del estacionamiento", None, "Obras").code,  # Obras has no lead
        }
        done = ticket("Caño que gotea (ya atendido)", DIEGO)
        set_status(s, ctx, done, "Atendido")
        done.attended_at = requested + timedelta(days=1)
        codes["atendido"] = done.code
    return codes


@pytest.fixture
def denv(database_url, tmp_path):
    e = make_env(database_url, tmp_path, catalog=CATALOG)
    e.codes = seed(e, lima(2026, 11, 20, 9))
    yield e
    e.engine.dispose()


def digests(env) -> dict[str, list[list[str]]]:
    """{recipient: [[codes of one digest mail], …]} from the outbox's digest rows."""
    out: dict[str, list[list[str]]] = {}
    with env.sessions() as s:
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.event == "digest").order_by(OutboxMessage.id)):
            assert row.to_addrs == [row.recipient] and row.cc_addrs == [] and row.ticket_id is None
            out.setdefault(row.recipient, []).append([t["code"] for t in row.context["tickets"]])
    return out


def run(env, now: datetime) -> int:
    with env.sessions.begin() as s:
        return queue_due_digests(s, env.settings, now=now)


def expected(env) -> dict[str, list[str]]:
    c = env.codes
    return {CARLA: [c["carla"], c["diego"], c["postventa_nadie"]], DIEGO: [c["diego"]], JORGE: [c["jorge"]]}


# --------------------------------------------------------------------------- who gets what


def test_recipients_lists_each_overdue_ticket_once_per_recipient(denv) -> None:
    c = denv.codes
    with denv.sessions() as s:
        got = recipients(s, denv.settings, date(2026, 12, 10))
    assert {k: [t["code"] for t in v] for k, v in got.items()} == expected(denv)
    # Carla is both the assignee of one ticket and Postventa's lead: the ticket is listed once
    carla = [t["code"] for t in got[CARLA]]
    assert carla.count(c["carla"]) == 1
    # nobody gets the attended one, the on-time one, the inactive user's, nor the lead-less area's
    listed = {t["code"] for v in got.values() for t in v}
    assert not listed & {c["atendido"], c["marta_a_tiempo"], c["raul"], c["nueva"]}
    assert MARTA not in got and RAUL not in got and NUEVA not in got
    item = got[DIEGO][0]
    assert item["elapsed_days"] == 20 and item["alert"] == "15 días de retraso"
    assert item["assignee"] == "Diego Salas" and item["area"] == "Postventa"


# --------------------------------------------------------------------------- when


def test_nothing_before_the_digest_time_then_one_mail_per_recipient(denv) -> None:
    assert denv.settings.digest_time == "08:00" and denv.settings.timezone == "America/Lima"
    # 07:59 in Lima (12:59 UTC): not yet
    assert run(denv, lima(2026, 12, 10, 7, 59)) == 0
    assert digests(denv) == {}
    # 08:00 in Lima = 13:00 UTC: one mail per recipient, each ticket once
    assert run(denv, lima(2026, 12, 10, 8, 0)) == 3
    assert digests(denv) == {k: [v] for k, v in expected(denv).items()}
    with denv.sessions() as s:
        records = {(r.recipient, r.local_date, r.tickets) for r in s.scalars(select(DigestRecord))}
    assert records == {(CARLA, date(2026, 12, 10), 3), (DIEGO, date(2026, 12, 10), 1), (JORGE, date(2026, 12, 10), 1)}


def test_the_local_date_decides_not_the_utc_date(denv) -> None:
    # 2026-12-10 04:00 UTC (past 08:00 in UTC) is still Wednesday 2026-12-09 23:00 in Lima: a holiday
    assert run(denv, datetime(2026, 12, 10, 4, 0, tzinfo=UTC)) == 0
    # 2026-12-10 12:30 UTC is 07:30 in Lima: not yet
    assert run(denv, datetime(2026, 12, 10, 12, 30, tzinfo=UTC)) == 0
    assert run(denv, lima(2026, 12, 10, 9)) == 3
    # 2026-12-11 03:00 UTC is Thursday 22:00 in Lima: that day's digests are written already
    assert run(denv, datetime(2026, 12, 11, 3, 0, tzinfo=UTC)) == 0
    assert sum(len(v) for v in digests(denv).values()) == 3


def test_once_per_local_date_then_again_on_the_next_business_day(denv) -> None:
    assert run(denv, lima(2026, 12, 10, 8, 5)) == 3
    for hh, mm in ((8, 6), (12, 0), (23, 59)):  # a scheduler checking every minute all day
        assert run(denv, lima(2026, 12, 10, hh, mm)) == 0
    assert {k: len(v) for k, v in digests(denv).items()} == {CARLA: 1, DIEGO: 1, JORGE: 1}
    for day in (11, 12, 13):  # the closed Friday and the weekend
        assert run(denv, lima(2026, 12, day, 9)) == 0
    assert run(denv, lima(2026, 12, 14, 7, 59)) == 0
    assert run(denv, lima(2026, 12, 14, 8, 0)) == 3
    assert digests(denv) == {k: [v, v] for k, v in expected(denv).items()}


@pytest.mark.parametrize("day", [date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 11), date(2026, 12, 12),
                                 date(2026, 12, 13)],
                         ids=["holiday-inmaculada", "holiday-ayacucho", "closed-day", "saturday", "sunday"])
def test_nothing_on_a_day_that_is_not_a_business_day(denv, day) -> None:
    with denv.sessions() as s:
        assert recipients(s, denv.settings, day)  # there are overdue tickets that day
    assert run(denv, lima(day.year, day.month, day.day, 8, 0)) == 0
    assert run(denv, lima(day.year, day.month, day.day, 18, 0)) == 0
    assert digests(denv) == {}
    with denv.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DigestRecord)) == 0
    # and the next business day is sent (Thursday 10 after the holidays, Monday 14 after the rest)
    nxt = day + timedelta(days=1)
    while not is_business_day(nxt, closed_days=frozenset({date(2026, 12, 11)})):
        nxt += timedelta(days=1)
    assert run(denv, lima(nxt.year, nxt.month, nxt.day, 8, 0)) == 3


def test_a_recipient_who_gets_overdue_work_later_in_the_day_gets_their_digest(denv) -> None:
    assert run(denv, lima(2026, 12, 10, 8)) == 3
    with denv.sessions.begin() as s:
        assign(s, denv.ctx, get_ticket(s, denv.codes["nueva"]), s.scalar(select(User).where(User.email == NUEVA)))
    assert run(denv, lima(2026, 12, 10, 10)) == 1
    got = digests(denv)
    assert got[NUEVA] == [[denv.codes["nueva"]]]
    assert {k: len(v) for k, v in got.items()} == {CARLA: 1, DIEGO: 1, JORGE: 1, NUEVA: 1}


def test_a_bounced_staff_address_gets_no_digest_and_is_not_counted(denv) -> None:
    with denv.sessions.begin() as s:
        s.add(BouncedAddress(email=DIEGO, diagnostic="550 5.1.1 no such user"))
    assert run(denv, lima(2026, 12, 10, 8)) == 2
    assert set(digests(denv)) == {CARLA, JORGE}
    assert run(denv, lima(2026, 12, 10, 9)) == 0  # recorded: not tried again every minute


def test_no_mail_when_nothing_is_overdue(database_url, tmp_path) -> None:
    env = make_env(database_url, tmp_path, catalog=CATALOG)
    try:
        with env.sessions.begin() as s:
            carla = s.scalar(select(User).where(User.email == CARLA))
            t = open_ticket(s, env.ctx, subject="A tiempo", detail="x", requester_email="rosa.quispe.h@gmail.com",
                            requested_at=lima(2026, 12, 7, 9))
            assign(s, env.ctx, t, carla)
        with env.sessions() as s:
            assert recipients(s, env.settings, date(2026, 12, 10)) == {}
        assert run(env, lima(2026, 12, 10, 8)) == 0
        assert digests(env) == {}
        with env.sessions() as s:  # an empty day leaves no record: a later overdue ticket still gets mailed
            assert s.scalar(select(func.count()).select_from(DigestRecord)) == 0
    finally:
        env.engine.dispose()


# --------------------------------------------------------------------------- two schedulers at once


def _wait_until_blocked_on_lock(env, timeout: float = 20.0) -> None:
    """PostgreSQL: until another connection waits on a lock inserting into digest_records."""
    deadline = time.monotonic() + timeout
    with env.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%digest_records%'")).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second scheduler never waited on the first one's digest rows")


def test_two_concurrent_schedulers_write_one_digest_per_recipient_and_date(denv) -> None:
    """Scheduler A has written its digests and not committed; B runs meanwhile. On PostgreSQL B
    reads no record yet, blocks on A's rows of the unique (recipient, local_date) index and,
    when A commits, takes the IntegrityError path for each; on SQLite B's BEGIN IMMEDIATE waits
    for A's commit and then finds the records. Either way: one mail and record per recipient."""
    now = lima(2026, 12, 10, 8, 1)
    first = denv.sessions()
    first.begin()
    n_first = queue_due_digests(first, denv.settings, now=now)
    assert n_first == 3
    result: dict = {}

    def second() -> None:
        try:
            result["n"] = run(denv, now)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result["error"] = exc

    t = threading.Thread(target=second)
    t.start()
    try:
        if denv.engine.dialect.name == "postgresql":
            _wait_until_blocked_on_lock(denv)
    finally:
        first.commit()
        first.close()
        t.join(timeout=60)
    assert not t.is_alive()
    assert "error" not in result, result.get("error")
    assert result["n"] == 0
    with denv.sessions() as s:
        records = s.execute(select(DigestRecord.recipient, func.count()).group_by(DigestRecord.recipient)).all()
    assert dict(records) == {CARLA: 1, DIEGO: 1, JORGE: 1}
    assert {k: len(v) for k, v in digests(denv).items()} == {CARLA: 1, DIEGO: 1, JORGE: 1}


# --------------------------------------------------------------------------- the real scheduler


def _business_day_shift(today: date) -> int:
    """Days from ``today`` (Lima) to the next business day of Peru (0 when today is one)."""
    shift = 0
    while not is_business_day(today + timedelta(days=shift)):
        shift += 1
    return shift


def _scheduler(env_vars: dict, cwd, shift_days: int) -> subprocess.Popen:
    """``python -m worker.cli scheduler``; on a weekend or holiday of Peru the digest's clock is
    moved forward by whole days to the next business day (tests/shifted_clock.py), so the test
    proves the same thing every day of the year — on a business day it is the untouched command."""
    if shift_days:
        argv = [sys.executable, "-m", "tests.shifted_clock", str(shift_days), "scheduler"]
    else:
        argv = [sys.executable, "-m", "worker.cli", "scheduler"]
    return subprocess.Popen(argv, cwd=cwd, env=env_vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_all_sent(env, n: int, timeout: float = 30.0) -> list[str]:
    """Until ``n`` digest rows are all marked sent; returns their recipients."""
    deadline = time.monotonic() + timeout
    while True:
        with env.sessions() as s:
            rows = s.execute(select(OutboxMessage.recipient, OutboxMessage.state)
                             .where(OutboxMessage.event == "digest")).all()
        if len(rows) >= n and all(state == "sent" for _, state in rows) or time.monotonic() > deadline:
            assert [state for _, state in rows] == ["sent"] * n, rows
            return [r for r, _ in rows]
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.terminate()
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out, err


def test_the_scheduler_process_mails_each_recipient_once_per_day(database_url, tmp_path, smtp) -> None:
    while datetime.now(LIMA).time() >= datetime.strptime("23:58", "%H:%M").time():
        time.sleep(1)  # not across midnight: "just passed" must stay on one local date
    local_now = datetime.now(LIMA)
    shift = _business_day_shift(local_now.date())
    env = make_env(database_url, tmp_path, catalog=CATALOG)
    try:
        env.codes = seed(env, datetime.now(UTC) - timedelta(days=40))
        variables = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
        variables.update(
            ATENCION_DATABASE_URL=database_url, ATENCION_DATA_DIR=str(tmp_path / "var"),
            ATENCION_MAIL_FROM=SUPPORT, ATENCION_SMTP_URL=smtp.url, PYTHONPATH=str(REPO),
            ATENCION_TIMEZONE="America/Lima", ATENCION_DIGEST_TIME=local_now.strftime("%H:%M"))
        want = expected(env)

        proc = _scheduler(variables, tmp_path, shift)
        try:
            got = smtp.wait_for(len(want), timeout=60)
            _wait_all_sent(env, len(want))  # stopped after marking them: nothing left for a restart
        finally:
            out, err = _stop(proc)
        assert "scheduler: " in out and "Traceback" not in err, (out, err)
        assert sorted(d.rcpt_tos[0] for d in got) == sorted(want)
        assert all(len(d.rcpt_tos) == 1 for d in got)
        day = (local_now.date() + timedelta(days=shift)).strftime("%d/%m/%Y")
        for d in got:
            msg = d.message
            codes = want[d.rcpt_tos[0]]
            assert msg["To"] == d.rcpt_tos[0]
            n = len(codes)
            assert msg["Subject"] == (f"Resumen diario: {n} atención vencida ({day})" if n == 1
                                      else f"Resumen diario: {n} atenciones vencidas ({day})")
            assert msg["Auto-Submitted"] == "auto-generated"
            body = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
            assert body.startswith(f"Al {day} esta atención a su cargo o de su área está vencida:\n" if n == 1 else
                                   f"Al {day} estas {n} atenciones a su cargo o de su área están vencidas"), body
            for code in codes:
                assert body.count(code) == 1, body
            assert "días de retraso" in body
            html = msg.get_body(("html",)).get_content()
            assert all(code in html for code in codes)
        carla = next(d for d in got if d.rcpt_tos[0] == CARLA).message.get_body(("plain",)).get_content()
        assert "Filtración en el baño de visitas" in carla and "Asignado a: Diego Salas · Área: Postventa" in carla
        assert "Asignado a: sin asignar · Área: Postventa" in carla  # the area's ticket nobody holds
        elapsed = 40 + shift  # requested 40 days before the real now; max 5 days
        assert f"{elapsed - 5} días de retraso ({elapsed} días transcurridos) · Estado: Asignado" in carla

        # later that day: Nueva gets an overdue ticket; the restarted scheduler mails her alone
        with env.sessions.begin() as s:
            assign(s, replace(env.ctx, notify=False), get_ticket(s, env.codes["nueva"]),
                   s.scalar(select(User).where(User.email == NUEVA)))
        proc = _scheduler(variables, tmp_path, shift)
        try:
            smtp.wait_for(len(want) + 1, timeout=60)
            # the restart's digest run has committed: Nueva's row, and nobody else's second one
            assert sorted(_wait_all_sent(env, len(want) + 1)) == sorted([*want, NUEVA])
        finally:
            out, err = _stop(proc)
        assert "Traceback" not in err, err
        assert sorted(d.rcpt_tos[0] for d in smtp.deliveries()) == sorted([*want, NUEVA])
        assert smtp.deliveries_to(NUEVA)[0].message["Subject"].startswith("Resumen diario: 1 atención vencida")
    finally:
        env.engine.dispose()
