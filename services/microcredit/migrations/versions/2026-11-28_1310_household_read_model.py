"""household read model: households and persons from registry events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("household_id", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("village_code", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name="pk_households"),
    )
    op.create_index("ix_households_county_code", "households", ["county_code"])
    op.create_table(
        "persons",
        sa.Column("person_ref", sa.String, nullable=False),
        sa.Column("household_id", sa.String, nullable=False),
        sa.Column("masked_id_number", sa.String, nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("relation", sa.String, nullable=False),
        sa.Column("labor", sa.String, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_ref", name="pk_persons"),
    )
    op.create_index("ix_persons_household_id", "persons", ["household_id"])


def downgrade() -> None:
    op.drop_table("persons")
    op.drop_table("households")
