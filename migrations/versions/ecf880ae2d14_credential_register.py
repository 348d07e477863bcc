"""credential register: each assessor's training and assessment credential, vocational competency and industry currency, with documents

Revision ID: ecf880ae2d14
Revises: 16066c42e739
Create Date: 2026-12-03 16:54:49.879368

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'ecf880ae2d14'
down_revision = '16066c42e739'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('training_and_assessment', 'vocational', 'industry_currency', name='credentialkind', native_enum=False, length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('basis', sa.Enum('held', 'equivalent', name='credentialbasis', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_credentials_ended_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_credentials_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_credentials_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials'))
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_user_id'), ['user_id'], unique=False)

    op.create_table('credential_files',
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_backend', sa.String(length=32), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_credential_files_credential_id_credentials')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_credential_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_files'))
    )
    with op.batch_alter_table('credential_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_files_credential_id'), ['credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credential_files_storage_key'), ['storage_key'], unique=False)



def downgrade():
    with op.batch_alter_table('credential_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_files_storage_key'))
        batch_op.drop_index(batch_op.f('ix_credential_files_credential_id'))

    op.drop_table('credential_files')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_user_id'))

    op.drop_table('credentials')
