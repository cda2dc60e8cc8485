"""benefit_cancellations: `benefit-cancelled` remembered so a later `benefit-due` is never paid (contract v2 §5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_cancellations",
        sa.Column("benefit_id", sa.String, primary_key=True),
        sa.Column("reason_code", sa.String),
        sa.Column("event_id", sa.String, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("benefit_cancellations")
