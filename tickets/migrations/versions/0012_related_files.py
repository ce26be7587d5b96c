"""related files (Archivos Relacionados) and handovers (entregas)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:30:00

DESIGN, "Domain": related files belong to a project, subdivision, unit, contract or handover
(exactly one: the CHECK ``ck_related_files_one_owner``); a handover (unit, contract, date,
observations, the signed record: one of its related files) is loaded with the catalog. The two
tables refer to each other: ``handovers.record_file_id`` is added after ``related_files`` exists.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_OWNERS = ("project", "subdivision", "unit", "contract", "handover")
_ONE_OWNER = " + ".join(f"(CASE WHEN {k}_id IS NULL THEN 0 ELSE 1 END)" for k in _OWNERS) + " = 1"


def upgrade() -> None:
    op.create_table(
        'handovers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('handed_over_on', sa.Date(), nullable=False),
        sa.Column('observations', sa.Text(), nullable=True),
        sa.Column('record_file_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_handovers_unit_id_units')),
        sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_handovers_contract_id_contracts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
        sa.UniqueConstraint('unit_id', 'contract_id', name=op.f('uq_handovers_unit_id')),
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_contract_id'), ['contract_id'], unique=False)
    op.create_table(
        'related_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('subdivision_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('handover_id', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=200), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_ONE_OWNER, name=op.f('ck_related_files_one_owner')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_related_files_project_id_projects')),
        sa.ForeignKeyConstraint(['subdivision_id'], ['subdivisions.id'],
                                name=op.f('fk_related_files_subdivision_id_subdivisions')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_related_files_unit_id_units')),
        sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'],
                                name=op.f('fk_related_files_contract_id_contracts')),
        sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'],
                                name=op.f('fk_related_files_handover_id_handovers')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_related_files_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_related_files')),
    )
    with op.batch_alter_table('related_files', schema=None) as batch_op:
        for owner in _OWNERS:
            batch_op.create_index(batch_op.f(f'ix_related_files_{owner}_id'), [f'{owner}_id'], unique=False)
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_handovers_record_file_id_related_files'), 'related_files',
                                    ['record_file_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handovers_record_file_id_related_files'), type_='foreignkey')
    op.drop_table('related_files')
    op.drop_table('handovers')
