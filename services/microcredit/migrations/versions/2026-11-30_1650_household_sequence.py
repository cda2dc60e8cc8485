"""households read model: the registry's per-household `sequence` orders snapshots (the kit's household read model)

Revision ID: 0008_household_sequence
Revises: 0007_no_masked_number
Create Date: 2026-11-30 16:50
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_household_sequence"
down_revision = "0007_no_masked_number"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("households", sa.Column("sequence", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("households", "sequence")
