"""Ticket filters and the one query behind the list, the export and the CLI (DESIGN.md, "Filters").

One definition of the filters: each has one name, used as the URL query parameter, the CLI option
(``--days-min`` for ``days_min``) and the field of :class:`Filters`. :meth:`Filters.from_mapping`
validates user input (a URL's query string, CLI options) and raises :class:`FilterError` with a
Spanish message naming the field; :meth:`Filters.to_query` gives the mapping back for a shareable URL.
:func:`parse_value` checks one value alone (the CLI checks each option as it parses it), and
:meth:`Filters.validate` checks the catalog names against the database: an unknown status is an
error that lists the valid ones, never an empty result (the list, the export and the CLI call it).

Where each filter runs:

* In SQL (:func:`ticket_select`): every filter except the three SLA ones. Dates (requested and
  attended) are local dates in the configured zone, inclusive, turned into UTC instants so that the
  ``requested_at`` index is used. ``open`` tests the status's ``closed`` flag, ``kind`` the form.
  Catalog names (type, category, status, project, subdivision, unit_type, promoter, area, priority)
  are matched ignoring case *and accents* ("atencion" finds "Atención"), several values meaning
  any of them (``status=Registrado&status=Asignado``): :func:`resolve_names` folds them in Python
  into ids, because SQLite's ``lower()`` — and PostgreSQL's in a C-locale database —
  only folds ASCII. ``assignee=none`` means unassigned. Free-text filters (requester, holder,
  assignee, contract, comment, q) are substring matches ignoring case and accents ("filtracion"
  finds "Filtración"; ``LIKE`` with the user's ``%``/``_`` escaped) over a folded expression of the
  column (`tickets.text_match`), which the trigram indexes of migration 0005 serve on PostgreSQL.
  The free text (``q``) and the client comments read stored folded columns of ``tickets`` instead
  (`tickets.search_text`: ``tickets.search_text``, migration 0009; ``tickets.client_comments_fold``,
  migration 0013), a plain ``LIKE`` per row instead of folding each candidate row in SQL. Whether a
  comment is a client's is decided when it is written (no staff author then), not by today's staff
  addresses: a comment stays a client's after its address becomes a staff user's.
* Also in SQL, added by :func:`iter_ticket_rows` and :func:`count_tickets` (they need the session
  to read the catalogs): ``days_min``, ``days_max`` and ``alert``, which depend on the ticket type's
  day rule (calendar or business days, PE holidays, admin-defined closed days) and on "today" in
  the configured zone — `tickets.sla_sql` computes Días transcurridos and the alert state in the
  database, exactly as `tickets.sla` does in Python. Python still computes each *listed* row's
  elapsed days and alert text (:func:`tickets.sla.compute_alert`). The rows are streamed
  (``yield_per=1000``; a server-side cursor on PostgreSQL), so memory stays flat whatever the
  number of tickets.

The query is one SELECT with joins (aliased clients and users) that returns plain columns, never
ORM objects, so listing or exporting N tickets costs one statement, not N.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, func, inspect, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import find_tables

from tickets.codes import find_codes
from tickets.filter_values import (
    ALERT_STATES,
    ASSIGNEE_NONE,
    KINDS,
    MULTI_FILTERS,
    NAME_FILTERS,
    NAME_NOUNS,
    SLA_FILTERS,
    FilterError,
    means_unassigned,
    parse_value,
)
from tickets.models import (
    Area,
    Category,
    Client,
    ClientEmail,
    ClosedDay,
    Contract,
    Priority,
    Project,
    Promoter,
    Status,
    Subdivision,
    Ticket,
    TicketKind,
    TicketType,
    Unit,
    User,
)
from tickets.search_text import SEPARATOR
from tickets.sla import (
    AlertState,
    compute_alert,
    local_today,
    max_response_days,
)
from tickets.sla_sql import day_rule, sla_conditions, sla_where
from tickets.text import fold, unknown_value
from tickets.text_match import contains_folded, fold_for_match, folded, id_in

__all__ = [
    "ALERT_STATES",
    "ASSIGNEE_NONE",
    "FILTER_NAMES",
    "KINDS",
    "ORDERS",
    "ROW_KEYS",
    "FilterError",
    "Filters",
    "TicketRow",
    "count_tickets",
    "iter_ticket_rows",
    "legal_scope",
    "parse_value",
    "resolve_names",
    "ticket_row",
    "ticket_select",
]

DEFAULT_TZ = "America/Lima"
STREAM_ROWS = 1000
"""Rows fetched at a time when a result is streamed (exports; a page of the list is not)."""

# --------------------------------------------------------------------------- Filters


@dataclass
class Filters:
    """Every filter of DESIGN.md "Filters"; ``None`` means "not filtered". No filter → every ticket.

    Values may be given as strings (they are parsed and validated on construction, raising
    :class:`FilterError`) or already typed (dates, ints, :class:`AlertState`). Catalog filters
    (`tickets.filter_values.MULTI_FILTERS`) hold a tuple of names and match any of them; one
    string is taken as one name: ``Filters(status="Registrado").status == ("Registrado",)``.
    """

    requested_from: date | None = None
    """Fecha de solicitud from (local date, inclusive)."""
    requested_to: date | None = None
    """Fecha de solicitud to (local date, inclusive)."""
    code: str | None = None
    """Código: tolerant (``at-12`` finds AT-000012) or any substring of the code."""
    type: tuple[str, ...] | None = None
    """Tipo de atención: names, any of them (so for every catalog filter below)."""
    category: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    project: tuple[str, ...] | None = None
    subdivision: tuple[str, ...] | None = None
    """Torre/Bloque names."""
    unit: tuple[str, ...] | None = None
    """Dpto./Unidad numbers (case-insensitive, exact)."""
    unit_type: tuple[str, ...] | None = None
    promoter: tuple[str, ...] | None = None
    requester: str | None = None
    """Solicitante: substring of the name or email (or of the matched client's name)."""
    holder: str | None = None
    """Titular: substring of the holder client's name or one of their emails."""
    assignee: str | None = None
    """Usuario asignado: substring of the user's name or email."""
    area: tuple[str, ...] | None = None
    contract: str | None = None
    """N° de contrato: substring of the contract number."""
    comment: str | None = None
    """Text found in the client's comments: comment entries written by no staff user — no author
    user, and an author address that was no staff user's *when it was written* (stored on the
    ticket, ``tickets.client_comments_fold``; a later staff user with that address changes nothing;
    a comment without an address is staff's)."""
    days_min: int | None = None
    """Días transcurridos ≥ this (in the type's day rule)."""
    days_max: int | None = None
    """Días transcurridos ≤ this."""
    priority: tuple[str, ...] | None = None
    alert: AlertState | None = None
    """overdue | on_time | attended_on_time | attended_late."""
    attended_from: date | None = None
    """Fecha de atención from (local date, inclusive); tickets never attended do not match."""
    attended_to: date | None = None
    """Fecha de atención to (local date, inclusive)."""
    open: bool | None = None
    """True (``1``): not in a closed status; False (``0``): in a closed status."""
    kind: str | None = None
    """Which form applies: atencion, reclamo, solicitud (Spanish words and labels accepted)."""
    q: str | None = None
    """Free text over code, subject, detail and requester name/email."""

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, parse_value(f.name, getattr(self, f.name)))
        for start, end in (("requested_from", "requested_to"), ("attended_from", "attended_to")):
            first, last = getattr(self, start), getattr(self, end)
            if first and last and first > last:
                raise FilterError(
                    end, f"la fecha final {last.isoformat()} es anterior a la inicial {first.isoformat()}")
        if self.days_min is not None and self.days_max is not None and self.days_min > self.days_max:
            raise FilterError(
                "days_max", f"el máximo ({self.days_max}) es menor que el mínimo ({self.days_min})"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, strict: bool = False) -> Filters:
        """Filters from a query string / CLI options mapping (``{"status": "Atendido", …}``).

        Empty values mean "not filtered"; keys that are not filters (``page``, ``order``…) are
        ignored, or refused with ``strict=True``. CLI-style names (``days-min``) are accepted. A
        catalog filter's value may be a list; from a multi-valued mapping (werkzeug's
        ``request.args``) every value of its key is taken (``status=A&status=B``).
        Raises :class:`FilterError` naming the first bad field.
        """
        known = {}
        getlist = getattr(data, "getlist", None)
        for key in data:
            name = str(key).replace("-", "_")
            if name in FILTER_NAMES:
                known[name] = getlist(key) if getlist and name in MULTI_FILTERS else data[key]
            elif strict:
                raise FilterError(str(key), "filtro desconocido")
        return cls(**known)

    def to_query(self) -> dict[str, str | list[str]]:
        """The set filters as strings (a list of names for a catalog filter), in declaration order,
        for a URL (``url_for``/``urlencode(doseq=True)`` repeat the key) or :meth:`from_mapping`."""
        out: dict[str, str | list[str]] = {}
        for name in FILTER_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[name] = list(value)
            elif isinstance(value, bool):
                out[name] = "1" if value else "0"
            else:
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def validate(self, session: Session) -> None:
        """Check the catalog names against the database: each catalog filter (status, type, …) must
        name a row, ignoring case and accents (``unit``: a unit's number), and ``assignee`` (unless
        ``none``) must be found in some staff user's name or email. Reads only the catalog tables.

        Raises :class:`FilterError` naming the first unknown one (in :data:`FILTER_NAMES` order) and
        listing the valid values: ``status: estado desconocido 'Cerradoo' (válidos: Anulado, …)``.
        """
        for name in FILTER_NAMES:
            wanted = getattr(self, name)
            if wanted is None:
                continue
            if name in NAME_FILTERS:
                column = _name_column(name)
                valid = sorted({n for n in session.scalars(select(column).distinct()) if n is not None},
                               key=fold)
                keys = {fold(n) for n in valid}
                for one in wanted:
                    if fold(one) not in keys:
                        noun, feminine = NAME_NOUNS[name]
                        raise FilterError(name, unknown_value(noun, one, valid, feminine=feminine))
            elif name == "unit":
                valid = sorted({n for n in session.scalars(select(Unit.number).distinct()) if n},
                               key=lambda n: (len(n), fold(n)))
                keys = {fold_for_match(n) for n in valid}
                for one in wanted:
                    if fold_for_match(one) not in keys:
                        raise FilterError(name, unknown_value("unidad", one, valid, feminine=True))
            elif name == "assignee" and not means_unassigned(wanted):
                key = fold(wanted)
                users = session.execute(select(User.name, User.email).order_by(User.email)).all()
                if not any(key in fold(u.name or "") or key in fold(u.email) for u in users):
                    raise FilterError(name, unknown_value(
                        "usuario", wanted, [ASSIGNEE_NONE, *(u.email for u in users)]))

    @property
    def needs_python(self) -> bool:
        """True when an SLA filter (days_min, days_max, alert) is set: they need the session's
        catalogs and "today" (`tickets.sla_sql` applies them in SQL)."""
        return any(getattr(self, n) is not None for n in SLA_FILTERS)

    def matches_sla(self, elapsed_days: int, alert_state: str) -> bool:
        """The SLA part of the filter, for one row's computed elapsed days and alert state."""
        if self.days_min is not None and elapsed_days < self.days_min:
            return False
        if self.days_max is not None and elapsed_days > self.days_max:
            return False
        return self.alert is None or alert_state == self.alert


FILTER_NAMES = tuple(f.name for f in fields(Filters))
"""The filter names, in DESIGN.md order."""


# --------------------------------------------------------------------------- rows


ROW_KEYS = (
    "code", "kind", "subject", "status", "type", "category", "priority", "project", "subdivision",
    "unit", "promoter", "requester_name", "requester_email", "holder", "assignee",
    "assignee_email", "area", "contract_number", "requested_at", "attended_at", "elapsed_days",
    "alert", "alert_state",
)
"""The export's JSON keys (DESIGN.md, "The atencion command": ``export``), in column order."""


@dataclass(slots=True)
class TicketRow:
    """One ticket as listed and exported. Datetimes are aware, in the configured zone."""

    code: str
    kind: str
    subject: str
    status: str
    type: str
    category: str | None
    priority: str
    project: str | None
    subdivision: str | None
    unit: str | None
    promoter: str | None
    requester_name: str | None
    requester_email: str | None
    holder: str | None
    assignee: str | None
    assignee_email: str | None
    area: str | None
    contract_number: str | None
    requested_at: datetime
    attended_at: datetime | None
    elapsed_days: int
    alert: str
    alert_state: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict with the ROW_KEYS (datetimes kept as objects)."""
        return {k: getattr(self, k) for k in ROW_KEYS}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: datetimes as ISO 8601 with the zone's offset."""
        d = self.as_dict()
        for k in ("requested_at", "attended_at"):
            if d[k] is not None:
                d[k] = d[k].isoformat()
        return d


# --------------------------------------------------------------------------- SQL


_ReqClient = aliased(Client, name="requester_client")
_HolderClient = aliased(Client, name="holder_client")
_Assignee = aliased(User, name="assignee_user")

ORDERS = {
    "requested_at": (Ticket.requested_at,),
    "attended_at": (Ticket.attended_at,),
    "code": (Ticket.code,),
    "subject": (Ticket.subject,),
    "requester_name": (func.coalesce(Ticket.requester_name, _ReqClient.name),),
    "project": (Project.name,),
    "subdivision": (Subdivision.name,),
    "unit": (Unit.number,),
    "status": (Status.position, Status.name),
    "assignee": (_Assignee.name,),
    "priority": (Priority.position, Priority.name),
    "type": (TicketType.name,),
    "category": (Category.name,),
    "area": (Area.name,),
}
"""Sort keys accepted by ``order`` (the export's JSON keys; prefix ``-`` for descending). Empty
values sort last ascending and first descending, on SQLite and PostgreSQL alike; ties are broken by
ticket id. ``elapsed_days`` and ``alert`` are computed per row in Python and cannot be sorted on."""


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise FilterError("tz", f"zona horaria desconocida {tz!r}") from None


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _contains(column, text: str) -> ColumnElement[bool]:
    """Substring ignoring case and accents (`tickets.text_match`), wildcards in ``text`` escaped."""
    return contains_folded(column, text)


def _contains_stored(column, text: str) -> ColumnElement[bool]:
    """``column``, a stored folded column (`tickets.search_text`), contains ``text`` folded: a plain
    ``LIKE '%…%'`` (wildcards escaped), no folding in SQL. A text holding the separator of
    ``tickets.search_text`` matches nothing (it would span two parts)."""
    needle = fold_for_match(text)
    if SEPARATOR in needle:
        return false()
    return column.contains(needle, autoescape=True)


def _requester_client_named(text: str) -> ColumnElement[bool]:
    """The matched client's name contains ``text``: a test against the ids of the (small) clients
    table rather than on the joined row, so every part of the free-text OR is on ``tickets``. On
    PostgreSQL it is ``= ANY(ARRAY(SELECT …))`` (`tickets.text_match.id_in`), computed once and
    served by ``ix_tickets_requester_client_id``, so the OR's indexes combine (a BitmapOr); a plain
    ``IN (SELECT …)`` there is a hashed SubPlan that forces a scan of every ticket."""
    return id_in(Ticket.requester_client_id, select(Client.id).where(_contains(Client.name, text)))


def _code_condition(text: str, prefix: str) -> ColumnElement[bool]:
    """``at-12`` / ``[AT-000012]`` match those codes exactly; any text also matches as a substring."""
    conds = [_contains(Ticket.code, text)]
    codes = sorted(set(find_codes(text, prefix)))
    if codes:
        conds.append(Ticket.code.in_(codes))
    return or_(*conds)


def _name_column(name: str):
    return {
        "type": TicketType.name, "category": Category.name, "status": Status.name,
        "project": Project.name, "subdivision": Subdivision.name, "unit_type": Unit.unit_type,
        "promoter": Promoter.name, "area": Area.name, "priority": Priority.name,
    }[name]


def _name_key_column(name: str):
    """What :func:`resolve_names` returns for a filter: ids, or the stored values for unit_type."""
    if name == "unit_type":
        return Unit.unit_type
    return {
        "type": TicketType.id, "category": Category.id, "status": Status.id,
        "project": Project.id, "subdivision": Subdivision.id, "promoter": Promoter.id,
        "area": Area.id, "priority": Priority.id,
    }[name]


def _ticket_key_column(name: str):
    return {
        "type": Ticket.type_id, "category": Ticket.category_id, "status": Ticket.status_id,
        "project": Ticket.project_id, "subdivision": Ticket.subdivision_id,
        "promoter": Ticket.promoter_id, "area": Ticket.area_id, "priority": Ticket.priority_id,
        "unit_type": Unit.unit_type,
    }[name]


def resolve_names(session: Session, filters: Filters) -> dict[str, list]:
    """Catalog-name filters resolved, ignoring case and accents, to ids (unit_type: stored values).

    Reads only the (small) catalog tables, one SELECT per name filter that is set. An empty list
    means no catalog row has that name, so no ticket matches.
    """
    out: dict[str, list] = {}
    for name in NAME_FILTERS:
        wanted = getattr(filters, name)
        if wanted is None:
            continue
        keys = {fold(one) for one in wanted}
        key_col, name_col = _name_key_column(name), _name_column(name)
        stmt = select(key_col, name_col).distinct() if name == "unit_type" else select(key_col, name_col)
        out[name] = sorted({k for k, n in session.execute(stmt) if n is not None and fold(n) in keys})
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
            TicketType.max_response_days.label("type_max_days"),
            TicketType.priority_days.label("type_priority_days"),
            TicketType.day_rule.label("type_day_rule"),
            Category.name.label("category"),
            Priority.name.label("priority"),
            Project.name.label("project"),
            Subdivision.name.label("subdivision"),
            Unit.number.label("unit"),
            Promoter.name.label("promoter"),
            Ticket.requester_name,
            Ticket.requester_email,
            _ReqClient.name.label("requester_client_name"),
            _HolderClient.name.label("holder"),
            _Assignee.name.label("assignee"),
            _Assignee.email.label("assignee_email"),
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
        .outerjoin(_ReqClient, Ticket.requester_client_id == _ReqClient.id)
        .outerjoin(_HolderClient, Ticket.holder_client_id == _HolderClient.id)
        .outerjoin(_Assignee, Ticket.assignee_id == _Assignee.id)
        .outerjoin(Area, Ticket.area_id == Area.id)
        .outerjoin(Contract, Ticket.contract_id == Contract.id)
    )


def legal_scope(user_id: int) -> ColumnElement[bool]:
    """The tickets a legal user may see (DESIGN.md, "Web panel"): the reclamo/queja tickets where
    they are the legal adviser or the assignee."""
    return and_(Ticket.kind == TicketKind.RECLAMO.value,
                or_(Ticket.legal_adviser_id == user_id, Ticket.assignee_id == user_id))


def _conditions(filters: Filters, *, tz: str, prefix: str, names: Mapping[str, list] | None,
                legal_user_id: int | None = None) -> list[ColumnElement[bool]]:
    zone = _zone(tz)
    conds: list[ColumnElement[bool]] = []
    if legal_user_id is not None:
        conds.append(legal_scope(legal_user_id))
    f = filters
    if f.requested_from is not None:
        conds.append(Ticket.requested_at >= _local_midnight_utc(f.requested_from, zone))
    if f.requested_to is not None:
        conds.append(Ticket.requested_at < _local_midnight_utc(f.requested_to + timedelta(days=1), zone))
    if f.attended_from is not None:
        conds.append(Ticket.attended_at >= _local_midnight_utc(f.attended_from, zone))
    if f.attended_to is not None:
        conds.append(Ticket.attended_at < _local_midnight_utc(f.attended_to + timedelta(days=1), zone))
    if f.open is not None:
        conds.append(Status.closed.is_(not f.open))
    if f.kind is not None:
        conds.append(Ticket.kind == f.kind)
    if f.code is not None:
        conds.append(_code_condition(f.code, prefix))
    for name in NAME_FILTERS:
        wanted = getattr(f, name)
        if wanted is None:
            continue
        if names is not None and name in names:
            keys = names[name]
            conds.append(_ticket_key_column(name).in_(keys) if keys else false())
        else:  # no session to resolve names with: compare folded names in SQL
            conds.append(folded(_name_column(name)).in_([fold_for_match(one) for one in wanted]))
    if f.unit is not None:
        conds.append(folded(Unit.number).in_([fold_for_match(one) for one in f.unit]))
    if f.requester is not None:
        conds.append(or_(_contains(Ticket.requester_name, f.requester),
                         _contains(Ticket.requester_email, f.requester),
                         _requester_client_named(f.requester)))
    if f.holder is not None:
        holder_email = exists().where(ClientEmail.client_id == Ticket.holder_client_id,
                                      _contains(ClientEmail.email, f.holder))
        conds.append(and_(Ticket.holder_client_id.is_not(None),
                          or_(_contains(_HolderClient.name, f.holder), holder_email)))
    if f.assignee is not None and means_unassigned(f.assignee):
        conds.append(Ticket.assignee_id.is_(None))
    elif f.assignee is not None:
        # the users' ids, not the joined row: the ix_tickets_assignee_id index serves it, and the
        # count and the page need not join users (see _requester_client_named)
        conds.append(id_in(Ticket.assignee_id, select(User.id).where(
            or_(_contains(User.name, f.assignee), _contains(User.email, f.assignee)))))
    if f.contract is not None:
        conds.append(or_(_contains(Ticket.contract_number, f.contract),
                         _contains(Contract.number, f.contract)))
    if f.comment is not None:
        # the ticket's client comments, folded and stored on it (ix_tickets_client_comments_fold_trgm)
        conds.append(_contains_stored(Ticket.client_comments_fold, f.comment))
    if f.q is not None:
        # code, subject, detail, requester name and email: one stored folded column (search_text)
        codes = sorted(set(find_codes(f.q, prefix)))
        conds.append(or_(_contains_stored(Ticket.search_text, f.q),
                         *([Ticket.code.in_(codes)] if codes else []),
                         _requester_client_named(f.q)))
    return conds


def _order_by(order: str) -> list:
    key = (order or "").strip()
    desc = key.startswith("-")
    cols = ORDERS.get(key.lstrip("-+"))
    if cols is None:
        allowed = ", ".join(f"{k}, -{k}" for k in ORDERS)
        raise FilterError("order", f"orden no válido {order!r} (use {allowed})")
    out = [c.desc().nulls_first() if desc else c.asc().nulls_last() for c in cols]
    out.append(Ticket.id.desc() if desc else Ticket.id.asc())
    return out


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
    return _base_select().where(*_conditions(filters, tz=tz, prefix=prefix, names=names,
                                             legal_user_id=legal_user_id)) \
        .order_by(*_order_by(order))


def _count_joins() -> tuple:
    """The list's joins as (target, ON clause), for :func:`_count_select` to pick from."""
    return (
        (TicketType, Ticket.type_id == TicketType.id), (Status, Ticket.status_id == Status.id),
        (Priority, Ticket.priority_id == Priority.id), (Category, Ticket.category_id == Category.id),
        (Project, Ticket.project_id == Project.id), (Subdivision, Ticket.subdivision_id == Subdivision.id),
        (Unit, Ticket.unit_id == Unit.id), (Promoter, Ticket.promoter_id == Promoter.id),
        (_ReqClient, Ticket.requester_client_id == _ReqClient.id),
        (_HolderClient, Ticket.holder_client_id == _HolderClient.id),
        (_Assignee, Ticket.assignee_id == _Assignee.id), (Area, Ticket.area_id == Area.id),
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
    conds = [*_conditions(filters, tz=tz, prefix=prefix, names=names, legal_user_id=legal_user_id), *extra]
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
    zone = _zone(tz)
    today = today or local_today(tz)
    names = resolve_names(session, filters)
    closed = _closed_days(session)
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
                yield _ticket_row(r, zone, today, closed)
        finally:
            result.close()
        return
    for r in _page(session, stmt):
        yield _ticket_row(r, zone, today, closed)


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


def _ticket_row(r, zone: ZoneInfo, today: date, closed: frozenset[date]) -> TicketRow:
    """One row of `_base_select` as a TicketRow (local dates, SLA alert as of ``today``)."""
    requested = r.requested_at.astimezone(zone)
    attended = r.attended_at.astimezone(zone) if r.attended_at is not None else None
    max_days = max_response_days(r.type_max_days, r.type_priority_days, r.priority)
    alert = compute_alert(requested.date(), attended.date() if attended else None, today,
                          max_days, day_rule(r.type_day_rule), closed_days=closed)
    return TicketRow(
        code=r.code, kind=r.kind, subject=r.subject, status=r.status, type=r.type,
        category=r.category, priority=r.priority, project=r.project,
        subdivision=r.subdivision, unit=r.unit, promoter=r.promoter,
        requester_name=r.requester_name or r.requester_client_name or None,
        requester_email=r.requester_email, holder=r.holder, assignee=r.assignee,
        assignee_email=r.assignee_email, area=r.area,
        contract_number=r.contract_number or r.contract_ref_number,
        requested_at=requested, attended_at=attended, elapsed_days=alert.elapsed_days,
        alert=alert.text, alert_state=alert.state.value,
    )


@lru_cache(maxsize=1)
def _by_code_select() -> Select:
    return _base_select().where(Ticket.code == bindparam("code"))


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
    return _ticket_row(r, _zone(tz), today or local_today(tz), _closed_days(session))


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
    if limit is not None and limit < 0 or offset < 0:
        raise FilterError("limit", "la paginación debe ser un número mayor o igual a 0")
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
    _zone(tz)  # a bad zone is a FilterError before anything else
    if cap is not None and cap < 0:
        raise FilterError("cap", "el tope del conteo debe ser un número mayor o igual a 0")
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
    names = resolve_names(session, filters)
    sla = sla_where(session, days_min=filters.days_min, days_max=filters.days_max, alert=filters.alert,
                    tz=tz, today=today)
    counts = []
    for branch in sla.branches or [[]]:
        stmt = _count_select(filters, tz=tz, prefix=prefix, names=names, legal_user_id=legal_user_id,
                             extra=[*sla.common, *branch])
        if cap is not None:
            capped = stmt.with_only_columns(literal(1), maintain_column_froms=True).limit(cap + 1).subquery()
            stmt = select(func.count()).select_from(capped)
        counts.append(stmt.scalar_subquery())
    return select(sum(counts[1:], counts[0]))
