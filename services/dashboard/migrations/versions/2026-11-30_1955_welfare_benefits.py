"""benefit: welfare benefits (benefit-due, benefit-cancelled, finance's payment-completed) for the welfare
programmes' pending figure

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 19:55
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit",
        sa.Column("benefit_id", sa.String(100), primary_key=True),
        sa.Column("program", sa.String(40)),
        sa.Column("village_code", sa.String(12)),
        sa.Column("amount", sa.Numeric(16, 2)),
        sa.Column("due", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("settled", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_table("benefit")
