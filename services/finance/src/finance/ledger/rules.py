"""Double-entry rules as pure functions: programmes, balanced entries, FIFO lineage lots."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

# Contract §5 (with its v2 welfare additions): the programme accounts every jurisdiction holds.
Program = Literal["education_grants", "medical_assistance", "loan_interest_subsidy", "risk_compensation",
                  "village_teams", "industry", "infrastructure",
                  "minimum_living", "temporary_assistance", "eco_rangers", "relocation"]
PROGRAMS: tuple[str, ...] = get_args(Program)

# Fund accounts and programme accounts hold money (asset accounts: balance kept, never below zero);
# treasury (where received money comes from) and payee (where paid money goes) accounts are outside the city's books.
ASSET_KINDS = ("fund", "program")
ZERO = Decimal("0.00")
# Balances and amounts are NUMERIC(14, 2): the largest an account (or one fund) can hold.
MAX_BALANCE = Decimal("999999999999.99")


@dataclass(frozen=True)
class Posting:
    account_id: int
    debit: Decimal = ZERO
    credit: Decimal = ZERO


@dataclass(frozen=True)
class Piece:
    """An amount of money together with the received (source) fund it came from."""
    source_fund_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class LotTake:
    lot_id: int
    source_fund_id: uuid.UUID
    amount: Decimal


def is_balanced(postings: Sequence[Posting]) -> bool:
    """A journal entry is valid when it has two or more lines, each a positive debit or a positive credit (never
    both), and its debits equal its credits."""
    if len(postings) < 2:
        return False
    for p in postings:
        if p.debit < 0 or p.credit < 0 or (p.debit > 0) == (p.credit > 0):
            return False
    return sum((p.debit for p in postings), ZERO) == sum((p.credit for p in postings), ZERO)


def fits(balance: Decimal, amount: Decimal) -> bool:
    """Whether an account holding `balance` can take `amount` more without passing MAX_BALANCE (the database column
    would overflow)."""
    return balance + amount <= MAX_BALANCE


def fifo_take(lots: Iterable[tuple[int, uuid.UUID, Decimal]], amount: Decimal) -> list[LotTake]:
    """Take `amount` from (lot_id, source_fund_id, remaining) lots oldest first; raises ValueError if they hold less.

    First in, first out: money leaves an account in the order it came in, so every yuan paid names its source fund.
    """
    taken: list[LotTake] = []
    left = amount
    for lot_id, source_fund_id, remaining in lots:
        if left <= 0:
            break
        part = min(remaining, left)
        if part > 0:
            taken.append(LotTake(lot_id, source_fund_id, part))
            left -= part
    if left > 0:
        raise ValueError(f"lots hold {amount - left} of {amount}")
    return taken


def merge_pieces(pieces: Iterable[Piece]) -> list[Piece]:
    """Sum pieces per source fund, keeping first-seen order."""
    totals: dict[uuid.UUID, Decimal] = {}
    for piece in pieces:
        totals[piece.source_fund_id] = totals.get(piece.source_fund_id, ZERO) + piece.amount
    return [Piece(fund_id, amount) for fund_id, amount in totals.items()]


def program_account_code(jurisdiction_code: str, program: str) -> str:
    return f"program:{jurisdiction_code}:{program}"


def treasury_account_code(source: str) -> str:
    return f"treasury:{source}"


def payee_account_code(payee: str) -> str:
    return f"payee:{payee}"


def fund_account_code(fund_id: uuid.UUID) -> str:
    return f"fund:{fund_id}"
