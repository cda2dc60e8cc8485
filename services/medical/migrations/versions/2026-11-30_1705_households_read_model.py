"""households: the kit's household read model (one row per household, ordered by the registry's `sequence`);
persons keep the household's status and codes beside each member

Revision ID: 0006_households_read_model
Revises: 0005_max_admission_total
Create Date: 2026-11-30 17:05
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_households_read_model"
down_revision = "0005_max_admission_total"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("town_code", sa.String(length=9), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_households")),
    )
    op.create_index(op.f("ix_households_village_code"), "households", ["village_code"])
    op.create_index(op.f("ix_households_county_code"), "households", ["county_code"])
    op.execute("INSERT INTO households (household_id, status, village_code, town_code, county_code, occurred_at) "
               "SELECT DISTINCT ON (household_id) household_id, household_status, village_code, "
               "substr(village_code, 1, 9), county_code, occurred_at FROM persons "
               "ORDER BY household_id, occurred_at DESC")


def downgrade() -> None:
    op.drop_table("households")
