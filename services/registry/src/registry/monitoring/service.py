"""Exited households at risk of returning to poverty, and verification quality per town or county."""

from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.money import round_fen
from registry.divisions.models import Level
from registry.divisions.service import children, get_division, household_scope, invalid_division
from registry.exits.rules import INDICATORS, per_capita_income
from registry.households.models import Household, Member, Status
from registry.monitoring.rules import error_rate, return_risk_reasons
from registry.policies.service import YearPolicy, policy_for
from registry.verification.models import Verification, VerificationLevel


async def households_at_risk(session: AsyncSession, *, division_code: str) -> list[dict[str, Any]]:
    division = await get_division(session, division_code)
    exited = (await session.exec(select(Household).where(household_scope(division),
                                                         Household.status == Status.exited)
                                 .order_by(col(Household.village_code), col(Household.id)))).all()
    health: dict[Any, list[str]] = defaultdict(list)
    ids = [h.id for h in exited]
    for household_id, state in (await session.exec(select(Member.household_id, Member.health)
                                                   .where(col(Member.household_id).in_(ids)))).all():
        health[household_id].append(state)
    policies: dict[int, YearPolicy] = {}
    items = []
    for h in exited:
        policy = policies.get(h.income_year) or await policy_for(session, year=h.income_year)
        policies[h.income_year] = policy
        members = health[h.id]
        reasons = return_risk_reasons(
            annual_income=h.annual_income, member_count=len(members), poverty_line=policy.poverty_line,
            multiplier=policy.return_risk_multiplier, member_health=members, indicators=h.indicators)
        if reasons:
            items.append({
                "household_id": h.id, "village_code": h.village_code, "income_year": h.income_year,
                "per_capita_income": per_capita_income(h.annual_income, max(len(members), 1)),
                "monitoring_line": round_fen(policy.poverty_line * policy.return_risk_multiplier),
                "false_indicators": [n for n in INDICATORS if not h.indicators.get(n, False)],
                "reasons": reasons})
    return items


# The column naming a household's division one level below the asked one.
UNIT_COLUMN = {Level.city: col(Household.county_code), Level.county: col(Household.town_code),
               Level.town: col(Household.village_code)}


async def verification_stats(session: AsyncSession, *, code: str) -> tuple[Any, list[dict[str, Any]]]:
    """Per child division (counties of a city, towns of a county, villages of a town)."""
    division = await get_division(session, code)
    if division.level == Level.village:
        raise invalid_division("verification statistics are per town or county: give a town, county or city")
    unit = UNIT_COLUMN[division.level]
    level = col(Verification.level)
    is_town, is_county = level == VerificationLevel.town, level == VerificationLevel.county
    approved = col(Verification.approved)
    rows = (await session.exec(
        # sqlmodel's select() overloads stop at four columns; at run time it takes any number
        select(unit, func.count().filter(is_town, approved), func.count().filter(is_town, ~approved),  # type: ignore[call-overload]
               func.count().filter(is_county, approved), func.count().filter(is_county, ~approved),
               func.count(func.distinct(Household.id)).filter(is_county, approved,
                                                              col(Household.status) == Status.removed))
        .select_from(Verification).join(Household, col(Household.id) == Verification.household_id)
        .where(household_scope(division)).group_by(unit))).all()
    counts = {r[0]: r[1:] for r in rows}
    units = []
    for child in await children(session, code):
        town_ok, town_no, county_ok, county_no, removed = counts.get(child.code, (0, 0, 0, 0, 0))
        rate = error_rate(town_approved=town_ok, refused_at_county=county_no, removed=removed)
        units.append({"division_code": child.code, "name": child.name, "level": child.level,
                      "town_approved": town_ok, "town_refused": town_no, "approved": county_ok,
                      "refused_at_county_after_town": county_no, "removed_as_wrongly_identified": removed,
                      "error_rate": None if rate is None else f"{rate:.4f}"})
    return division, units
