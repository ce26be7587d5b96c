"""Accent- and case-insensitive substring matching, in SQL, on SQLite and PostgreSQL alike.

A person searching the list types "filtracion" and expects "Filtración" (issue 9: "accent-insensitive").
SQL ``lower()`` does not help: SQLite's folds only ASCII, and PostgreSQL's depends on the
database's locale (a C-locale database leaves "Á" alone). So both sides of a comparison are
*folded* the same way:

* in SQL, :class:`folded` compiles to ``translate(lower(col), FROM, TO)`` on PostgreSQL (an
  IMMUTABLE expression, so the trigram indexes of migration 0005 are built on exactly it) and to
  ``atencion_fold(col)`` on SQLite, a Python function that `tickets.db.make_engine` registers on
  every connection (SQLite has no ``translate``);
* in Python, :func:`fold_for_match` applies the same table to the searched text.

The table (:data:`ACCENTED` → :data:`PLAIN`) covers the Latin letters Spanish, Portuguese, French
and Italian names use, in both cases: enough for Peruvian names and addresses. A letter outside it
is compared as ``lower()`` leaves it (exact case for non-ASCII capitals on SQLite).

Changing the table changes the indexed expression: it needs a migration that rebuilds the
``*_fold_trgm`` indexes (see ``0005_folded_text_indexes``), which holds its own copy of the table;
``tests/test_text_match.py`` checks the two agree.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import Boolean, ColumnElement, Select, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

__all__ = [
    "ACCENTED", "PLAIN", "SQLITE_FUNCTION", "contains_folded", "fold_for_match", "folded", "id_in",
    "register_sqlite_function",
]

ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
"""Letters that fold to a plain ASCII letter (each maps to the letter at the same place in PLAIN)."""
PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"
"""The plain letter of each letter of ACCENTED."""

assert len(ACCENTED) == len(PLAIN)  # noqa: S101 — a typo here would silently break every search

_TABLE = str.maketrans(ACCENTED, PLAIN)

SQLITE_FUNCTION = "atencion_fold"
"""The SQL function :class:`folded` calls on SQLite (a Python function, see
:func:`register_sqlite_function`): SQLite has no ``translate``, and 48 nested ``replace()`` calls
overflow its parser."""


def fold_for_match(text: str) -> str:
    """``text`` lower-cased with its accents removed, as :class:`folded` does in SQL.

    ``fold_for_match("Filtración EN Baño") == "filtracion en bano"``. Pure; spacing is kept. The
    text is composed first (NFC), so an accent typed as a combining mark folds too; stored text is
    composed by the models (`tickets.text.nfc`).
    """
    return unicodedata.normalize("NFC", text).lower().translate(_TABLE)


class folded(FunctionElement):  # noqa: N801 — named like the SQL functions it stands for
    """SQL: the column lower-cased with its accents removed (see the module docstring).

    ``folded(Ticket.subject)`` → PostgreSQL ``translate(lower(tickets.subject), '…', '…')``,
    SQLite ``atencion_fold(tickets.subject)``. NULL stays NULL.
    """

    type = String()
    inherit_cache = True
    name = "folded"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@compiles(folded, "postgresql")
def _folded_postgresql(element, compiler, **kw):
    (column,) = element.clauses
    return f"translate(lower({compiler.process(column, **kw)}), {_quoted(ACCENTED)}, {_quoted(PLAIN)})"


@compiles(folded)
def _folded_default(element, compiler, **kw):
    (column,) = element.clauses
    return f"{SQLITE_FUNCTION}({compiler.process(column, **kw)})"


def register_sqlite_function(dbapi_connection) -> None:
    """Define :data:`SQLITE_FUNCTION` on a sqlite3 connection (`tickets.db.make_engine` does it on
    every connection it opens). Deterministic, so SQLite may use it in indexes and WHERE."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _fold_or_none, deterministic=True)


def _fold_or_none(value):
    return None if value is None else fold_for_match(str(value))


def contains_folded(column, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` ignoring case and accents (``LIKE '%…%'`` with the user's
    ``%``, ``_`` and escape character taken literally). On PostgreSQL the trigram indexes of
    migration 0005 serve it for the list's text columns."""
    return folded(column).contains(fold_for_match(text), autoescape=True)


class id_in(FunctionElement):  # noqa: N801 — an SQL construct, named like one
    """SQL: ``column`` is one of the ids that ``subquery`` (a one-column SELECT) returns.

    ``id_in(Ticket.requester_client_id, select(Client.id).where(…))`` → PostgreSQL
    ``tickets.requester_client_id = ANY(ARRAY(SELECT …))``: the subquery runs once (an InitPlan)
    and the test can use an index on the column, also inside an OR (BitmapOr), which
    ``IN (SELECT …)`` cannot (a hashed SubPlan checked row by row). Elsewhere ``column IN (SELECT …)``.
    """

    type = Boolean()
    inherit_cache = True
    name = "id_in"

    def __init__(self, column, subquery: Select):
        super().__init__(column, subquery.scalar_subquery())


@compiles(id_in, "postgresql")
def _id_in_postgresql(element, compiler, **kw):
    column, subquery = (compiler.process(c, **kw) for c in element.clauses)
    return f"{column} = ANY(ARRAY{subquery})"


@compiles(id_in)
def _id_in_default(element, compiler, **kw):
    column, subquery = (compiler.process(c, **kw) for c in element.clauses)
    return f"{column} IN {subquery}"
