"""third-party reports: a supervisor reports observed performance against chosen criteria, by the verification link

Revision ID: 6a6bb2a0b850
Revises: 7c84b1a6b2d0
Create Date: 2026-12-03 16:22:20.308926

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a6bb2a0b850'
down_revision = '7c84b1a6b2d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('verify', 'report', name='requestkind', native_enum=False, length=16), nullable=False, server_default='verify'))
        batch_op.add_column(sa.Column('report_targets', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('observations', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('observed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('report_item_id', sa.Integer(), nullable=True))
        batch_op.alter_column('version_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_verification_requests_report_item_id_evidence_items'), 'evidence_items', ['report_item_id'], ['id'])



def downgrade():
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_verification_requests_report_item_id_evidence_items'), type_='foreignkey')
        batch_op.alter_column('version_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('report_item_id')
        batch_op.drop_column('observed_on')
        batch_op.drop_column('observations')
        batch_op.drop_column('report_targets')
        batch_op.drop_column('kind')

