"""product policy per year (cap, term, ages, benchmark rate, compensation share)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:20
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_policies",
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("household_cap", sa.Numeric(14, 2), nullable=False),
        sa.Column("max_term_months", sa.Integer, nullable=False),
        sa.Column("min_age", sa.Integer, nullable=False),
        sa.Column("max_age", sa.Integer, nullable=False),
        sa.Column("benchmark_rate", sa.Numeric(7, 4), nullable=False),
        sa.Column("compensation_ratio", sa.Numeric(5, 4), nullable=False),
        sa.Column("updated_by", sa.String, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_product_policies"),
    )


def downgrade() -> None:
    op.drop_table("product_policies")
