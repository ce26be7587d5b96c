"""stored search text: the list's free text and comment filters read folded columns, not translate()

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:30:00

`tickets.search_text`: ``tickets.search_text`` (code, subject, detail, requester name and email,
each folded, joined by U+001F) and ``logbook_entries.text_fold`` (a comment's folded text, NULL
for other kinds), filled from now on by the models. This migration adds them, fills them for the
rows already there, and on PostgreSQL builds their trigram GIN indexes:

- ``ix_tickets_search_text_trgm`` replaces ``ix_tickets_subject_fold_trgm`` and
  ``ix_tickets_detail_fold_trgm`` of 0005 (only the free text read them); the 0005 indexes on the
  folded requester name, email and code stay (Solicitante and Código still use them);
- ``ix_logbook_entries_client_comment_text_fold_trgm`` (partial: client comments) replaces
  ``ix_logbook_entries_client_comment_fold_trgm`` and the statistics ``st_logbook_entries_text_fold``
  of 0006 (a plain column has its own statistics).

The fill: PostgreSQL in SQL, by ranges of ids (``translate(lower(normalize(…, NFC)))``, the
expression of 0005, which folds the letters of the table exactly as Python does); SQLite in Python
with the same steps as `tickets.text_match.fold_for_match`. ACCENTED and PLAIN are copied on
purpose (a migration keeps doing what it did); ``tests/test_text_match.py`` checks they agree and
that this fill gives what the models write. On PostgreSQL the UPDATE leaves one dead row version per
ticket and per comment: autovacuum reclaims them (``VACUUM ANALYZE tickets, logbook_entries`` at
once after migrating a large database).
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"
SEPARATOR = "\x1f"
TICKET_PARTS = ('code', 'subject', 'detail', 'requester_name', 'requester_email')
COMMENT_WHERE = "WHERE kind = 'comment' AND author_user_id IS NULL"
BATCH = 100_000
_TABLE = str.maketrans(ACCENTED, PLAIN)


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _fold(value) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).lower().translate(_TABLE).replace(SEPARATOR, " ")


def _pg_fold(sql: str) -> str:
    return f"translate(lower(normalize({sql}, NFC)), '{ACCENTED}', '{PLAIN}')"


def _pg_fill(table: str, column: str, expression: str, where: str = "") -> None:
    bind = op.get_bind()
    low, high = bind.execute(sa.text(f"SELECT min(id), max(id) FROM {table}")).one()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        bind.execute(sa.text(f"UPDATE {table} SET {column} = {expression} "
                             f"WHERE id >= :lo AND id < :hi {where}"), {"lo": start, "hi": start + BATCH})


def _sqlite_fill() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {', '.join(TICKET_PARTS)} FROM tickets")).all()
    if rows:
        bind.execute(sa.text("UPDATE tickets SET search_text = :v WHERE id = :id"),
                     [{"id": r[0], "v": SEPARATOR.join(_fold(v) for v in r[1:])} for r in rows])
    rows = bind.execute(sa.text("SELECT id, text FROM logbook_entries WHERE kind = 'comment'")).all()
    if rows:
        bind.execute(sa.text("UPDATE logbook_entries SET text_fold = :v WHERE id = :id"),
                     [{"id": r[0], "v": _fold(r[1])} for r in rows])


def upgrade() -> None:
    op.add_column('tickets', sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    op.add_column('logbook_entries', sa.Column('text_fold', sa.Text(), nullable=True))
    if not _postgres():
        _sqlite_fill()
        return
    parts = ", ".join(f"replace(coalesce({c}, ''), chr(31), ' ')" for c in TICKET_PARTS)
    _pg_fill('tickets', 'search_text', _pg_fold(f"concat_ws(chr(31), {parts})"))
    _pg_fill('logbook_entries', 'text_fold', _pg_fold("replace(text, chr(31), ' ')"), "AND kind = 'comment'")
    op.execute('DROP INDEX IF EXISTS ix_tickets_subject_fold_trgm')
    op.execute('DROP INDEX IF EXISTS ix_tickets_detail_fold_trgm')
    op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_fold_trgm')
    op.execute('DROP STATISTICS IF EXISTS st_logbook_entries_text_fold')
    op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_search_text_trgm '
               'ON tickets USING gin (search_text gin_trgm_ops)')
    op.execute('CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_text_fold_trgm '
               f'ON logbook_entries USING gin (text_fold gin_trgm_ops) {COMMENT_WHERE}')
    op.execute('ANALYZE tickets')
    op.execute('ANALYZE logbook_entries')


def downgrade() -> None:
    if _postgres():
        op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_text_fold_trgm')
        op.execute('DROP INDEX IF EXISTS ix_tickets_search_text_trgm')
        folded = f"translate(lower(text), '{ACCENTED}', '{PLAIN}')"
        op.execute('CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_fold_trgm '
                   f'ON logbook_entries USING gin (({folded}) gin_trgm_ops) {COMMENT_WHERE}')
        op.execute(f'CREATE STATISTICS IF NOT EXISTS st_logbook_entries_text_fold ON ({folded}) FROM logbook_entries')
        for column in ('subject', 'detail'):
            op.execute(f'CREATE INDEX IF NOT EXISTS ix_tickets_{column}_fold_trgm ON tickets '
                       f"USING gin ((translate(lower({column}), '{ACCENTED}', '{PLAIN}')) gin_trgm_ops)")
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of tickets would trip the
    # foreign keys that point at it
    op.drop_column('logbook_entries', 'text_fold')
    op.drop_column('tickets', 'search_text')
