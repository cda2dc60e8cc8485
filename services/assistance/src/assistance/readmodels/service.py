"""Keeping the read models from events, and the queries every domain asks of them."""

import datetime as dt
import uuid
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.helpers.rules import PLANNABLE
from assistance.readmodels.models import Division, DivisionExit, Household, HouseholdEvent, Payment
from fupin_events.payloads import DivisionExited, DivisionUpdated, PaymentCompleted
from fupin_kit.clock import china_date
from fupin_kit.errors import NotFound, Unprocessable
from fupin_kit.events.households import Applied

PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}
KIND_OF_TOPIC = {"household-registered": "registered", "exit-certified": "exited",
                 "returned-to-poverty": "returned", "household-removed": "removed"}


class HouseholdFacts(BaseModel):  # the read model's `snapshot_model` (events/handlers.py)
    """What assistance reads of `fupin_events.payloads.HouseholdSnapshot`: the household, never its members, so
    snapshots published before v2 (members without `member_id`, no `causes` or `town_code`) are read too."""

    model_config = ConfigDict(extra="ignore")

    household_id: uuid.UUID
    status: str = Field(min_length=1, max_length=32)
    village_code: str = Field(pattern=r"^\d{12}$")
    town_code: str | None = Field(default=None, pattern=r"^\d{9}$")
    county_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    causes: list[str] = []
    occurred_at: dt.datetime | None = None
    sequence: int | None = None


# One statement for a batch's history, the same text for any number of events (prepared once; a multi-row VALUES
# was compiled again for every batch)
_RECORD_EVENTS = text(
    f"INSERT INTO {HouseholdEvent.__tablename__} (event_id, household_id, kind, county_code, village_code, at, "
    "event_on) SELECT * FROM unnest(CAST(:ids AS varchar[]), CAST(:households AS varchar[]), "
    "CAST(:kinds AS varchar[]), CAST(:counties AS varchar[]), CAST(:villages AS varchar[]), "
    "CAST(:ats AS timestamptz[]), CAST(:ons AS date[])) ON CONFLICT DO NOTHING")


async def record_household_events(session: AsyncSession, result: Applied) -> None:
    """Every household event received goes into the history (dated by its `time` in China Standard Time), applied
    to the snapshot or not: the assessment reads the history."""
    events = result.events
    if not events:
        return
    await session.exec(_RECORD_EVENTS, params={  # type: ignore[call-overload]
        "ids": [item.event_id for item in events], "households": [str(item.household_id) for item in events],
        "kinds": [KIND_OF_TOPIC[item.topic] for item in events],
        "counties": [item.county_code for item in events], "villages": [item.village_code for item in events],
        "ats": [item.time for item in events],
        "ons": [china_date(item.time) for item in events]})


async def apply_division(session: AsyncSession, *, division: DivisionUpdated, at: dt.datetime) -> None:
    values = dict(code=division.division_code, level=division.level, parent_code=division.parent_code,
                  name=division.name, poor=division.poor, population=division.population, updated_at=at)
    statement = insert(Division).values(**values)
    await session.exec(statement.on_conflict_do_update(  # type: ignore[call-overload]
        index_elements=[Division.code], set_={k: statement.excluded[k] for k in values},
        where=col(Division.updated_at) <= statement.excluded.updated_at))


async def apply_division_exit(session: AsyncSession, *, exited: DivisionExited, event_id: str,
                              at: dt.datetime) -> None:
    await session.exec(insert(DivisionExit).values(  # type: ignore[call-overload]
        event_id=event_id, division_code=exited.division_code, level=exited.level, exited_on=china_date(at),
        at=at).on_conflict_do_nothing())


# The paid payments of a poll batch in one statement (the same text for any number of payments)
_RECORD_PAID = text(
    f"INSERT INTO {Payment.__tablename__} (payment_id, reference, program, payee, amount, county_code, village_code, "
    "paid_at, paid_on) SELECT * FROM unnest(CAST(:ids AS varchar[]), CAST(:references AS varchar[]), "
    "CAST(:programs AS varchar[]), CAST(:payees AS varchar[]), CAST(:amounts AS numeric[]), "
    "CAST(:counties AS varchar[]), CAST(:villages AS varchar[]), CAST(:paid_at AS timestamptz[]), "
    "CAST(:paid_on AS date[])) ON CONFLICT (payment_id) DO UPDATE SET reference = excluded.reference, "
    "program = excluded.program, payee = excluded.payee, amount = excluded.amount, "
    "county_code = excluded.county_code, village_code = excluded.village_code, paid_at = excluded.paid_at, "
    "paid_on = excluded.paid_on")


async def apply_payments(session: AsyncSession, payments: Sequence[tuple[PaymentCompleted, dt.datetime]]) -> None:
    """A poll batch of `payment-completed` (with each event's time), as `apply_payment` one by one in event order
    would leave them: the `paid` ones in one upsert (the last notice of a payment wins), then each reversal (it
    sets only `reversed_on`, and a `paid` never clears it, so the two kinds commute)."""
    paid: dict[str, tuple[PaymentCompleted, dt.datetime]] = {}
    for payment, at in payments:
        if payment.status == "paid":
            paid[payment.payment_id] = (payment, _paid_at(payment, at))
    if paid:
        rows = list(paid.values())
        await session.exec(_RECORD_PAID, params={  # type: ignore[call-overload]
            "ids": list(paid), "references": [p.reference for p, _ in rows], "programs": [p.program for p, _ in rows],
            "payees": [p.payee for p, _ in rows], "amounts": [p.amount for p, _ in rows],
            "counties": [p.county_code for p, _ in rows], "villages": [p.village_code for p, _ in rows],
            "paid_at": [t for _, t in rows], "paid_on": [china_date(t) for _, t in rows]})
    for payment, at in payments:
        if payment.status != "paid":
            await apply_payment(session, payment=payment, at=at)


def _paid_at(payment: PaymentCompleted, at: dt.datetime) -> dt.datetime:
    paid_at = payment.paid_at or at
    return paid_at if paid_at.tzinfo is not None else paid_at.replace(tzinfo=dt.UTC)


async def apply_payment(session: AsyncSession, *, payment: PaymentCompleted, at: dt.datetime) -> None:
    """`paid` records the payment by its `paid_at` (the event's time when absent); `reversed` dates the reversal
    by the event's time. Either may come first: a later `paid` never clears a reversal."""
    paid_at = _paid_at(payment, at)
    values = dict(payment_id=payment.payment_id, reference=payment.reference, program=payment.program,
                  payee=payment.payee, amount=payment.amount, county_code=payment.county_code,
                  village_code=payment.village_code)
    if payment.status == "paid":
        values |= dict(paid_at=paid_at, paid_on=china_date(paid_at))
        statement = insert(Payment).values(**values)
        update = {k: statement.excluded[k] for k in values}
    else:
        values |= dict(reversed_on=china_date(at))
        if payment.paid_at is not None:
            values |= dict(paid_at=paid_at, paid_on=china_date(paid_at))
        statement = insert(Payment).values(**values)
        update = {"reversed_on": func.coalesce(col(Payment.reversed_on), statement.excluded.reversed_on)}  # type: ignore[dict-item]
    await session.exec(statement.on_conflict_do_update(  # type: ignore[call-overload]
        index_elements=[Payment.payment_id], set_=update))


# --- queries --------------------------------------------------------------------------------------------------

async def household(session: AsyncSession, household_id: str, *, lock: bool = False) -> Household | None:
    query = select(Household).where(Household.household_id == household_id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def registered_poor(session: AsyncSession, household_id: str, *, lock: bool = False,
                          statuses: frozenset[str] = PLANNABLE) -> Household:
    """The household, when registered, exited or returned; else `422 not_registered_poor`."""
    found = await household(session, household_id, lock=lock)
    if found is None or found.status not in statuses:
        raise Unprocessable("not_registered_poor",
                            f"household {household_id} is not a registered poor household here (yet)",
                            errors=[{"field": "household_id", "message": "not registered poor"}])
    return found


async def division(session: AsyncSession, code: str, *, lock: bool = False) -> Division | None:
    query = select(Division).where(Division.code == code)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def known_division(session: AsyncSession, code: str) -> Division:
    found = await division(session, code)
    if found is None:
        raise NotFound("division_not_found", f"division {code} is not known here")
    return found


def code_prefix(found: Division) -> str:
    return found.code[:PREFIX_LENGTH.get(found.level, len(found.code))]


async def poor_village(session: AsyncSession, village_code: str, *, lock: bool = False) -> Division:
    """The village, locked when asked (one unit and one team per village); `422 not_poor_village` otherwise."""
    found = await division(session, village_code, lock=lock)
    if found is None or found.level != "village" or not found.poor:
        raise Unprocessable("not_poor_village", f"village {village_code} is not marked poor by the registry",
                            errors=[{"field": "village_code", "message": "not a poor village"}])
    return found


async def county(session: AsyncSession, county_code: str, field: str = "county_code") -> Division:
    found = await division(session, county_code)
    if found is None or found.level != "county":
        raise Unprocessable("invalid_division", f"{county_code} is not a county",
                            errors=[{"field": field, "message": "not a county"}])
    return found


async def village_exited_on(session: AsyncSession, village_code: str) -> dt.date | None:
    """The latest `division-exited` date of the village."""
    value = (await session.exec(select(func.max(col(DivisionExit.exited_on)))
                                .where(DivisionExit.division_code == village_code))).first()
    return value if isinstance(value, dt.date) else None


async def still_poor_in_village(session: AsyncSession, village_code: str) -> int:
    found = await session.exec(select(func.count()).select_from(Household).where(
        Household.village_code == village_code, col(Household.status).in_(("registered", "returned"))))
    return int(found.one())


async def poor_villages(session: AsyncSession, prefix: str) -> Sequence[Division]:
    return (await session.exec(select(Division).where(
        Division.level == "village", col(Division.poor).is_(True), col(Division.code).startswith(prefix))
        .order_by(col(Division.code)))).all()
