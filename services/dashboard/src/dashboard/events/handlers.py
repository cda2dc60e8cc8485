"""Consumed events (contract §6): every handler updates the facts and, by difference, the tallies of the village,
town and county it concerns, in the consumer's transaction (the kit's inbox makes a redelivery a no-op)."""

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard import rules
from dashboard.models import Benefit, Division, Household, Loan, Payment, Progress, Settlement, Tally
from fupin_events import payloads
from fupin_kit import clock
from fupin_kit.events.consumer import BatchHandler, Handler
from fupin_kit.events.households import HOUSEHOLD_TOPICS, Applied, HouseholdReadModel, SnapshotEvent

log = logging.getLogger("dashboard.events.handlers")
__all__ = ["HANDLERS", "HOUSEHOLD_TOPICS", "READ_MODEL"]
ZERO = Decimal("0.00")


class LegacySnapshot(BaseModel):
    """The household snapshot as the registry published it before v2 (no member_id, no causes): only what the
    dashboard needs, so events already on the compacted topics still count."""

    model_config = ConfigDict(extra="ignore")

    household_id: uuid.UUID
    status: payloads.HouseholdStatus
    village_code: payloads.VillageCode
    members: list[dict[str, Any]]
    occurred_at: dt.datetime | None = None
    sequence: int | None = None


# One statement for a batch's tallies, the same text for any number of rows, which travel as one JSON parameter:
# executed with many parameter sets, asyncpg encoded row by row, a quarter of a household batch's CPU
TALLY_UPSERT = text(
    f"INSERT INTO {Tally.__tablename__} (division_code, metric, value) SELECT u.division_code, u.metric, "
    "CAST(u.value AS NUMERIC(20, 2)) FROM json_to_recordset(CAST(:rows AS JSON)) "
    "AS u(division_code TEXT, metric TEXT, value TEXT) "
    f"ON CONFLICT (division_code, metric) DO UPDATE SET value = {Tally.__tablename__}.value + excluded.value")


async def add(session: AsyncSession, codes: Iterable[str], values: Mapping[str, Decimal]) -> None:
    """tally[code][metric] += value for every code and metric (one upsert)."""
    await add_totals(session, {(c, m): v for c in codes for m, v in values.items()})


async def add_totals(session: AsyncSession, totals: Mapping[tuple[str, str], Decimal]) -> None:
    """tally[code][metric] += value for every (code, metric) of a batch (one upsert, rows in one order)."""
    rows = [{"division_code": code, "metric": metric, "value": str(value)}
            for (code, metric), value in sorted(totals.items()) if value != 0]
    if rows:
        await (await session.connection()).execute(TALLY_UPSERT, {"rows": orjson.dumps(rows).decode()})


async def _progress(session: AsyncSession, event: Mapping[str, Any]) -> None:
    try:
        moment = dt.datetime.fromisoformat(str(event.get("time")))
    except ValueError:
        moment = dt.datetime.now(dt.UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    statement = insert(Progress).values(id=1, as_of=moment)
    statement = statement.on_conflict_do_update(
        index_elements=[col(Progress.id)],
        set_={"as_of": statement.excluded.as_of},  # type: ignore[attr-defined]
        where=Progress.__table__.c.as_of < statement.excluded.as_of)  # type: ignore[attr-defined]
    await (await session.connection()).execute(statement)


def _contribution(household: Household | None) -> rules.Tallies:
    if household is None:
        return {}
    return rules.household_contribution(status=household.status, persons=household.persons,
                                        exit_year=household.exit_year, has_loan=household.has_loan)


async def _rewrite_household(session: AsyncSession, household_id: uuid.UUID, change: Mapping[str, Any],
                             default_village: str) -> None:
    """Apply `change` to the household row (created if new) and move its contribution from old to new places."""
    household = await session.get(Household, household_id, with_for_update=True)
    old, old_village = _contribution(household), household.village_code if household else None
    if household is None:
        household = Household(household_id=household_id, village_code=default_village)
        session.add(household)
    for name, value in change.items():
        setattr(household, name, value)
    new = _contribution(household)
    if old_village is not None and old_village != household.village_code:
        await add(session, rules.places(old_village), rules.negate(old))
        await add(session, rules.places(household.village_code), new)
    else:
        await add(session, rules.places(household.village_code), rules.difference(new, old))
    await session.flush()


@dataclasses.dataclass(frozen=True)
class _Held:
    status: str | None
    village_code: str
    persons: int
    exit_year: int | None
    has_loan: bool

    def contribution(self) -> rules.Tallies:
        return rules.household_contribution(status=self.status, persons=self.persons, exit_year=self.exit_year,
                                            has_loan=self.has_loan)


async def _households_before(session: AsyncSession, events: Sequence[SnapshotEvent]) -> dict[uuid.UUID, _Held]:
    """The rows the batch may change, locked (in one order) before the kit's upsert: the tallies move by difference."""
    ids = sorted({item.household_id for item in events})
    table = Household.__table__  # type: ignore[attr-defined]
    rows = (await (await session.connection()).execute(
        select(table.c.household_id, table.c.status, table.c.village_code, table.c.persons, table.c.exit_year,
               table.c.has_loan).where(table.c.household_id.in_(ids)).order_by(table.c.household_id)
        .with_for_update())).all()
    return {row.household_id: _Held(row.status, row.village_code, row.persons, row.exit_year, row.has_loan)
            for row in rows}


async def _households_after(session: AsyncSession, result: Applied) -> None:
    """Each applied snapshot moves its household's contribution from what it was to what it is, summed over the
    batch into one tally upsert; an exit dates itself (the year it happened) once."""
    held: dict[uuid.UUID, _Held] = result.before
    totals: dict[tuple[str, str], Decimal] = {}

    def move(codes: Iterable[str], values: Mapping[str, Decimal]) -> None:
        for code in codes:
            for metric, value in values.items():
                totals[code, metric] = totals.get((code, metric), ZERO) + value

    exit_years = []
    for item in result.applied:
        old = held.get(item.household_id)
        exit_year = old.exit_year if old is not None else None
        if item.status == "exited" and (old is None or old.status != "exited"):
            exit_year = rules.exit_year(item.occurred_at)
            exit_years.append({"id": item.household_id, "year": exit_year})
        new = _Held(item.status, item.village_code, len(item.members), exit_year,
                    old.has_loan if old is not None else False)
        if old is not None and old.village_code != new.village_code:
            move(rules.places(old.village_code), rules.negate(old.contribution()))
            move(rules.places(new.village_code), new.contribution())
        else:
            move(rules.places(new.village_code), rules.difference(new.contribution(),
                                                                  old.contribution() if old else {}))
    connection = await session.connection()
    if exit_years:
        table = Household.__table__  # type: ignore[attr-defined]
        await connection.execute(update(table).where(table.c.household_id == bindparam("id"))
                                 .values(exit_year=bindparam("year")), exit_years)
    await add_totals(session, totals)
    if result.events:
        await _progress(session, {"time": max(item.time for item in result.events).isoformat()})


# The kit keeps the household rows (a poll batch per transaction; the registry's sequence orders snapshots, a
# status-only row counts as none); snapshots published before v2 count too (`LegacySnapshot`); a snapshot no version
# can read is dead-lettered.
READ_MODEL = HouseholdReadModel(households=Household, before_apply=_households_before, after_apply=_households_after,
                                snapshot_model=LegacySnapshot)


# The statuses household-status-changed announces, in the order a household can pass through them; a snapshot
# status (registered, exited, returned, removed) always comes later, so none of these ever replaces one.
STATUS_ONLY_ORDER = {"identified": 1, "town_verified": 2, "rejected": 3}


async def on_household_status(session: AsyncSession, event: dict[str, Any]) -> None:
    """identified, town_verified, rejected: the household's status (and so its place in the counts) moves on only
    forward in that order and never over a snapshot's status; members and the snapshots' sequence stay theirs."""
    data = payloads.HouseholdStatusChanged.model_validate(event.get("data"))
    rank = STATUS_ONLY_ORDER.get(data.status)
    if rank is None:
        raise ValueError(f"household-status-changed does not announce {data.status}")  # never processable
    current = await session.get(Household, data.household_id, with_for_update=True)
    if current is not None and current.status is not None and STATUS_ONLY_ORDER.get(current.status, 99) >= rank:
        return
    await _rewrite_household(session, data.household_id, {"status": data.status, "village_code": data.village_code},
                             data.village_code)
    await _progress(session, event)


async def on_division_updated(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.DivisionUpdated.model_validate(event.get("data"))
    division = await session.get(Division, data.division_code, with_for_update=True)
    if division is None:
        division = Division(code=data.division_code, level=data.level)
        session.add(division)
    division.level, division.parent_code, division.poor = data.level, data.parent_code, data.poor
    division.population = data.population
    if data.name is not None:
        division.name = data.name
    await session.flush()
    await _progress(session, event)


async def on_division_exited(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.DivisionExited.model_validate(event.get("data"))
    division = await session.get(Division, data.division_code, with_for_update=True)
    if division is None:
        division = Division(code=data.division_code, level=data.level, population=data.population or 0)
        session.add(division)
    if division.exited:
        return
    division.exited = True
    await session.flush()
    code = data.division_code
    if data.level == "village":
        await add(session, rules.places(code), {"exits.villages": Decimal(1)})
    elif data.level == "county":
        await add(session, [code], {"exits.counties": Decimal(1)})
    await _progress(session, event)


async def on_loan_disbursed(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.LoanDisbursed.model_validate(event.get("data"))
    inserted = await (await session.connection()).execute(
        insert(Loan).values(loan_id=data.loan_id, household_id=data.household_id, village_code=data.village_code,
                            amount=data.amount).on_conflict_do_nothing().returning(col(Loan.loan_id)))
    if inserted.first() is None:
        return
    await add(session, rules.places(data.village_code), {
        "loans.count": Decimal(1), "loans.outstanding": data.amount})
    await _rewrite_household(session, data.household_id, {"has_loan": True}, data.village_code)
    await _progress(session, event)


async def on_risk_compensation(session: AsyncSession, event: dict[str, Any]) -> None:
    """A defaulted loan leaves the outstanding principal (microcredit counts active loans only); the compensation
    is owed by the risk-compensation programme."""
    data = payloads.RiskCompensationClaimed.model_validate(event.get("data"))
    loan = await session.get(Loan, data.loan_id, with_for_update=True)
    if loan is not None and not loan.defaulted:
        loan.defaulted = True
        await add(session, rules.places(loan.village_code), {"loans.outstanding": -loan.amount})
    await add(session, rules.places(data.village_code), {"owed.risk_compensation": data.compensation})
    await session.flush()
    await _progress(session, event)


async def on_interest_subsidy(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.InterestSubsidyClaimed.model_validate(event.get("data"))
    for item in data.items:
        await add(session, rules.places(item.village_code), {"owed.loan_interest_subsidy": item.subsidy})
    await _progress(session, event)


@dataclasses.dataclass(frozen=True)
class _Grant:
    village_code: str
    amount: Decimal
    time: dt.datetime


def _grant(event: dict[str, Any]) -> _Grant:
    data = payloads.GrantAwarded.model_validate(event.get("data"))
    return _Grant(data.village_code, data.amount, _event_time(event))


async def _apply_grants(session: AsyncSession, grants: Sequence[_Grant]) -> None:
    """A grant counts once (the inbox drops a redelivery) and is owed by education_grants until paid; a poll batch
    in one transaction and one tally upsert."""
    if not grants:
        return
    totals: dict[tuple[str, str], Decimal] = {}
    for grant in grants:
        values = {"grants.count": Decimal(1), "grants.amount": grant.amount, "owed.education_grants": grant.amount}
        for code in rules.places(grant.village_code):
            for metric, value in values.items():
                totals[code, metric] = totals.get((code, metric), ZERO) + value
    await add_totals(session, totals)
    await _progress(session, {"time": max(grant.time for grant in grants).isoformat()})


on_grant_awarded = BatchHandler(_grant, _apply_grants)


async def on_settlement_completed(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.SettlementCompleted.model_validate(event.get("data"))
    patient = data.patient_pays
    inserted = await (await session.connection()).execute(
        insert(Settlement).values(settlement_id=data.settlement_id, village_code=data.village_code,
                                  amount=data.amount, patient_pays=patient)
        .on_conflict_do_nothing().returning(col(Settlement.settlement_id)))
    if inserted.first() is None:
        return
    await add(session, rules.places(data.village_code), _settlement_figures(data.amount, patient))
    await _progress(session, event)


def _settlement_figures(amount: Decimal, patient: Decimal | None) -> rules.Tallies:
    figures = {"medical.settlements": Decimal(1), "medical.paid_by_payers": amount,
               "owed.medical_assistance": amount}
    if patient is not None:
        figures["medical.patient_paid"] = patient
    return figures


async def on_settlement_reversed(session: AsyncSession, event: dict[str, Any]) -> None:
    data = payloads.SettlementReversed.model_validate(event.get("data"))
    settled = await (await session.connection()).execute(
        update(Settlement)
        .where(col(Settlement.settlement_id) == data.settlement_id, col(Settlement.reversed).is_(False))
        .values(reversed=True).returning(col(Settlement.village_code), col(Settlement.amount),
                                         col(Settlement.patient_pays)))
    row = settled.first()
    if row is None:
        return
    await add(session, rules.places(row[0]), rules.negate(_settlement_figures(row[1], row[2])))
    await _progress(session, event)


@dataclasses.dataclass(frozen=True)
class _BenefitRow:
    """What the dashboard knows of a welfare benefit (its `benefit` row, without the id)."""

    program: str | None = None
    village_code: str | None = None
    amount: Decimal | None = None
    due: bool = False
    cancelled: bool = False
    settled: bool = False

    def contribution(self) -> rules.Tallies:
        return rules.benefit_contribution(program=self.program, amount=self.amount, due=self.due,
                                          cancelled=self.cancelled, settled=self.settled)

    def merged(self, says: "_BenefitRow") -> "_BenefitRow":
        if says.due and not self.due:  # the first benefit-due tells where and how much (finance pays it once)
            return dataclasses.replace(self, program=says.program, village_code=says.village_code,
                                       amount=says.amount, due=True)
        return dataclasses.replace(self, cancelled=self.cancelled or says.cancelled,
                                   settled=self.settled or says.settled)


@dataclasses.dataclass(frozen=True)
class BenefitChange:
    """What one event says of a welfare benefit: `benefit-due` (where, which programme, how much), `benefit-cancelled`,
    or finance's `payment-completed` for it (paid or reversed)."""

    benefit_id: str
    time: dt.datetime
    says: _BenefitRow


_BENEFIT_COLUMNS = tuple(f.name for f in dataclasses.fields(_BenefitRow))


async def apply_benefits(session: AsyncSession, changes: Sequence[BenefitChange]) -> None:
    """Apply the changes in order: the benefits' rows (created first, so that two transactions of different topics
    wait for each other on a new benefit, then locked in one order) and, by difference, `pending.<program>` of
    their villages, towns and counties in one tally upsert."""
    if not changes:
        return
    connection = await session.connection()
    table = Benefit.__table__  # type: ignore[attr-defined]
    ids = sorted({change.benefit_id for change in changes})
    await connection.execute(insert(table).on_conflict_do_nothing(), [{"benefit_id": i} for i in ids])
    rows = (await connection.execute(
        select(table).where(table.c.benefit_id.in_(ids)).order_by(table.c.benefit_id).with_for_update())).all()
    state = {row.benefit_id: _BenefitRow(*(getattr(row, c) for c in _BENEFIT_COLUMNS)) for row in rows}
    before = dict(state)
    totals: dict[tuple[str, str], Decimal] = {}
    for change in changes:
        old = state[change.benefit_id]
        new = old.merged(change.says)
        state[change.benefit_id] = new
        for village, values in ((old.village_code, rules.negate(old.contribution())),
                                (new.village_code, new.contribution())):
            for code in rules.places(village) if village else ():
                for metric, value in values.items():
                    totals[code, metric] = totals.get((code, metric), ZERO) + value
    changed = [{"id": key, **dataclasses.asdict(value)} for key, value in state.items() if value != before[key]]
    if changed:
        await connection.execute(update(table).where(table.c.benefit_id == bindparam("id")).values(
            {c: bindparam(c) for c in _BENEFIT_COLUMNS}), changed)
    await add_totals(session, totals)
    await _progress(session, {"time": max(change.time for change in changes).isoformat()})


def _benefit_due(event: dict[str, Any]) -> BenefitChange:
    data = payloads.BenefitDue.model_validate(event.get("data"))
    return BenefitChange(benefit_id=data.benefit_id, time=_event_time(event), says=_BenefitRow(
        program=rules.BENEFIT_PROGRAMS[data.kind], village_code=data.village_code, amount=data.amount, due=True))


def _benefit_cancelled(event: dict[str, Any]) -> BenefitChange:
    data = payloads.BenefitCancelled.model_validate(event.get("data"))
    return BenefitChange(benefit_id=data.benefit_id, time=_event_time(event), says=_BenefitRow(cancelled=True))


def _event_time(event: Mapping[str, Any]) -> dt.datetime:
    try:
        return clock.event_time(dict(event))
    except (KeyError, ValueError):
        return clock.utcnow()


on_benefit_due = BatchHandler(_benefit_due, apply_benefits)
on_benefit_cancelled = BatchHandler(_benefit_cancelled, apply_benefits)


@dataclasses.dataclass(frozen=True)
class _PaymentLine:
    key: str
    time: dt.datetime
    data: payloads.PaymentCompleted


def _payment_line(event: dict[str, Any]) -> _PaymentLine:
    data = payloads.PaymentCompleted.model_validate(event.get("data"))
    return _PaymentLine(f"{data.payment_id}:{data.item_reference or ''}", _event_time(event), data)


async def _apply_payments(session: AsyncSession, lines: Sequence[_PaymentLine]) -> None:
    """Paid adds, reversed takes off what the same payment line added (the status each line was last seen in is
    kept). A welfare payment, paid or reversed, no longer waits: its benefit leaves `pending`. A poll batch in one
    transaction: the lines' rows locked in one order, one row upsert, one tally upsert. (A payment's events share
    its reference as key, so one partition, in order, carries every event of a line.)"""
    if not lines:
        return
    settled = _BenefitRow(settled=True)
    await apply_benefits(session, [BenefitChange(benefit_id=line.data.reference, time=line.time, says=settled)
                                   for line in lines if line.data.program in rules.WELFARE_PROGRAMS])
    connection = await session.connection()
    table = Payment.__table__  # type: ignore[attr-defined]
    keys = sorted({line.key for line in lines})
    rows = (await connection.execute(select(table).where(table.c.payment_key.in_(keys))
                                     .order_by(table.c.payment_key).with_for_update())).all()
    seen: dict[str, dict[str, Any]] = {row.payment_key: dict(row._mapping) for row in rows}
    changed: dict[str, dict[str, Any]] = {}
    totals: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        data, payment = line.data, seen.get(line.key)
        if payment is not None and payment["status"] == data.status:
            continue
        if payment is None and data.status == "reversed":
            continue  # never saw it paid: nothing to take off
        if payment is None:
            payment = {"payment_key": line.key, "program": data.program, "county_code": data.county_code,
                       "village_code": data.village_code, "amount": data.amount, "status": data.status}
            seen[line.key] = payment
        payment["status"] = data.status
        changed[line.key] = payment
        village = payment["village_code"]
        sign = Decimal(1) if data.status == "paid" else Decimal(-1)
        for code in rules.places(village) if village else (payment["county_code"],):
            metric = f"funds.{payment['program']}.paid"
            totals[code, metric] = totals.get((code, metric), ZERO) + sign * payment["amount"]
    if changed:
        statement = insert(table)
        await connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.payment_key], set_={"status": statement.excluded.status}),
            list(changed.values()))
    await add_totals(session, totals)
    await _progress(session, {"time": max(line.time for line in lines).isoformat()})


on_payment_completed = BatchHandler(_payment_line, _apply_payments)


async def on_funds_allocated(session: AsyncSession, event: dict[str, Any]) -> None:
    """Money that moved into a programme account of a county (or the city): `allocated` of its jurisdiction. Finance
    publishes an allocation once, when its money moves; the inbox drops a redelivery."""
    data = payloads.FundsAllocated.model_validate(event.get("data"))
    await add(session, [data.jurisdiction_code], {f"funds.{data.program}.allocated": data.amount})
    await _progress(session, event)


HANDLERS: dict[str, Handler] = {
    **READ_MODEL.handlers(),
    "household-status-changed": on_household_status,
    "division-updated": on_division_updated,
    "division-exited": on_division_exited,
    "loan-disbursed": on_loan_disbursed,
    "risk-compensation-claimed": on_risk_compensation,
    "interest-subsidy-claimed": on_interest_subsidy,
    "grant-awarded": on_grant_awarded,
    "settlement-completed": on_settlement_completed,
    "settlement-reversed": on_settlement_reversed,
    "payment-completed": on_payment_completed,
    "funds-allocated": on_funds_allocated,
    "benefit-due": on_benefit_due,
    "benefit-cancelled": on_benefit_cancelled,
}
