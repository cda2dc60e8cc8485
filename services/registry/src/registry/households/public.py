"""Household answers: members, per-capita income and the status history."""

import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import clock
from fupin_kit.errors import NotFound
from fupin_kit.ids import age_from_birth
from fupin_kit.money import format_money
from registry.exits.rules import per_capita_income
from registry.households import service
from registry.households.models import Household
from registry.households.schemas import HouseholdPublic, Indicators, MemberPublic, StatusChangePublic


async def household_public(session: AsyncSession, household: Household) -> HouseholdPublic:
    members = await service.members_of(session, household.id)
    history = await service.history_of(session, household.id)
    return build_public(household, members, history)


# GET /registry/households/{id} in one round trip: the row with its members (by position) and status history (in
# order) as arrays of the tables' own row types, which asyncpg decodes with their column types.
_READ_SQL = """
SELECT h.*,
       ARRAY(SELECT m FROM member m WHERE m.household_id = h.id ORDER BY m.position) AS members,
       ARRAY(SELECT s FROM status_change s WHERE s.household_id = h.id ORDER BY s.id) AS history
FROM household h WHERE h.id = $1
"""


async def read_public(conn: Any, household_id: uuid.UUID) -> HouseholdPublic:
    """The same answer as `household_public(get_household(...))`, read with plain asyncpg on the driver connection
    `conn` in one query (the ORM cost more than its three small queries). GET /registry/households/{id} sends its
    JSON text without the models (`read_public_json`); the tests hold the two texts equal."""
    row = await conn.fetchrow(_READ_SQL, household_id)
    if row is None:
        raise NotFound("household_not_found", f"no household {household_id}")
    household = SimpleNamespace(**{k: v for k, v in row.items() if k not in ("members", "history")})
    return build_public(household, [SimpleNamespace(**dict(m)) for m in row["members"]],
                        [SimpleNamespace(**dict(h)) for h in row["history"]])


async def read_public_json(conn: Any, household_id: uuid.UUID) -> bytes:
    """`read_public(...)` as the JSON text its model gives (`model_dump_json()`), byte for byte, built from the row
    as plain data and written by orjson: a sixth of the CPU of building the models and serialising them (about
    100 µs of a read). The registry's tests compare the two texts on households of every shape."""
    row = await conn.fetchrow(_READ_SQL, household_id)
    if row is None:
        raise NotFound("household_not_found", f"no household {household_id}")
    return public_json(row, clock.today())


_INDICATORS = tuple(Indicators.model_fields)  # the model's order (jsonb keeps its keys in an order of its own)


def public_json(row: Any, today: Any) -> bytes:
    """The JSON of `build_public` from a row of `_READ_SQL` (see `read_public_json`): the same fields in the model's
    order, money as `format_money` text, ids as text, times as pydantic writes them (UTC as `Z`)."""
    members = row["members"]
    annual_income = row["annual_income"]
    indicators = row["indicators"]
    answer = {
        "household_id": str(row["id"]), "status": row["status"], "village_code": row["village_code"],
        "town_code": row["town_code"], "county_code": row["county_code"],
        "annual_income": format_money(annual_income), "income_year": row["income_year"],
        "per_capita_income": format_money(per_capita_income(annual_income, max(len(members), 1))),
        "causes": list(row["causes"]), "indicators": {name: indicators[name] for name in _INDICATORS},
        "low_income_guarantee": row["low_income_guarantee"], "member_count": len(members),
        "members": [{
            "member_id": str(m["id"]), "masked_id_number": m["masked_id_number"], "name": m["name"],
            "birth_year": m["birth_date"].year, "age": age_from_birth(m["birth_date"], today),
            "relation": m["relation"], "health": m["health"], "disability_grade": m["disability_grade"],
            "labor": m["labor"], "school_stage": m["school_stage"], "boarding": m["boarding"]} for m in members],
        "history": [{
            "from_status": h["from_status"], "to_status": h["to_status"], "action": h["action"], "actor": h["actor"],
            "officer": h["officer"], "reason": h["reason"], "at": h["at"]} for h in row["history"]],
        "created_at": row["created_at"], "updated_at": row["updated_at"],
    }
    return orjson.dumps(answer, option=orjson.OPT_UTC_Z)


def build_public(household: Any, members: Sequence[Any], history: Sequence[Any]) -> HouseholdPublic:
    """The answer from a household, its members and its history (ORM rows or rows read with the same columns)."""
    today = clock.today()
    return HouseholdPublic(
        household_id=household.id, status=household.status, village_code=household.village_code,
        town_code=household.town_code, county_code=household.county_code, annual_income=household.annual_income,
        income_year=household.income_year,
        per_capita_income=per_capita_income(household.annual_income, max(len(members), 1)),
        causes=list(household.causes), indicators=Indicators(**household.indicators),
        low_income_guarantee=household.low_income_guarantee, member_count=len(members),
        members=[MemberPublic(
            member_id=m.id, masked_id_number=m.masked_id_number, name=m.name, birth_year=m.birth_date.year,
            age=age_from_birth(m.birth_date, today),
            relation=m.relation, health=m.health, disability_grade=m.disability_grade, labor=m.labor,
            school_stage=m.school_stage, boarding=m.boarding) for m in members],
        history=[StatusChangePublic(from_status=h.from_status, to_status=h.to_status, action=h.action,
                                    actor=h.actor, officer=h.officer, reason=h.reason, at=h.at) for h in history],
        created_at=household.created_at, updated_at=household.updated_at)
