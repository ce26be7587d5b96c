"""events and event_attendees: "Generar nuevo evento" (issue 10, item 2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:15:00

An event on a ticket (a visit with the requester, or staff's own reminder) with its iCalendar
UID and SEQUENCE, and each attendee's answer (PARTSTAT) as their calendar replied.
"""
import sqlalchemy as sa
from alembic import op

from tickets.models import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('starts_at', UTCDateTime(), nullable=False),
        sa.Column('ends_at', UTCDateTime(), nullable=False),
        sa.Column('location', sa.String(length=300), nullable=False),
        sa.Column('uid', sa.String(length=255), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=True),
        sa.Column('reminded_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organizer_id'], ['users.id'], name=op.f('fk_events_organizer_id_users')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_events_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('uid', name=op.f('uq_events_uid')),
    )
    op.create_index(op.f('ix_events_ticket_id'), 'events', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_events_starts_at'), 'events', ['starts_at'], unique=False)
    op.create_table(
        'event_attendees',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('partstat', sa.String(length=20), nullable=False),
        sa.Column('replied_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_attendees_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_event_attendees')),
        sa.UniqueConstraint('event_id', 'email', name=op.f('uq_event_attendees_event_id')),
    )
    op.create_index(op.f('ix_event_attendees_event_id'), 'event_attendees', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_event_attendees_event_id'), table_name='event_attendees')
    op.drop_table('event_attendees')
    op.drop_index(op.f('ix_events_starts_at'), table_name='events')
    op.drop_index(op.f('ix_events_ticket_id'), table_name='events')
    op.drop_table('events')
