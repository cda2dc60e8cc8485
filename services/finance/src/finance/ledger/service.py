"""Posting to the ledger: accounts created on first use, rows locked in id order, balances kept in step, lots moved.

Deadlock freedom: a transaction first creates any missing account (INSERT .. ON CONFLICT, in code order), then locks
the asset accounts it will change in one `SELECT .. ORDER BY id FOR UPDATE`; external accounts (treasury, payee)
keep no balance and are never locked.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.ledger import rules
from finance.ledger.models import Account, JournalEntry, JournalLine, Lot
from finance.ledger.rules import Piece, Posting


class UnbalancedEntry(ValueError):
    """A programming error: an entry whose debits and credits differ is never written."""


@dataclass(frozen=True)
class AccountSpec:
    code: str
    kind: str
    jurisdiction_code: str | None = None
    program: str | None = None


def program_account(jurisdiction_code: str, program: str) -> AccountSpec:
    return AccountSpec(rules.program_account_code(jurisdiction_code, program), "program", jurisdiction_code, program)


def treasury_account(source: str) -> AccountSpec:
    return AccountSpec(rules.treasury_account_code(source), "treasury")


def payee_account(payee: str) -> AccountSpec:
    return AccountSpec(rules.payee_account_code(payee), "payee")


async def ensure_accounts(session: AsyncSession, specs: Sequence[AccountSpec]) -> dict[str, int]:
    """Create the accounts that do not exist yet (in code order) and return every account id by code."""
    wanted = {s.code: s for s in specs}
    found = await _account_ids(session, list(wanted))
    missing = sorted(code for code in wanted if code not in found)
    for code in missing:
        spec = wanted[code]
        await session.exec(insert(Account).values(  # type: ignore[call-overload]
            code=spec.code, kind=spec.kind, jurisdiction_code=spec.jurisdiction_code, program=spec.program,
            balance=rules.ZERO if spec.kind in rules.ASSET_KINDS else None,
        ).on_conflict_do_nothing(index_elements=["code"]))
    return {**found, **(await _account_ids(session, missing))} if missing else found


async def _account_ids(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    rows = await session.exec(select(col(Account.code), col(Account.id))  # type: ignore[call-overload]
                              .where(col(Account.code).in_(codes)))  # type: ignore[attr-defined]
    return {code: account_id for code, account_id in rows.all()}


async def open_fund_account(session: AsyncSession, fund_id: uuid.UUID, jurisdiction_code: str) -> int:
    """A new fund's own asset account (nobody else can see it before commit, so it needs no lock)."""
    result = await session.exec(insert(Account).values(  # type: ignore[call-overload]
        code=rules.fund_account_code(fund_id), kind="fund", jurisdiction_code=jurisdiction_code, balance=rules.ZERO,
    ).returning(col(Account.id)))
    return int(result.scalar_one())


async def lock_balances(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, Decimal]:
    """Lock asset accounts in ascending id order (the one global order, so no deadlock) and read their balances."""
    rows = await session.exec(  # type: ignore[call-overload]
        select(col(Account.id), col(Account.balance)).where(col(Account.id).in_(sorted(set(account_ids))))  # type: ignore[union-attr]
        .order_by(col(Account.id)).with_for_update())
    return {account_id: balance for account_id, balance in rows.all()}


async def balances(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, Decimal]:
    """Asset account balances, read without a lock."""
    rows = await session.exec(select(col(Account.id), col(Account.balance))  # type: ignore[call-overload]
                              .where(col(Account.id).in_(sorted(set(account_ids)))))  # type: ignore[union-attr]
    return {account_id: balance for account_id, balance in rows.all()}


async def post_entry(session: AsyncSession, *, kind: str, postings: Sequence[Posting], recorded_by: str,
                     note: str | None = None, reference: str | None = None) -> int:
    """Write one balanced journal entry and move the balances of its asset accounts (already locked by the caller).

    The database checks again: a deferred trigger refuses at commit any entry whose lines do not balance, and
    CHECK (balance >= 0) refuses any overdraft.
    """
    if not rules.is_balanced(postings):
        raise UnbalancedEntry(f"{kind} entry does not balance")
    entry_id = int((await session.exec(insert(JournalEntry).values(  # type: ignore[call-overload]
        kind=kind, reference=reference, recorded_by=recorded_by, note=note,
    ).returning(col(JournalEntry.id)))).scalar_one())
    await session.exec(insert(JournalLine).values([  # type: ignore[call-overload]
        {"entry_id": entry_id, "account_id": p.account_id, "debit": p.debit, "credit": p.credit} for p in postings]))
    deltas: dict[int, Decimal] = {}
    for p in postings:
        deltas[p.account_id] = deltas.get(p.account_id, rules.ZERO) + p.debit - p.credit
    for account_id, delta in sorted(deltas.items()):
        await session.exec(update(Account)  # type: ignore[call-overload]
                           .where(col(Account.id) == account_id, col(Account.kind).in_(rules.ASSET_KINDS))  # type: ignore[attr-defined]
                           .values(balance=col(Account.balance) + delta))
    return entry_id


async def take_fifo(session: AsyncSession, account_id: int, amount: Decimal) -> list[Piece]:
    """Take `amount` out of an account's lots, oldest first; returns the pieces by source fund."""
    lots = (await session.exec(  # type: ignore[call-overload]
        select(col(Lot.id), col(Lot.source_fund_id), col(Lot.remaining))
        .where(col(Lot.account_id) == account_id, col(Lot.remaining) > 0)  # type: ignore[operator]
        .order_by(col(Lot.id)).with_for_update())).all()
    taken = rules.fifo_take(lots, amount)
    for take in taken:
        await session.exec(update(Lot).where(col(Lot.id) == take.lot_id)  # type: ignore[call-overload, arg-type]
                           .values(remaining=col(Lot.remaining) - take.amount))
    return rules.merge_pieces(Piece(t.source_fund_id, t.amount) for t in taken)


async def take_entry_lots(session: AsyncSession, account_id: int, entry_id: int) -> list[Piece]:
    """Take back, whole, the lots an entry put into an account (a reversal returns exactly what was paid)."""
    lots = (await session.exec(  # type: ignore[call-overload]
        select(col(Lot.id), col(Lot.source_fund_id), col(Lot.remaining))
        .where(col(Lot.account_id) == account_id, col(Lot.entry_id) == entry_id, col(Lot.remaining) > 0)  # type: ignore[operator]
        .order_by(col(Lot.id)).with_for_update())).all()
    for lot_id, _, _ in lots:
        await session.exec(update(Lot).where(col(Lot.id) == lot_id).values(remaining=0))  # type: ignore[call-overload, arg-type]
    return rules.merge_pieces(Piece(fund_id, remaining) for _, fund_id, remaining in lots)


async def add_lots(session: AsyncSession, account_id: int, entry_id: int, pieces: Sequence[Piece]) -> None:
    if pieces:
        await session.exec(insert(Lot).values([  # type: ignore[call-overload]
            {"account_id": account_id, "entry_id": entry_id, "source_fund_id": p.source_fund_id,
             "amount": p.amount, "remaining": p.amount} for p in pieces]))


async def transfer(session: AsyncSession, *, kind: str, from_account: int, to_account: int, amount: Decimal,
                   recorded_by: str, note: str | None = None, reference: str | None = None) -> tuple[int, list[Piece]]:
    """Debit `to_account`, credit `from_account`, and move the money's lineage with it (FIFO)."""
    entry_id = await post_entry(session, kind=kind, recorded_by=recorded_by, note=note, reference=reference,
                                postings=[Posting(to_account, debit=amount), Posting(from_account, credit=amount)])
    pieces = await take_fifo(session, from_account, amount)
    await add_lots(session, to_account, entry_id, pieces)
    return entry_id, pieces


async def entry_pieces(session: AsyncSession, entry_id: int, account_id: int) -> list[Piece]:
    """The lineage an entry brought into an account: source funds and amounts."""
    rows = (await session.exec(  # type: ignore[call-overload]
        select(col(Lot.source_fund_id), func.sum(col(Lot.amount)))
        .where(col(Lot.entry_id) == entry_id, col(Lot.account_id) == account_id)
        .group_by(col(Lot.source_fund_id)).order_by(func.min(col(Lot.id))))).all()
    return [Piece(fund_id, amount) for fund_id, amount in rows]


async def account_pieces(session: AsyncSession, account_id: int) -> list[Piece]:
    """Every yuan that ever came into an account, by source fund (a fund's lineage)."""
    rows = (await session.exec(  # type: ignore[call-overload]
        select(col(Lot.source_fund_id), func.sum(col(Lot.amount))).where(col(Lot.account_id) == account_id)
        .group_by(col(Lot.source_fund_id)).order_by(func.min(col(Lot.id))))).all()
    return [Piece(fund_id, amount) for fund_id, amount in rows]


async def program_accounts(session: AsyncSession, jurisdiction_code: str | None, program: str | None) -> list[Account]:
    """Programme accounts, of one jurisdiction and/or programme when given, by jurisdiction then id."""
    query = select(Account).where(col(Account.kind) == "program")
    if jurisdiction_code:
        query = query.where(col(Account.jurisdiction_code) == jurisdiction_code)
    if program:
        query = query.where(col(Account.program) == program)
    return list((await session.exec(query.order_by(  # type: ignore[call-overload]
        col(Account.jurisdiction_code), col(Account.id)))).scalars().all())


async def entries_with_lines(session: AsyncSession, reference: str, *,
                             linked: Mapping[int, Collection[int]] | None = None,
                             ) -> list[tuple[JournalEntry, list[tuple[str, Decimal, Decimal]]]]:
    """The journal entries of one business reference in id order, each with its lines (account code, debit,
    credit) in id order: two queries however many entries. `linked`: entries that belong to the object without
    naming it (a batch's payment entry, shared by the payments of the batch), each with the accounts whose lines
    concern the object (the programme account and the payee)."""
    linked = linked or {}
    entries = list((await session.exec(select(JournalEntry).where(  # type: ignore[call-overload]
        or_(col(JournalEntry.reference) == reference, col(JournalEntry.id).in_(list(linked))))  # type: ignore[attr-defined]
        .order_by(col(JournalEntry.id)))).scalars().all())
    lines: dict[int, list[tuple[str, Decimal, Decimal]]] = {e.id: [] for e in entries if e.id is not None}
    if lines:
        rows = (await session.exec(  # type: ignore[call-overload]
            select(col(JournalLine.entry_id), col(JournalLine.account_id), col(Account.code),
                   col(JournalLine.debit), col(JournalLine.credit))
            .join(Account, col(Account.id) == col(JournalLine.account_id))
            .where(col(JournalLine.entry_id).in_(list(lines))).order_by(col(JournalLine.id)))).all()  # type: ignore[attr-defined]
        for entry_id, account_id, code, debit, credit in rows:
            if entry_id not in linked or account_id in linked[entry_id]:
                lines[entry_id].append((code, debit, credit))
    return [(e, lines.get(e.id or 0, [])) for e in entries]
