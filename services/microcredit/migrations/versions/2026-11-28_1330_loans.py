"""loans and repayments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.Uuid, nullable=False),
        sa.Column("bank_code", sa.String, nullable=False),
        sa.Column("person_ref", sa.String, nullable=False),
        sa.Column("household_id", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        sa.Column("village_code", sa.String, nullable=False),
        sa.Column("masked_id_number", sa.String, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("principal_outstanding", sa.Numeric(14, 2), nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("annual_rate", sa.Numeric(7, 4), nullable=False),
        sa.Column("disbursed_on", sa.Date, nullable=False),
        sa.Column("maturity_date", sa.Date, nullable=False),
        sa.Column("purpose", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("unpaid_principal", sa.Numeric(14, 2)),
        sa.Column("compensation", sa.Numeric(14, 2)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'repaid', 'defaulted')", name="ck_loans_status"),
        sa.CheckConstraint("principal_outstanding >= 0 AND principal_outstanding <= amount",
                           name="ck_loans_outstanding_range"),
        sa.PrimaryKeyConstraint("loan_id", name="pk_loans"),
    )
    op.create_index("ix_loans_bank_code", "loans", ["bank_code"])
    op.create_index("ix_loans_household_id", "loans", ["household_id"])
    op.create_index("ix_loans_person_ref", "loans", ["person_ref"])
    op.create_table(
        "repayments",
        sa.Column("repayment_id", sa.Uuid, nullable=False),
        sa.Column("loan_id", sa.Uuid, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("principal_after", sa.Numeric(14, 2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.loan_id"], name="fk_repayments_loan_id_loans"),
        sa.PrimaryKeyConstraint("repayment_id", name="pk_repayments"),
    )
    op.create_index("ix_repayments_loan_id", "repayments", ["loan_id"])


def downgrade() -> None:
    op.drop_table("repayments")
    op.drop_table("loans")
