"""registry: divisions, households, members, history, verification, objections, reviews, exits, policies

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


def _now() -> sa.Column:
    return sa.func.now()


def _ts(name: str, *, nullable: bool = False, default: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=_now() if default else None,
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "division",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(12), sa.ForeignKey("division.code"), nullable=True),
        sa.Column("poor", sa.Boolean, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        _ts("exited_at", nullable=True, default=False),
        _ts("created_at"),
    )
    op.create_index("ix_division_parent_code", "division", ["parent_code"])
    op.create_table(
        "division_exit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("division_code", sa.String(12), sa.ForeignKey("division.code"), nullable=False),
        sa.Column("policy_year", sa.Integer, nullable=False),
        sa.Column("poor_persons", sa.Integer, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("poverty_incidence", sa.Numeric(8, 4), nullable=True),
        sa.Column("threshold", sa.Numeric(6, 4), nullable=False),
        sa.Column("exited", sa.Boolean, nullable=False),
        sa.Column("decided_by", sa.String, nullable=False),
        _ts("decided_at"),
    )
    op.create_index("ix_division_exit_division_code", "division_exit", ["division_code"])
    op.create_table(
        "household",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("village_code", sa.String(12), sa.ForeignKey("division.code"), nullable=False),
        sa.Column("town_code", sa.String(9), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("annual_income", sa.Numeric(14, 2), nullable=False),
        sa.Column("income_year", sa.Integer, nullable=False),
        sa.Column("causes", postgresql.ARRAY(sa.String), nullable=False),
        sa.Column("indicators", postgresql.JSONB, nullable=False),
        sa.Column("low_income_guarantee", sa.Boolean, nullable=False),
        sa.Column("import_id", sa.Uuid, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    for column in ("village_code", "town_code", "county_code", "status", "import_id"):
        op.create_index(f"ix_household_{column}", "household", [column])
    op.create_table(
        "member",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("person_ref", sa.String(64), nullable=False),
        sa.Column("masked_id_number", sa.String(18), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("health", sa.String(16), nullable=False),
        sa.Column("disability_grade", sa.Integer, nullable=True),
        sa.Column("labor", sa.String(16), nullable=False),
        sa.Column("school_stage", sa.String(24), nullable=True),
        sa.Column("boarding", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
    )
    op.create_index("ix_member_household_id", "member", ["household_id"])
    op.create_index("ix_member_person_ref", "member", ["person_ref"])
    # One person, one live household: a database guarantee that holds under concurrent registrations and imports.
    op.create_index("uq_member_active_person_ref", "member", ["person_ref"], unique=True,
                    postgresql_where=sa.text("active"))
    op.create_table(
        "status_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("officer", sa.String, nullable=True),
        sa.Column("reason", sa.String, nullable=True),
        _ts("at"),
    )
    op.create_index("ix_status_change_household_id", "status_change", ["household_id"])
    op.create_table(
        "verification",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("officer", sa.String, nullable=False),
        sa.Column("note", sa.String, nullable=True),
        sa.Column("actor", sa.String, nullable=False),
        _ts("at"),
    )
    op.create_index("ix_verification_household_id", "verification", ["household_id"])
    op.create_table(
        "objection",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("filed_by", sa.String, nullable=False),
        _ts("filed_at"),
        sa.Column("resolution_note", sa.String, nullable=True),
        sa.Column("resolved_by", sa.String, nullable=True),
        _ts("resolved_at", nullable=True, default=False),
    )
    op.create_index("ix_objection_household_id", "objection", ["household_id"])
    op.create_table(
        "annual_review",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("income_year", sa.Integer, nullable=False),
        sa.Column("annual_income", sa.Numeric(14, 2), nullable=False),
        sa.Column("indicators", postgresql.JSONB, nullable=False),
        sa.Column("reviewed_by", sa.String, nullable=False),
        _ts("reviewed_at"),
    )
    op.create_index("ix_annual_review_household_id", "annual_review", ["household_id"])
    op.create_table(
        "exit_decision",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.id"), nullable=False),
        sa.Column("certified", sa.Boolean, nullable=False),
        sa.Column("unmet", postgresql.ARRAY(sa.String), nullable=False),
        sa.Column("income_year", sa.Integer, nullable=False),
        sa.Column("annual_income", sa.Numeric(14, 2), nullable=False),
        sa.Column("member_count", sa.Integer, nullable=False),
        sa.Column("per_capita_income", sa.Numeric(14, 2), nullable=False),
        sa.Column("poverty_line", sa.Numeric(14, 2), nullable=False),
        sa.Column("policy_source", sa.String, nullable=False),
        sa.Column("indicators", postgresql.JSONB, nullable=False),
        sa.Column("status_before", sa.String, nullable=False),
        sa.Column("decided_by", sa.String, nullable=False),
        _ts("decided_at"),
    )
    op.create_index("ix_exit_decision_household_id", "exit_decision", ["household_id"])
    op.create_table(
        "policy",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("poverty_line", sa.Numeric(14, 2), nullable=False),
        sa.Column("exit_incidence_threshold", sa.Numeric(6, 4), nullable=False),
        sa.Column("return_risk_multiplier", sa.Numeric(6, 2), nullable=False),
        sa.Column("updated_by", sa.String, nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "import_job",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("filename", sa.String, nullable=False),
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=True),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("households_total", sa.Integer, nullable=True),
        sa.Column("households_created", sa.Integer, nullable=False),
        sa.Column("households_rejected", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("failure", sa.String, nullable=True),
        sa.Column("created_by", sa.String, nullable=False),
        _ts("created_at"),
        _ts("finished_at", nullable=True, default=False),
    )
    op.create_table(
        "import_row_error",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Uuid, sa.ForeignKey("import_job.id"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("field", sa.String, nullable=False),
        sa.Column("code", sa.String, nullable=False),
        sa.Column("message", sa.String, nullable=False),
    )
    op.create_index("ix_import_row_error_import_id", "import_row_error", ["import_id"])


def downgrade() -> None:
    for table in ("import_row_error", "import_job", "policy", "exit_decision", "annual_review", "objection",
                  "verification", "status_change", "member", "household", "division_exit", "division"):
        op.drop_table(table)
