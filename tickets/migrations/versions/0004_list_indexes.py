"""list indexes: trigram (pg_trgm) GIN indexes for the list's substring filters, on PostgreSQL only

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 17:00:00

The list's text filters are ``lower(column) LIKE '%text%'`` (`tickets.queries._contains`): a
B-tree cannot serve them, a trigram GIN index on ``lower(column)`` can. Measured with
``bench/list.py`` (1,000,000 tickets; bench/README.md, "List"). SQLite has no pg_trgm: there this
migration does nothing (its databases are small enough for a scan).

- tickets: lower(subject), lower(detail), lower(requester_name), lower(requester_email),
  lower(code) — free text ``q``, Solicitante, Código;
- logbook_entries: lower(text) of the comments not written by a staff user (partial index on
  ``kind = 'comment' AND author_user_id IS NULL``) — "Comentarios de clientes".
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TICKET_COLUMNS = ('subject', 'detail', 'requester_name', 'requester_email', 'code')


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if not _postgres():
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in TICKET_COLUMNS:
        op.execute(f'CREATE INDEX IF NOT EXISTS ix_tickets_{column}_trgm '
                   f'ON tickets USING gin (lower({column}) gin_trgm_ops)')
    op.execute("CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_trgm "
               "ON logbook_entries USING gin (lower(text) gin_trgm_ops) "
               "WHERE kind = 'comment' AND author_user_id IS NULL")


def downgrade() -> None:
    if not _postgres():
        return
    op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_trgm')
    for column in TICKET_COLUMNS:
        op.execute(f'DROP INDEX IF EXISTS ix_tickets_{column}_trgm')
