"""enrolments (assessor_id, id): an assessor's learners a page at a time, in order

The assessor's dashboard lists their learners by enrolment, ten a page with the total; without
it PostgreSQL walked every enrolment of the RTO in order to find the assessor's.

Revision ID: b5d1e8c2f7a4
Revises: a7c3e9d1f240
Create Date: 2026-12-04 02:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b5d1e8c2f7a4'
down_revision = 'a7c3e9d1f240'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolments_assessor_id_id', 'enrolments', ['assessor_id', 'id'])


def downgrade():
    op.drop_index('ix_enrolments_assessor_id_id', table_name='enrolments')
