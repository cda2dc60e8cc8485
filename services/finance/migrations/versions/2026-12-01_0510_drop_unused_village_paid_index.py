"""payments' ix_payments_village_paid dropped: never used, written for every paid payment (issue 14 target 4)

The disclosures read paid payments by `coalesce(village_code, county_code) LIKE prefix`, which this index on
`village_code` cannot serve; `pg_stat_user_indexes` of the dev stack showed 0 scans after 140,000 payments (3.6 MB).

Revision ID: 0010_drop_village_paid_index
Revises: 0009_payment_rows_fk_audit
Create Date: 2026-12-01 05:10
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_drop_village_paid_index"
down_revision = "0009_payment_rows_fk_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_payments_village_paid", "payments")


def downgrade() -> None:
    op.create_index("ix_payments_village_paid", "payments", ["village_code"],
                    postgresql_where=sa.text("status = 'paid'"))
