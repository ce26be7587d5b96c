"""Tests for tickets/sla.py: seed NOVEDADES examples and DESIGN.md "Elapsed days and alert"."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import holidays
import pytest

from tickets.sla import (
    Alert,
    AlertState,
    DayRule,
    compute_alert,
    elapsed_days,
    is_business_day,
    local_today,
    max_response_days,
    to_local_date,
)

D = date.fromisoformat


# --------------------------------------------------------------------------- the seed, verbatim


def test_seed_dias_transcurridos():
    # Seed NOVEDADES: fecha de solicitud "2025-01-01", fecha de atención "2025-01-06" → 5
    # [fecha de atención menos la fecha de solicitud].
    assert elapsed_days(D("2025-01-01"), D("2025-01-06"), today=D("2025-03-01")) == 5


def test_seed_alerta_de_la_atencion():
    # Seed NOVEDADES: solicitud "2025-01-01", sin fecha de atención, fecha actual "2025-01-06",
    # días máximo de respuesta 2 → "3 días de retraso".
    alert = compute_alert(D("2025-01-01"), None, D("2025-01-06"), 2)
    assert alert == Alert(
        state=AlertState.OVERDUE,
        elapsed_days=5,
        max_days=2,
        days_late=3,
        days_left=0,
        text="3 días de retraso",
    )


# --------------------------------------------------------------------------- texts and boundaries

REQ = D("2025-03-03")  # a Monday


@pytest.mark.parametrize(
    ("elapsed", "max_days", "state", "late", "left", "text"),
    [
        (5, 2, AlertState.OVERDUE, 3, 0, "3 días de retraso"),
        (3, 2, AlertState.OVERDUE, 1, 0, "1 día de retraso"),  # max + 1, singular
        (2, 2, AlertState.ON_TIME, 0, 0, "En plazo (vence hoy)"),  # elapsed == max
        (1, 2, AlertState.ON_TIME, 0, 1, "En plazo (queda 1 día)"),
        (0, 2, AlertState.ON_TIME, 0, 2, "En plazo (quedan 2 días)"),
        (0, 0, AlertState.ON_TIME, 0, 0, "En plazo (vence hoy)"),
        (1, 0, AlertState.OVERDUE, 1, 0, "1 día de retraso"),
        (12, 2, AlertState.OVERDUE, 10, 0, "10 días de retraso"),
    ],
)
def test_not_attended(elapsed, max_days, state, late, left, text):
    alert = compute_alert(REQ, None, REQ + timedelta(days=elapsed), max_days)
    assert (alert.state, alert.elapsed_days, alert.max_days) == (
        state,
        elapsed,
        max_days,
    )
    assert (alert.days_late, alert.days_left, alert.text) == (late, left, text)


@pytest.mark.parametrize(
    ("elapsed", "max_days", "state", "late", "text"),
    [
        (
            2,
            2,
            AlertState.ATTENDED_ON_TIME,
            0,
            "Atendido dentro de plazo",
        ),  # elapsed == max
        (0, 2, AlertState.ATTENDED_ON_TIME, 0, "Atendido dentro de plazo"),
        (3, 2, AlertState.ATTENDED_LATE, 1, "Atendido fuera de plazo"),  # max + 1
        (9, 2, AlertState.ATTENDED_LATE, 7, "Atendido fuera de plazo"),
    ],
)
def test_attended(elapsed, max_days, state, late, text):
    # "today" far in the future must not matter once attended.
    alert = compute_alert(REQ, REQ + timedelta(days=elapsed), D("2030-01-01"), max_days)
    assert (
        alert.state,
        alert.elapsed_days,
        alert.days_late,
        alert.days_left,
        alert.text,
    ) == (
        state,
        elapsed,
        late,
        0,
        text,
    )


def test_states_are_the_filter_values():
    # DESIGN.md, Filters: alert = overdue, on_time, attended_on_time, attended_late
    assert [s.value for s in AlertState] == [
        "overdue",
        "on_time",
        "attended_on_time",
        "attended_late",
    ]
    assert [r.value for r in DayRule] == ["calendar", "business"]


def test_never_negative():
    assert elapsed_days(D("2025-01-10"), D("2025-01-06"), D("2025-01-01")) == 0
    assert elapsed_days(D("2025-01-10"), None, D("2025-01-06")) == 0
    assert elapsed_days(D("2025-01-10"), None, D("2025-01-06"), DayRule.BUSINESS) == 0
    assert elapsed_days(D("2025-01-10"), None, D("2025-01-10"), DayRule.BUSINESS) == 0
    alert = compute_alert(D("2025-01-10"), None, D("2025-01-06"), 2)
    assert (alert.elapsed_days, alert.state, alert.text) == (
        0,
        AlertState.ON_TIME,
        "En plazo (quedan 2 días)",
    )


def test_rule_accepts_its_string_value():
    assert elapsed_days(D("2025-01-03"), None, D("2025-01-06"), "business") == 1
    assert elapsed_days(D("2025-01-03"), None, D("2025-01-06"), "calendar") == 3


# --------------------------------------------------------------------------- business days


def test_pe_calendar_has_the_expected_holidays():
    pe = holidays.country_holidays("PE", years=2025)
    for day in ("2025-01-01", "2025-07-28", "2025-07-29", "2025-12-08", "2025-12-25"):
        assert D(day) in pe, day


def test_business_days_across_a_weekend():
    fri, mon = D("2025-01-03"), D("2025-01-06")
    assert elapsed_days(fri, mon, mon, DayRule.BUSINESS) == 1
    assert elapsed_days(fri, None, mon, DayRule.CALENDAR) == 3
    # Saturday and Sunday add nothing; requested on a Saturday, Monday is day 1.
    assert elapsed_days(fri, None, D("2025-01-05"), DayRule.BUSINESS) == 0
    assert elapsed_days(D("2025-01-04"), None, mon, DayRule.BUSINESS) == 1
    # Two full weeks: 10 business days.
    assert elapsed_days(D("2025-01-06"), None, D("2025-01-20"), DayRule.BUSINESS) == 10


def test_seed_example_under_business_days():
    # 2025-01-01 (Wed, New Year's Day) → 2025-01-06 (Mon): Thu 2, Fri 3, Mon 6 = 3 business days.
    assert (
        elapsed_days(
            D("2025-01-01"), D("2025-01-06"), D("2025-01-06"), DayRule.BUSINESS
        )
        == 3
    )
    alert = compute_alert(D("2025-01-01"), None, D("2025-01-06"), 2, DayRule.BUSINESS)
    assert (alert.state, alert.elapsed_days, alert.text) == (
        AlertState.OVERDUE,
        3,
        "1 día de retraso",
    )


def test_business_days_across_fiestas_patrias():
    # Fri 2025-07-25 → Thu 2025-07-31: Mon 28 and Tue 29 are holidays; Wed 30, Thu 31 count.
    assert (
        elapsed_days(
            D("2025-07-25"), D("2025-07-31"), D("2025-07-31"), DayRule.BUSINESS
        )
        == 2
    )
    assert (
        elapsed_days(
            D("2025-07-25"), D("2025-07-29"), D("2025-07-31"), DayRule.BUSINESS
        )
        == 0
    )
    alert = compute_alert(D("2025-07-25"), None, D("2025-07-29"), 0, DayRule.BUSINESS)
    assert (alert.state, alert.text) == (AlertState.ON_TIME, "En plazo (vence hoy)")


def test_business_days_across_december_holidays():
    # Dec 2025: Mon 8 and Tue 9 and Thu 25 are holidays in PE.
    # Fri 5 → Fri 12: Wed 10, Thu 11, Fri 12 = 3.
    assert elapsed_days(D("2025-12-05"), None, D("2025-12-12"), DayRule.BUSINESS) == 3
    # Mon 22 → Fri 26: Tue 23, Wed 24, Fri 26 = 3.
    assert elapsed_days(D("2025-12-22"), None, D("2025-12-26"), DayRule.BUSINESS) == 3
    # Across the new year: Mon 2025-12-29 → Mon 2026-01-05: Tue 30, Wed 31, Fri 2, Mon 5 = 4.
    assert elapsed_days(D("2025-12-29"), None, D("2026-01-05"), DayRule.BUSINESS) == 4


def test_closed_days():
    closed = frozenset(
        {D("2025-01-07"), D("2025-07-28"), D("2025-01-11")}
    )  # Tue, a holiday, a Saturday
    # Mon 6 → Fri 10: Tue 7 closed → Wed, Thu, Fri = 3.
    assert (
        elapsed_days(
            D("2025-01-06"), None, D("2025-01-10"), DayRule.BUSINESS, closed_days=closed
        )
        == 3
    )
    assert elapsed_days(D("2025-01-06"), None, D("2025-01-10"), DayRule.BUSINESS) == 4
    # A closed day that is also a holiday or a weekend is not subtracted twice.
    assert (
        elapsed_days(
            D("2025-07-25"), None, D("2025-07-31"), DayRule.BUSINESS, closed_days=closed
        )
        == 2
    )
    assert (
        elapsed_days(
            D("2025-01-10"), None, D("2025-01-13"), DayRule.BUSINESS, closed_days=closed
        )
        == 1
    )
    # Closed days do not affect the calendar rule.
    assert (
        elapsed_days(
            D("2025-01-06"), None, D("2025-01-10"), DayRule.CALENDAR, closed_days=closed
        )
        == 4
    )
    alert = compute_alert(
        D("2025-01-06"),
        D("2025-01-10"),
        D("2025-02-01"),
        3,
        DayRule.BUSINESS,
        closed_days=closed,
    )
    assert alert.state is AlertState.ATTENDED_ON_TIME


def test_other_country():
    # 2025-07-04 (Fri) is a US holiday, not a Peruvian one.
    assert (
        elapsed_days(
            D("2025-07-03"), None, D("2025-07-04"), DayRule.BUSINESS, country="US"
        )
        == 0
    )
    assert (
        elapsed_days(
            D("2025-07-03"), None, D("2025-07-04"), DayRule.BUSINESS, country="PE"
        )
        == 1
    )


def _naive_business_days(
    start: date, end: date, country: str, closed: frozenset[date]
) -> int:
    """Oracle: count day by day."""
    cal = holidays.country_holidays(country)
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        if day.weekday() < 5 and day not in cal and day not in closed:
            count += 1
        day += timedelta(days=1)
    return count


def test_ten_year_range_matches_day_by_day_count():
    start, end = D("2016-01-01"), D("2026-01-01")
    fast = elapsed_days(start, None, end, DayRule.BUSINESS)
    assert fast == _naive_business_days(start, end, "PE", frozenset())
    assert 2400 < fast < 2610


def test_random_pairs_match_day_by_day_count():
    rng = random.Random(20250106)
    base = D("2015-01-01").toordinal()
    closed = frozenset(date.fromordinal(base + rng.randrange(4000)) for _ in range(40))
    for i in range(300):
        a = date.fromordinal(base + rng.randrange(4000))
        b = a + timedelta(
            days=rng.choice(
                [rng.randrange(-5, 15), rng.randrange(0, 400), rng.randrange(0, 3700)]
            )
        )
        cd = closed if i % 2 else frozenset()
        expected = _naive_business_days(a, b, "PE", cd)
        assert elapsed_days(a, None, b, DayRule.BUSINESS, closed_days=cd) == expected, (
            a,
            b,
            i,
        )
        assert (
            elapsed_days(a, b, D("1999-01-01"), DayRule.BUSINESS, closed_days=cd)
            == expected
        )


def test_is_business_day():
    assert is_business_day(D("2025-07-30"))
    assert not is_business_day(D("2025-07-28"))
    assert not is_business_day(D("2025-07-26"))
    assert not is_business_day(
        D("2025-07-30"), closed_days=frozenset({D("2025-07-30")})
    )


# --------------------------------------------------------------------------- local dates


def test_local_today_is_lima_not_utc():
    now = datetime(2025, 1, 6, 3, 0, tzinfo=UTC)
    assert local_today("America/Lima", now=now) == D("2025-01-05")
    assert local_today(now=now) == D("2025-01-05")  # default zone is Lima
    assert local_today("UTC", now=now) == D("2025-01-06")
    assert local_today(now=datetime(2025, 1, 6, 5, 0, tzinfo=UTC)) == D("2025-01-06")


def test_local_today_defaults_to_now():
    utc_now = datetime.now(UTC)
    assert local_today("America/Lima") in {
        to_local_date(utc_now, "America/Lima"),
        to_local_date(utc_now + timedelta(seconds=5), "America/Lima"),
    }


def test_to_local_date_naive_is_utc():
    assert to_local_date(datetime(2025, 1, 6, 3, 0), "America/Lima") == D("2025-01-05")
    lima = datetime(2025, 1, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert to_local_date(lima, "America/Lima") == D("2025-01-05")
    assert to_local_date(lima, "Europe/Madrid") == D("2025-01-06")


# --------------------------------------------------------------------------- maximum days


def test_max_response_days_per_priority():
    overrides = {"Urgente": 1, "Alta": 3}
    assert max_response_days(5, overrides, "Urgente") == 1
    assert max_response_days(5, overrides, "urgente") == 1
    assert max_response_days(5, overrides, " URGENTE ") == 1
    assert (
        max_response_days(5, {"Urgénte": 1}, "urgente") == 1
    )  # accent-insensitive both ways
    assert max_response_days(5, overrides, "Úrgente") == 1
    assert max_response_days(5, overrides, "Alta") == 3
    assert max_response_days(5, overrides, "Media") == 5
    assert max_response_days(5, overrides, None) == 5
    assert max_response_days(5, None, "Urgente") == 5
    assert max_response_days(5, {}, "Urgente") == 5
    assert (
        max_response_days(5, {"Baja": 0}, "baja") == 0
    )  # an override of 0 is an override


def test_max_days_feed_the_alert():
    # DESIGN.md default type "Atención": 5 calendar days; priority Urgente 1.
    max_days = max_response_days(5, {"Urgente": 1}, "urgente")
    alert = compute_alert(D("2025-01-01"), None, D("2025-01-03"), max_days)
    assert (alert.state, alert.text) == (AlertState.OVERDUE, "1 día de retraso")
    alert = compute_alert(
        D("2025-01-01"),
        None,
        D("2025-01-03"),
        max_response_days(5, {"Urgente": 1}, "Baja"),
    )
    assert (alert.state, alert.text) == (AlertState.ON_TIME, "En plazo (quedan 3 días)")
