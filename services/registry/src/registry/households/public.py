"""Household answers: members, per-capita income and the status history."""

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.ids import age_from_birth
from registry.exits.rules import per_capita_income
from registry.households import service
from registry.households.models import Household
from registry.households.schemas import HouseholdPublic, Indicators, MemberPublic, StatusChangePublic


async def household_public(session: AsyncSession, household: Household) -> HouseholdPublic:
    members = await service.members_of(session, household.id)
    history = await service.history_of(session, household.id)
    today = dt.date.today()
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
