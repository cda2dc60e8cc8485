"""household.event_sequence: the per-household counter carried as HouseholdSnapshot.sequence (contract v2 §6)

Revision ID: 0004_event_sequence
Revises: 0003
Create Date: 2026-11-30 15:40
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_event_sequence"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("household", sa.Column("event_sequence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("household", "event_sequence")
