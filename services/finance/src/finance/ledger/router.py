"""Programme account balances, the audit trail of journal entries, and the whole-ledger verification."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from finance.access import FinanceReader
from finance.divisions import JURISDICTION_PATTERN
from finance.ledger import service as ledger
from finance.ledger.rules import PROGRAMS, Program
from finance.ledger.verification import verify_ledger
from finance.payments import service as payments
from fupin_kit.db import SessionDep
from fupin_kit.money import Money
from fupin_kit.text import NoNul

router = APIRouter(prefix="/finance", tags=["ledger"])


class AccountBalance(BaseModel):
    account_id: int | None
    jurisdiction_code: str
    program: str
    balance: Money
    pending_funds: Money


class EntryLine(BaseModel):
    account: str
    debit: Money
    credit: Money


class Entry(BaseModel):
    entry_id: int
    kind: str
    reference: str | None
    recorded_by: str
    note: str | None
    created_at: Any
    lines: list[EntryLine]


@router.get("/accounts", response_model=list[AccountBalance])
async def list_accounts(session: SessionDep, _: FinanceReader,
                        jurisdiction_code: Annotated[str | None, Query(pattern=JURISDICTION_PATTERN)] = None,
                        program: Program | None = None) -> list[AccountBalance]:
    """Programme account balances; for one jurisdiction every programme is listed (zero where never funded)."""
    accounts = await ledger.program_accounts(session, jurisdiction_code, program)
    pending = await payments.pending_total(session, [a.id for a in accounts if a.id is not None])
    found = {(a.jurisdiction_code, a.program): a for a in accounts}
    keys: list[tuple[str, str]] = list(found)  # type: ignore[arg-type]
    if jurisdiction_code:
        keys = [(jurisdiction_code, p) for p in PROGRAMS if program in (None, p)]
    answer = []
    for key in keys:
        account = found.get(key)
        answer.append(AccountBalance(
            account_id=account.id if account else None, jurisdiction_code=key[0], program=key[1],
            balance=account.balance if account and account.balance is not None else Decimal("0.00"),
            pending_funds=pending.get(account.id, Decimal("0.00")) if account and account.id else Decimal("0.00")))
    return answer


@router.get("/ledger/entries", response_model=list[Entry])
async def list_entries(reference: Annotated[str, Query(min_length=1, max_length=100), NoNul], session: SessionDep,
                       _: FinanceReader) -> list[Entry]:
    """The audit trail of one business object (a fund, allocation or payment id): who, why, which lines. A payment
    paid in a batch shares its entry with the batch's other payments: only its programme's and its payee's lines
    are shown."""
    answer = []
    for entry, lines in await ledger.entries_with_lines(session, reference,
                                                        linked=await payments.entries_of(session, reference)):
        answer.append(Entry(entry_id=entry.id or 0, kind=entry.kind, reference=entry.reference,
                            recorded_by=entry.recorded_by, note=entry.note, created_at=entry.created_at,
                            lines=[EntryLine(account=code, debit=debit, credit=credit)
                                   for code, debit, credit in lines]))
    return answer


@router.get("/ledger/verify")
async def verify(session: SessionDep, _: FinanceReader) -> dict[str, Any]:
    """Recompute every balance from the journal and compare: `{balanced, total_debits, total_credits,
    negative_balances}` plus the details of any mismatch."""
    return await verify_ledger(session)
