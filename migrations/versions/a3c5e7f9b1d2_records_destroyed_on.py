"""retention: the day an enrolment's outcome and assessment records were destroyed

Revision ID: a3c5e7f9b1d2
Revises: 7f47bef84c58
Create Date: 2026-12-03 10:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = '7f47bef84c58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_destroyed_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('records_destroyed_on')
