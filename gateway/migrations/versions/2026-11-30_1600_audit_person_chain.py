"""audit log: whose data (person_ref pseudonym), which hospital, and a hash chain over the rows

Each row's `row_hash` = sha256 of the previous row's hash and its own fields (gateway.audit.row_hash_text spells the
same text in Python; `GET /audit/verify` recomputes the chain). The chain position and hashes are set by a BEFORE
INSERT trigger under a transaction-scoped advisory lock, so several gateway replicas extend one chain.

Revision ID: 0003_audit_chain
Revises: 0002_officials
Create Date: 2026-11-30 16:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_audit_chain"
down_revision = "0002_officials"
branch_labels = None
depends_on = None

# The text that is hashed; gateway.audit.row_hash_text must build exactly the same string.
HASHED = ("concat_ws('|', {p}.prev_hash, {p}.chain_seq::text, {p}.id::text, "
          "(extract(epoch FROM {p}.occurred_at) * 1000000)::bigint::text, {p}.client_id, {p}.method, {p}.service, "
          "{p}.path, coalesce({p}.subject, ''), {p}.status::text, {p}.request_id, coalesce({p}.person_ref, ''), "
          "coalesce({p}.hospital_code, ''))")


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("person_ref", sa.String))
    op.add_column("audit_log", sa.Column("hospital_code", sa.String))
    op.add_column("audit_log", sa.Column("chain_seq", sa.BigInteger))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String))
    op.add_column("audit_log", sa.Column("row_hash", sa.String))
    # Rows written before the chain existed join it in id order (the append-only trigger is lifted for this only).
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    op.execute(f"""
        DO $$
        DECLARE r record; prev text := ''; n bigint := 0;
        BEGIN
            FOR r IN SELECT id FROM audit_log ORDER BY id LOOP
                n := n + 1;
                UPDATE audit_log a SET chain_seq = n, prev_hash = prev WHERE a.id = r.id;
                UPDATE audit_log a SET row_hash = encode(sha256(convert_to({HASHED.format(p='a')}, 'UTF8')), 'hex')
                    WHERE a.id = r.id RETURNING row_hash INTO prev;
            END LOOP;
        END $$
    """)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    op.create_index("ux_audit_log_chain_seq", "audit_log", ["chain_seq"], unique=True)
    op.create_index("ix_audit_log_person_ref", "audit_log", ["person_ref"])
    op.execute(f"""
        CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE last record;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
            SELECT chain_seq, row_hash INTO last FROM audit_log ORDER BY chain_seq DESC NULLS LAST LIMIT 1;
            NEW.chain_seq := coalesce(last.chain_seq, 0) + 1;
            NEW.prev_hash := coalesce(last.row_hash, '');
            NEW.row_hash := encode(sha256(convert_to({HASHED.format(p='NEW')}, 'UTF8')), 'hex');
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_chain()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION audit_log_chain()")
    op.drop_index("ix_audit_log_person_ref", "audit_log")
    op.drop_index("ux_audit_log_chain_seq", "audit_log")
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    for column in ("row_hash", "prev_hash", "chain_seq", "hospital_code", "person_ref"):
        op.drop_column("audit_log", column)
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
