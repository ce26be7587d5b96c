"""Each ticket filter as an SQL condition on the list's query (DESIGN.md, "Filters").

* Every filter except the three SLA ones is a condition here (:func:`filter_conditions`). Dates
  (requested and attended) are local dates in the configured zone, inclusive, turned into UTC
  instants so that the ``requested_at`` index is used. ``open`` tests the status's ``closed`` flag,
  ``kind`` the form. Catalog names (type, category, status, project, subdivision, unit_type,
  promoter, area, priority) are matched ignoring case *and accents* ("atencion" finds "Atención"),
  several values meaning any of them (``status=Registrado&status=Asignado``): :func:`resolve_names`
  folds them in Python into ids, because SQLite's ``lower()`` — and PostgreSQL's in a C-locale
  database — only folds ASCII. ``assignee=none`` means unassigned. Free-text filters (requester,
  holder, assignee, contract, comment, q) are substring matches (requester, holder and q: of each of
  their words, :func:`text_words`) ignoring case and accents
  ("filtracion" finds "Filtración"; ``LIKE`` with the user's ``%``/``_`` escaped) over a folded
  expression of the column (`tickets.text_match`), which the trigram indexes of migration 0005
  serve on PostgreSQL. The free text (``q``) and the client comments read stored folded columns of
  ``tickets`` instead (`tickets.search_text`: ``tickets.search_text``, migration 0009;
  ``tickets.client_comments_fold``, migration 0013), a plain ``LIKE`` per row instead of folding
  each candidate row in SQL. Whether a comment is a client's is decided when it is written (no
  staff author then), not by today's staff addresses: a comment stays a client's after its address
  becomes a staff user's.
* ``days_min``, ``days_max`` and ``alert`` depend on the ticket type's day rule (calendar or
  business days, PE holidays, admin-defined closed days) and on "today" in the configured zone:
  `tickets.sla_sql` computes them in the database, exactly as `tickets.sla` does in Python, and
  `tickets.queries` adds them (they need the session to read the catalogs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from tickets.codes import find_codes
from tickets.filter_values import NAME_FILTERS, FilterError, means_unassigned
from tickets.filters import Filters, name_column
from tickets.models import (
    Area,
    Category,
    Client,
    ClientEmail,
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
from tickets.text import fold
from tickets.text_match import contains_folded, fold_for_match, folded, id_in

__all__ = ["MAX_WORDS", "MIN_TERM", "Assignee", "HolderClient", "RequesterClient", "filter_conditions", "legal_scope",
           "resolve_names", "text_words", "zone_named"]

RequesterClient = aliased(Client, name="requester_client")
HolderClient = aliased(Client, name="holder_client")
Assignee = aliased(User, name="assignee_user")


def zone_named(tz: str) -> ZoneInfo:
    """The zone named ``tz`` (IANA). Raises :class:`FilterError` (field ``tz``) for an unknown name."""
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


MAX_WORDS = 8
"""At most this many words of a text filter are matched each on its own (:func:`text_words`)."""


MIN_TERM = 3
"""A word shorter than this (de, la, y) is matched with the word after it (:func:`text_words`)."""


def text_words(text: str) -> list[str]:
    """The words of a Solicitante, Titular or free text (``q``), each matched on its own, in any
    order: "luis fernandez" finds "Luis Alberto Fernández Paredes" (staff type a client's first
    name and first surname), "puerta cochera" a subject "Puerta levadiza de la cochera". One word:
    the plain substring match. A word shorter than :data:`MIN_TERM` letters stays with the word
    after it (the last with the one before): "maria de la cruz" is "maria" and "de la cruz", as in
    the name, because a trigram index cannot look up a one- or two-letter word — alone it would read
    every ticket (6 s at 1,000,000 tickets, bench/README.md "List"). Past :data:`MAX_WORDS` terms,
    the rest is one phrase (a pasted paragraph costs a few conditions, not one per word).
    Repeated terms count once; a text of spaces only is itself."""
    terms: list[str] = []
    short: list[str] = []
    for word in text.split():
        short.append(word)
        if len(word) >= MIN_TERM:
            terms.append(" ".join(short))
            short = []
    if short:
        if terms:
            terms[-1] = " ".join([terms[-1], *short])
        else:
            terms.append(" ".join(short))
    if not terms:
        return [text]
    if len(terms) > MAX_WORDS:
        terms = terms[:MAX_WORDS - 1] + [" ".join(terms[MAX_WORDS - 1:])]
    return list(dict.fromkeys(terms))


def _all_words(column, words: list[str]) -> ColumnElement[bool]:
    """``column`` contains each of ``words`` (:func:`text_words`), ignoring case and accents. The
    conditions are on one column, so PostgreSQL looks them up in one scan of its trigram index
    (all the words' trigrams at once) rather than one scan per word."""
    return and_(*(_contains(column, word) for word in words))


def _requester_client_named(words: list[str]) -> ColumnElement[bool]:
    """The matched client's name contains each of ``words`` (:func:`text_words`), in one look-up
    however common each word is alone: a test against the ids of the (small) clients table rather
    than on the joined row, so every part of the free-text OR is on ``tickets``. On PostgreSQL it
    is ``= ANY(ARRAY(SELECT …))`` (`tickets.text_match.id_in`), computed once and served by
    ``ix_tickets_requester_client_id``, so the OR's indexes combine (a BitmapOr); a plain ``IN
    (SELECT …)`` there is a hashed SubPlan that forces a scan of every ticket."""
    return id_in(Ticket.requester_client_id, select(Client.id).where(_all_words(Client.name, words)))


def _code_condition(text: str, prefix: str) -> ColumnElement[bool]:
    """``at-12`` / ``[AT-000012]`` match those codes exactly; any text also matches as a substring."""
    conds = [_contains(Ticket.code, text)]
    codes = sorted(set(find_codes(text, prefix)))
    if codes:
        conds.append(Ticket.code.in_(codes))
    return or_(*conds)


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
        key_col, name_col = _name_key_column(name), name_column(name)
        stmt = select(key_col, name_col).distinct() if name == "unit_type" else select(key_col, name_col)
        out[name] = sorted({k for k, n in session.execute(stmt) if n is not None and fold(n) in keys})
    return out


def legal_scope(user_id: int) -> ColumnElement[bool]:
    """The tickets a legal user may see (DESIGN.md, "Web panel"): the reclamo/queja tickets where
    they are the legal adviser or the assignee."""
    return and_(Ticket.kind == TicketKind.RECLAMO.value,
                or_(Ticket.legal_adviser_id == user_id, Ticket.assignee_id == user_id))


def filter_conditions(filters: Filters, *, tz: str, prefix: str, names: Mapping[str, list] | None,
                      legal_user_id: int | None = None) -> list[ColumnElement[bool]]:
    """The SQL conditions of every set filter but the SLA ones, on ``tickets`` and the list's joined
    tables. ``tz``: the zone local dates are in; ``prefix``: the ticket code prefix (``AT``);
    ``names``: :func:`resolve_names`' result, or None to compare catalog names folded in SQL;
    ``legal_user_id``: only that legal user's tickets (:func:`legal_scope`)."""
    zone = zone_named(tz)
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
            conds.append(folded(name_column(name)).in_([fold_for_match(one) for one in wanted]))
    if f.unit is not None:
        conds.append(folded(Unit.number).in_([fold_for_match(one) for one in f.unit]))
    if f.requester is not None:
        # every word in the ticket's requester name, or every word in its address, or every word in
        # the matched client's name: one trigram scan per column whatever the number of words, and
        # few client ids even when each word alone is common ("maria", "quispe")
        words = text_words(f.requester)
        conds.append(or_(_all_words(Ticket.requester_name, words), _all_words(Ticket.requester_email, words),
                         _requester_client_named(words)))
    if f.holder is not None:
        # every word in the holder's name, or every word in one of their addresses
        words = text_words(f.holder)
        holder_email = exists().where(ClientEmail.client_id == Ticket.holder_client_id,
                                      _all_words(ClientEmail.email, words))
        conds.append(and_(Ticket.holder_client_id.is_not(None),
                          or_(_all_words(HolderClient.name, words), holder_email)))
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
        # each word on its own, as Solicitante ("puerta cochera" finds "Puerta levadiza de la cochera")
        codes = sorted(set(find_codes(f.q, prefix)))
        words = text_words(f.q)
        conds.append(or_(and_(*(_contains_stored(Ticket.search_text, word) for word in words)),
                         *([Ticket.code.in_(codes)] if codes else []),
                         _requester_client_named(words)))
    return conds
