"""Recording and paying many payments in one transaction with set-based SQL (issue 14 target 4).

One event or a whole poll batch of events goes through the same code: every statement here handles all payments of
the call at once (arrays through `unnest`, the outbox through COPY), so the cost of a batch hardly depends on its
size. Runs on the asyncpg connection under the caller's session, inside its transaction (which the caller has
started with a statement of its own, e.g. the inbox insert): it commits or rolls back with everything else.

Locking is the ledger's (`ledger/service.py`): advisory locks of cancellable references first, then the programme
accounts in id order, then the lots of those accounts; every other writer of these rows takes the same locks first.
"""

import datetime as dt
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.events import published
from finance.ledger import service as ledger
from finance.ledger.rules import Piece, merge_pieces
from finance.payments import rules
from finance.payments.rules import WELFARE_PROGRAMS, PaymentOrder
from fupin_kit.db import session_driver

ZERO = Decimal("0.00")


class RecordedMeanwhile(Exception):
    """A payment reference was recorded by a concurrent transaction after this one looked: apply again (a
    serialization failure's SQLSTATE, so the kit's consumer retries the batch as transient)."""
    sqlstate = "40001"


@dataclass(frozen=True)
class Ordered:
    """What one event asks: its payment orders, and who/why for the ledger's audit trail."""
    event_id: str
    orders: Sequence[PaymentOrder]
    recorded_by: str
    note: str | None = None


@dataclass
class Row:
    """A payment as this module handles it (a row of `payments`)."""
    id: uuid.UUID
    seq: int
    reference: str
    item_reference: str
    program: str
    county_code: str
    village_code: str | None
    payee: str
    amount: Decimal
    status: str
    account_id: int
    payee_account_id: int
    barrier_at: Decimal | None
    paid_at: dt.datetime | None = None
    recorded_by: str = ""
    note: str | None = None
    event_id: str = ""


_COLUMNS = ("id, seq, reference, item_reference, program, county_code, village_code, payee, amount, status, "
            "account_id, payee_account_id, barrier_at")


def _row(record: asyncpg.Record, recorded_by: str = "", note: str | None = None) -> Row:
    return Row(**{k: record[k] for k in _COLUMNS.split(", ")}, recorded_by=recorded_by, note=note)


def cancellable(program: str) -> bool:
    """Programmes whose payments a later event may cancel (a settlement reversal, a benefit cancellation)."""
    return program == "medical_assistance" or program in WELFARE_PROGRAMS


async def lock_references(raw: asyncpg.Connection, references: Sequence[str]) -> None:
    """Serialize the recording of a cancellable payment with its cancellation (different topics, perhaps two
    replicas at once): a transaction-scoped advisory lock per business reference, taken before any account lock,
    in the order of the lock keys (so two transactions never wait for each other in a cycle)."""
    if references:
        await raw.execute(
            """SELECT count(pg_advisory_xact_lock(k)) FROM (
                 SELECT DISTINCT hashtextextended('finance-payment:' || r, 0) AS k FROM unnest($1::text[]) r
                 ORDER BY k) AS keys""", sorted(set(references)))


async def paid_out(raw: asyncpg.Connection, account_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal | None]]:
    """Each account's paid_out counter (`payment_queues`, created on first use) and the smallest barrier of its
    waiting payments (all older than any being recorded now); the caller holds the account locks."""
    rows = await raw.fetch(
        """WITH q AS (
             INSERT INTO payment_queues (account_id, paid_out) SELECT a, 0 FROM unnest($1::bigint[]) a ORDER BY a
             ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id RETURNING account_id, paid_out)
           SELECT q.account_id, q.paid_out,
                  (SELECT min(p.barrier_at) FROM payments p
                   WHERE p.account_id = q.account_id AND p.status = 'pending_funds') AS barrier
           FROM q""",
        sorted(set(account_ids)))
    return {r["account_id"]: (r["paid_out"], r["barrier"]) for r in rows}


async def ensure_accounts(raw: asyncpg.Connection, specs: Sequence[ledger.AccountSpec]) -> dict[str, int]:
    """`ledger.ensure_accounts` in one statement however many accounts (a burst names a new payee per household):
    the missing ones are created in code order (the ledger's order, so concurrent creators never deadlock). One
    created meanwhile by another transaction is looked up again. The existing ones are found by one index probe
    each (LATERAL ... LIMIT 1): as a join, a batch of 2,000 codes was planned as a hash of the whole table (141,000
    accounts: 200 of the statement's 320 ms)."""
    wanted = {s.code: s for s in specs}
    codes = sorted(wanted)
    found = {r["code"]: r["id"] for r in await raw.fetch(
        """WITH want AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) u(c, k, j, p)),
                found AS (SELECT want.c AS code, a.id FROM want CROSS JOIN LATERAL (
                  SELECT id FROM accounts WHERE accounts.code = want.c LIMIT 1) AS a),
                made AS (
                  INSERT INTO accounts (code, kind, jurisdiction_code, program, balance)
                  SELECT c, k, j, p, CASE WHEN k IN ('fund', 'program') THEN 0 END FROM want
                  WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.code = want.c) ORDER BY c
                  ON CONFLICT (code) DO NOTHING RETURNING code, id)
           SELECT code, id FROM found UNION ALL SELECT code, id FROM made""",
        codes, [wanted[c].kind for c in codes], [wanted[c].jurisdiction_code for c in codes],
        [wanted[c].program for c in codes])}
    missing = [code for code in codes if code not in found]
    if missing:
        found |= {r["code"]: r["id"] for r in await raw.fetch(
            "SELECT code, id FROM accounts WHERE code = ANY($1::text[])", missing)}
    return found


async def lock_accounts(raw: asyncpg.Connection, account_ids: Sequence[int]) -> dict[int, Decimal]:
    rows = await raw.fetch("SELECT id, balance FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
                           sorted(set(account_ids)))
    return {r["id"]: r["balance"] for r in rows}


async def order_many(session: AsyncSession, items: Sequence[Ordered]) -> list[Row]:
    """Record every order of these events (once per business reference: a replay or the same reference under
    another event id records nothing) and pay, per account, what `rules.plan_payments` allows. Returns the payments
    recorded now."""
    pairs = [(item, order) for item in items for order in item.orders]
    if not pairs:
        return []
    specs = [ledger.program_account(o.county_code, o.program) for _, o in pairs]
    payee_specs = [ledger.payee_account(o.payee) for _, o in pairs]
    raw: asyncpg.Connection = await session_driver(session)
    await lock_references(raw, [o.reference for _, o in pairs if cancellable(o.program)])
    accounts = await ensure_accounts(raw, [*specs, *payee_specs])
    program_ids = sorted({accounts[s.code] for s in specs})
    balances = await lock_accounts(raw, program_ids)
    queues = await paid_out(raw, program_ids)
    counters = {account_id: counter for account_id, (counter, _) in queues.items()}
    cancelled = await _cancelled(raw, [o for _, o in pairs])
    # Under the account locks, a reference already recorded (a replay, the same reference under another event id)
    # stays recorded: such orders are dropped here, and so is a second order of one reference within the batch.
    recorded_before = await _recorded(raw, [o for _, o in pairs])
    fresh: list[Row] = []
    randomness = os.urandom(16 * len(pairs))  # every payment id from one system call
    for i, ((item, order), spec, payee) in enumerate(zip(pairs, specs, payee_specs, strict=True)):
        key = (order.reference, order.program, order.item_reference)
        if key in recorded_before:
            continue
        recorded_before.add(key)
        account_id = accounts[spec.code]
        gone = (order.program, order.reference) in cancelled
        fresh.append(Row(
            id=uuid.UUID(bytes=randomness[16 * i:16 * i + 16], version=4), seq=0, reference=order.reference,
            item_reference=order.item_reference,
            program=order.program, county_code=order.county_code, village_code=order.village_code,
            payee=order.payee, amount=order.amount, status="reversed" if gone else "pending_funds",
            account_id=account_id, payee_account_id=accounts[payee.code],
            barrier_at=None if gone else rules.barrier_at(counters[account_id], order.amount),
            recorded_by=item.recorded_by, note=item.note, event_id=item.event_id))
    if not fresh:
        return []
    # Planned before they are written, so each row is inserted once with its final status (no update after): every
    # payment still waiting is older than these and was found unpayable when its account's balance last grew
    # (payments only take money out), so only the new ones are candidates, behind any barrier among the older ones.
    waiting = [p for p in fresh if p.status == "pending_funds"]
    chosen: list[Row] = []
    if waiting:
        for account_id in sorted({p.account_id for p in waiting}):
            candidates = [p for p in waiting if p.account_id == account_id]
            chosen += plan(candidates, balance=balances[account_id], paid_out=counters[account_id],
                           older_barrier=queues[account_id][1])
    paid_at = dt.datetime.now(dt.UTC)
    entries = await _post(raw, chosen)
    for p in chosen:
        p.status, p.paid_at = "paid", paid_at
    try:
        rows = await _insert_payments(raw, fresh, entries)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != "uq_payments_business_reference":
            raise
        # recorded meanwhile under another account's lock (the same reference for another county or programme):
        # roll back; the batch is applied again, or its events one by one, and finds the reference recorded
        raise RecordedMeanwhile("a payment reference was recorded by another transaction") from exc
    seqs = {r["id"]: r["seq"] for r in rows}
    for p in fresh:
        p.seq = seqs[p.id]
    await published.payments_completed(raw, [p for p in fresh if p.status == "reversed"])
    await published.payments_completed(raw, chosen)
    return fresh


async def _insert_payments(raw: asyncpg.Connection, fresh: Sequence[Row],
                           entries: dict[uuid.UUID, int]) -> list[asyncpg.Record]:
    """The payments of a batch, each with its final status. A plain INSERT: every reference was looked up under the
    account locks (`_recorded`), so only a concurrent transaction for another account can have recorded one, and the
    unique constraint refuses it; ON CONFLICT DO NOTHING cost 37 µs of PostgreSQL per payment for that (EXPLAIN
    ANALYZE of 2,000 rows, three rounds: 217-252 against 135-180 ms)."""
    return await raw.fetch(
        """INSERT INTO payments (id, reference, item_reference, program, county_code, village_code, payee, amount,
                                 status, account_id, payee_account_id, event_id, barrier_at, reversed_at, entry_id,
                                 paid_at)
           SELECT id, ref, item, program, county, village, payee, amount, status, account, payee_account, event,
                  barrier, CASE WHEN status = 'reversed' THEN now() END, entry, paid
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::numeric[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $13::numeric[],
                       $14::bigint[], $15::timestamptz[])
                WITH ORDINALITY AS u(id, ref, item, program, county, village, payee, amount, status, account,
                                     payee_account, event, barrier, entry, paid, ord)
           ORDER BY ord
           RETURNING id, seq""",
        [p.id for p in fresh], [p.reference for p in fresh], [p.item_reference for p in fresh],
        [p.program for p in fresh], [p.county_code for p in fresh], [p.village_code for p in fresh],
        [p.payee for p in fresh], [p.amount for p in fresh], [p.status for p in fresh],
        [p.account_id for p in fresh], [p.payee_account_id for p in fresh], [p.event_id for p in fresh],
        [p.barrier_at for p in fresh], [entries.get(p.id) for p in fresh], [p.paid_at for p in fresh])


def plan(candidates: Sequence[Row], *, balance: Decimal, paid_out: Decimal,
         older_barrier: Decimal | None) -> list[Row]:
    return list(rules.plan_payments(balance, paid_out, [
        rules.Waiting(p, p.amount, p.barrier_at if p.barrier_at is not None else p.amount) for p in candidates],
        older_barrier=older_barrier))


async def pay_waiting(session: AsyncSession, *, account_id: int, recorded_by: str,
                      note: str | None) -> list[uuid.UUID]:
    """Plan the account's whole queue again (after money came in or a waiting payment left) and pay what it allows."""
    raw: asyncpg.Connection = await session_driver(session)
    balance = (await lock_accounts(raw, [account_id]))[account_id]
    counter = (await paid_out(raw, [account_id]))[account_id][0]
    waiting = [_row(r, recorded_by, note) for r in await raw.fetch(
        f"SELECT {_COLUMNS} FROM payments WHERE account_id = $1 AND status = 'pending_funds' ORDER BY seq FOR UPDATE",
        account_id)]
    chosen = plan(waiting, balance=balance, paid_out=counter, older_barrier=None)
    await pay(raw, chosen)
    return [p.id for p in chosen]


async def _cancelled(raw: asyncpg.Connection, orders: Sequence[PaymentOrder]) -> set[tuple[str, str]]:
    """(program, reference) of the orders whose cancellation came first."""
    found: set[tuple[str, str]] = set()
    settlements = [o.reference for o in orders if o.program == "medical_assistance"]
    if settlements:
        found |= {("medical_assistance", r["settlement_id"]) for r in await raw.fetch(
            "SELECT settlement_id FROM settlement_reversals WHERE settlement_id = ANY($1::text[])", settlements)}
    benefits = {o.reference: o.program for o in orders if o.program in WELFARE_PROGRAMS}
    if benefits:
        found |= {(benefits[r["benefit_id"]], r["benefit_id"]) for r in await raw.fetch(
            "SELECT benefit_id FROM benefit_cancellations WHERE benefit_id = ANY($1::text[])", list(benefits))}
    return found


async def _recorded(raw: asyncpg.Connection, orders: Sequence[PaymentOrder]) -> set[tuple[str, str, str]]:
    """(reference, program, item_reference) of these orders already recorded."""
    rows = await raw.fetch(
        """SELECT reference, program, item_reference FROM payments WHERE reference = ANY($1::text[])""",
        sorted({o.reference for o in orders}))
    return {(r["reference"], r["program"], r["item_reference"]) for r in rows}


async def pay(raw: asyncpg.Connection, payments: Sequence[Row]) -> None:
    """Pay these recorded payments (their programme accounts locked by the caller, each balance covering them): the
    ledger's part and the accounts' paid_out counters (`_post`), the payments marked paid, `payment-completed`
    each."""
    if not payments:
        return
    paid_at = dt.datetime.now(dt.UTC)
    entries = await _post(raw, payments)
    await raw.execute(
        """UPDATE payments SET status = 'paid', entry_id = v.e, paid_at = $3
           FROM unnest($1::uuid[], $2::bigint[]) v(id, e) WHERE payments.id = v.id""",
        [p.id for p in payments], [entries.get(p.id) for p in payments], paid_at)
    for p in payments:
        p.status, p.paid_at = "paid", paid_at
    await published.payments_completed(raw, payments)


def entry_groups(payments: Sequence[Row]) -> list[list[Row]]:
    """The journal entries of a batch's payments: one per programme account and recorder, holding each payee once
    (the n-th payment of one payee in the batch goes to the account's n-th entry), so that a payment is still the
    one (entry, payee account) pair: its lineage lots and its reversal name exactly its own money."""
    groups: dict[tuple[int, str, int], list[Row]] = {}
    seen: dict[tuple[int, str, int], int] = defaultdict(int)
    for p in payments:
        occurrence = seen[(p.account_id, p.recorded_by, p.payee_account_id)]
        seen[(p.account_id, p.recorded_by, p.payee_account_id)] += 1
        groups.setdefault((p.account_id, p.recorded_by, occurrence), []).append(p)
    return list(groups.values())


def entry_note(group: Sequence[Row]) -> str | None:
    if len(group) == 1:
        return group[0].note
    return f"{len(group)} payments ordered by events (the first: {group[0].note})"


async def _post(raw: asyncpg.Connection, payments: Sequence[Row]) -> dict[uuid.UUID, int]:
    """The ledger's part of paying: a journal entry per group of `entry_groups` (credit the programme account with
    the group's total, debit each payee), the programme balances and paid_out counters, lineage lots taken FIFO.
    An entry of one payment has the payment's id as reference; a batch's entry has none (each payment names it in
    `entry_id`). Returns each payment's entry id."""
    moving = [p for p in payments if p.amount > 0]
    if not moving:
        return {}
    groups = entry_groups(moving)
    rows = await raw.fetch(
        """INSERT INTO journal_entries (kind, reference, recorded_by, note)
           SELECT 'payment', r, b, n FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY u(r, b, n, o)
           ORDER BY o RETURNING id""",
        [str(g[0].id) if len(g) == 1 else None for g in groups], [g[0].recorded_by for g in groups],
        [entry_note(g) for g in groups])
    entries: dict[uuid.UUID, int] = {}
    lines: list[tuple[int, int, Decimal, Decimal]] = []
    for group, row in zip(groups, rows, strict=True):
        entry_id = row["id"]
        lines.append((entry_id, group[0].account_id, ZERO, sum((p.amount for p in group), ZERO)))
        for p in group:
            entries[p.id] = entry_id
            lines.append((entry_id, p.payee_account_id, p.amount, ZERO))
    await raw.execute(
        """INSERT INTO journal_lines (entry_id, account_id, debit, credit)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::numeric[], $4::numeric[])""",
        *(list(column) for column in zip(*lines, strict=True)))
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for p in moving:
        totals[p.account_id] += p.amount
    # the balances, and the paid_out counters (the clock of the payments' barriers; a zero payment adds nothing)
    await raw.execute(
        """WITH balances AS (
             UPDATE accounts SET balance = balance - v.t FROM unnest($1::bigint[], $2::numeric[]) v(id, t)
             WHERE accounts.id = v.id AND accounts.kind IN ('fund', 'program'))
           UPDATE payment_queues SET paid_out = paid_out + v.t FROM unnest($1::bigint[], $2::numeric[]) v(id, t)
           WHERE payment_queues.account_id = v.id""",
        list(totals), list(totals.values()))
    await _move_lots(raw, moving, entries)
    return entries


async def _move_lots(raw: asyncpg.Connection, payments: Sequence[Row], entries: dict[uuid.UUID, int]) -> None:
    """Take each payment's money out of its programme account's lots oldest first (in payment order) and give the
    payee lots of the same source funds: the lineage of every yuan paid."""
    lots = await raw.fetch(
        """SELECT id, account_id, source_fund_id, remaining FROM lots
           WHERE account_id = ANY($1::bigint[]) AND remaining > 0 ORDER BY account_id, id FOR UPDATE""",
        sorted({p.account_id for p in payments}))
    open_lots: dict[int, list[list[Any]]] = defaultdict(list)
    for lot in lots:
        open_lots[lot["account_id"]].append([lot["id"], lot["source_fund_id"], lot["remaining"]])
    changed: dict[int, Decimal] = {}
    new_lots: list[tuple[int, int, uuid.UUID, Decimal]] = []
    for p in payments:
        queue, left, pieces = open_lots[p.account_id], p.amount, []
        while left > 0:
            if not queue:
                raise ValueError(f"lots of account {p.account_id} hold less than its balance")
            lot = queue[0]
            part = min(lot[2], left)
            lot[2] -= part
            left -= part
            changed[lot[0]] = lot[2]
            pieces.append(Piece(lot[1], part))
            if lot[2] == 0:
                queue.pop(0)
        new_lots += [(p.payee_account_id, entries[p.id], piece.source_fund_id, piece.amount)
                     for piece in merge_pieces(pieces)]
    await raw.execute(
        """WITH taken AS (
             UPDATE lots SET remaining = v.r FROM unnest($1::bigint[], $2::numeric[]) v(id, r) WHERE lots.id = v.id)
           INSERT INTO lots (account_id, entry_id, source_fund_id, amount, remaining)
           SELECT a, e, f, m, m FROM unnest($3::bigint[], $4::bigint[], $5::uuid[], $6::numeric[]) u(a, e, f, m)""",
        list(changed), list(changed.values()), *(list(column) for column in zip(*new_lots, strict=True)))


