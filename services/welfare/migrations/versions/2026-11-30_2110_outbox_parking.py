"""outbox parking columns (the kit's relay parks unpublishable rows instead of blocking on them); idempotent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 21:10
"""
from fupin_kit.migrations import add_outbox_parking, drop_outbox_parking

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_parking()


def downgrade() -> None:
    drop_outbox_parking()
