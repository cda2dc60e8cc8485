"""Recompute the whole ledger from its entries and compare with the balances kept in step."""

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.money import format_money

_TOTALS = text("SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0) FROM journal_lines")
_UNBALANCED = text("SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
                   "HAVING sum(debit) <> sum(credit)) AS unbalanced")
# Asset accounts: kept balance vs. debits - credits of their lines vs. money still in their lineage lots (the open
# ones, through the partial index ix_lots_open: lots has no index on account_id alone, and a sequential scan of
# every lot per account took 40 s with 150,000 payees' lots, past the gateway's 30 s).
_ACCOUNTS = text("""
SELECT a.id, a.code, a.balance,
       coalesce((SELECT sum(l.debit - l.credit) FROM journal_lines l WHERE l.account_id = a.id), 0) AS recomputed,
       coalesce((SELECT sum(t.remaining) FROM lots t WHERE t.account_id = a.id AND t.remaining > 0), 0) AS in_lots
FROM accounts a WHERE a.kind IN ('fund', 'program') ORDER BY a.id
""")

# Rows whose reference is missing: the foreign keys of journal lines, lots and payments are declared but not enforced
# (migration 0009: checking them at insert was half of PostgreSQL's time per payment); every writer takes the ids it
# writes from rows of its own transaction, so this finds none unless a bug wrote one.
ORPHANS = text("""
SELECT (SELECT count(*) FROM journal_lines l WHERE NOT EXISTS (SELECT FROM journal_entries e WHERE e.id = l.entry_id))
     + (SELECT count(*) FROM journal_lines l WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = l.account_id))
     + (SELECT count(*) FROM lots t WHERE NOT EXISTS (SELECT FROM journal_entries e WHERE e.id = t.entry_id))
     + (SELECT count(*) FROM lots t WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = t.account_id))
     + (SELECT count(*) FROM lots t WHERE NOT EXISTS (SELECT FROM funds f WHERE f.id = t.source_fund_id))
     + (SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = p.account_id))
     + (SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = p.payee_account_id))
     + (SELECT count(*) FROM payments p
        WHERE p.entry_id IS NOT NULL AND NOT EXISTS (SELECT FROM journal_entries e WHERE e.id = p.entry_id))
     + (SELECT count(*) FROM payments p WHERE p.reversal_entry_id IS NOT NULL
        AND NOT EXISTS (SELECT FROM journal_entries e WHERE e.id = p.reversal_entry_id))
""")


async def verify_ledger(session: AsyncSession) -> dict[str, Any]:
    """`{balanced, total_debits, total_credits, negative_balances, ...}` from a consistent snapshot."""
    await session.exec(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))  # type: ignore[call-overload]
    debits, credits = (await session.exec(_TOTALS)).one()  # type: ignore[call-overload]
    unbalanced_entries = int((await session.exec(_UNBALANCED)).scalar_one())  # type: ignore[call-overload]
    orphaned = int((await session.exec(ORPHANS)).scalar_one())  # type: ignore[call-overload]
    mismatched: list[dict[str, str]] = []
    negative = 0
    accounts = 0
    for _id, code, balance, recomputed, in_lots in (await session.exec(_ACCOUNTS)).all():  # type: ignore[call-overload]
        accounts += 1
        if balance < 0 or recomputed < 0:
            negative += 1
        if balance != recomputed or balance != in_lots:
            mismatched.append({"account": code, "balance": format_money(balance),
                               "recomputed": format_money(recomputed), "lineage": format_money(in_lots)})
    balanced = (Decimal(debits) == Decimal(credits) and unbalanced_entries == 0 and not mismatched and negative == 0
                and orphaned == 0)
    return {"balanced": balanced, "total_debits": format_money(debits), "total_credits": format_money(credits),
            "negative_balances": negative, "unbalanced_entries": unbalanced_entries, "accounts_checked": accounts,
            "mismatched_accounts": mismatched, "orphaned_rows": orphaned}
