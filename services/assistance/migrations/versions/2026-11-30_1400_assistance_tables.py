"""assistance tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 14:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

ACTIVE = sa.text("status = 'active'")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('assessments',
    sa.Column('assessment_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('targets', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('actuals', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('ratios', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('vetoes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('verdict', sa.String(), nullable=False),
    sa.Column('summons_id', sa.String(), nullable=True),
    sa.Column('assessed_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('assessment_id', name=op.f('pk_assessments'))
    )
    op.create_index(op.f('ix_assessments_county_code'), 'assessments', ['county_code'], unique=False)
    op.create_table('attendance',
    sa.Column('team_member_id', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('days_present', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('team_member_id', 'year', name=op.f('pk_attendance'))
    )
    op.create_table('division_exits',
    sa.Column('event_id', sa.String(), nullable=False),
    sa.Column('division_code', sa.String(), nullable=False),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('exited_on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_division_exits'))
    )
    op.create_index(op.f('ix_division_exits_division_code'), 'division_exits', ['division_code'], unique=False)
    op.create_table('divisions',
    sa.Column('code', sa.String(), nullable=False),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('parent_code', sa.String(), nullable=True),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('poor', sa.Boolean(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_divisions'))
    )
    op.create_table('helpers',
    sa.Column('helper_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('unit_id', sa.String(), nullable=True),
    sa.Column('phone', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('helper_id', name=op.f('pk_helpers'))
    )
    op.create_index(op.f('ix_helpers_unit_id'), 'helpers', ['unit_id'], unique=False)
    op.create_table('household_events',
    sa.Column('event_id', sa.String(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_household_events'))
    )
    op.create_index(op.f('ix_household_events_county_code'), 'household_events', ['county_code'], unique=False)
    op.create_index(op.f('ix_household_events_household_id'), 'household_events', ['household_id'], unique=False)
    op.create_table('households',
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('town_code', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('causes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('household_id', name=op.f('pk_households'))
    )
    op.create_index(op.f('ix_households_county_code'), 'households', ['county_code'], unique=False)
    op.create_index(op.f('ix_households_village_code'), 'households', ['village_code'], unique=False)
    op.create_table('measures',
    sa.Column('measure_id', sa.String(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('line', sa.String(), nullable=False),
    sa.Column('cause', sa.String(), nullable=False),
    sa.Column('description', sa.String(), nullable=False),
    sa.Column('planned_year', sa.Integer(), nullable=False),
    sa.Column('reference_kind', sa.String(), nullable=True),
    sa.Column('reference_id', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('measure_id', name=op.f('pk_measures'))
    )
    op.create_index(op.f('ix_measures_household_id'), 'measures', ['household_id'], unique=False)
    op.create_table('misuse_findings',
    sa.Column('finding_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('reference', sa.String(), nullable=True),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('recorded_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('finding_id', name=op.f('pk_misuse_findings'))
    )
    op.create_index(op.f('ix_misuse_findings_county_code'), 'misuse_findings', ['county_code'], unique=False)
    op.create_table('pairings',
    sa.Column('pairing_id', sa.String(), nullable=False),
    sa.Column('helper_id', sa.String(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('reason_code', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('pairing_id', name=op.f('pk_pairings'))
    )
    op.create_index(op.f('ix_pairings_helper_id'), 'pairings', ['helper_id'], unique=False)
    op.create_index(op.f('ix_pairings_household_id'), 'pairings', ['household_id'], unique=False)
    op.create_index(op.f('ix_pairings_village_code'), 'pairings', ['village_code'], unique=False)
    op.create_index('uq_pairings_active_household', 'pairings', ['household_id'], unique=True,
                    postgresql_where=ACTIVE)
    op.create_table('payments',
    sa.Column('payment_id', sa.String(), nullable=False),
    sa.Column('reference', sa.String(), nullable=False),
    sa.Column('program', sa.String(), nullable=False),
    sa.Column('payee', sa.String(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_payments'))
    )
    op.create_index(op.f('ix_payments_county_code'), 'payments', ['county_code'], unique=False)
    op.create_table('policies',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('helper_max_households', sa.Integer(), nullable=False),
    sa.Column('team_min_members', sa.Integer(), nullable=False),
    sa.Column('team_min_days', sa.Integer(), nullable=False),
    sa.Column('team_stay_years', sa.Integer(), nullable=False),
    sa.Column('weight_households', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('weight_villages', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('weight_funds', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('weight_helper_coverage', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('excellent_from', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('pass_from', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('veto_error_rate', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_policies'))
    )
    op.create_table('summonses',
    sa.Column('summons_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.String(), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('summons_id', name=op.f('pk_summonses')),
    sa.UniqueConstraint('county_code', 'year', name=op.f('uq_summonses_county_code'))
    )
    op.create_index(op.f('ix_summonses_county_code'), 'summonses', ['county_code'], unique=False)
    op.create_table('targets',
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('households_to_exit', sa.Integer(), nullable=False),
    sa.Column('villages_to_exit', sa.Integer(), nullable=False),
    sa.Column('funds_to_spend', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year', name=op.f('pk_targets'))
    )
    op.create_table('team_members',
    sa.Column('team_member_id', sa.String(), nullable=False),
    sa.Column('team_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('background', sa.String(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('team_member_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_team_id'), 'team_members', ['team_id'], unique=False)
    op.create_table('teams',
    sa.Column('team_id', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('unit_id', sa.String(), nullable=False),
    sa.Column('formed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawal_reason', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_teams'))
    )
    op.create_index(op.f('ix_teams_village_code'), 'teams', ['village_code'], unique=False)
    op.create_index('uq_teams_active_village', 'teams', ['village_code'], unique=True,
                    postgresql_where=ACTIVE)
    op.create_table('units',
    sa.Column('unit_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_units'))
    )
    op.create_table('village_pairings',
    sa.Column('village_pairing_id', sa.String(), nullable=False),
    sa.Column('unit_id', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('village_pairing_id', name=op.f('pk_village_pairings'))
    )
    op.create_index(op.f('ix_village_pairings_unit_id'), 'village_pairings', ['unit_id'], unique=False)
    op.create_index(op.f('ix_village_pairings_village_code'), 'village_pairings', ['village_code'], unique=False)
    op.create_index('uq_village_pairings_active_village', 'village_pairings', ['village_code'], unique=True,
                    postgresql_where=ACTIVE)



def downgrade() -> None:

    op.drop_index('uq_village_pairings_active_village', table_name='village_pairings',
                    postgresql_where=ACTIVE)
    op.drop_index(op.f('ix_village_pairings_village_code'), table_name='village_pairings')
    op.drop_index(op.f('ix_village_pairings_unit_id'), table_name='village_pairings')
    op.drop_table('village_pairings')
    op.drop_table('units')
    op.drop_index('uq_teams_active_village', table_name='teams',
                    postgresql_where=ACTIVE)
    op.drop_index(op.f('ix_teams_village_code'), table_name='teams')
    op.drop_table('teams')
    op.drop_index(op.f('ix_team_members_team_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('targets')
    op.drop_index(op.f('ix_summonses_county_code'), table_name='summonses')
    op.drop_table('summonses')
    op.drop_table('policies')
    op.drop_index(op.f('ix_payments_county_code'), table_name='payments')
    op.drop_table('payments')
    op.drop_index('uq_pairings_active_household', table_name='pairings',
                    postgresql_where=ACTIVE)
    op.drop_index(op.f('ix_pairings_village_code'), table_name='pairings')
    op.drop_index(op.f('ix_pairings_household_id'), table_name='pairings')
    op.drop_index(op.f('ix_pairings_helper_id'), table_name='pairings')
    op.drop_table('pairings')
    op.drop_index(op.f('ix_misuse_findings_county_code'), table_name='misuse_findings')
    op.drop_table('misuse_findings')
    op.drop_index(op.f('ix_measures_household_id'), table_name='measures')
    op.drop_table('measures')
    op.drop_index(op.f('ix_households_village_code'), table_name='households')
    op.drop_index(op.f('ix_households_county_code'), table_name='households')
    op.drop_table('households')
    op.drop_index(op.f('ix_household_events_household_id'), table_name='household_events')
    op.drop_index(op.f('ix_household_events_county_code'), table_name='household_events')
    op.drop_table('household_events')
    op.drop_index(op.f('ix_helpers_unit_id'), table_name='helpers')
    op.drop_table('helpers')
    op.drop_table('divisions')
    op.drop_index(op.f('ix_division_exits_division_code'), table_name='division_exits')
    op.drop_table('division_exits')
    op.drop_table('attendance')
    op.drop_index(op.f('ix_assessments_county_code'), table_name='assessments')
    op.drop_table('assessments')

