"""The SLA filters in SQL: "Días transcurridos" and the alert state computed by the database.

The list, the export and the CLI filter on ``days_min``, ``days_max`` and ``alert``; DESIGN.md
("Filters") asks that every filter run in the database so the list stays fast at a million
tickets. The rules are those of `tickets.sla` (seed NOVEDADES; DESIGN.md "Elapsed days and alert"
and "Domain", TicketType day rule), and the SQL here agrees with :func:`tickets.sla.compute_alert`
exactly (``tests/test_sla_sql.py`` compares them on random tickets, SQLite and PostgreSQL).

Units:

* **Local dates as day numbers.** A timestamp's date in the configured zone (IANA name) is
  compared as its proleptic ordinal (``date.toordinal()``: 0001-01-01 is 1). PostgreSQL:
  ``(timestamptz AT TIME ZONE zone)::date - DATE '0001-01-01' + 1``; SQLite: the Python function
  ``atencion_local_day(stored UTC text, zone)`` registered on each connection
  (:func:`register_sqlite_functions`, called by `tickets.db.make_engine`). "Today" is a local date
  given by the caller (default: today in the zone), passed as its day number.
* **Calendar days** (the default rule): end − requested, never negative, where end is the attended
  local date, or today when not attended.
* **Business days** (``day_rule = 'business'``): the number of business days d with
  requested < d ≤ end, a business day being Monday–Friday, not a holiday of the country (the
  ``holidays`` package, default PE) and not an admin-defined closed day (table ``closed_days``).
  It is B(end) − B(requested) with B(n) = a count of the business days ≤ n. PostgreSQL:
  ``width_bucket(n, ARRAY[business days])`` (binary search in a sorted array); SQLite:
  ``atencion_business_ordinal(n, off days)`` = weekdays ≤ n minus the listed non-business
  weekdays ≤ n. Both lists are built in Python with :func:`tickets.sla.is_business_day`, for the
  years that hold any ticket's requested or attended date and today (read with MIN/MAX over the
  ``requested_at`` and ``attended_at`` indexes), and from the closed days read in the same
  transaction: nothing is stored, so nothing can go stale.
* **Maximum days** (in the type's rule): the type's ``max_response_days``, or its per-priority
  override (:func:`tickets.sla.max_response_days`, names compared ignoring case and accents),
  resolved in Python from the two small catalogs into a ``CASE`` over ``type_id``/``priority_id``.
* **Alert**: late = elapsed > max; not attended → ``overdue`` / ``on_time``; attended →
  ``attended_late`` / ``attended_on_time``.

For tickets not attended the end is today, so "elapsed ≥ n" is "requested before a cut-off date"
of each type (calendar: today − n + 1; business: the n-th business day back from today, found with
the same :func:`tickets.sla.is_business_day`): :func:`sla_where` tests open tickets that way — a
range of ``requested_at`` per type and maximum, counted from an index — and attended tickets with
the expressions above (the two are separate branches of the WHERE, counted apart).

Besides the exact conditions, :func:`sla_conditions` adds necessary ones that indexes serve
(migration 0006): ``alert`` overdue/on_time only reads open tickets (partial index on
``requested_at WHERE attended_at IS NULL``, covering the columns read), and ``days_min`` N reads
open tickets requested at least N days before today plus attended tickets whose span
``attended_at − requested_at`` exceeds N − 1 days less 26 hours (the widest possible change of UTC
offset; PostgreSQL's expression index), all requested on or before the later of today and the
last attended date minus N days (so the newest-first page walks the ``requested_at`` index from there).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from tickets.models import ClosedDay, Priority, Ticket, TicketType
from tickets.sla import DEFAULT_COUNTRY, AlertState, DayRule, is_business_day, max_response_days

__all__ = [
    "LOCAL_DAY_FUNCTION",
    "BUSINESS_ORDINAL_FUNCTION",
    "SlaSql",
    "day_rule",
    "load_sla_sql",
    "local_day",
    "register_sqlite_functions",
    "SlaWhere",
    "sla_conditions",
    "sla_where",
]

LOCAL_DAY_FUNCTION = "atencion_local_day"
"""SQLite function: (stored UTC timestamp text, zone name) → ordinal of the local date, or NULL."""
BUSINESS_ORDINAL_FUNCTION = "atencion_business_ordinal"
"""SQLite function: (day number, comma-separated non-business weekdays) → weekdays ≤ n minus those."""

MAX_OFFSET_CHANGE = timedelta(hours=26)
"""The widest difference between two UTC offsets (−12:00 … +14:00): how much shorter than the
local span a ticket's UTC span can be."""


def day_rule(value: str | None) -> DayRule:
    """A ticket type's ``day_rule`` column as a :class:`DayRule`; empty or unknown → calendar
    (count calendar days rather than fail on a bad catalog value)."""
    try:
        return DayRule(value or DayRule.CALENDAR)
    except ValueError:
        return DayRule.CALENDAR


# --------------------------------------------------------------------------- local day numbers


class local_day(FunctionElement):  # noqa: N801 — named like the SQL function it stands for
    """SQL: ``local_day(timestamp column, zone)`` → the ordinal (int) of its date in ``zone``.

    PostgreSQL: ``(col AT TIME ZONE zone)::date - DATE '0001-01-01' + 1``; SQLite: the function
    :data:`LOCAL_DAY_FUNCTION`. NULL stays NULL.
    """

    type = Integer()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    column, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(timezone({zone}, {column}) AS DATE) - DATE '0001-01-01' + 1)"


@compiles(local_day)
def _local_day_default(element, compiler, **kw):
    column, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"{LOCAL_DAY_FUNCTION}({column}, {zone})"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _sqlite_local_day(value, zone_name):
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:  # SQLite keeps UTC without its zone (tickets.models.UTCDateTime)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(zone_name)).toordinal()


@lru_cache(maxsize=16)
def _parse_days(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(",")) if text else ()


def _weekdays_through(n: int) -> int:
    """Monday–Friday days among ordinals 1..n (ordinal 1 is a Monday)."""
    q, r = divmod(n, 7)
    return 5 * q + min(r, 5)


def _sqlite_business_ordinal(n, off_days_text):
    if n is None:
        return None
    return _weekdays_through(n) - bisect_right(_parse_days(off_days_text), n)


def register_sqlite_functions(dbapi_connection) -> None:
    """Define :data:`LOCAL_DAY_FUNCTION` and :data:`BUSINESS_ORDINAL_FUNCTION` on a sqlite3
    connection (`tickets.db.make_engine` does it on every connection it opens)."""
    dbapi_connection.create_function(LOCAL_DAY_FUNCTION, 2, _sqlite_local_day, deterministic=True)
    dbapi_connection.create_function(BUSINESS_ORDINAL_FUNCTION, 2, _sqlite_business_ordinal,
                                     deterministic=True)


# --------------------------------------------------------------------------- calendars


@lru_cache(maxsize=32)
def _business_days(country: str, closed: frozenset[date], first_year: int, last_year: int) -> tuple[int, ...]:
    """Sorted ordinals of the business days of the years ``first_year``..``last_year``."""
    day, end = date(first_year, 1, 1), date(last_year, 12, 31)
    out = []
    while day <= end:
        if is_business_day(day, country=country, closed_days=closed):
            out.append(day.toordinal())
        day += timedelta(days=1)
    return tuple(out)


@lru_cache(maxsize=32)
def _off_weekdays(country: str, closed: frozenset[date], first_year: int, last_year: int) -> str:
    """The Monday–Friday days of those years that are not business days, as "n,n,…" (ordinals)."""
    day, end = date(first_year, 1, 1), date(last_year, 12, 31)
    out = []
    while day <= end:
        if day.weekday() < 5 and not is_business_day(day, country=country, closed_days=closed):
            out.append(str(day.toordinal()))
        day += timedelta(days=1)
    return ",".join(out)


def _year_span(session: Session, zone: ZoneInfo, today: date) -> tuple[int, int]:
    """The first and last year (local) of any ticket's requested or attended date, and today's."""
    bounds = session.execute(select(
        select(func.min(Ticket.requested_at)).scalar_subquery(),
        select(func.max(Ticket.requested_at)).scalar_subquery(),
        select(func.min(Ticket.attended_at)).scalar_subquery(),
        select(func.max(Ticket.attended_at)).scalar_subquery(),
    )).one()
    years = [today.year]
    for moment in bounds:
        if moment is not None:
            if isinstance(moment, str):  # a scalar subquery on SQLite returns the stored text
                moment = datetime.fromisoformat(moment)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            years.append(moment.astimezone(zone).year)
    return min(years), max(years)


# --------------------------------------------------------------------------- the expressions


@dataclass(frozen=True)
class SlaSql:
    """The SQL expressions of one query's SLA columns (see the module docstring for units).

    ``elapsed``: Días transcurridos (int, in each ticket's day rule); ``max_days``: the ticket's
    maximum (int, same rule; NULL for a type missing from the catalog); ``late``: elapsed > max.
    """

    elapsed: ColumnElement[int]
    max_days: ColumnElement[int]
    late: ColumnElement[bool]
    least_max_days: int | None
    """The smallest maximum of any type or override (None with no types)."""
    types: tuple[tuple[int, bool, tuple[tuple[int, tuple[int, ...]], ...]], ...] = ()
    """Per ticket type: (id, counts business days, ((maximum, priority ids having it), …))."""
    today: date | None = None
    zone: ZoneInfo | None = None
    country: str = DEFAULT_COUNTRY
    closed: frozenset[date] = frozenset()


def load_sla_sql(session: Session, *, tz: str, today: date, country: str = DEFAULT_COUNTRY) -> SlaSql:
    """Read the catalogs (types, priorities, closed days) and build the SLA expressions.

    ``tz``: the configured zone (IANA name); ``today``: a local date in it; ``country``: the
    holiday calendar of the business-day rule. Reads only small tables, plus four MIN/MAX index
    look-ups on ``tickets`` when some type counts business days. Built once per transaction of
    ``session`` and arguments (the list's count and its page share it).
    """
    key = (tz, today, country)
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction and cached[1] == key:
        return cached[2]
    built = _build_sla_sql(session, tz=tz, today=today, country=country)
    if transaction is not None:
        session.info[_CACHE_KEY] = (transaction, key, built)
    return built


_CACHE_KEY = "atencion_sla_sql"


def _build_sla_sql(session: Session, *, tz: str, today: date, country: str) -> SlaSql:
    dialect = session.get_bind().dialect.name
    zone = _zone(tz)
    types = session.execute(select(TicketType.id, TicketType.max_response_days, TicketType.priority_days,
                                   TicketType.day_rule).order_by(TicketType.id)).all()
    priorities = session.execute(select(Priority.id, Priority.name).order_by(Priority.id)).all()

    whens, least, facts = [], None, []
    for t in types:
        default = int(t.max_response_days)
        least = default if least is None else min(least, default)
        maxima: dict[int, list[int]] = {}
        for p in priorities:
            days = max_response_days(default, t.priority_days, p.name)
            maxima.setdefault(days, []).append(p.id)
            least = min(least, days)
            if days != default:
                whens.append((and_(Ticket.type_id == t.id, Ticket.priority_id == p.id), days))
        whens.append((Ticket.type_id == t.id, default))
        facts.append((t.id, day_rule(t.day_rule) is DayRule.BUSINESS,
                      tuple((m, tuple(ids)) for m, ids in sorted(maxima.items()))))
    max_days = case(*whens, else_=None) if whens else literal(None, Integer)

    requested = local_day(Ticket.requested_at, literal(tz))
    end = func.coalesce(local_day(Ticket.attended_at, literal(tz)), literal(today.toordinal()))
    business_ids = [t.id for t in types if day_rule(t.day_rule) is DayRule.BUSINESS]
    branches = [(end <= requested, 0)]
    closed: frozenset[date] = frozenset()
    if business_ids:
        closed = frozenset(session.scalars(select(ClosedDay.day)))
        first, last = _year_span(session, zone, today)
        first, last = max(1, first - 1), min(9999, last + 1)  # margin: tickets written meanwhile
        if dialect == "postgresql":
            days = bindparam("sla_business_days", list(_business_days(country, closed, first, last)),
                             type_=ARRAY(Integer))

            def ordinal(n):
                return func.width_bucket(n, cast(days, ARRAY(Integer)))
        else:
            off = bindparam("sla_off_weekdays", _off_weekdays(country, closed, first, last))

            def ordinal(n):
                return getattr(func, BUSINESS_ORDINAL_FUNCTION)(n, off)
        branches.append((Ticket.type_id.in_(business_ids), ordinal(end) - ordinal(requested)))
    elapsed = case(*branches, else_=end - requested)
    return SlaSql(elapsed=elapsed, max_days=max_days, late=elapsed > max_days, least_max_days=least,
                  types=tuple(facts), today=today, zone=zone, country=country, closed=closed)


# --------------------------------------------------------------------------- open tickets

MAX_WALK = 5000
"""Business days counted back from today at most to find a cut-off; beyond, the exact expression."""


def _reached_before(sla: SlaSql, business: bool, n: int) -> date | bool | None:
    """For a ticket not attended (its end is today): the local date R0 such that its elapsed days
    are ≥ ``n`` exactly when it was requested before R0 (elapsed days only shrink as the request
    date moves later). True: every ticket reaches ``n`` (n ≤ 0); False: none does; None: not
    computed (more than :data:`MAX_WALK` business days), use the exact expression.

    Calendar: R0 = today − n + 1. Business: the n-th business day counting back from today
    (today included), the same :func:`tickets.sla.is_business_day` as the Python rule.
    """
    if n <= 0:
        return True
    try:
        if not business:
            return sla.today - timedelta(days=n - 1)
        if n > MAX_WALK:
            return None
        day, seen = sla.today, 0
        while True:
            if is_business_day(day, country=sla.country, closed_days=sla.closed):
                seen += 1
                if seen == n:
                    return day
            day -= timedelta(days=1)
            if (sla.today - day).days > 4 * MAX_WALK:  # closed for years: not worth walking on
                return None
    except OverflowError:  # before 0001-01-01: no request date is early enough
        return False


def _open_reaches(sla: SlaSql, n_of: dict[int, int] | int, at_least: bool) -> ColumnElement[bool]:
    """Open tickets whose elapsed days are ≥ n (``at_least``) or < n, with n given for all types or
    per maximum (``n_of`` maps a maximum to its n): ORed per type (and per maximum), each a
    range of ``requested_at`` that the partial index of the open tickets serves."""
    arms = []
    for type_id, business, maxima in sla.types:
        groups = [(n_of, None)] if isinstance(n_of, int) else [(n_of[m], ids) for m, ids in maxima]
        for n, priority_ids in groups:
            which = [Ticket.type_id == type_id]
            if priority_ids is not None:
                which.append(Ticket.priority_id.in_(priority_ids))
            before = _reached_before(sla, business, n)
            if before is None:
                reach = sla.elapsed >= n if at_least else sla.elapsed < n
            elif isinstance(before, bool):
                reach = true() if before is at_least else false()
            else:
                midnight = _local_midnight(before, sla.zone)
                reach = Ticket.requested_at < midnight if at_least else Ticket.requested_at >= midnight
            arms.append(and_(*which, reach))
    return or_(*arms) if arms else false()


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class SlaWhere:
    """The SLA filters as WHERE conditions: all of ``common`` and, when ``branches`` is not empty,
    all of one of ``branches`` — alternatives that no ticket meets two of (attended or not), so a
    count is the sum of the branches' counts, each of which an index may serve alone."""

    common: list[ColumnElement[bool]]
    branches: list[list[ColumnElement[bool]]]

    def conditions(self) -> list[ColumnElement[bool]]:
        """Everything as one list of conditions to AND (the branches as one OR)."""
        if not self.branches:
            return list(self.common)
        if len(self.branches) == 1:
            return [*self.common, *self.branches[0]]
        return [*self.common, or_(*(and_(*b) for b in self.branches))]


def sla_where(session: Session, *, days_min: int | None, days_max: int | None,
              alert: AlertState | str | None, tz: str, today: date,
              country: str = DEFAULT_COUNTRY) -> SlaWhere:
    """The SLA filters: Días transcurridos ≥ ``days_min`` and ≤ ``days_max`` (whole days in each
    ticket's day rule) and the alert state ``alert`` (an :class:`AlertState` value), exactly as
    :func:`tickets.sla.compute_alert` decides them for ``today`` (a local date in ``tz``), plus
    necessary conditions that indexes can serve (module docstring). Nothing when none is set.
    Raises ``ValueError`` for an unknown alert state.
    """
    if days_min is None and days_max is None and alert is None:
        return SlaWhere([], [])
    zone = _zone(tz)
    postgres = session.get_bind().dialect.name == "postgresql"
    sla = load_sla_sql(session, tz=tz, today=today, country=country)
    common: list[ColumnElement[bool]] = []
    open_branch: list[ColumnElement[bool]] = [Ticket.attended_at.is_(None)]
    attended_branch: list[ColumnElement[bool]] = [Ticket.attended_at.is_not(None)]
    if days_min is not None:
        attended_branch.append(sla.elapsed >= days_min)
        open_branch.append(_open_reaches(sla, days_min, at_least=True))
        if days_min >= 1:  # elapsed ≤ end − requested, and no end is after the last attended date or today
            last = session.scalar(select(func.max(Ticket.attended_at)))
            last_day = max(today, last.astimezone(zone).date()) if last is not None else today
            common.append(Ticket.requested_at < _local_midnight(last_day - timedelta(days=days_min - 1), zone))
            open_branch.append(Ticket.requested_at < _local_midnight(today - timedelta(days=days_min - 1), zone))
            if postgres:
                span = timedelta(days=days_min - 1) - MAX_OFFSET_CHANGE
                attended_branch.append(Ticket.attended_at - Ticket.requested_at > span)
    if days_max is not None:
        attended_branch.append(sla.elapsed <= days_max)
        open_branch.append(_open_reaches(sla, days_max + 1, at_least=False))
    branches = [open_branch, attended_branch]
    if alert is not None:
        state = AlertState(alert)
        attended = state in (AlertState.ATTENDED_ON_TIME, AlertState.ATTENDED_LATE)
        late = state in (AlertState.OVERDUE, AlertState.ATTENDED_LATE)
        branches = [attended_branch] if attended else [open_branch]
        if attended:
            attended_branch.append(sla.late if late else sla.elapsed <= sla.max_days)
        else:  # late: elapsed ≥ maximum + 1, per type and maximum
            n_of = {m: m + 1 for _, _, maxima in sla.types for m, _ in maxima}
            open_branch.append(_open_reaches(sla, n_of, at_least=late))
        branch = branches[0]
        if late and sla.least_max_days is not None:  # elapsed > the smallest maximum ≥ 0, and
            least = sla.least_max_days              # elapsed ≤ end − requested (local dates)
            if not attended:
                branch.append(Ticket.requested_at < _local_midnight(today - timedelta(days=least), zone))
            elif postgres:
                branch.append(Ticket.attended_at - Ticket.requested_at > timedelta(days=least) - MAX_OFFSET_CHANGE)
    return SlaWhere(common, branches)


def sla_conditions(session: Session, *, days_min: int | None, days_max: int | None,
                   alert: AlertState | str | None, tz: str, today: date,
                   country: str = DEFAULT_COUNTRY) -> list[ColumnElement[bool]]:
    """:func:`sla_where` as one list of conditions to AND (empty when no SLA filter is set)."""
    return sla_where(session, days_min=days_min, days_max=days_max, alert=alert, tz=tz, today=today,
                     country=country).conditions()
