"""Elapsed days and the SLA alert of a ticket — pure functions, no database, no I/O.

Sources of the rules:

* The seed, ``atencion-al-cliente.txt``, section NOVEDADES ("Días transcurridos" and
  "Alerta de la atención"): elapsed days = attention date − request date (2025-01-01 → 2025-01-06
  is 5); a ticket requested 2025-01-01, not attended, with today 2025-01-06 and 2 maximum days
  shows "3 días de retraso". The maximum depends on the ticket's urgency (priority).
* DESIGN.md, "Elapsed days and alert": the same definitions, the four alert states, the
  per-priority override of the type's ``max_response_days``, and "today" being the date in the
  configured time zone (default America/Lima), never the server's UTC date.
* DESIGN.md, "Domain" (TicketType) and the library table: the day rule is calendar days by default,
  or business days (Monday–Friday, minus the ``holidays`` calendar of a country, default PE, minus
  admin-defined closed days).

Units: every argument and result here is a *local calendar date* (``datetime.date`` in the
configured zone) or a whole number of days; the day rule says whether those days are calendar
days or business days. Convert timestamps to local dates with :func:`to_local_date` /
:func:`local_today` before calling the day arithmetic.

These functions run for every row of large exports, so business-day counting is O(log n):
weekdays are counted arithmetically and holidays by bisection over per-(country, year) cached,
sorted lists; nothing iterates day by day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays

from tickets.text import fold

__all__ = [
    "DEFAULT_COUNTRY",
    "DEFAULT_TZ",
    "Alert",
    "AlertState",
    "DayRule",
    "alert_text",
    "compute_alert",
    "elapsed_days",
    "is_business_day",
    "local_today",
    "max_response_days",
    "to_local_date",
]

DEFAULT_TZ = "America/Lima"
"""Default time zone for "today" (DESIGN.md, "Elapsed days and alert")."""

DEFAULT_COUNTRY = "PE"
"""Default holiday calendar for the business-day rule (DESIGN.md, "Domain": TicketType)."""


class DayRule(StrEnum):
    """How a ticket type counts days (DESIGN.md, "Domain": TicketType)."""

    CALENDAR = "calendar"
    """Every calendar day counts (the default; the seed's example is in calendar days)."""
    BUSINESS = "business"
    """Monday–Friday that are neither a holiday of the country nor an admin-defined closed day."""


class AlertState(StrEnum):
    """The four values of "Alerta de la atención" (seed NOVEDADES; DESIGN.md, ``alert`` filter)."""

    OVERDUE = "overdue"
    ON_TIME = "on_time"
    ATTENDED_ON_TIME = "attended_on_time"
    ATTENDED_LATE = "attended_late"


@dataclass(frozen=True)
class Alert:
    """The alert of one ticket. All day counts are in the ticket type's day rule (calendar or business days)."""

    state: AlertState
    elapsed_days: int
    """Días transcurridos: (attended date, or today) − requested date, never negative."""
    max_days: int
    """Maximum response days for the ticket's type and priority."""
    days_late: int
    """``elapsed_days − max_days`` when late (OVERDUE or ATTENDED_LATE), else 0."""
    days_left: int
    """``max_days − elapsed_days`` when ON_TIME (not attended), else 0. 0 on ON_TIME means due today."""
    text: str
    """The Spanish text shown in the "Alerta de la atención" column."""


# --------------------------------------------------------------------------- local dates


def to_local_date(moment: datetime, tz_name: str = DEFAULT_TZ) -> date:
    """The calendar date of ``moment`` in the zone ``tz_name`` (IANA name, e.g. "America/Lima").

    ``moment`` should be timezone-aware; a naive datetime is taken to be UTC (the database stores
    UTC). Source: DESIGN.md, "Elapsed days and alert" — dates are local dates, never UTC dates.
    """
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(tz_name)).date()


def local_today(tz_name: str = DEFAULT_TZ, now: datetime | None = None) -> date:
    """Today's date in the zone ``tz_name`` (default America/Lima), never the server's date.

    ``now`` (aware; naive = UTC) defaults to ``datetime.now(timezone.utc)``; pass it to make the
    result reproducible. Source: DESIGN.md, "Elapsed days and alert", last bullet.
    """
    if now is None:
        now = datetime.now(UTC)
    return to_local_date(now, tz_name)


@lru_cache(maxsize=64)
def _zone(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


# --------------------------------------------------------------------------- business days
#
# Ordinal arithmetic: date.fromordinal(1) is Monday 0001-01-01, so the weekday of ordinal n is
# (n - 1) % 7 (0 = Monday) and the number of Monday–Friday days among ordinals 1..n is
# 5 * (n // 7) + min(n % 7, 5).


def _weekdays_through(n: int) -> int:
    """Number of Monday–Friday days among ordinals 1..n (n >= 0)."""
    q, r = divmod(n, 7)
    return 5 * q + min(r, 5)


def _is_weekday_ordinal(n: int) -> bool:
    return (n - 1) % 7 < 5


@cache
def _weekday_holidays(country: str, year: int) -> tuple[int, ...]:
    """Sorted ordinals of the holidays of ``country`` in ``year`` that fall Monday–Friday.

    Built once per (country, year) with the ``holidays`` package and cached for the life of the
    process (holidays on a weekend do not change a business-day count, so they are dropped).
    """
    calendar = holidays.country_holidays(country, years=year)
    return tuple(
        sorted({d.toordinal() for d in calendar if d.year == year and d.weekday() < 5})
    )


def _holidays_between(country: str, lo: int, hi: int) -> int:
    """Number of weekday holidays of ``country`` with ordinal in (lo, hi], lo < hi."""
    first = date.fromordinal(lo + 1).year
    last = date.fromordinal(hi).year
    total = 0
    for year in range(first, last + 1):
        ords = _weekday_holidays(country, year)
        if not ords:
            continue
        if first < year < last:
            total += len(ords)
        else:
            total += bisect_right(ords, hi) - bisect_right(ords, lo)
    return total


def _is_holiday_ordinal(country: str, n: int) -> bool:
    ords = _weekday_holidays(country, date.fromordinal(n).year)
    i = bisect_left(ords, n)
    return i < len(ords) and ords[i] == n


@lru_cache(maxsize=256)
def _closed_ordinals(country: str, closed_days: frozenset[date]) -> tuple[int, ...]:
    """Sorted ordinals of the closed days that would otherwise be business days.

    Weekend days and holidays are dropped so that they are not subtracted twice. Cached per
    (country, closed_days): callers pass the same frozenset for every row of an export.
    """
    return tuple(
        sorted(
            n
            for n in (d.toordinal() for d in closed_days)
            if _is_weekday_ordinal(n) and not _is_holiday_ordinal(country, n)
        )
    )


def _business_days_between(
    start: date, end: date, country: str, closed_days: frozenset[date]
) -> int:
    """Business days d with start < d <= end (0 when end <= start)."""
    lo, hi = start.toordinal(), end.toordinal()
    if hi <= lo:
        return 0
    count = _weekdays_through(hi) - _weekdays_through(lo)
    count -= _holidays_between(country, lo, hi)
    if closed_days:
        closed = _closed_ordinals(country, closed_days)
        count -= bisect_right(closed, hi) - bisect_right(closed, lo)
    return count


def is_business_day(
    day: date,
    *,
    country: str = DEFAULT_COUNTRY,
    closed_days: frozenset[date] = frozenset(),
) -> bool:
    """True when ``day`` (a local date) is Monday–Friday, not a holiday of ``country`` and not closed.

    Source: DESIGN.md, "Domain" (TicketType day rule) and the library table ("holidays (PE), plus
    admin-defined closed days").
    """
    n = day.toordinal()
    return (
        _is_weekday_ordinal(n)
        and not _is_holiday_ordinal(country, n)
        and day not in closed_days
    )


# --------------------------------------------------------------------------- elapsed days


def elapsed_days(
    requested: date,
    attended: date | None,
    today: date,
    rule: DayRule = DayRule.CALENDAR,
    *,
    country: str = DEFAULT_COUNTRY,
    closed_days: frozenset[date] = frozenset(),
) -> int:
    """Días transcurridos: (``attended``, or ``today`` when not attended) − ``requested``, in days.

    All three arguments are local calendar dates (see :func:`to_local_date`, :func:`local_today`).

    * ``DayRule.CALENDAR``: the plain difference in calendar days. Seed (NOVEDADES): requested
      2025-01-01, attended 2025-01-06 → 5.
    * ``DayRule.BUSINESS``: the number of business days d with ``requested < d <= end`` — Monday to
      Friday, not a holiday of ``country`` (``holidays`` package) and not in ``closed_days``
      (DESIGN.md, "Domain": TicketType day rule).

    Never negative: an end date before the request date gives 0.
    Source: seed NOVEDADES, DESIGN.md "Elapsed days and alert".
    """
    end = attended if attended is not None else today
    if DayRule(rule) is DayRule.BUSINESS:
        return _business_days_between(requested, end, country, closed_days)
    return max(0, (end - requested).days)


# --------------------------------------------------------------------------- maximum days


def max_response_days(
    default_days: int, per_priority: Mapping[str, int] | None, priority: str | None
) -> int:
    """Maximum response days for a ticket: the type's per-priority override, else its default.

    The days are in the ticket type's day rule (calendar or business days). Priority names are
    compared ignoring case, accents and surrounding spaces ("urgente" matches "Urgente").
    Source: seed NOVEDADES ("Según la urgencia añadida al requerimiento se estaría tomando los días")
    and DESIGN.md "Elapsed days and alert" ("the type's days for the ticket's priority, else the
    type's default").
    """
    if per_priority and priority is not None:
        wanted = fold(priority)
        for name, days in per_priority.items():
            if fold(name) == wanted and days is not None:
                return int(days)
    return int(default_days)


# --------------------------------------------------------------------------- alert


def _days(n: int) -> str:
    return "1 día" if n == 1 else f"{n} días"


def alert_text(state: AlertState, days_late: int = 0, days_left: int = 0) -> str:
    """The Spanish text of the "Alerta de la atención" column (seed NOVEDADES, DESIGN.md)."""
    if state is AlertState.OVERDUE:
        return f"{_days(days_late)} de retraso"
    if state is AlertState.ON_TIME:
        if days_left <= 0:
            return "En plazo (vence hoy)"
        if days_left == 1:
            return "En plazo (queda 1 día)"
        return f"En plazo (quedan {days_left} días)"
    if state is AlertState.ATTENDED_ON_TIME:
        return "Atendido dentro de plazo"
    return "Atendido fuera de plazo"


def compute_alert(
    requested: date,
    attended: date | None,
    today: date,
    max_days: int,
    rule: DayRule = DayRule.CALENDAR,
    *,
    country: str = DEFAULT_COUNTRY,
    closed_days: frozenset[date] = frozenset(),
) -> Alert:
    """The "Alerta de la atención" of one ticket.

    Dates are local calendar dates; ``max_days`` (from :func:`max_response_days`) and every count in
    the result are in the day rule ``rule`` (calendar or business days). With
    ``elapsed = elapsed_days(requested, attended, today, rule, ...)``:

    * not attended and elapsed > max → OVERDUE, "N días de retraso" with N = elapsed − max
      (seed NOVEDADES: requested 2025-01-01, not attended, today 2025-01-06, max 2 →
      "3 días de retraso"; one day: "1 día de retraso");
    * not attended otherwise → ON_TIME, "En plazo (quedan N días)" / "En plazo (queda 1 día)" /
      "En plazo (vence hoy)" with N = max − elapsed;
    * attended with elapsed ≤ max → ATTENDED_ON_TIME, "Atendido dentro de plazo";
    * attended with elapsed > max → ATTENDED_LATE, "Atendido fuera de plazo".

    Source: seed NOVEDADES and DESIGN.md "Elapsed days and alert".
    """
    elapsed = elapsed_days(
        requested, attended, today, rule, country=country, closed_days=closed_days
    )
    late = elapsed > max_days
    if attended is None:
        state = AlertState.OVERDUE if late else AlertState.ON_TIME
    else:
        state = AlertState.ATTENDED_LATE if late else AlertState.ATTENDED_ON_TIME
    days_late = elapsed - max_days if late else 0
    days_left = max_days - elapsed if state is AlertState.ON_TIME else 0
    return Alert(
        state=state,
        elapsed_days=elapsed,
        max_days=max_days,
        days_late=days_late,
        days_left=days_left,
        text=alert_text(state, days_late, days_left),
    )
