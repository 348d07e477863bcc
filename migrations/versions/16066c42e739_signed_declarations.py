"""signed declarations: the learner's and the assessor's drawn signatures under their declarations

Revision ID: 16066c42e739
Revises: 6a6bb2a0b850
Create Date: 2026-12-03 16:39:01.513376

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16066c42e739'
down_revision = '6a6bb2a0b850'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_png', sa.LargeBinary(), nullable=True))

    with op.batch_alter_table('unit_outcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_png', sa.LargeBinary(), nullable=True))



def downgrade():
    with op.batch_alter_table('unit_outcomes', schema=None) as batch_op:
        batch_op.drop_column('signature_png')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('signature_png')

