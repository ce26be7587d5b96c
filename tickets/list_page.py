"""One page of the list with its count, as the panel's "Atención al Cliente" shows it (issue 9).

The list's header says how many tickets match — exactly up to a cap, "más de 10 000" past it — and
the page shows ``page_size`` of them. The plain way is two statements on the same filters:
:func:`tickets.queries.count_tickets` (capped) and :func:`tickets.queries.iter_ticket_rows`
(``limit``/``offset``). Both find the matches from the same indexes, so a filter whose scan is the
costly part pays for it twice.

That is the case of the trigram text filters on PostgreSQL (:data:`ONE_SCAN_FILTERS`): a GIN scan
of a name's trigrams costs ≈ 20 ms at 1,000,000 tickets whatever the number of matches, and every
candidate row is read to recheck it (bench/README.md, "List": Solicitante, 153 matches). For those,
when at most :data:`ONE_SCAN_MAX` tickets match, :func:`list_page` takes their ids from the count
itself (:func:`tickets.queries.count_with_ids`) and reads the page from those ids
(:func:`tickets.queries.rows_of_ids`): one scan instead of two. Everywhere else — SQLite, other
filters, more matches — it is the plain way. Both ways give the same page and the same count
(tests/test_list_page.py checks every filter case both ways).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from tickets.filter_values import FilterError
from tickets.filters import Filters
from tickets.list_row import TicketRow
from tickets.queries import DEFAULT_TZ, MAX_ROWS, count_tickets, count_with_ids, iter_ticket_rows, rows_of_ids

__all__ = ["ONE_SCAN_FILTERS", "ONE_SCAN_MAX", "ListPage", "list_page"]

ONE_SCAN_FILTERS = ("code", "requester", "holder", "contract", "comment", "q")
"""The filters served by trigram (GIN) indexes on PostgreSQL, whose candidates are rechecked row by
row (`tickets.filter_sql`): reading the matches' ids along with the count costs nothing more."""

ONE_SCAN_MAX = 1_000
"""At most this many matches are carried from the count to the page as ids (20 pages of 50)."""


@dataclass(frozen=True, slots=True)
class ListPage:
    """A page of the list. ``total``: the number of matches, at most the cap; ``more``: more than
    the cap match (the header says "más de …"); ``page``: the page shown, 1-based (the one asked
    for, or the last when it was past the end); ``pages``: the pages known (≥ 1; with ``more``,
    the last of them holds match number cap + 1); ``one_scan``: count and rows came from one scan
    of the matches (see the module's text)."""

    rows: list[TicketRow]
    total: int
    more: bool
    page: int
    pages: int
    one_scan: bool


def list_page(session: Session, filters: Filters, *, page: int = 1, page_size: int = 50, cap: int = 10_000,
              tz: str = DEFAULT_TZ, today: date | None = None, prefix: str = "AT",
              order: str = "-requested_at", legal_user_id: int | None = None) -> ListPage:
    """Page ``page`` (1-based; past the end: the last page) of the tickets matching ``filters``, in
    ``order``, ``page_size`` rows, with their number counted up to ``cap`` (raised to reach the page
    asked for). ``today``: a local date, default today in ``tz``; ``legal_user_id``: only that legal
    user's tickets (`tickets.queries.legal_scope`).

    Raises :class:`FilterError` for a bad ``order``, ``tz``, ``page`` (< 1) or ``page_size`` (< 1).
    """
    if page < 1:
        raise FilterError("page", "la página debe ser un número mayor o igual a 1")
    if page_size < 1:
        raise FilterError("page_size", "el tamaño de página debe ser un número mayor o igual a 1")
    # enough to know the page asked for exists; never past MAX_ROWS (more than any table holds), so
    # a page far past the end (10**30) is the last page, not a number SQL cannot hold
    page_size = min(page_size, MAX_ROWS)
    cap = min(max(cap, page * page_size), MAX_ROWS)
    common = dict(tz=tz, today=today, prefix=prefix, legal_user_id=legal_user_id)
    ids = None
    if _one_scan_applies(session, filters):
        total, ids = count_with_ids(session, filters, cap=cap, ids_upto=min(ONE_SCAN_MAX, cap), **common)
    else:
        total = count_tickets(session, filters, cap=cap, **common)
    more = total > cap  # total is then cap + 1: the page holding match cap + 1 exists
    pages = max(1, math.ceil(total / page_size))
    page = min(page, pages)
    offset = (page - 1) * page_size
    if ids is not None:
        rows = rows_of_ids(session, ids, tz=tz, today=today, order=order, limit=page_size, offset=offset,
                           legal_user_id=legal_user_id)
    else:
        rows = list(iter_ticket_rows(session, filters, order=order, limit=page_size, offset=offset, **common))
    return ListPage(rows=rows, total=min(total, cap), more=more, page=page, pages=pages,
                    one_scan=ids is not None)


def _one_scan_applies(session: Session, filters: Filters) -> bool:
    return (session.get_bind().dialect.name == "postgresql"
            and any(getattr(filters, name) is not None for name in ONE_SCAN_FILTERS))
