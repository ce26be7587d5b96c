"""tickets/sla_sql.py: the SLA filters in SQL agree exactly with tickets/sla.py computed in Python.

Random tickets (fixed seed) on SQLite and PostgreSQL: both day rules, per-priority overrides whose
names differ in case and accents, an unknown day rule (counted as calendar days), closed days
(weekdays, a weekend day, a PE holiday), PE holidays, attended and not, attended before the
request, requested and attended near local midnight, several "today"s (a holiday, a Saturday, one
before some requests) and two zones. For each: every ticket's elapsed days and lateness as SQL
computes them, and the rows and the count of ``iter_ticket_rows`` / ``count_tickets`` over a grid
of days_min / days_max / alert, against `tickets.sla.compute_alert` row by row.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tickets.db import make_engine, make_sessionmaker, migrate
from tickets.models import ClosedDay, Priority, Status, Ticket, TicketType
from tickets.queries import Filters, count_tickets, iter_ticket_rows
from tickets.sla import AlertState, DayRule, compute_alert, max_response_days, to_local_date
from tickets.sla_sql import load_sla_sql

SEED = 20261206
TYPES = [  # name, max days, per-priority override, day rule
    ("Cal", 2, {"urgente": 1, "MEDIA": 4}, "calendar"),
    ("Hab", 3, {"Úrgente": 0, "alta": 1}, "business"),
    ("Hab0", 0, {}, "business"),
    ("Raro", 1, {"Baja": 6}, "weird"),
]
CLOSED = [date(2025, 1, 3), date(2025, 2, 14), date(2025, 3, 15), date(2025, 7, 28), date(2024, 12, 31)]
"""A Friday, a Friday, a Saturday, a PE holiday (Fiestas Patrias), a Tuesday."""
TODAYS = [("America/Lima", date(2025, 1, 6)), ("America/Lima", date(2025, 7, 29)),
          ("America/Lima", date(2025, 3, 15)), ("Asia/Kolkata", date(2025, 2, 17))]
GRID = ([(n, None, None) for n in (0, 1, 2, 3, 5, 10, 30)]
        + [(None, n, None) for n in (0, 1, 2, 4, 7, 20)]
        + [(None, None, a) for a in AlertState]
        + [(1, 4, None), (2, 2, AlertState.ON_TIME), (3, None, AlertState.OVERDUE),
           (0, 5, AlertState.ATTENDED_LATE), (2, 10, AlertState.ATTENDED_ON_TIME)])


def _moment(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    """A UTC instant on local ``day``: half of them within an hour of local midnight."""
    if rng.random() < 0.5:
        local = datetime(day.year, day.month, day.day, rng.choice((0, 23)), rng.randrange(60),
                         rng.randrange(60), tzinfo=zone)
    else:
        local = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=zone)
    return local.astimezone(UTC)


def _build(Session) -> None:
    rng = random.Random(SEED)
    lima = ZoneInfo("America/Lima")
    with Session.begin() as s:
        types = [TicketType(name=n, max_response_days=d, priority_days=p, day_rule=r) for n, d, p, r in TYPES]
        s.add_all(types)
        s.add_all(ClosedDay(day=d) for d in CLOSED)
        s.flush()
        priorities = s.scalars(select(Priority.id)).all()
        status = s.scalar(select(Status.id).limit(1))
        start = date(2024, 11, 1)
        for i in range(400):
            requested = _moment(rng, start + timedelta(days=rng.randrange(300)), lima)
            attended = None
            if rng.random() < 0.6:
                gap = rng.choice((0, 0, 1, 2, 3, 4, 5, 8, 13, 21, 35, -1))
                attended = _moment(rng, to_local_date(requested, "America/Lima") + timedelta(days=gap), lima)
            s.add(Ticket(code=f"T-{i:04d}", requested_at=requested, attended_at=attended,
                         type_id=rng.choice(types).id, priority_id=rng.choice(priorities), status_id=status))


def _expected(s, tz: str, today: date) -> dict[str, tuple[int, bool, str]]:
    """Every ticket's (elapsed days, late, alert state) computed in Python, by code."""
    types = {t.id: t for t in s.scalars(select(TicketType))}
    priorities = {i: name for i, name in s.execute(select(Priority.id, Priority.name))}
    closed = frozenset(s.scalars(select(ClosedDay.day)))
    out = {}
    for t in s.scalars(select(Ticket)):
        ticket_type = types[t.type_id]
        rule = DayRule.BUSINESS if ticket_type.day_rule == "business" else DayRule.CALENDAR
        max_days = max_response_days(ticket_type.max_response_days, ticket_type.priority_days,
                                     priorities[t.priority_id])
        alert = compute_alert(to_local_date(t.requested_at, tz),
                              to_local_date(t.attended_at, tz) if t.attended_at else None,
                              today, max_days, rule, country="PE", closed_days=closed)
        out[t.code] = (alert.elapsed_days, alert.elapsed_days > max_days, alert.state.value)
    return out


def _check(Session, tz: str, today: date) -> None:
    with Session() as s:
        expected = _expected(s, tz, today)
        sla = load_sla_sql(s, tz=tz, today=today)
        got = {code: (elapsed, bool(late)) for code, elapsed, late in
               s.execute(select(Ticket.code, sla.elapsed, sla.late))}
        assert got == {code: v[:2] for code, v in expected.items()}, (tz, today)
        for days_min, days_max, alert in GRID:
            f = Filters(days_min=days_min, days_max=days_max, alert=alert)
            want = sorted(code for code, (elapsed, _, state) in expected.items() if f.matches_sla(elapsed, state))
            rows = list(iter_ticket_rows(s, f, tz=tz, today=today, order="code"))
            assert [r.code for r in rows] == want, (tz, today, days_min, days_max, alert)
            assert all(f.matches_sla(r.elapsed_days, r.alert_state) for r in rows)
            assert count_tickets(s, f, tz=tz, today=today) == len(want), (tz, today, days_min, days_max, alert)


def test_sql_sla_filters_agree_with_python(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    Session = make_sessionmaker(engine)
    _build(Session)
    for tz, today in TODAYS:
        _check(Session, tz, today)
    # closed days changed by the admin count at once: nothing is cached across transactions
    with Session.begin() as s:
        s.add_all([ClosedDay(day=date(2025, 1, 2)), ClosedDay(day=date(2025, 7, 25))])
        s.delete(s.get(ClosedDay, date(2025, 2, 14)))
    _check(Session, "America/Lima", date(2025, 7, 29))
    # pages of an SLA-filtered list are pages of the SQL result, in order
    with Session() as s:
        f = Filters(days_max=3)
        every = [r.code for r in iter_ticket_rows(s, f, today=date(2025, 3, 15), order="code")]
        pages = [r.code for offset in range(0, len(every), 7)
                 for r in iter_ticket_rows(s, f, today=date(2025, 3, 15), order="code", limit=7, offset=offset)]
        assert pages == every and len(every) > 50
    engine.dispose()
