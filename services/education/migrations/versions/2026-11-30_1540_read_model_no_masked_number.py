"""household_member read model: drop masked_id_number (with birth_date it rebuilds the ID number, contract v2 §0),
add member_id (the registry's, for the dropout-risk answer of v2 §3)

Revision ID: 0004_no_masked_number
Revises: 0003
Create Date: 2026-11-30 15:40
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_no_masked_number"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("household_member", "masked_id_number")
    op.add_column("household_member", sa.Column("member_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("household_member", "member_id")
    op.add_column("household_member", sa.Column("masked_id_number", sa.String(18), nullable=False,
                                                server_default=""))
