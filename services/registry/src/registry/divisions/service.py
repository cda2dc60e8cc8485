"""Divisions: create/update, statistics, public notice and village/county exit."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, distinct, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import clock
from fupin_kit.errors import Conflict, NotFound, Unprocessable
from registry.divisions.models import Division, DivisionExit, DivisionPut, DivisionStats, Level
from registry.divisions.rules import division_code_problem, is_code
from registry.events import published
from registry.exits.rules import division_may_exit, poverty_incidence
from registry.households.models import CLOSED, POOR_FOR_INCIDENCE, Household, Member, Status
from registry.policies.service import policy_for


def invalid_division(detail: str, field: str = "code") -> Unprocessable:
    return Unprocessable("invalid_division", detail, errors=[{"field": field, "message": detail}])


async def get_division(session: AsyncSession, code: str, *, for_update: bool = False) -> Division:
    division = await session.get(Division, code, with_for_update=for_update)
    if division is None:
        raise NotFound("division_not_found", f"no division with code {code}")
    return division


async def put_division(session: AsyncSession, *, code: str, body: DivisionPut) -> tuple[Division, bool]:
    """Create or update a division; `422 invalid_division` when the code does not fit its level or parent."""
    # A parent code that is not digits names no division: not looked up (a NUL would fail in the database).
    parent = await session.get(Division, body.parent_code) if is_code(body.parent_code) else None
    problem = division_code_problem(code, body.level, body.parent_code, parent.level if parent else None)
    if problem:
        raise invalid_division(problem, "parent_code" if "parent" in problem else "code")
    division = await session.get(Division, code, with_for_update=True)
    created = division is None
    if division is None:
        division = Division(code=code, **body.model_dump())
        session.add(division)
    else:
        if division.level != body.level and await _has_children(session, code):
            raise invalid_division("the level of a division with children cannot change", "level")
        for name, value in body.model_dump().items():
            setattr(division, name, value)
    await session.flush()
    # Every PUT publishes (created or not, changed or not): the topic is compacted by code, so a consumer started
    # later rebuilds the whole tree from it (contract v2 §6).
    await published.division_updated(session, division)
    return division, created


async def _has_children(session: AsyncSession, code: str) -> bool:
    found = await session.exec(select(Division.code).where(Division.parent_code == code).limit(1))
    return found.first() is not None


def household_scope(division: Division) -> ColumnElement[bool]:
    """The households under `division` (households carry their village, town and county codes)."""
    if division.level == Level.village:
        return col(Household.village_code) == division.code
    if division.level == Level.town:
        return col(Household.town_code) == division.code
    if division.level == Level.county:
        return col(Household.county_code) == division.code
    counties = select(Division.code).where(Division.parent_code == division.code)
    return col(Household.county_code).in_(counties)


async def division_stats(session: AsyncSession, division: Division) -> DivisionStats:
    """Households and persons not rejected/removed; poor persons are members of registered or returned ones."""
    poor = col(Household.status).in_([s.value for s in POOR_FOR_INCIDENCE])
    row = (await session.exec(
        select(func.count(distinct(col(Household.id))), func.count(col(Member.id)),
               func.count(col(Member.id)).filter(poor))
        .select_from(Household).join(Member, col(Member.household_id) == Household.id)
        .where(household_scope(division), col(Household.status).not_in([s.value for s in CLOSED])))
    ).one()
    incidence = poverty_incidence(row[2], division.population)
    return DivisionStats(households=row[0], persons=row[1], poor_persons=row[2],
                         poverty_incidence=None if incidence is None else f"{incidence:.4f}")


async def public_notice(session: AsyncSession, *, village_code: str) -> tuple[Division, list[dict[str, Any]]]:
    """Households of a village under public notice (town_verified): masked head name, member count, causes."""
    from fupin_kit.ids import mask_name

    village = await get_division(session, village_code)
    if village.level != Level.village:
        raise invalid_division("public notices are per village")
    members_count = (select(func.count(col(Member.id))).where(Member.household_id == Household.id)
                     .correlate(Household).scalar_subquery())
    head_name = (select(Member.name).where(Member.household_id == Household.id, Member.relation == "head")
                 .correlate(Household).limit(1).scalar_subquery())
    rows = (await session.exec(
        select(Household.id, Household.causes, members_count, head_name)
        .where(Household.village_code == village_code, Household.status == Status.town_verified)
        .order_by(col(Household.created_at)))).all()
    return village, [{"household_id": r[0], "head_name": mask_name(r[3] or ""), "member_count": r[2],
                      "causes": list(r[1])} for r in rows]


async def decide_division_exit(session: AsyncSession, *, code: str, actor: str) -> tuple[Division, DivisionExit]:
    """Village/county exit by incidence strictly below the year's threshold; the decision is kept either way."""
    division = await get_division(session, code, for_update=True)
    if division.level not in (Level.village, Level.county) or not division.poor:
        raise invalid_division("only a poor village or a poor county can exit")
    if division.exited_at is not None:
        raise Conflict("invalid_status", f"division {code} has already exited")
    stats = await division_stats(session, division)
    policy = await policy_for(session, year=clock.today().year)
    exited = division_may_exit(poor_persons=stats.poor_persons, population=division.population,
                               threshold=policy.exit_incidence_threshold)
    decision = DivisionExit(
        division_code=code, policy_year=policy.year, poor_persons=stats.poor_persons,
        population=division.population, poverty_incidence=poverty_incidence(stats.poor_persons, division.population),
        threshold=policy.exit_incidence_threshold, exited=exited, decided_by=actor)
    session.add(decision)
    if exited:
        division.exited_at = dt.datetime.now(dt.UTC)
        assert stats.poverty_incidence is not None  # a division that exits has a population
        await published.division_exited(session, division, poverty_incidence=stats.poverty_incidence,
                                        threshold=f"{policy.exit_incidence_threshold:.4f}",
                                        poor_persons=stats.poor_persons)
    await session.flush()
    return division, decision


async def children(session: AsyncSession, code: str) -> Sequence[Division]:
    return (await session.exec(select(Division).where(Division.parent_code == code).order_by(Division.code))).all()
