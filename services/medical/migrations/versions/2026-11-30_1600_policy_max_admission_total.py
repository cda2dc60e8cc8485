"""policies.max_admission_total: the per-admission maximum a settlement may carry (default 2,000,000.00)

Revision ID: 0005_max_admission_total
Revises: 0004_no_masked_number
Create Date: 2026-11-30 16:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_max_admission_total"
down_revision = "0004_no_masked_number"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("max_admission_total", sa.Numeric(14, 2), nullable=False,
                                        server_default="2000000.00"))


def downgrade() -> None:
    op.drop_column("policies", "max_admission_total")
