"""maker-checker for allocations: a per-year approval threshold; allocations above it wait for a second client

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("budget_policies", sa.Column("allocation_approval_threshold", sa.Numeric(14, 2)))
    op.add_column("allocations", sa.Column("status", sa.String, nullable=False, server_default="allocated"))
    op.add_column("allocations", sa.Column("decided_by", sa.String))
    op.add_column("allocations", sa.Column("decided_at", sa.DateTime(timezone=True)))
    op.add_column("allocations", sa.Column("decision_note", sa.String))
    op.alter_column("allocations", "entry_id", nullable=True)
    op.create_check_constraint("status", "allocations", "status IN ('allocated', 'pending_approval', 'rejected')")
    # money moved exactly when the allocation is allocated
    op.create_check_constraint("entry_when_allocated", "allocations",
                               "(status = 'allocated') = (entry_id IS NOT NULL)")
    op.create_index("ix_allocations_pending", "allocations", ["jurisdiction_code", "created_at"],
                    postgresql_where=sa.text("status = 'pending_approval'"))


def downgrade() -> None:
    op.execute("DELETE FROM allocations WHERE status <> 'allocated'")
    op.drop_index("ix_allocations_pending", "allocations")
    op.drop_constraint(op.f("ck_allocations_entry_when_allocated"), "allocations")
    op.drop_constraint(op.f("ck_allocations_status"), "allocations")
    op.alter_column("allocations", "entry_id", nullable=False)
    for column in ("decision_note", "decided_at", "decided_by", "status"):
        op.drop_column("allocations", column)
    op.drop_column("budget_policies", "allocation_approval_threshold")
