"""client comments on the ticket: the list's comment filter reads tickets alone, no logbook scan

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:00:00

`tickets.search_text`: ``tickets.client_comments_fold`` holds the folded text of each of the
ticket's client comments, each after a U+001F, in the order they were written; from now on the
models append to it when a client's comment is written (issue 9: "comment=goteando" visited the
~50,000 matching entries of 1,000,000 tickets and deduplicated them per ticket before any LIMIT).
This migration adds it, fills it for the rows already there and, on PostgreSQL, builds its trigram
GIN index ``ix_tickets_client_comments_fold_trgm``. It drops
``ix_logbook_entries_client_comment_text_fold_trgm`` (0009): no query reads ``text_fold`` any more.
``logbook_entries.text_fold`` itself stays (the fill below reads it; the models still write it).

The fill: the comments that are a client's by the models' rule (no author user, an author address
that is no staff user's *today*: for past rows "when written" is not known; the list's rule until
now also counted comments without an address, which only staff write: the CLI's ``comment``
without ``--by``), their ``text_fold`` (0009) in id order — the order they were written, as the
models append.
PostgreSQL in SQL, by ranges of ticket ids (``string_agg(… ORDER BY id)``); SQLite in Python.
``tests/test_text_match.py`` checks this fill gives what the models write. On PostgreSQL the UPDATE
leaves one dead row version per ticket with client comments: autovacuum reclaims them
(``VACUUM ANALYZE tickets`` at once after migrating a large database).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SEPARATOR = "\x1f"
CLIENT_COMMENT = ("kind = 'comment' AND author_user_id IS NULL AND author_email <> '' AND NOT EXISTS "
                  "(SELECT 1 FROM users WHERE lower(users.email) = lower(logbook_entries.author_email))")
COMMENT_WHERE = "WHERE kind = 'comment' AND author_user_id IS NULL"
BATCH = 100_000


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _pg_fill() -> None:
    bind = op.get_bind()
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM tickets")).one()
    if low is None:
        return
    for start in range(low, high + 1, BATCH):
        bind.execute(sa.text(
            "UPDATE tickets SET client_comments_fold = c.folds FROM ("
            "SELECT ticket_id, string_agg(chr(31) || coalesce(text_fold, ''), '' ORDER BY id) AS folds "
            f"FROM logbook_entries WHERE {CLIENT_COMMENT} AND ticket_id >= :lo AND ticket_id < :hi "
            "GROUP BY ticket_id) AS c WHERE tickets.id = c.ticket_id"), {"lo": start, "hi": start + BATCH})


def _sqlite_fill() -> None:
    bind = op.get_bind()
    folds: dict[int, str] = {}
    rows = bind.execute(sa.text(f"SELECT ticket_id, text_fold FROM logbook_entries WHERE {CLIENT_COMMENT} "
                                "ORDER BY id")).all()
    for ticket_id, fold in rows:
        folds[ticket_id] = folds.get(ticket_id, "") + SEPARATOR + (fold or "")
    if folds:
        bind.execute(sa.text("UPDATE tickets SET client_comments_fold = :v WHERE id = :id"),
                     [{"id": k, "v": v} for k, v in folds.items()])


def upgrade() -> None:
    op.add_column('tickets', sa.Column('client_comments_fold', sa.Text(), nullable=False, server_default=''))
    if not _postgres():
        _sqlite_fill()
        return
    _pg_fill()
    op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_text_fold_trgm')
    op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_client_comments_fold_trgm '
               'ON tickets USING gin (client_comments_fold gin_trgm_ops)')
    op.execute('ANALYZE tickets')


def downgrade() -> None:
    if _postgres():
        op.execute('DROP INDEX IF EXISTS ix_tickets_client_comments_fold_trgm')
        op.execute('CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_text_fold_trgm '
                   f'ON logbook_entries USING gin (text_fold gin_trgm_ops) {COMMENT_WHERE}')
    # a plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), as 0009: a batch copy of tickets would
    # trip the foreign keys that point at it
    op.drop_column('tickets', 'client_comments_fold')
