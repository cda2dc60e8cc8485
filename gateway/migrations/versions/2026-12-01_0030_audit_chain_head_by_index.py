"""audit log: the chain trigger finds the previous row through the chain_seq index

0003's trigger asked for `ORDER BY chain_seq DESC NULLS LAST LIMIT 1`, an order the ascending unique index
`ux_audit_log_chain_seq` cannot give backwards (its reverse is DESC NULLS FIRST), so every audited call sorted the whole
audit log: the cost of one insert grew with the log (a sequential scan and a sort of 54,000 rows per row on the dev
stack; PostgreSQL was the gateway's bottleneck for audited reads). Every row has a chain_seq since 0003 (the trigger
sets it), so `WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1` is the same row, read from the index's end.
The hashed text is unchanged (gateway.audit.row_hash_text).

Revision ID: 0004_audit_chain_head
Revises: 0003_audit_chain
Create Date: 2026-12-01 00:30
"""
from alembic import op

revision = "0004_audit_chain_head"
down_revision = "0003_audit_chain"
branch_labels = None
depends_on = None

# The text that is hashed, as in 0003 (gateway.audit.row_hash_text builds the same string).
HASHED = ("concat_ws('|', NEW.prev_hash, NEW.chain_seq::text, NEW.id::text, "
          "(extract(epoch FROM NEW.occurred_at) * 1000000)::bigint::text, NEW.client_id, NEW.method, NEW.service, "
          "NEW.path, coalesce(NEW.subject, ''), NEW.status::text, NEW.request_id, coalesce(NEW.person_ref, ''), "
          "coalesce(NEW.hospital_code, ''))")


def _chain_function(last_row: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE last record;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
            SELECT chain_seq, row_hash INTO last FROM audit_log {last_row};
            NEW.chain_seq := coalesce(last.chain_seq, 0) + 1;
            NEW.prev_hash := coalesce(last.row_hash, '');
            NEW.row_hash := encode(sha256(convert_to({HASHED}, 'UTF8')), 'hex');
            RETURN NEW;
        END $$
    """


def upgrade() -> None:
    op.execute(_chain_function("WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1"))


def downgrade() -> None:
    op.execute(_chain_function("ORDER BY chain_seq DESC NULLS LAST LIMIT 1"))
