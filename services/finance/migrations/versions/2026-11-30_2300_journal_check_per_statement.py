"""journal balance checked once per INSERT statement instead of once per line at commit; payments' reference index
dropped (issue 14 target 4)

The deferred row trigger summed an entry's lines again for every line at commit: two lookups per payment, and
quadratic for an entry with many lines (a batch's journal entry has one line per payee). A statement-level trigger
with a transition table checks each entry that got lines in the statement once, against all of its lines. Lines are
append-only and every writer inserts an entry's lines in one statement (`ledger.post_entry`, `settle._post`), so an
entry is balanced after every statement that touches it, and so at commit, as before. `journal_entries_have_lines`
stays deferred (an entry is inserted before its lines).

`ix_payments_reference` duplicated the leading column of `uq_payments_business_reference`: one index less to write
per payment.

Revision ID: 0008_journal_statement_check
Revises: 0007_threshold_checker
Create Date: 2026-11-30 23:00
"""
from alembic import op

revision = "0008_journal_statement_check"
down_revision = "0007_threshold_checker"
branch_labels = None
depends_on = None

STATEMENT_CHECK = [
    """
CREATE FUNCTION journal_statement_is_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT l.entry_id, sum(l.debit) AS debits, sum(l.credit) AS credits, count(*) AS lines INTO bad
    FROM journal_lines l WHERE l.entry_id IN (SELECT DISTINCT entry_id FROM new_lines)
    GROUP BY l.entry_id HAVING sum(l.debit) <> sum(l.credit) OR count(*) < 2 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
      bad.entry_id, bad.debits, bad.credits, bad.lines USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE TRIGGER journal_lines_balanced_per_statement AFTER INSERT ON journal_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION journal_statement_is_balanced()""",
]


def upgrade() -> None:
    op.execute("DROP TRIGGER journal_lines_balanced ON journal_lines")
    op.execute("DROP FUNCTION journal_entry_is_balanced()")
    for statement in STATEMENT_CHECK:
        op.execute(statement)
    op.drop_index("ix_payments_reference", "payments")


def downgrade() -> None:
    op.create_index("ix_payments_reference", "payments", ["reference"])
    op.execute("DROP TRIGGER journal_lines_balanced_per_statement ON journal_lines")
    op.execute("DROP FUNCTION journal_statement_is_balanced()")
    op.execute("""
CREATE FUNCTION journal_entry_is_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  debits numeric; credits numeric; lines integer;
BEGIN
  SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*) INTO debits, credits, lines
    FROM journal_lines WHERE entry_id = NEW.entry_id;
  IF debits <> credits OR lines < 2 THEN
    RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %, % lines',
      NEW.entry_id, debits, credits, lines USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$""")
    op.execute("""
CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_is_balanced()""")
