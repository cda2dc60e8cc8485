"""quarterly interest-subsidy claims; one accepted item per loan and period

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:40
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interest_claims",
        sa.Column("claim_id", sa.Uuid, nullable=False),
        sa.Column("bank_code", sa.String, nullable=False),
        sa.Column("period", sa.String, nullable=False),
        sa.Column("subsidy_total", sa.Numeric(14, 2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name="pk_interest_claims"),
    )
    op.create_index("ix_interest_claims_bank_code", "interest_claims", ["bank_code"])
    op.create_table(
        "interest_claim_items",
        sa.Column("id", sa.BigInteger, autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.Uuid, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("loan_id", sa.String, nullable=False),
        sa.Column("period", sa.String, nullable=False),
        sa.Column("claimed", sa.Numeric(14, 2), nullable=False),
        sa.Column("subsidy", sa.Numeric(14, 2), nullable=False),
        sa.Column("days_active", sa.Integer, nullable=False),
        sa.Column("reason", sa.String),
        sa.ForeignKeyConstraint(["claim_id"], ["interest_claims.claim_id"],
                                name="fk_interest_claim_items_claim_id_interest_claims"),
        sa.PrimaryKeyConstraint("id", name="pk_interest_claim_items"),
    )
    op.create_index("ix_interest_claim_items_claim_id", "interest_claim_items", ["claim_id"])
    # already_claimed is decided under the loan's row lock; this index is the database's last word on it.
    op.create_index("uq_interest_claim_items_loan_period", "interest_claim_items", ["loan_id", "period"],
                    unique=True, postgresql_where=sa.text("reason IS NULL"))


def downgrade() -> None:
    op.drop_table("interest_claim_items")
    op.drop_table("interest_claims")
