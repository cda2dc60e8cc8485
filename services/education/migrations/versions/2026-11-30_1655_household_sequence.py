"""household read model on the kit's: `as_of` becomes `occurred_at`, the registry's `sequence` orders snapshots

Revision ID: 0005_household_sequence
Revises: 0004_no_masked_number
Create Date: 2026-11-30 16:55
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_household_sequence"
down_revision = "0004_no_masked_number"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("household", "as_of", new_column_name="occurred_at")
    op.add_column("household", sa.Column("sequence", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("household", "sequence")
    op.alter_column("household", "occurred_at", new_column_name="as_of")
