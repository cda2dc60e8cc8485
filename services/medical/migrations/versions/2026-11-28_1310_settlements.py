"""medical: person read model, hospitals, policies per year, admissions, settlements, yearly accumulators

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:10
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(14, 2), nullable=False)


def _rate(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(5, 4), nullable=False)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("person_ref", sa.String, primary_key=True),
        sa.Column("household_id", sa.Uuid, nullable=False),
        sa.Column("household_status", sa.String, nullable=False),
        sa.Column("village_code", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        sa.Column("masked_id_number", sa.String, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_persons_household_id", "persons", ["household_id"])
    op.create_table(
        "hospitals",
        sa.Column("code", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("level", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_hospitals_county_code", "hospitals", ["county_code"])
    levels = ("township", "county", "city", "province")
    op.create_table(
        "policies",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        *[column for level in levels for column in (_money(f"{level}_deductible"), _rate(f"{level}_rate"))],
        _money("basic_annual_cap"), _money("critical_illness_threshold"), _rate("critical_illness_rate"),
        _money("critical_illness_annual_cap"), _rate("assistance_rate"), _money("assistance_annual_cap"),
        _rate("self_pay_cap_rate"),
        sa.Column("updated_by", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "admissions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("encounter_id", sa.String, nullable=False, unique=True),
        sa.Column("request_hash", sa.String, nullable=False),
        sa.Column("person_ref", sa.String, nullable=False),
        sa.Column("masked_id_number", sa.String, nullable=False),
        sa.Column("hospital_code", sa.String, sa.ForeignKey("hospitals.code"), nullable=False),
        sa.Column("admitted_on", sa.Date, nullable=False),
        sa.Column("deposit_required", sa.Boolean, nullable=False),
        _created_at(),
    )
    op.create_index("ix_admissions_person_ref", "admissions", ["person_ref"])
    op.create_table(
        "accumulators",
        sa.Column("person_ref", sa.String, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        *[sa.Column(name, sa.Numeric(14, 2), nullable=False, server_default="0")
          for name in ("basic_insurance", "critical_illness_base", "critical_illness_insurance",
                       "medical_assistance")],
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("basic_insurance >= 0 AND critical_illness_base >= 0 AND "
                           "critical_illness_insurance >= 0 AND medical_assistance >= 0", name="not_negative"),
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("encounter_id", sa.String, nullable=False, unique=True),
        sa.Column("request_hash", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("person_ref", sa.String, nullable=False),
        sa.Column("masked_id_number", sa.String, nullable=False),
        sa.Column("household_id", sa.Uuid, nullable=False),
        sa.Column("village_code", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        sa.Column("hospital_code", sa.String, sa.ForeignKey("hospitals.code"), nullable=False),
        sa.Column("hospital_level", sa.String, nullable=False),
        sa.Column("admission_id", sa.Uuid),
        sa.Column("discharged_on", sa.Date, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        *[_money(name) for name in ("total_cost", "eligible_cost", "basic_insurance", "critical_illness_insurance",
                                    "medical_assistance", "supplementary", "patient_pays",
                                    "critical_illness_base")],
        sa.Column("policy", postgresql.JSONB, nullable=False),
        sa.Column("diagnoses", postgresql.JSONB, nullable=False),
        sa.Column("reversal_reason", sa.String),
        sa.Column("reversal_reason_code", sa.String),
        sa.Column("reversed_by", sa.String),
        sa.Column("reversed_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.String, nullable=False),
        _created_at(),
        sa.CheckConstraint("status IN ('completed', 'reversed')", name="status"),
    )
    for column in ("person_ref", "county_code", "hospital_code", "year"):
        op.create_index(f"ix_settlements_{column}", "settlements", [column])


def downgrade() -> None:
    for table in ("settlements", "accumulators", "admissions", "policies", "hospitals", "persons"):
        op.drop_table(table)
