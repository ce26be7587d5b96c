"""sla indexes: the SLA filters run in SQL (tickets.sla_sql); indexes for their necessary conditions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:30:00

`tickets.sla_sql` computes Días transcurridos and the alert state in SQL and adds necessary
conditions that these indexes serve (measured with ``bench/list.py``, bench/README.md "List"):

- ``ix_tickets_attended_at`` (both databases): MIN/MAX of ``attended_at`` (the years whose
  holidays the business-day count needs) in one index look-up, and the attended date filters;
- ``ix_tickets_open_requested_at`` (both): the tickets not attended (partial, ``WHERE attended_at
  IS NULL``) by ``requested_at``, with every column the SLA expressions read (type, priority,
  attended_at), so that ``alert`` overdue / on_time and the open half of ``days_min`` are counted
  from the index alone (an index-only scan on PostgreSQL);
- ``ix_tickets_attended_span`` (PostgreSQL only: SQLite cannot subtract timestamps):
  ``attended_at - requested_at``, the attended half of ``days_min`` and ``alert=attended_late``;
- ``ix_tickets_requester_client_id`` (both): the free text and Solicitante test the requester's
  client (``requester_client_id = ANY(ARRAY(SELECT id FROM clients WHERE …))``, `tickets.queries`),
  which an index turns into one more arm of the BitmapOr instead of a scan of every ticket;
- ``st_logbook_entries_text_fold`` (PostgreSQL only): statistics on the folded comment text. The
  comment filter's trigram index is partial, and PostgreSQL does not estimate from a partial
  index's statistics: without these it expected ≈ 40 of 50,000 matching entries and built the
  list's first page by joining every ticket (3 s instead of 0.1 s). ACCENTED and PLAIN are copied
  from migration 0005 (``tests/test_text_match.py`` checks they agree).
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_attended_at ON tickets (attended_at)')
    op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_open_requested_at '
               'ON tickets (requested_at, type_id, priority_id, attended_at) WHERE attended_at IS NULL')
    op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_requester_client_id ON tickets (requester_client_id)')
    if _postgres():
        op.execute('CREATE INDEX IF NOT EXISTS ix_tickets_attended_span ON tickets ((attended_at - requested_at))')
        op.execute('CREATE STATISTICS IF NOT EXISTS st_logbook_entries_text_fold '
                   f"ON (translate(lower(text), '{ACCENTED}', '{PLAIN}')) FROM logbook_entries")
        op.execute('ANALYZE logbook_entries')


def downgrade() -> None:
    op.execute('DROP STATISTICS IF EXISTS st_logbook_entries_text_fold')
    op.execute('DROP INDEX IF EXISTS ix_tickets_requester_client_id')
    op.execute('DROP INDEX IF EXISTS ix_tickets_attended_span')
    op.execute('DROP INDEX IF EXISTS ix_tickets_open_requested_at')
    op.execute('DROP INDEX IF EXISTS ix_tickets_attended_at')
