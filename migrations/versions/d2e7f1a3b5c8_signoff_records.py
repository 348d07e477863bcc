"""one gap sign-off record covers several criteria

gap_signoffs.record_key: the rows of one conversation or observation recorded against several
criteria share it; a correction replaces them together.

Revision ID: d2e7f1a3b5c8
Revises: c4d8e2a6f913
Create Date: 2026-12-02 17:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2e7f1a3b5c8'
down_revision = 'c4d8e2a6f913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('gap_signoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_gap_signoffs_record_key'), ['record_key'], unique=False)


def downgrade():
    with op.batch_alter_table('gap_signoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gap_signoffs_record_key'))
        batch_op.drop_column('record_key')
