"""observation checklists and question banks per unit release

assessment_templates and template_items: what an assessor watches for or asks, per criterion.
gap_signoffs.checklist: an observation checklist as it was filled in.

Revision ID: 408952c5174a
Revises: d2e7f1a3b5c8
Create Date: 2026-12-02 20:18:21.625289

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '408952c5174a'
down_revision = 'd2e7f1a3b5c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_release_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('observation', 'questions', name='templatekind', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assessment_templates_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_release_id'], ['unit_releases.id'], name=op.f('fk_assessment_templates_unit_release_id_unit_releases')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_assessment_templates_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_templates'))
    )
    with op.batch_alter_table('assessment_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_templates_unit_release_id'), ['unit_release_id'], unique=False)

    op.create_table('template_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_template_items_target_id_targets')),
    sa.ForeignKeyConstraint(['template_id'], ['assessment_templates.id'], name=op.f('fk_template_items_template_id_assessment_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_items'))
    )
    with op.batch_alter_table('template_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_items_template_id'), ['template_id'], unique=False)

    with op.batch_alter_table('gap_signoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checklist', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('gap_signoffs', schema=None) as batch_op:
        batch_op.drop_column('checklist')

    with op.batch_alter_table('template_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_items_template_id'))

    op.drop_table('template_items')
    with op.batch_alter_table('assessment_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_templates_unit_release_id'))

    op.drop_table('assessment_templates')
