"""household_events.on → event_on (ON is a reserved word); a no-op where the table was created with event_on

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:20
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'household_events' AND column_name = 'on'
                   AND table_schema = current_schema()) THEN
            ALTER TABLE household_events RENAME COLUMN "on" TO event_on;
        END IF;
    END $$;
    """)
    op.create_index("ix_household_events_county_kind_on", "household_events", ["county_code", "kind", "event_on"])


def downgrade() -> None:
    op.drop_index("ix_household_events_county_kind_on", table_name="household_events")
