"""The folded text the list searches, stored next to what it folds (issue 9: the list at 1,000,000).

Folding in every query (`tickets.text_match.folded`: ``translate(lower(col), …)``) costs ≈ 15 µs
per candidate row on PostgreSQL, which the free text ("humedad": 94,000 tickets) and the client
comments (49,000 entries) pay on every row a trigram index proposes. So the folded text is stored:

* ``tickets.search_text`` — ``code␟subject␟detail␟requester_name␟requester_email``, each part
  folded with :func:`tickets.text_match.fold_for_match` (``␟`` is U+001F, the unit separator:
  a search never matches across two parts, see :func:`ticket_search_text`);
* ``logbook_entries.text_fold`` — the folded ``text`` of a ``comment`` entry; NULL for other kinds.

The list's free text and comment filters (`tickets.queries`) compare these columns with a plain
``LIKE`` (trigram GIN indexes on them on PostgreSQL, migration 0009). Python folds both sides, so
the column and the searched text always agree.

Every write keeps them right without the callers doing anything:

* Core INSERTs (``open_ticket_row``, ``add_entry``, which write with ``insert(Ticket)`` /
  ``insert(LogbookEntry)``) and ORM inserts get them from the columns' context-sensitive
  defaults (:func:`ticket_default`, :func:`entry_default`), computed from the inserted values;
* ORM changes (tickets.edits, the panel, the CLI, copies) are caught by :func:`install_search_text`'s
  ``before_insert``/``before_update`` mapper events, which recompute from the object's attributes.

A Core ``UPDATE`` of a searched column would bypass both: there is none (the only Core UPDATE of
``tickets`` touches ``updated_at``); ``tests/test_text_match.py`` checks the write paths.
"""

from __future__ import annotations

from sqlalchemy import event, inspect

from tickets.text_match import fold_for_match

__all__ = ["SEPARATOR", "TICKET_PARTS", "entry_default", "entry_text_fold", "install_search_text", "ticket_default",
           "ticket_search_text"]

SEPARATOR = "\x1f"
"""Between the parts of ``tickets.search_text`` (a control character no search text holds)."""

TICKET_PARTS = ("code", "subject", "detail", "requester_name", "requester_email")
"""The ticket columns folded into ``search_text``, in order."""

COMMENT = "comment"
"""`tickets.models.EntryKind.COMMENT`'s value (the entries whose text the comment filter searches)."""


def _part(value) -> str:
    return "" if value is None else fold_for_match(str(value)).replace(SEPARATOR, " ")


def ticket_search_text(code, subject, detail, requester_name, requester_email) -> str:
    """The folded ``search_text`` of a ticket with these values (None counts as "").

    ``ticket_search_text("AT-1", "Filtración", "", "José", None) == "at-1␟filtracion␟␟jose␟"``.
    A separator inside a value becomes a space, so a searched text (which never holds one) matches
    within one part only.
    """
    return SEPARATOR.join(_part(v) for v in (code, subject, detail, requester_name, requester_email))


def entry_text_fold(kind, text) -> str | None:
    """The folded ``text_fold`` of a logbook entry: its folded text for a comment, else None."""
    return _part(text) if kind == COMMENT else None


def ticket_default(context) -> str:
    """Column default of ``tickets.search_text``: from the values of the INSERT being executed."""
    params = context.get_current_parameters()
    return ticket_search_text(*(params.get(name) for name in TICKET_PARTS))


def entry_default(context) -> str | None:
    """Column default of ``logbook_entries.text_fold``: from the INSERT's ``kind`` and ``text``."""
    params = context.get_current_parameters()
    return entry_text_fold(params.get("kind"), params.get("text"))


def install_search_text(ticket_cls, entry_cls) -> None:
    """Keep the folded columns of ORM objects right on every flush (called once by tickets.models)."""

    def _ticket(_mapper, _connection, target) -> None:
        target.search_text = ticket_search_text(*(getattr(target, name) for name in TICKET_PARTS))

    def _entry(_mapper, _connection, target) -> None:
        target.text_fold = entry_text_fold(target.kind, target.text)

    def _when_changed(parts, listener):
        def _before_update(mapper, connection, target) -> None:
            state = inspect(target)
            if any(state.attrs[name].history.has_changes() for name in parts):
                listener(mapper, connection, target)
        return _before_update

    for cls, listener, parts in ((ticket_cls, _ticket, TICKET_PARTS), (entry_cls, _entry, ("kind", "text"))):
        event.listen(cls, "before_insert", listener)
        event.listen(cls, "before_update", _when_changed(parts, listener))
