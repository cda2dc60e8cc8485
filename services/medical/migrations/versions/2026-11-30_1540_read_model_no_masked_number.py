"""persons read model: drop masked_id_number (no masked number in a read model, contract v2 §0), add member_id

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
    op.drop_column("persons", "masked_id_number")
    op.add_column("persons", sa.Column("member_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("persons", "member_id")
    op.add_column("persons", sa.Column("masked_id_number", sa.String(), nullable=False, server_default=""))
