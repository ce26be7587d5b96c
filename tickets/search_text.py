"""The folded text the list searches, stored next to what it folds (issue 9: the list at 1,000,000).

Folding in every query (`tickets.text_match.folded`: ``translate(lower(col), …)``) costs ≈ 15 µs
per candidate row on PostgreSQL, which the free text ("humedad": 94,000 tickets) and the client
comments (49,000 entries) pay on every row a trigram index proposes. So the folded text is stored:

* ``tickets.search_text`` — ``code␟subject␟detail␟requester_name␟requester_email``, each part
  folded with :func:`tickets.text_match.fold_for_match` (``␟`` is U+001F, the unit separator:
  a search never matches across two parts, see :func:`ticket_search_text`);
* ``logbook_entries.text_fold`` — the folded ``text`` of a ``comment`` entry; NULL for other kinds.
* ``tickets.client_comments_fold`` — the folded text of each of the ticket's *client* comments,
  in the order they were written, each after a ``␟`` (``"␟sigue goteando␟gracias"``; ``""`` with
  none). A comment is a client's when it is written: kind ``comment``, no staff author
  (``author_user_id`` NULL) and an ``author_email`` that is no staff user's address then
  (compared lowercased). A comment without an address is staff's (the CLI's ``comment`` without
  ``--by``; a client's comment always comes by mail, with its sender). It is decided once: a later
  staff user with that address does not take it back (issue 9: the comment filter then reads
  ``tickets`` alone, no logbook scan).

The list's free text and comment filters (`tickets.queries`) compare ``search_text`` and
``client_comments_fold`` with a plain ``LIKE`` (trigram GIN indexes on them on PostgreSQL,
migrations 0009 and 0013). Python folds both sides, so the column and the searched text always agree.

Every write keeps them right without the callers doing anything:

* Core INSERTs (``open_ticket_row``, ``add_entry``, which write with ``insert(Ticket)`` /
  ``insert(LogbookEntry)``) and ORM inserts get them from the columns' context-sensitive
  defaults (:func:`ticket_default`, :func:`entry_default`), computed from the inserted values;
* ORM changes (tickets.edits, the panel, the CLI, copies) are caught by :func:`install_search_text`'s
  ``before_insert``/``before_update`` mapper events, which recompute from the object's attributes.
* ``client_comments_fold`` is appended to, never recomputed: by :func:`append_client_comment`, one
  SQL ``UPDATE … SET client_comments_fold = client_comments_fold || ␟ || fold`` in the entry's
  transaction, called by `tickets.services.add_entry` (every comment the services write: the mail
  pipeline, released held mail, the panel, the CLI) and by the ``after_insert`` event of an ORM
  ``LogbookEntry``. Copies start empty (Duplicar and Crear requerimiento copy no comments).

A Core ``UPDATE`` of a searched column would bypass both: there is none (the only Core UPDATE of
``tickets`` touches ``updated_at``); ``tests/test_text_match.py`` checks the write paths.
"""

from __future__ import annotations

from sqlalchemy import event, inspect, text

from tickets.text_match import fold_for_match

__all__ = ["SEPARATOR", "TICKET_PARTS", "append_client_comment",
           "entry_default", "entry_text_fold", "install_search_text", "ticket_default",
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


_APPEND = text(
    "UPDATE tickets SET client_comments_fold = client_comments_fold || :sep || :fold WHERE id = :ticket_id "
    "AND NOT EXISTS (SELECT 1 FROM users WHERE lower(users.email) = lower(:email))")


def append_client_comment(connection, ticket_id: int, kind, text_: str | None, author_user_id: int | None,
                          author_email: str | None) -> bool:
    """Append a just-written entry's folded text to its ticket's ``client_comments_fold`` when it is
    a client's comment (see the module docstring); one atomic UPDATE on ``connection``, in the
    caller's transaction. Returns whether it was appended (False for other kinds and staff)."""
    if kind != COMMENT or author_user_id is not None or not author_email:
        return False
    result = connection.execute(_APPEND, {"sep": SEPARATOR, "fold": _part(text_), "ticket_id": ticket_id,
                                          "email": author_email})
    return result.rowcount == 1


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

    def _client_comment(_mapper, connection, target) -> None:
        append_client_comment(connection, target.ticket_id, target.kind, target.text, target.author_user_id,
                              target.author_email)

    event.listen(entry_cls, "after_insert", _client_comment)
    for cls, listener, parts in ((ticket_cls, _ticket, TICKET_PARTS), (entry_cls, _entry, ("kind", "text"))):
        event.listen(cls, "before_insert", listener)
        event.listen(cls, "before_update", _when_changed(parts, listener))
