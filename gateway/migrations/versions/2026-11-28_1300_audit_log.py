"""audit log: append-only record of calls that touch personal data

Revision ID: 0001
Revises:
Create Date: 2026-11-28 13:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("service", sa.String, nullable=False),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("subject", sa.String),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String, nullable=False),
    )
    op.create_index("ix_audit_log_client_id_occurred_at", "audit_log", ["client_id", "occurred_at"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    # Append-only, enforced by the database whoever connects: rows can be added, never changed or removed.
    op.execute("""
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()
    """)
    op.execute("""
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log")
    op.execute("DROP FUNCTION audit_log_is_append_only()")
    op.drop_table("audit_log")
