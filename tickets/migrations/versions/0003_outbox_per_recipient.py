"""outbox: one row per envelope recipient, with a lease and a retry time; bounced addresses;
daily digest records

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 15:30:00

Existing rows (one per mail, every recipient in ``to_addrs``) become one row per recipient that
share the Message-ID; a row with no recipient is dropped (there was nobody to send it to).
"""
import sqlalchemy as sa
from alembic import op

from tickets.models import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('cc_addrs', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('automatic', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('lease_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('bounced_at', UTCDateTime(), nullable=True))

    conn = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                      sa.column('event', sa.String), sa.column('recipient', sa.String),
                      sa.column('to_addrs', sa.JSON), sa.column('cc_addrs', sa.JSON),
                      sa.column('context', sa.JSON), sa.column('message_id', sa.String),
                      sa.column('state', sa.String), sa.column('attempts', sa.Integer),
                      sa.column('last_error', sa.Text), sa.column('created_at', UTCDateTime()),
                      sa.column('sent_at', UTCDateTime()))
    for row in conn.execute(sa.select(outbox)).mappings().all():
        addrs = [a for a in (row['to_addrs'] or []) if a]
        if not addrs:
            conn.execute(sa.delete(outbox).where(outbox.c.id == row['id']))
            continue
        conn.execute(sa.update(outbox).where(outbox.c.id == row['id'])
                     .values(recipient=addrs[0], to_addrs=addrs, cc_addrs=[]))
        for addr in addrs[1:]:
            values = {k: row[k] for k in row.keys() if k != 'id'}
            conn.execute(sa.insert(outbox).values(**values, recipient=addr, cc_addrs=[]))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sa.String(length=320), nullable=False)
        batch_op.alter_column('cc_addrs', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index(batch_op.f('ix_outbox_recipient'), ['recipient'], unique=False)

    op.create_table('bounced_addresses',
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('flagged_at', UTCDateTime(), nullable=False),
        sa.Column('diagnostic', sa.Text(), nullable=True),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_bounced_addresses_outbox_id_outbox')),
        sa.PrimaryKeyConstraint('email', name=op.f('pk_bounced_addresses')))
    op.create_table('digest_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('local_date', sa.Date(), nullable=False),
        sa.Column('tickets', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_records')),
        sa.UniqueConstraint('recipient', 'local_date', name=op.f('uq_digest_records_recipient')))


def downgrade() -> None:
    op.drop_table('digest_records')
    op.drop_table('bounced_addresses')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_recipient'))
        batch_op.drop_column('bounced_at')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('automatic')
        batch_op.drop_column('cc_addrs')
        batch_op.drop_column('recipient')
