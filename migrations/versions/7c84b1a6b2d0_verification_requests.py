"""verification requests: a workplace supervisor vouches for one evidence version by an emailed link

Revision ID: 7c84b1a6b2d0
Revises: a3c5e7f9b1d2
Create Date: 2026-12-03 16:05:07.416027

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7c84b1a6b2d0'
down_revision = 'a3c5e7f9b1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('verification_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verifier_name', sa.String(length=200), nullable=False),
    sa.Column('verifier_email', sa.String(length=254), nullable=False),
    sa.Column('verifier_position', sa.String(length=200), nullable=False),
    sa.Column('verifier_organisation', sa.String(length=200), nullable=False),
    sa.Column('relationship_to_learner', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('open', 'confirmed', 'declined', 'revoked', 'expired', name='verificationstate', native_enum=False, length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('first_viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('statements', sa.JSON(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('signature_png', sa.LargeBinary(), nullable=True),
    sa.Column('confirmed_hashes', sa.JSON(), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_method', sa.Enum('phone_call', 'known_contact', 'organisation_records', 'in_person', 'other', name='verifiercheck', native_enum=False, length=32), nullable=True),
    sa.Column('check_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_verification_requests_checked_by_id_users')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_verification_requests_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_verification_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_verification_requests_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['evidence_versions.id'], name=op.f('fk_verification_requests_version_id_evidence_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_requests')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_verification_requests_token_hash'))
    )
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_requests_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_requests_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_requests_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('verification_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_requests_version_id'))
        batch_op.drop_index(batch_op.f('ix_verification_requests_state'))
        batch_op.drop_index(batch_op.f('ix_verification_requests_enrolment_id'))

    op.drop_table('verification_requests')
