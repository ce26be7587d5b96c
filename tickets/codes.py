"""Ticket codes: ``{prefix}-{seq:06d}`` (AT-000123), and their tolerant recognition in subjects.

The sequence is a row in ``counters`` incremented with ``UPDATE … RETURNING`` inside the writer's
own transaction: on PostgreSQL the row lock serialises concurrent writers until commit, on SQLite
the ``BEGIN IMMEDIATE`` of `tickets.db` does. A rolled-back transaction gives its number back; a
gap (e.g. a number consumed by a transaction that was later abandoned by hand) is harmless because
codes are only required to be unique (a UNIQUE constraint backs that).
"""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tickets.models import Counter

TICKET_COUNTER = "ticket_code"


def format_code(prefix: str, seq: int) -> str:
    """``format_code("AT", 123) == "AT-000123"`` (six digits, more when the number needs them)."""
    return f"{prefix}-{seq:06d}"


_TAKE_NEXT = (update(Counter).where(Counter.name == TICKET_COUNTER)
              .values(value=Counter.value + 1).returning(Counter.value))


def next_code(session: Session, prefix: str) -> str:
    """Take the next code of the sequence, in the caller's transaction (no commit)."""
    conn = session.connection()
    row = conn.execute(_TAKE_NEXT).scalar()
    if row is None:  # first ticket ever (migrate seeds the row; this covers a hand-made schema)
        ensure_counter(session)
        row = conn.execute(_TAKE_NEXT).scalar()
    return format_code(prefix, int(row))


def ensure_counter(session: Session) -> None:
    """Create the counter row if missing; safe when two writers race (INSERT … ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(Counter).values(name=TICKET_COUNTER, value=0).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(Counter).values(name=TICKET_COUNTER, value=0).on_conflict_do_nothing()
    else:
        stmt = insert(Counter).values(name=TICKET_COUNTER, value=0)
    session.execute(stmt)


def code_pattern(prefix: str) -> re.Pattern[str]:
    """A regex that finds a code in free text: ``[AT-000123]``, ``at-123``, ``AT 123``, ``AT123``.

    Tolerant of case, brackets and zero-padding; not of other letters glued before the prefix.
    Group 1 is the number.
    """
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(prefix)}[\s\-_#:]?0*(\d{{1,9}})(?![0-9])",
                      re.IGNORECASE)


def find_codes(text: str, prefix: str) -> list[str]:
    """Every code mentioned in ``text``, normalised (``"re: [at-12]"`` → ``["AT-000012"]``)."""
    return [format_code(prefix.upper(), int(m.group(1))) for m in code_pattern(prefix).finditer(text or "")]


def current_value(session: Session) -> int:
    """The last number handed out (0 before the first ticket)."""
    return session.scalar(select(Counter.value).where(Counter.name == TICKET_COUNTER)) or 0
