"""sessions end on logout, deactivation and a new password

users.session_version: part of the id each session cookie carries; raising it ends every
session the person has.

Revision ID: 3c1a9e5b7d21
Revises: 6357cebe3807
Create Date: 2026-12-02 14:25:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1a9e5b7d21'
down_revision = '6357cebe3807'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='1', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
