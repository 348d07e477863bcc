"""uploads waiting for their form count against an allowance and are swept

pending_uploads: a file stored ahead of the form that claims it, with its owner, size and
time; the stored-file tables' storage_key indexed for the sweep of unreferenced files.

Revision ID: 8b2f4c6d9e10
Revises: 3c1a9e5b7d21
Create Date: 2026-12-02 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portfolio.models.base


# revision identifiers, used by Alembic.
revision = '8b2f4c6d9e10'
down_revision = '3c1a9e5b7d21'
branch_labels = None
depends_on = None

FILE_TABLES = ('evidence_files', 'signoff_files', 'closure_files')


def upgrade():
    op.create_table(
        'pending_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('storage_key', sa.String(length=300), nullable=False),
        sa.Column('created_at', portfolio.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_pending_uploads_enrolment_id_enrolments')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pending_uploads_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_uploads')),
    )
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_uploads_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_uploads_storage_key'), ['storage_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_uploads_user_id'), ['user_id'], unique=False)
    for table in FILE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_storage_key'), ['storage_key'], unique=False)


def downgrade():
    for table in FILE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_storage_key'))
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_uploads_storage_key'))
        batch_op.drop_index(batch_op.f('ix_pending_uploads_enrolment_id'))
        batch_op.drop_index(batch_op.f('ix_pending_uploads_created_at'))
    op.drop_table('pending_uploads')
