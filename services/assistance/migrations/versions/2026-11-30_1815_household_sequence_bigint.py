"""households.sequence as BIGINT, as the kit's household read model declares it (the registry's per-household
counter is an integer of the event contract, unbounded there: an INTEGER column refused large values and the batch
that held one was handled one by one)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:15
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("households", "sequence", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    op.alter_column("households", "sequence", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True)
