"""dashboard read model: divisions, households, loans, settlements, payments, tallies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 14:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(16, 2), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "division",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(12), index=True),
        sa.Column("poor", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("population", sa.Integer, nullable=False, server_default="0"),
        sa.Column("exited", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "household",
        sa.Column("household_id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(20)),
        sa.Column("village_code", sa.String(12), nullable=False),
        sa.Column("persons", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sequence", sa.BigInteger),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("exit_year", sa.Integer),
        sa.Column("has_loan", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "loan",
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.Uuid, nullable=False),
        sa.Column("village_code", sa.String(12), nullable=False),
        _money("amount"),
        sa.Column("defaulted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "settlement",
        sa.Column("settlement_id", sa.String(64), primary_key=True),
        sa.Column("village_code", sa.String(12), nullable=False),
        _money("amount"),
        _money("patient_pays", nullable=True),
        sa.Column("reversed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "payment",
        sa.Column("payment_key", sa.String(200), primary_key=True),
        sa.Column("program", sa.String(40), nullable=False),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("village_code", sa.String(12)),
        _money("amount"),
        sa.Column("status", sa.String(10), nullable=False),
    )
    op.create_table(
        "tally",
        sa.Column("division_code", sa.String(12), primary_key=True),
        sa.Column("metric", sa.String(80), primary_key=True),
        sa.Column("value", sa.Numeric(20, 2), nullable=False),
    )
    op.create_table(
        "progress",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("progress", "tally", "payment", "settlement", "loan", "household", "division"):
        op.drop_table(table)
