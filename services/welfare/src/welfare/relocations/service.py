"""Relocations: planned once per household; moving in pays the per-person subsidy once (benefit-due) and announces
relocation-completed."""

import datetime as dt
import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict, NotFound
from welfare.benefits.service import stage_one_off
from welfare.events.published import relocation_completed
from welfare.households.service import count_on, members_of, registered_poor
from welfare.policies.service import policy_for
from welfare.relocations.models import MoveInIn, Relocation, RelocationIn, relocation_out
from welfare.relocations.rules import relocation_subsidy


async def plan(session: AsyncSession, body: RelocationIn) -> dict[str, Any]:
    household = await registered_poor(session, body.household_id, lock=True)
    existing = (await session.exec(select(Relocation).where(
        Relocation.household_id == household.household_id,
        col(Relocation.status).in_(("planned", "moved_in"))))).first()
    if existing is not None:
        raise Conflict("relocation_exists", f"the household's relocation is already {existing.status}",
                       relocation_id=str(existing.relocation_id), current_status=existing.status)
    relocation = Relocation(household_id=household.household_id, county_code=household.county_code,
                            village_code=household.village_code,
                            destination_village_code=body.destination_village_code, site_name=body.site_name,
                            planned_year=body.planned_year, created_at=dt.datetime.now(dt.UTC))
    session.add(relocation)
    await session.flush()
    return relocation_out(relocation)


async def load(session: AsyncSession, relocation_id: str, *, lock: bool = False) -> Relocation:
    not_found = NotFound("relocation_not_found", "no such relocation")
    try:
        key = uuid.UUID(relocation_id)
    except ValueError:
        raise not_found from None
    query = select(Relocation).where(Relocation.relocation_id == key)
    if lock:
        query = query.with_for_update()
    relocation = (await session.exec(query)).first()
    if relocation is None:
        raise not_found
    return relocation


async def move_in(session: AsyncSession, relocation_id: str, body: MoveInIn) -> dict[str, Any]:
    relocation = await load(session, relocation_id, lock=True)
    if relocation.status != "planned":
        raise Conflict("invalid_status", f"the relocation is {relocation.status}", current_status=relocation.status)
    household = await registered_poor(session, relocation.household_id)
    persons = count_on(await members_of(session, household.household_id), body.moved_in_on)
    policy, _ = await policy_for(session, year=body.moved_in_on.year)
    subsidy = relocation_subsidy(policy.relocation_subsidy, persons)
    benefit = await stage_one_off(session, household, kind="relocation", amount=subsidy, decided_on=body.moved_in_on,
                                  case_id=relocation.relocation_id,
                                  breakdown={"persons": persons, "per_person": f"{policy.relocation_subsidy:.2f}"})
    relocation.status, relocation.moved_in_on, relocation.persons = "moved_in", body.moved_in_on, persons
    relocation.subsidy, relocation.benefit_id = subsidy, benefit.benefit_id
    session.add(relocation)
    await session.flush()
    await relocation_completed(session, relocation_id=str(relocation.relocation_id),
                               household_id=household.household_id, county_code=household.county_code,
                               village_code=household.village_code,
                               destination_village_code=relocation.destination_village_code, persons=persons,
                               moved_in_on=body.moved_in_on, benefit_id=str(benefit.benefit_id))
    return relocation_out(relocation)
