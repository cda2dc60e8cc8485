"""benefits with fillfactor 75: marking a benefit paid (or cancelled) is a HOT update

A benefit is written once by the monthly run and updated once when finance pays it (status, paid_at, payment_id:
none indexed). With full pages (fillfactor 100) a quarter to a third of those updates found no room on the row's
page and wrote a new version elsewhere plus an entry in each of the table's five indexes; with a quarter of each
new page left free, 99.5% are HOT (30,000 benefits: the mark-paid UPDATE 28 -> 14 µs of PostgreSQL CPU each). Only
pages written from now on keep the room (no table rewrite).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:20
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE benefits SET (fillfactor = 75)")


def downgrade() -> None:
    op.execute("ALTER TABLE benefits RESET (fillfactor)")
