"""overdue notices: when a submission's assessor and the admins were told its review is overdue

Revision ID: 7f47bef84c58
Revises: 95c3fc9ff72e
Create Date: 2026-12-03 07:57:43.711401

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f47bef84c58'
down_revision = '95c3fc9ff72e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue_notice_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('overdue_notice_at')

