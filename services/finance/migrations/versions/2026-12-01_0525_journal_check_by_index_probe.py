"""the journal's per-statement balance check reads the statement's entries through ix_journal_lines_entry_id, one
probe per entry (issue 14 target 4)

`l.entry_id IN (SELECT DISTINCT entry_id FROM new_lines)` was planned as a merge join over the whole entry_id index:
a batch's 2,001 lines (one entry) read all 163,726 lines of the ledger, 98 ms per batch on the dev stack's copy and
growing with every payment. `= ANY (ARRAY(...))` probes the index for each entry: 1 ms. Same rows checked, same error.

Revision ID: 0011_journal_check_probe
Revises: 0010_drop_village_paid_index
Create Date: 2026-12-01 05:25
"""
from alembic import op

revision = "0011_journal_check_probe"
down_revision = "0010_drop_village_paid_index"
branch_labels = None
depends_on = None

CHECK = """
CREATE OR REPLACE FUNCTION journal_statement_is_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT l.entry_id, sum(l.debit) AS debits, sum(l.credit) AS credits, count(*) AS lines INTO bad
    FROM journal_lines l WHERE l.entry_id {entries}
    GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit) OR count(*) < 2 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
      bad.entry_id, bad.debits, bad.credits, bad.lines USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.execute(CHECK.replace("{entries}", "= ANY (ARRAY(SELECT DISTINCT entry_id FROM new_lines))"))


def downgrade() -> None:
    op.execute(CHECK.replace("{entries}", "IN (SELECT DISTINCT entry_id FROM new_lines)"))
