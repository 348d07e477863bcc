"""indexes for the review queue, coverage, the register and the audit log

- enrolments (assessor_id, state): the review queue and the assessor's dashboard; replaces the
  index on assessor_id alone.
- gap_signoffs (replaces_id): coverage leaves out sign-offs that a correction replaced.
- unit_outcomes (decided_on), (replaces_id): the outcomes register and the audit bundle pick
  current outcomes decided in a date range.
- audit_events (enrolment_id, seq), (action, seq): an enrolment's history in order, and the
  audit log filtered by enrolment or action newest first; replace the single-column indexes.

Revision ID: 15398657ac1f
Revises: 964917681377
Create Date: 2026-11-23 18:27:25.649704

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '15398657ac1f'
down_revision = '964917681377'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolments_assessor_id_state', 'enrolments', ['assessor_id', 'state'])
    op.drop_index('ix_enrolments_assessor_id', table_name='enrolments')

    op.create_index('ix_gap_signoffs_replaces_id', 'gap_signoffs', ['replaces_id'])
    op.create_index('ix_unit_outcomes_decided_on', 'unit_outcomes', ['decided_on'])
    op.create_index('ix_unit_outcomes_replaces_id', 'unit_outcomes', ['replaces_id'])

    op.create_index('ix_audit_events_enrolment_id_seq', 'audit_events', ['enrolment_id', 'seq'])
    op.create_index('ix_audit_events_action_seq', 'audit_events', ['action', 'seq'])
    op.drop_index('ix_audit_events_enrolment_id', table_name='audit_events')
    op.drop_index('ix_audit_events_action', table_name='audit_events')


def downgrade():
    op.create_index('ix_audit_events_action', 'audit_events', ['action'])
    op.create_index('ix_audit_events_enrolment_id', 'audit_events', ['enrolment_id'])
    op.drop_index('ix_audit_events_action_seq', table_name='audit_events')
    op.drop_index('ix_audit_events_enrolment_id_seq', table_name='audit_events')

    op.drop_index('ix_unit_outcomes_replaces_id', table_name='unit_outcomes')
    op.drop_index('ix_unit_outcomes_decided_on', table_name='unit_outcomes')
    op.drop_index('ix_gap_signoffs_replaces_id', table_name='gap_signoffs')

    op.create_index('ix_enrolments_assessor_id', 'enrolments', ['assessor_id'])
    op.drop_index('ix_enrolments_assessor_id_state', table_name='enrolments')
