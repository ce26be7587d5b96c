"""The one query behind the list, the export and the CLI (DESIGN.md, "Filters").

The filters are defined in `tickets.filters` (:class:`Filters`), each one's SQL condition is in
`tickets.filter_sql`, a listed row is a `tickets.list_row.TicketRow`. Here: the SELECT with its
joins, its order, the count and the rows. :func:`iter_ticket_rows` and :func:`count_tickets` add
the SLA filters (``days_min``, ``days_max``, ``alert``), which need the session to read the
catalogs and "today": `tickets.sla_sql` computes Días transcurridos and the alert state in the
database, exactly as `tickets.sla` does in Python. Python still computes each *listed* row's
elapsed days and alert text (:func:`tickets.sla.compute_alert`). The rows are streamed
(``yield_per=1000``; a server-side cursor on PostgreSQL), so memory stays flat whatever the number
of tickets.

The query is one SELECT with joins (aliased clients and users) that returns plain columns, never
ORM objects, so listing or exporting N tickets costs one statement, not N.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    bindparam,
    case,
    func,
    inspect,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from tickets.filter_sql import (
    Assignee,
    HolderClient,
    RequesterClient,
    filter_conditions,
    legal_scope,
    resolve_names,
    zone_named,
)
from tickets.filter_values import ALERT_STATES, ASSIGNEE_NONE, KINDS, FilterError, parse_value
from tickets.filters import FILTER_NAMES, Filters
from tickets.list_row import ROW_KEYS, TicketRow, TypeRules, ticket_row_from
from tickets.models import (
    Area,
    Category,
    ClosedDay,
    Contract,
    Priority,
    Project,
    Promoter,
    Status,
    Subdivision,
    Ticket,
    TicketType,
    Unit,
)
from tickets.sla import local_today
from tickets.sla_sql import sla_conditions, sla_where

__all__ = [
    "ALERT_STATES",
    "ASSIGNEE_NONE",
    "FILTER_NAMES",
    "KINDS",
    "MAX_ROWS",
    "ORDERS",
    "ROW_KEYS",
    "FilterError",
    "Filters",
    "TicketRow",
    "count_tickets",
    "count_with_ids",
    "iter_ticket_rows",
    "legal_scope",
    "parse_value",
    "resolve_names",
    "rows_of_ids",
    "ticket_row",
    "ticket_select",
]

DEFAULT_TZ = "America/Lima"
STREAM_ROWS = 1000
"""Rows fetched at a time when a result is streamed (exports; a page of the list is not)."""
MAX_ROWS = 2**62
"""More rows than any table holds: a ``limit``, ``offset`` or count ``cap`` above it is taken as
it (the same rows, the same count), so the number sent to SQL, plus one, stays a 64-bit integer
(a page or cap beyond it was PostgreSQL's "bigint out of range" and SQLite's OverflowError)."""


ORDERS = {
    "requested_at": (Ticket.requested_at,),
    "attended_at": (Ticket.attended_at,),
    "code": (Ticket.code,),
    "subject": (Ticket.subject,),
    "requester_name": (func.coalesce(Ticket.requester_name, RequesterClient.name),),
    "project": (Project.name,),
    "subdivision": (Subdivision.name,),
    "unit": (Unit.number,),
    "status": (Status.position, Status.name),
    "assignee": (Assignee.name,),
    "priority": (Priority.position, Priority.name),
    "type": (TicketType.name,),
    "category": (Category.name,),
    "area": (Area.name,),
}
"""Sort keys accepted by ``order`` (the export's JSON keys; prefix ``-`` for descending). Empty
values sort last ascending and first descending, on SQLite and PostgreSQL alike; ties are broken by
ticket id. ``elapsed_days`` and ``alert`` are computed per row in Python and cannot be sorted on."""


def _order_by(order: str) -> list:
    """``key`` or ``-key`` (one minus: descending), nothing else: ``+-code`` was ascending and
    ``--code`` descending, while the CLI refused both."""
    key = (order or "").strip()
    desc = key.startswith("-")
    cols = ORDERS.get(key.removeprefix("-"))
    if cols is None:
        allowed = ", ".join(f"{k}, -{k}" for k in ORDERS)
        raise FilterError("order", f"orden no válido {order!r} (use {allowed})")
    out = [c.desc().nulls_first() if desc else c.asc().nulls_last() for c in cols]
    out.append(Ticket.id.desc() if desc else Ticket.id.asc())
    return out


def _base_select(*, for_count: bool = False) -> Select:
    """The list's SELECT with its joins. ``for_count``: the three required catalogs (type, status,
    priority: NOT NULL foreign keys, so the same rows either way) are LEFT joins, which PostgreSQL
    drops when no filter reads them, so a COUNT does not join them to every ticket."""
    required = Select.outerjoin if for_count else Select.join
    stmt = (
        select(
            Ticket.id,
            Ticket.code,
            Ticket.kind,
            Ticket.subject,
            Status.name.label("status"),
            TicketType.name.label("type"),
            Ticket.type_id,
            Category.name.label("category"),
            Priority.name.label("priority"),
            Project.name.label("project"),
            Subdivision.name.label("subdivision"),
            Unit.number.label("unit"),
            Promoter.name.label("promoter"),
            Ticket.requester_name,
            Ticket.requester_email,
            RequesterClient.name.label("requester_client_name"),
            HolderClient.name.label("holder"),
            Assignee.name.label("assignee"),
            Assignee.email.label("assignee_email"),
            Area.name.label("area"),
            Ticket.contract_number,
            Contract.number.label("contract_ref_number"),
            Ticket.requested_at,
            Ticket.attended_at,
        )
        .select_from(Ticket)
    )
    stmt = required(stmt, TicketType, Ticket.type_id == TicketType.id)
    stmt = required(stmt, Status, Ticket.status_id == Status.id)
    stmt = required(stmt, Priority, Ticket.priority_id == Priority.id)
    return (
        stmt.outerjoin(Category, Ticket.category_id == Category.id)
        .outerjoin(Project, Ticket.project_id == Project.id)
        .outerjoin(Subdivision, Ticket.subdivision_id == Subdivision.id)
        .outerjoin(Unit, Ticket.unit_id == Unit.id)
        .outerjoin(Promoter, Ticket.promoter_id == Promoter.id)
        .outerjoin(RequesterClient, Ticket.requester_client_id == RequesterClient.id)
        .outerjoin(HolderClient, Ticket.holder_client_id == HolderClient.id)
        .outerjoin(Assignee, Ticket.assignee_id == Assignee.id)
        .outerjoin(Area, Ticket.area_id == Area.id)
        .outerjoin(Contract, Ticket.contract_id == Contract.id)
    )


def ticket_select(filters: Filters, *, tz: str = DEFAULT_TZ, today: date | None = None,
                  prefix: str = "AT", order: str = "-requested_at",
                  names: Mapping[str, list] | None = None, legal_user_id: int | None = None) -> Select:
    """The SELECT of the ticket rows that match the SQL-side filters, ordered by ``order``.

    Plain columns only (one statement for any number of tickets). ``days_min``, ``days_max`` and
    ``alert`` are NOT applied here (they need the session's catalogs, see `tickets.sla_sql`): use
    :func:`iter_ticket_rows` or :func:`count_tickets`. ``today`` is accepted for symmetry with the
    SLA filters and is not needed by the SQL part.
    ``names``: the result of :func:`resolve_names` (accent-insensitive catalog names); without it
    catalog names are compared folded in SQL (`tickets.text_match.folded`). ``legal_user_id``:
    only the tickets that legal user may see (:func:`legal_scope`); None: every ticket.
    """
    del today  # the SQL part does not depend on "today"
    return _base_select().where(*filter_conditions(filters, tz=tz, prefix=prefix, names=names,
                                             legal_user_id=legal_user_id)) \
        .order_by(*_order_by(order))


def _count_joins() -> tuple:
    """The list's joins as (target, ON clause), for :func:`_count_select` to pick from."""
    return (
        (TicketType, Ticket.type_id == TicketType.id), (Status, Ticket.status_id == Status.id),
        (Priority, Ticket.priority_id == Priority.id), (Category, Ticket.category_id == Category.id),
        (Project, Ticket.project_id == Project.id), (Subdivision, Ticket.subdivision_id == Subdivision.id),
        (Unit, Ticket.unit_id == Unit.id), (Promoter, Ticket.promoter_id == Promoter.id),
        (RequesterClient, Ticket.requester_client_id == RequesterClient.id),
        (HolderClient, Ticket.holder_client_id == HolderClient.id),
        (Assignee, Ticket.assignee_id == Assignee.id), (Area, Ticket.area_id == Area.id),
        (Contract, Ticket.contract_id == Contract.id),
    )


def _count_select(filters: Filters, *, tz: str, prefix: str, names, legal_user_id: int | None,
                  extra: list[ColumnElement[bool]] | tuple = ()) -> Select:
    """``SELECT count(*) FROM tickets`` LEFT JOINed only to the tables the conditions read.

    Every join of the list is a many-to-one LEFT join (or a NOT NULL foreign key), so dropping the
    unused ones gives the same count; without them PostgreSQL may count from an index alone (an
    index-only scan: it does not consider one while the joins are in the query, even though it
    removes them from the plan). ``count(*)`` rather than ``count(tickets.id)`` for the same reason.
    ``extra``: more conditions (the SLA filters'). Should a condition read a table that the scan
    for tables missed, the full list of joins is used instead (checked on the built statement).
    """
    conds = [*filter_conditions(filters, tz=tz, prefix=prefix, names=names, legal_user_id=legal_user_id), *extra]
    used = {t for c in conds for t in find_tables(c, check_columns=True, include_aliases=True)}
    stmt = select(func.count()).select_from(Ticket)
    for target, onclause in _count_joins():
        if inspect(target).selectable in used:
            stmt = stmt.outerjoin(target, onclause)
    stmt = stmt.where(*conds)
    if len(stmt.get_final_froms()) != 1:  # a table read but not joined: use every join
        stmt = _base_select(for_count=True).with_only_columns(func.count(), maintain_column_froms=False) \
            .where(*conds)
    return stmt


def _closed_days(session: Session) -> frozenset[date]:
    return frozenset(session.scalars(select(ClosedDay.day)))


def _sla_conditions(session: Session, filters: Filters, tz: str, today: date) -> list[ColumnElement[bool]]:
    """The SLA filters (days_min, days_max, alert) as SQL conditions (`tickets.sla_sql`)."""
    return sla_conditions(session, days_min=filters.days_min, days_max=filters.days_max,
                          alert=filters.alert, tz=tz, today=today)


def _rows(session: Session, filters: Filters, *, tz: str, today: date | None, prefix: str,
          order: str, sql_limit: int | None = None, sql_offset: int = 0,
          legal_user_id: int | None = None) -> Iterator[TicketRow]:
    zone = zone_named(tz)
    today = today or local_today(tz)
    names = resolve_names(session, filters)
    closed, rules = _closed_days(session), TypeRules.load(session)
    stmt = ticket_select(filters, tz=tz, today=today, prefix=prefix, order=order, names=names,
                         legal_user_id=legal_user_id)
    stmt = stmt.where(*_sla_conditions(session, filters, tz, today))
    if sql_offset:
        stmt = stmt.offset(sql_offset)
    if sql_limit is not None:
        stmt = stmt.limit(sql_limit)
    if sql_limit is None or sql_limit > STREAM_ROWS:
        # stream (a server-side cursor on PostgreSQL); not for a page: PostgreSQL plans a cursor to
        # return its first rows fast (cursor_tuple_fraction), which made a page of 150 matches walk
        # the requested_at index over every ticket (3 s instead of 50 ms)
        result = session.execute(stmt.execution_options(yield_per=STREAM_ROWS))
        try:
            for r in result:
                yield ticket_row_from(r, zone, today, closed, rules)
        finally:
            result.close()
        return
    for r in _page(session, stmt):
        yield ticket_row_from(r, zone, today, closed, rules)


def _page(session: Session, stmt: Select) -> list:
    """The rows of one page of the list (a LIMITed ``stmt``), fetched at once.

    On PostgreSQL, when no condition reads a joined table (the joins only add names to the rows),
    the joins are planned in the order written — tickets first — with ``join_collapse_limit = 1``
    for this statement alone: planning the 14-table join freely took 35–90 ms, more than running
    it (bench/README.md, "List"). When a condition reads a joined table (an assignee's name, a
    unit…), the planner stays free to start from that table.
    """
    where = stmt.whereclause
    if session.get_bind().dialect.name != "postgresql" or where is not None and _reads_joined_tables(where):
        return session.execute(stmt).all()
    previous = session.execute(select(func.current_setting("join_collapse_limit"),
                                      func.set_config("join_collapse_limit", "1", True))).first()[0]
    rows = session.execute(stmt).all()  # on an error the transaction is rolled back, the setting with it
    session.execute(select(func.set_config("join_collapse_limit", previous, True)))
    return rows


def _reads_joined_tables(clause) -> bool:
    """Whether ``clause`` reads a column of one of the list's joined tables (not only tickets)."""
    used = set(find_tables(clause, check_columns=True, include_aliases=True))
    return any(inspect(target).selectable in used for target, _ in _count_joins())


@lru_cache(maxsize=1)
def _by_code_select() -> Select:
    """One ticket by code, with its type's days in the same row (one statement per outbound mail)."""
    return _base_select().add_columns(
        TicketType.max_response_days.label("type_max_days"), TicketType.priority_days.label("type_priority_days"),
        TicketType.day_rule.label("type_day_rule"),
    ).where(Ticket.code == bindparam("code"))


def ticket_row(session: Session, code: str, *, tz: str = DEFAULT_TZ, today: date | None = None) -> TicketRow | None:
    """The ticket whose code is exactly ``code`` as `iter_ticket_rows` lists it, or None.

    The same row as ``iter_ticket_rows(session, Filters(code=code))`` gives for that code, with
    one prebuilt statement (building the listing's SELECT costs more than running it): what
    each outbound mail reads (`mail.outbound.compose.facts`). ``today``: a local date, default
    today in ``tz``.
    """
    r = session.execute(_by_code_select(), {"code": code}).first()
    if r is None:
        return None
    rules = TypeRules({r.type_id: (r.type_max_days, r.type_priority_days, r.type_day_rule)})  # its own type
    return ticket_row_from(r, zone_named(tz), today or local_today(tz), _closed_days(session), rules)


def iter_ticket_rows(session: Session, filters: Filters | None = None, *, tz: str = DEFAULT_TZ,
                     today: date | None = None, prefix: str = "AT", order: str = "-requested_at",
                     limit: int | None = None, offset: int = 0,
                     legal_user_id: int | None = None) -> Iterator[TicketRow]:
    """The matching tickets as :class:`TicketRow`, in ``order``: one SELECT, streamed 1000 rows at a
    time (a server-side cursor on PostgreSQL), or fetched at once for a page (``limit`` ≤ 1000).

    ``today`` (a local date) defaults to today in ``tz``. ``limit``/``offset`` page the result in
    SQL (the SLA filters run in SQL too, `tickets.sla_sql`). The session must stay open
    while the iterator is consumed. ``legal_user_id``: only that legal user's tickets
    (:func:`legal_scope`). Raises :class:`FilterError` for a bad ``order`` or ``tz`` (when the
    iterator is first advanced).
    """
    filters = filters or Filters()
    for field, value in (("limit", limit), ("offset", offset)):  # each error names its own field
        if value is not None and value < 0:
            raise FilterError(field, "la paginación debe ser un número mayor o igual a 0")
    limit, offset = (None if limit is None else min(limit, MAX_ROWS)), min(offset, MAX_ROWS)
    yield from _rows(session, filters, tz=tz, today=today, prefix=prefix, order=order,
                     sql_limit=limit, sql_offset=offset, legal_user_id=legal_user_id)


def count_tickets(session: Session, filters: Filters | None = None, *, tz: str = DEFAULT_TZ,
                  today: date | None = None, prefix: str = "AT", legal_user_id: int | None = None,
                  cap: int | None = None) -> int:
    """How many tickets match: one COUNT in SQL, the SLA filters included (`tickets.sla_sql`;
    ``today``: a local date, default today in ``tz``). ``legal_user_id``: count only that legal
    user's tickets (:func:`legal_scope`). ``cap``: count at most ``cap + 1`` tickets — a result
    above ``cap`` means "more than ``cap``" (the list's header, `web_admin.listing`: counting every
    one of 94,000 matches of a common word costs a visit to each of their rows, ≈ 0.5 s at
    1,000,000 tickets; bench/README.md "List"). None: the exact count.
    Raises :class:`FilterError` for a bad ``tz``."""
    filters = filters or Filters()
    zone_named(tz)  # a bad zone is a FilterError before anything else
    if cap is not None and cap < 0:
        raise FilterError("cap", "el tope del conteo debe ser un número mayor o igual a 0")
    cap = None if cap is None else min(cap, MAX_ROWS)
    stmt = _count_statement(session, filters, tz=tz, today=today or local_today(tz), prefix=prefix,
                            legal_user_id=legal_user_id, cap=cap)
    total = int(session.scalar(stmt) or 0)
    return total if cap is None else min(total, cap + 1)


def _count_statement(session: Session, filters: Filters, *, tz: str, today: date, prefix: str,
                     legal_user_id: int | None, cap: int | None = None) -> Select:
    """The one SELECT of :func:`count_tickets`: the sum of the counts of the SLA filters' disjoint
    branches (`tickets.sla_sql.SlaWhere`: open and attended tickets apart, each from its own index),
    or one count. With ``cap``, each branch counts at most ``cap + 1`` rows (``count(*)`` over a
    ``SELECT 1 … LIMIT cap + 1``; :func:`count_tickets` cuts their sum at ``cap + 1``)."""
    counts = []
    for stmt in _branch_counts(session, filters, tz=tz, today=today, prefix=prefix,
                               legal_user_id=legal_user_id):
        if cap is not None:
            capped = stmt.with_only_columns(literal(1), maintain_column_froms=True).limit(cap + 1).subquery()
            stmt = select(func.count()).select_from(capped)
        counts.append(stmt.scalar_subquery())
    return select(sum(counts[1:], counts[0]))


def _branch_counts(session: Session, filters: Filters, *, tz: str, today: date, prefix: str,
                   legal_user_id: int | None) -> list[Select]:
    """One ``SELECT count(*)`` per disjoint branch of the SLA filters (one when none is set)."""
    names = resolve_names(session, filters)
    sla = sla_where(session, days_min=filters.days_min, days_max=filters.days_max, alert=filters.alert,
                    tz=tz, today=today)
    return [_count_select(filters, tz=tz, prefix=prefix, names=names, legal_user_id=legal_user_id,
                          extra=[*sla.common, *branch])
            for branch in sla.branches or [[]]]


def count_with_ids(session: Session, filters: Filters, *, cap: int, ids_upto: int, tz: str = DEFAULT_TZ,
                   today: date | None = None, prefix: str = "AT",
                   legal_user_id: int | None = None) -> tuple[int, list[int] | None]:
    """``count_tickets(…, cap=cap)`` and, when at most ``ids_upto`` tickets match, their ids (in no
    order), from one scan of the matches: ``count(*)`` and ``array_agg(id)`` over the ids of at most
    ``cap + 1`` matches (``None`` instead of the ids when more than ``ids_upto`` match).

    PostgreSQL only (``array_agg``; raises :class:`ValueError` elsewhere). It is a fast path of the
    list's first page for the trigram text filters (`tickets.list_page`): their matches are rechecked
    row by row anyway, so reading each one's id costs nothing more than counting it, and the page
    then reads those ids (:func:`rows_of_ids`) instead of running the trigram scan a second time
    (bench/README.md, "List"). ``ids_upto`` must not exceed ``cap``."""
    if session.get_bind().dialect.name != "postgresql":
        raise ValueError("count_with_ids needs PostgreSQL (array_agg)")
    if not 0 <= ids_upto <= cap:
        raise ValueError(f"ids_upto ({ids_upto}) must be between 0 and cap ({cap})")
    cap = min(cap, MAX_ROWS)
    ids_upto = min(ids_upto, cap)
    zone_named(tz)
    branches = [stmt.with_only_columns(Ticket.id, maintain_column_froms=True).limit(cap + 1)
                for stmt in _branch_counts(session, filters, tz=tz, today=today or local_today(tz),
                                           prefix=prefix, legal_user_id=legal_user_id)]
    matches = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    n = func.count()
    upto = literal(ids_upto, BigInteger())  # not an INTEGER parameter: ids_upto may pass 2**31
    stmt = select(n, case((n <= upto, func.array_agg(matches.c.id)), else_=null())).select_from(matches)
    total, ids = session.execute(stmt).one()
    return min(int(total), cap + 1), (list(ids or []) if total <= ids_upto else None)


def rows_of_ids(session: Session, ids: Sequence[int], *, tz: str = DEFAULT_TZ, today: date | None = None,
                order: str = "-requested_at", limit: int | None = None, offset: int = 0,
                legal_user_id: int | None = None) -> list[TicketRow]:
    """The tickets whose ids are ``ids`` (at most a page's worth of candidates, e.g. the ids of
    :func:`count_with_ids`) as :class:`TicketRow`, in ``order``, paged by ``limit``/``offset``:
    the same rows :func:`iter_ticket_rows` gives for the filters that found those ids. ``today``:
    a local date, default today in ``tz``. ``legal_user_id``: only that legal user's tickets
    (:func:`legal_scope`), checked again here: the ids were read by an earlier statement, and a
    ticket taken off that user since (reassigned in between) must not be shown to them.
    Raises :class:`FilterError` for a bad ``order`` or ``tz``."""
    zone = zone_named(tz)
    today = today or local_today(tz)
    order_by = _order_by(order)
    if not ids:
        return []
    scope = [] if legal_user_id is None else [legal_scope(legal_user_id)]
    stmt = _base_select().where(Ticket.id.in_(list(ids)), *scope).order_by(*order_by) \
        .offset(min(offset, MAX_ROWS) or None)
    if limit is not None:
        stmt = stmt.limit(min(limit, MAX_ROWS))
    closed, rules = _closed_days(session), TypeRules.load(session)
    return [ticket_row_from(r, zone, today, closed, rules) for r in _page(session, stmt)]
