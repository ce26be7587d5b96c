"""tickets: indexes on group_id and duplicated_from_id (Duplicar, Crear Requerimiento)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:00:00

Every ticket view lists the ticket's pliego (``group_id = head``) and its duplicates
(``duplicated_from_id = id``): without these indexes each of those is a scan of every ticket.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_duplicated_from_id'), ['duplicated_from_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_duplicated_from_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_group_id'))
