"""welfare tables: household read model, policies, 低保 cases and assessments, ranger quotas and posts,
relocations, benefits and runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 13:40
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('benefits',
    sa.Column('benefit_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('month', sa.String(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('breakdown', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('cause', sa.String(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.String(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('benefit_id', name=op.f('pk_benefits'))
    )
    op.create_index(op.f('ix_benefits_case_id'), 'benefits', ['case_id'], unique=False)
    op.create_index(op.f('ix_benefits_household_id'), 'benefits', ['household_id'], unique=False)
    op.create_table('cases',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closes_from', sa.String(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.String(), nullable=True),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_cases'))
    )
    op.create_index(op.f('ix_cases_household_id'), 'cases', ['household_id'], unique=False)
    op.create_table('households',
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('town_code', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('causes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('household_id', name=op.f('pk_households'))
    )
    op.create_index(op.f('ix_households_county_code'), 'households', ['county_code'], unique=False)
    op.create_index(op.f('ix_households_village_code'), 'households', ['village_code'], unique=False)
    op.create_table('members',
    sa.Column('member_id', sa.String(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('person_ref', sa.String(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('relation', sa.String(), nullable=False),
    sa.Column('labor', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_members'))
    )
    op.create_index(op.f('ix_members_household_id'), 'members', ['household_id'], unique=False)
    op.create_index(op.f('ix_members_person_ref'), 'members', ['person_ref'], unique=False)
    op.create_table('ranger_posts',
    sa.Column('post_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.String(), nullable=False),
    sa.Column('person_ref', sa.String(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('appointed_on', sa.Date(), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('yearly_allowance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_ranger_posts'))
    )
    op.create_index(op.f('ix_ranger_posts_household_id'), 'ranger_posts', ['household_id'], unique=False)
    op.create_index(op.f('ix_ranger_posts_person_ref'), 'ranger_posts', ['person_ref'], unique=False)
    op.create_table('ranger_quotas',
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'year', name=op.f('pk_ranger_quotas'))
    )
    op.create_table('relocations',
    sa.Column('relocation_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.String(), nullable=False),
    sa.Column('county_code', sa.String(), nullable=False),
    sa.Column('village_code', sa.String(), nullable=False),
    sa.Column('destination_village_code', sa.String(), nullable=False),
    sa.Column('site_name', sa.String(), nullable=False),
    sa.Column('planned_year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('moved_in_on', sa.Date(), nullable=True),
    sa.Column('persons', sa.Integer(), nullable=True),
    sa.Column('subsidy', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('benefit_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('relocation_id', name=op.f('pk_relocations'))
    )
    op.create_index(op.f('ix_relocations_household_id'), 'relocations', ['household_id'], unique=False)
    op.create_table('runs',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.String(), nullable=False),
    sa.Column('created_minimum_living', sa.Integer(), nullable=False),
    sa.Column('created_eco_ranger', sa.Integer(), nullable=False),
    sa.Column('already_existing', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_runs'))
    )
    op.create_index(op.f('ix_runs_month'), 'runs', ['month'], unique=False)
    op.create_table('welfare_policies',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('poverty_line', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('minimum_living_standard', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('supplement_elderly', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('supplement_minor', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('supplement_severe_disability', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('gradual_exit_months', sa.Integer(), nullable=False),
    sa.Column('gradual_exit_months_disabled', sa.Integer(), nullable=False),
    sa.Column('temporary_assistance_cap', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ranger_allowance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ranger_min_age', sa.Integer(), nullable=False),
    sa.Column('ranger_max_age', sa.Integer(), nullable=False),
    sa.Column('rangers_per_household', sa.Integer(), nullable=False),
    sa.Column('relocation_subsidy', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_welfare_policies'))
    )
    op.create_table('case_assessments',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('annual_income', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('disabled', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.case_id'], name=op.f('fk_case_assessments_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assessments'))
    )
    op.create_index(op.f('ix_case_assessments_case_id'), 'case_assessments', ['case_id'], unique=False)
    # One benefit per case and month, however many runs: the run inserts ON CONFLICT DO NOTHING on this index.
    op.create_index("uq_benefits_case_month", "benefits", ["case_id", "month"], unique=True,
                    postgresql_where=sa.text("month IS NOT NULL"))
    op.create_index("ix_benefits_month", "benefits", ["month"])
    op.create_check_constraint("kind", "benefits",
                               "kind IN ('minimum_living', 'temporary_assistance', 'eco_ranger', 'relocation')")
    op.create_check_constraint("status", "benefits", "status IN ('due', 'paid', 'cancelled')")
    op.create_check_constraint("amount_positive", "benefits", "amount > 0")
    op.create_check_constraint("status", "cases", "status IN ('active', 'gradual_exit', 'closed', 'stopped')")
    # At most one open case per household (the household row lock decides first; this is the last word).
    op.create_index("uq_cases_open_household", "cases", ["household_id"], unique=True,
                    postgresql_where=sa.text("status IN ('active', 'gradual_exit')"))
    op.create_check_constraint("status", "ranger_posts", "status IN ('active', 'ended', 'stopped')")
    op.create_index("ix_ranger_posts_county_year", "ranger_posts", ["county_code", "year", "status"])
    op.create_check_constraint("quota_not_negative", "ranger_quotas", "quota >= 0")
    op.create_check_constraint("status", "relocations", "status IN ('planned', 'moved_in', 'stopped')")
    op.create_index("uq_relocations_household", "relocations", ["household_id"], unique=True,
                    postgresql_where=sa.text("status IN ('planned', 'moved_in')"))


def downgrade() -> None:
    op.drop_index(op.f('ix_case_assessments_case_id'), table_name='case_assessments')
    op.drop_table('case_assessments')
    op.drop_table('welfare_policies')
    op.drop_index(op.f('ix_runs_month'), table_name='runs')
    op.drop_table('runs')
    op.drop_index(op.f('ix_relocations_household_id'), table_name='relocations')
    op.drop_table('relocations')
    op.drop_table('ranger_quotas')
    op.drop_index(op.f('ix_ranger_posts_person_ref'), table_name='ranger_posts')
    op.drop_index(op.f('ix_ranger_posts_household_id'), table_name='ranger_posts')
    op.drop_table('ranger_posts')
    op.drop_index(op.f('ix_members_person_ref'), table_name='members')
    op.drop_index(op.f('ix_members_household_id'), table_name='members')
    op.drop_table('members')
    op.drop_index(op.f('ix_households_village_code'), table_name='households')
    op.drop_index(op.f('ix_households_county_code'), table_name='households')
    op.drop_table('households')
    op.drop_index(op.f('ix_cases_household_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_index(op.f('ix_benefits_household_id'), table_name='benefits')
    op.drop_index(op.f('ix_benefits_case_id'), table_name='benefits')
    op.drop_table('benefits')
