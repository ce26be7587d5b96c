"""attachments: inline images (shown in the mail's body by cid:, not the ticket's files)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inline', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('content_id', sa.String(length=998), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('content_id')
        batch_op.drop_column('inline')
