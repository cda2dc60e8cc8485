"""budget_policies: a loosening change of the allocation approval threshold waits for a second client (issue 12)

Revision ID: 0007_threshold_checker
Revises: 0006
Create Date: 2026-11-30 16:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_threshold_checker"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("budget_policies", sa.Column("pending_threshold", sa.Numeric(14, 2)))
    op.add_column("budget_policies", sa.Column("pending_threshold_by", sa.String))


def downgrade() -> None:
    op.drop_column("budget_policies", "pending_threshold_by")
    op.drop_column("budget_policies", "pending_threshold")
