"""budgets, accounts, append-only journal with balanced entries, lineage lots, funds, allocations, payments

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

MONEY = sa.Numeric(14, 2)


def _created_at(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _identity() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)


# Checked at commit for every entry that got lines in the transaction: debits equal credits, at least two lines.
JOURNAL_GUARDS = [
    """
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
END $$""",
    """
CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_is_balanced()""",
    """
CREATE FUNCTION journal_entry_has_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM journal_lines WHERE entry_id = NEW.id) THEN
    RAISE EXCEPTION 'journal entry % has no lines', NEW.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE CONSTRAINT TRIGGER journal_entries_have_lines AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_has_lines()""",
    """
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$""",
    """
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
  FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()""",
    """
CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines
  FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "budget_policies",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("floor_ratio", sa.Numeric(6, 4), nullable=False),
        sa.Column("min_growth_rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("recorded_by", sa.String, nullable=False),
        _created_at("updated_at"),
    )
    op.create_table(
        "jurisdiction_years",
        sa.Column("jurisdiction_code", sa.String, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("general_budget_revenue", MONEY, nullable=False),
        sa.Column("special_fund_budget", MONEY, nullable=False),
        sa.Column("recorded_by", sa.String, nullable=False),
        sa.Column("note", sa.String),
        _created_at("updated_at"),
    )
    op.create_table(
        "accounts",
        _identity(),
        sa.Column("code", sa.String, nullable=False, unique=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("jurisdiction_code", sa.String, index=True),
        sa.Column("program", sa.String),
        sa.Column("balance", MONEY),
        _created_at(),
        sa.CheckConstraint("kind IN ('treasury', 'fund', 'program', 'payee')", name="kind"),
        sa.CheckConstraint("(kind IN ('fund', 'program')) = (balance IS NOT NULL)", name="balance_kept_for_assets"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    )
    op.create_table(
        "journal_entries",
        _identity(),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("reference", sa.String),
        sa.Column("recorded_by", sa.String, nullable=False),
        sa.Column("note", sa.String),
        _created_at(),
    )
    op.create_table(
        "journal_lines",
        _identity(),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.id"), nullable=False, index=True),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("debit", MONEY, nullable=False, server_default="0"),
        sa.Column("credit", MONEY, nullable=False, server_default="0"),
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit > 0) <> (credit > 0)", name="one_side"),
    )
    for statement in JOURNAL_GUARDS:
        op.execute(statement)
    op.create_table(
        "funds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("jurisdiction_code", sa.String, nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("purpose", sa.String, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False, unique=True),
        sa.Column("recorded_by", sa.String, nullable=False),
        sa.Column("note", sa.String),
        _created_at(),
    )
    op.create_table(
        "fund_components",
        sa.Column("integrated_fund_id", sa.Uuid, sa.ForeignKey("funds.id"), primary_key=True),
        sa.Column("component_fund_id", sa.Uuid, sa.ForeignKey("funds.id"), primary_key=True),
        sa.Column("amount", MONEY, nullable=False),
    )
    op.create_table(
        "lots",
        _identity(),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.id"), nullable=False, index=True),
        sa.Column("source_fund_id", sa.Uuid, sa.ForeignKey("funds.id"), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("remaining", MONEY, nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount AND amount > 0", name="remaining_within_amount"),
    )
    op.create_index("ix_lots_open", "lots", ["account_id", "id"], postgresql_where=sa.text("remaining > 0"))
    op.create_table(
        "allocations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("fund_id", sa.Uuid, sa.ForeignKey("funds.id"), nullable=False, index=True),
        sa.Column("jurisdiction_code", sa.String, nullable=False),
        sa.Column("program", sa.String, nullable=False),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column("recorded_by", sa.String, nullable=False),
        sa.Column("note", sa.String),
        _created_at(),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
        sa.Column("reference", sa.String, nullable=False, index=True),
        sa.Column("item_reference", sa.String, nullable=False, server_default=""),
        sa.Column("program", sa.String, nullable=False),
        sa.Column("county_code", sa.String, nullable=False),
        sa.Column("village_code", sa.String),
        sa.Column("payee", sa.String, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("payee_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.id")),
        sa.Column("reversal_entry_id", sa.BigInteger, sa.ForeignKey("journal_entries.id")),
        sa.Column("event_id", sa.String, nullable=False),
        _created_at(),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("reversed_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("reference", "program", "item_reference", name="uq_payments_business_reference"),
        sa.CheckConstraint("status IN ('paid', 'pending_funds', 'reversed')", name="status"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )
    op.create_index("ix_payments_pending", "payments", ["account_id", "seq"],
                    postgresql_where=sa.text("status = 'pending_funds'"))
    op.create_index("ix_payments_village_paid", "payments", ["village_code"],
                    postgresql_where=sa.text("status = 'paid'"))
    op.create_table(
        "settlement_reversals",
        sa.Column("settlement_id", sa.String, primary_key=True),
        sa.Column("reason_code", sa.String),
        sa.Column("event_id", sa.String, nullable=False),
        _created_at("received_at"),
    )


def downgrade() -> None:
    for table in ("settlement_reversals", "payments", "allocations", "lots", "fund_components", "funds"):
        op.drop_table(table)
    for statement in ("DROP TABLE journal_lines", "DROP TABLE journal_entries",
                      "DROP FUNCTION journal_entry_is_balanced()", "DROP FUNCTION journal_entry_has_lines()",
                      "DROP FUNCTION journal_is_append_only()"):
        op.execute(statement)
    for table in ("accounts", "jurisdiction_years", "budget_policies"):
        op.drop_table(table)
