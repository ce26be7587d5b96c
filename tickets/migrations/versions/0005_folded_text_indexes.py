"""folded text indexes: the list's substring filters ignore accents; rebuild the trigram indexes on it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 18:30:00

The list's text filters now compare ``translate(lower(column), ACCENTED, PLAIN)`` with the folded
search text (`tickets.text_match`: "filtracion" finds "Filtración"). A trigram index serves a
``LIKE`` only when it is built on that same expression, so the ``lower(column)`` indexes of 0004
are replaced by ``*_fold_trgm`` ones on the folded expression. PostgreSQL only (SQLite has no
pg_trgm; there this migration does nothing).

ACCENTED and PLAIN are copied here on purpose: a migration must keep building the index it built
when it ran. ``tests/test_text_match.py`` checks that they equal `tickets.text_match`'s.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"
TICKET_COLUMNS = ('subject', 'detail', 'requester_name', 'requester_email', 'code')
COMMENT_WHERE = "WHERE kind = 'comment' AND author_user_id IS NULL"


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _folded(column: str) -> str:
    return f"translate(lower({column}), '{ACCENTED}', '{PLAIN}')"


def upgrade() -> None:
    if not _postgres():
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in TICKET_COLUMNS:
        op.execute(f'DROP INDEX IF EXISTS ix_tickets_{column}_trgm')
        op.execute(f'CREATE INDEX IF NOT EXISTS ix_tickets_{column}_fold_trgm '
                   f'ON tickets USING gin (({_folded(column)}) gin_trgm_ops)')
    op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_trgm')
    op.execute('CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_fold_trgm '
               f'ON logbook_entries USING gin (({_folded("text")}) gin_trgm_ops) {COMMENT_WHERE}')
    op.execute('CREATE INDEX IF NOT EXISTS ix_clients_name_fold_trgm '
               f'ON clients USING gin (({_folded("name")}) gin_trgm_ops)')


def downgrade() -> None:
    if not _postgres():
        return
    op.execute('DROP INDEX IF EXISTS ix_clients_name_fold_trgm')
    op.execute('DROP INDEX IF EXISTS ix_logbook_entries_client_comment_fold_trgm')
    op.execute('CREATE INDEX IF NOT EXISTS ix_logbook_entries_client_comment_trgm '
               f'ON logbook_entries USING gin (lower(text) gin_trgm_ops) {COMMENT_WHERE}')
    for column in TICKET_COLUMNS:
        op.execute(f'DROP INDEX IF EXISTS ix_tickets_{column}_fold_trgm')
        op.execute(f'CREATE INDEX IF NOT EXISTS ix_tickets_{column}_trgm '
                   f'ON tickets USING gin (lower({column}) gin_trgm_ops)')
