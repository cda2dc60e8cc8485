"""education: household read model, grant policies, enrolments, grants

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(14, 2), nullable=False)


def _moment(name: str, *, nullable: bool = False, now: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable,
                     server_default=sa.func.now() if now else None)


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("household_id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False, index=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        _moment("as_of", now=False),
    )
    op.create_table(
        "household_member",
        sa.Column("person_ref", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.Uuid, sa.ForeignKey("household.household_id"), nullable=False, index=True),
        sa.Column("masked_id_number", sa.String(18), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("labor", sa.String(10)),
        sa.Column("school_stage", sa.String(30)),
        sa.Column("boarding", sa.Boolean, nullable=False),
    )
    op.create_table(
        "grant_policy",
        sa.Column("academic_year", sa.String(9), primary_key=True),
        *[_money(kind) for kind in ("preschool", "boarding_primary", "boarding_junior", "senior",
                                    "secondary_vocational", "vocational_once")],
        sa.Column("updated_by", sa.String(100), nullable=False),
        _moment("updated_at"),
    )
    op.create_table(
        "enrollment",
        sa.Column("enrollment_id", sa.Uuid, primary_key=True),
        sa.Column("person_ref", sa.String(64), nullable=False, index=True),
        sa.Column("masked_id_number", sa.String(18), nullable=False),
        sa.Column("school_code", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("grade", sa.String(20), nullable=False),
        sa.Column("boarding", sa.Boolean, nullable=False),
        sa.Column("academic_year", sa.String(9), nullable=False, index=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _moment("created_at"),
        sa.UniqueConstraint("person_ref", "stage", "academic_year", name="uq_enrollment_person_stage_year"),
    )
    op.create_table(
        "grant",
        sa.Column("grant_id", sa.Uuid, primary_key=True),
        sa.Column("enrollment_id", sa.Uuid, sa.ForeignKey("enrollment.enrollment_id"), nullable=False, index=True),
        sa.Column("person_ref", sa.String(64), nullable=False),
        sa.Column("household_id", sa.Uuid, nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        _money("amount"),
        sa.Column("academic_year", sa.String(9), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False),
        _moment("awarded_at"),
        sa.Column("payment_id", sa.String(64)),
        _moment("paid_at", nullable=True, now=False),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('awarded', 'paid')", name="status_known"),
    )
    op.create_index("uq_grant_person_kind_year", "grant", ["person_ref", "kind", "academic_year"], unique=True)
    op.create_index("uq_grant_vocational_once", "grant", ["person_ref"], unique=True,
                    postgresql_where=sa.text("kind = 'vocational_once'"))


def downgrade() -> None:
    for table in ("grant", "enrollment", "grant_policy", "household_member", "household"):
        op.drop_table(table)
