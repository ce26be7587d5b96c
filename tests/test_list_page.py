"""tickets/list_page.py: a page of the list and its count, the one-scan way (PostgreSQL, trigram
text filters) and the plain way (count_tickets + iter_ticket_rows) give the same page and count.

Runs on SQLite and PostgreSQL on the filter cases of tests/test_queries.py ("today" fixed there).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tickets.list_page as list_page_module
from tests.test_queries import CASES, TODAY, nums
from tickets.list_page import ONE_SCAN_FILTERS, list_page
from tickets.models import User
from tickets.queries import FilterError, Filters, count_tickets, count_with_ids, iter_ticket_rows, rows_of_ids


def plain(s, filters, *, page, page_size, cap, order="-requested_at", legal_user_id=None):
    """The page the way the list built it before tickets.list_page: a capped count, then the rows."""
    cap = max(cap, page * page_size)
    total = count_tickets(s, filters, today=TODAY, cap=cap, legal_user_id=legal_user_id)
    pages = max(1, -(-total // page_size))
    page = min(page, pages)
    rows = iter_ticket_rows(s, filters, today=TODAY, order=order, limit=page_size,
                            offset=(page - 1) * page_size, legal_user_id=legal_user_id)
    return nums(rows), min(total, cap), total > cap, page, pages


def shown(result):
    return nums(result.rows), result.total, result.more, result.page, result.pages


def test_every_case_gives_the_plain_page_and_count(Session):
    """Every filter case, pages 1 to 3 of 2 rows, in two orders: the same rows, count, pages; the
    one-scan way is taken exactly for the trigram text filters on PostgreSQL."""
    with Session() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        failures = []
        for data, expected in CASES:
            filters = Filters.from_mapping(data)
            for order in ("-requested_at", "code"):
                for page in (1, 2, 3):
                    got = list_page(s, filters, page=page, page_size=2, cap=10_000, today=TODAY, order=order)
                    want = plain(s, filters, page=page, page_size=2, cap=10_000, order=order)
                    if shown(got) != want:
                        failures.append(f"{data} {order} page {page}: {shown(got)} != {want}")
                    one_scan = postgres and any(getattr(filters, n) is not None for n in ONE_SCAN_FILTERS)
                    if got.one_scan != one_scan:
                        failures.append(f"{data}: one_scan {got.one_scan}, expected {one_scan}")
            assert set(nums(list_page(s, filters, page_size=50, today=TODAY).rows)) == expected, data
        assert not failures, "\n".join(failures)


def test_past_the_cap_and_past_the_end(Session):
    with Session() as s:
        for data in ({}, {"q": "e"}):  # plain and (on PostgreSQL) one-scan
            filters = Filters.from_mapping(data)
            got = list_page(s, filters, page=1, page_size=1, cap=2, today=TODAY)
            assert (got.total, got.more, got.page, got.pages) == (2, True, 1, 3), data
            assert shown(got) == plain(s, filters, page=1, page_size=1, cap=2)
            # page 9 of 1-row pages: the cap rises to reach it, and the last page (5) is shown
            got = list_page(s, filters, page=9, page_size=1, cap=2, today=TODAY)
            assert shown(got) == plain(s, filters, page=9, page_size=1, cap=2)
            assert (got.page, got.pages, got.more) == (got.total, got.total, False)


def test_more_matches_than_one_scan_carries_fall_back_to_the_plain_way(Session, monkeypatch):
    monkeypatch.setattr(list_page_module, "ONE_SCAN_MAX", 1)
    with Session() as s:
        filters = Filters(q="e")  # several matches
        got = list_page(s, filters, page_size=2, today=TODAY)
        assert not got.one_scan
        assert shown(got) == plain(s, filters, page=1, page_size=2, cap=10_000)


def test_a_legal_user_sees_only_their_tickets_either_way(Session):
    with Session() as s:
        jorge = s.scalar(select(User.id).where(User.email == "jorge@empresa.pe"))
        for data, expected in (({"requester": "luis"}, [2]), ({"requester": "rosa"}, []),
                               ({"q": "estacionamiento"}, [2]), ({}, [2])):
            got = list_page(s, Filters.from_mapping(data), today=TODAY, legal_user_id=jorge)
            assert nums(got.rows) == expected, data
            assert shown(got) == plain(s, Filters.from_mapping(data), page=1, page_size=50, cap=10_000,
                                       legal_user_id=jorge)


def test_count_with_ids_and_rows_of_ids(Session):
    with Session() as s:
        if s.get_bind().dialect.name != "postgresql":
            with pytest.raises(ValueError, match="PostgreSQL"):
                count_with_ids(s, Filters(q="e"), cap=10, ids_upto=10)
            return
        total, ids = count_with_ids(s, Filters(q="filtracion"), cap=10, ids_upto=10, today=TODAY)
        assert total == len(ids) == count_tickets(s, Filters(q="filtracion"), today=TODAY)
        assert nums(rows_of_ids(s, ids, today=TODAY, order="code")) == \
            nums(iter_ticket_rows(s, Filters(q="filtracion"), today=TODAY, order="code"))
        # the SLA filters' branches (open and attended apart) are united
        total, ids = count_with_ids(s, Filters(q="e", days_min=1), cap=10, ids_upto=10, today=TODAY)
        assert sorted(nums(rows_of_ids(s, ids, today=TODAY))) == \
            sorted(nums(iter_ticket_rows(s, Filters(q="e", days_min=1), today=TODAY)))
        assert count_with_ids(s, Filters(), cap=10, ids_upto=2, today=TODAY) == (5, None)
        assert count_with_ids(s, Filters(), cap=3, ids_upto=2, today=TODAY) == (4, None)
        assert count_with_ids(s, Filters(q="no existe"), cap=3, ids_upto=2, today=TODAY) == (0, [])
        assert rows_of_ids(s, [], today=TODAY) == []
        with pytest.raises(FilterError, match="^order"):
            rows_of_ids(s, [], order="nope")
        with pytest.raises(ValueError, match="ids_upto"):
            count_with_ids(s, Filters(), cap=3, ids_upto=4)


@pytest.mark.parametrize("page, page_size, field", [(0, 50, "page"), (1, 0, "page_size")])
def test_bad_page_or_size_names_the_field(Session, page, page_size, field):
    with Session() as s, pytest.raises(FilterError, match=f"^{field}: "):
        list_page(s, Filters(), page=page, page_size=page_size)
