"""unit_outcomes (assessor_id, decided_on): an assessor's decisions in a period

The assessor's dashboard and the review queue count what an assessor decided this month;
without it the count read every current outcome of the RTO.

Revision ID: a7c3e9d1f240
Revises: 79ce45870244
Create Date: 2026-12-03 22:58:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f240'
down_revision = '79ce45870244'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_unit_outcomes_assessor_id_decided_on', 'unit_outcomes', ['assessor_id', 'decided_on']
    )


def downgrade():
    op.drop_index('ix_unit_outcomes_assessor_id_decided_on', table_name='unit_outcomes')
