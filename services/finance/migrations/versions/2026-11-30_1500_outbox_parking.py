"""outbox: parked_at and last_error for rows that can never be published (kit relay parks them)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:00
"""
from fupin_kit.migrations import add_outbox_parking, drop_outbox_parking

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking()


def downgrade() -> None:
    drop_outbox_parking()
