"""payment order that never freezes (issue 11 item 7): payments.barrier_at and payment_queues.paid_out

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:20
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_queues",
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("paid_out", sa.Numeric(20, 2), nullable=False, server_default="0"),
    )
    op.add_column("payments", sa.Column("barrier_at", sa.Numeric(20, 2)))
    # payments already waiting started at paid_out 0: each may be overtaken by its own amount from now on
    op.execute("UPDATE payments SET barrier_at = amount WHERE status = 'pending_funds'")
    op.create_index("ix_payments_barrier", "payments", ["account_id", "barrier_at"],
                    postgresql_where=sa.text("status = 'pending_funds'"))


def downgrade() -> None:
    op.drop_index("ix_payments_barrier", "payments")
    op.drop_column("payments", "barrier_at")
    op.drop_table("payment_queues")
