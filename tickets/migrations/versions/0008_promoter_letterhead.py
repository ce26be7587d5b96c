"""promoters: address and logo, the letterhead of the documents a ticket's promoter signs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:10:00

"Generar Documento" signs each document with the ticket's promoter when it has one (DESIGN,
"Domain": name, RUC, address, logo), else with ``ATENCION_COMPANY_*``. ``logo`` is the path of an
image file, as ``ATENCION_COMPANY_LOGO``.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('promoters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('logo', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('promoters', schema=None) as batch_op:
        batch_op.drop_column('logo')
        batch_op.drop_column('address')
