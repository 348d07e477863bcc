"""the audit log is signed with a key the database does not hold

audit_events.keyed: whether an event's hash is an HMAC with AUDIT_KEY. Events already written
keep their SHA-256 chain (false); every new event is keyed and chains onto them.

Revision ID: c4d8e2a6f913
Revises: 8b2f4c6d9e10
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e2a6f913'
down_revision = '8b2f4c6d9e10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('keyed', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('keyed')
