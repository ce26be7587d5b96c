"""follow_ups: the ticket's Seguimiento (due date, note, owner, done) and its one reminder

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:15:00

One row per follow-up (`tickets.models.FollowUp`). ``due_date`` is a local calendar date (the
configured zone); ``reminded_at`` marks the owner's reminder mail as queued (sent once).
``ix_follow_ups_open_due`` serves the scheduler's and the digest's "not done, due by today".
"""
import sqlalchemy as sa
from alembic import op

import tickets.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('done', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('done_at', tickets.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', tickets.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', tickets.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_follow_ups_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_follow_ups_owner_id_users')),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_follow_ups_done_by_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_follow_ups_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_follow_ups_open_due', ['done', 'due_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_ups_open_due')
        batch_op.drop_index(batch_op.f('ix_follow_ups_owner_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_ticket_id'))
    op.drop_table('follow_ups')
