"""Helpers and pairings: one active helper per household and a per-year cap per helper, both under concurrency
(the helper's row, then the household's row, locked FOR UPDATE; a partial unique index backs the first rule)."""

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.common import new_id, not_found
from assistance.events import published
from assistance.helpers.models import Helper, Pairing
from assistance.helpers.rules import STILL_POOR, at_capacity, coverage, four_places
from assistance.helpers.schemas import (
    CoverageOut,
    EndIn,
    HelperIn,
    HelperOut,
    HouseholdGap,
    PairingIn,
    PairingOut,
    TeamShort,
)
from assistance.policies.service import policy_for
from assistance.readmodels import service as readmodels
from assistance.readmodels.models import Household
from assistance.teams.models import Team, TeamMember, Unit, VillagePairing
from assistance.teams.rules import team_lacks
from fupin_kit.clock import today
from fupin_kit.errors import Conflict, Unprocessable


async def create_helper(session: AsyncSession, body: HelperIn) -> Helper:
    if body.unit_id is not None and await session.get(Unit, body.unit_id) is None:
        raise Unprocessable("unknown_unit", f"unit {body.unit_id} does not exist",
                            errors=[{"field": "unit_id", "message": "unknown unit"}])
    helper = Helper(helper_id=new_id(), name=body.name, unit_id=body.unit_id, phone=body.phone)
    session.add(helper)
    await session.flush()
    return helper


async def get_helper(session: AsyncSession, helper_id: str) -> Helper:
    helper = await session.get(Helper, helper_id)
    if helper is None:
        raise not_found("helper", helper_id)
    return helper


async def active_pairings(session: AsyncSession, helper_id: str) -> Sequence[Pairing]:
    return (await session.exec(select(Pairing).where(Pairing.helper_id == helper_id, Pairing.status == "active")
                               .order_by(col(Pairing.starts_on), col(Pairing.pairing_id)))).all()


async def helper_view(session: AsyncSession, helper: Helper) -> HelperOut:
    pairings = await active_pairings(session, helper.helper_id)
    return HelperOut(helper_id=helper.helper_id, name=helper.name, unit_id=helper.unit_id, phone=helper.phone,
                     active_households=len(pairings),
                     pairings=[PairingOut.model_validate(p) for p in pairings])


async def list_helpers(session: AsyncSession, *, unit_id: str | None, limit: int, offset: int) -> list[HelperOut]:
    query = select(Helper).order_by(col(Helper.created_at), col(Helper.helper_id)).limit(limit).offset(offset)
    if unit_id is not None:
        query = query.where(Helper.unit_id == unit_id)
    return [await helper_view(session, h) for h in (await session.exec(query)).all()]


async def active_pairing_of(session: AsyncSession, household_id: str) -> Pairing | None:
    return (await session.exec(select(Pairing).where(Pairing.household_id == household_id,
                                                     Pairing.status == "active"))).first()


async def assign(session: AsyncSession, body: PairingIn) -> Pairing:
    helper = (await session.exec(select(Helper).where(Helper.helper_id == body.helper_id).with_for_update())).first()
    if helper is None:
        raise Unprocessable("unknown_helper", f"helper {body.helper_id} does not exist",
                            errors=[{"field": "helper_id", "message": "unknown helper"}])
    household = await readmodels.registered_poor(session, body.household_id, lock=True)
    existing = await active_pairing_of(session, household.household_id)
    if existing is not None:
        raise Conflict("household_has_helper", f"household {household.household_id} already has a helper",
                       pairing_id=existing.pairing_id)
    policy, _ = await policy_for(session, year=body.starts_on.year)
    count = (await session.exec(select(func.count()).select_from(Pairing).where(
        Pairing.helper_id == helper.helper_id, Pairing.status == "active"))).one()
    if at_capacity(int(count), policy.helper_max_households):
        raise Conflict("helper_at_capacity", f"helper {helper.helper_id} already has {count} active households",
                       max_households=policy.helper_max_households)
    pairing = Pairing(pairing_id=new_id(), helper_id=helper.helper_id, household_id=household.household_id,
                      village_code=household.village_code, county_code=household.county_code,
                      starts_on=body.starts_on)
    session.add(pairing)
    await session.flush()
    await published.helper_assigned(session, pairing)
    return pairing


async def get_pairing(session: AsyncSession, pairing_id: str, *, lock: bool = False) -> Pairing:
    query = select(Pairing).where(Pairing.pairing_id == pairing_id)
    if lock:
        query = query.with_for_update()
    pairing = (await session.exec(query)).first()
    if pairing is None:
        raise not_found("pairing", pairing_id)
    return pairing


async def end_pairing(session: AsyncSession, pairing_id: str, body: EndIn) -> Pairing:
    pairing = await get_pairing(session, pairing_id, lock=True)
    if pairing.status != "active":
        raise Conflict("invalid_status", f"pairing {pairing_id} is {pairing.status}, not active")
    if body.ended_on < pairing.starts_on:
        raise Unprocessable("validation_error", "ended_on is before the pairing started",
                            errors=[{"field": "ended_on", "message": "must not be before starts_on"}])
    pairing.status, pairing.ended_on, pairing.reason, pairing.reason_code = "ended", body.ended_on, body.reason, "ended"
    session.add(pairing)
    await session.flush()
    await published.helper_released(session, pairing)
    return pairing


async def release_on_removal(session: AsyncSession, *, household_id: str, ended_on: dt.date) -> None:
    """`household-removed` ends the household's pairing by itself (reason_code household_removed)."""
    pairing = (await session.exec(select(Pairing).where(Pairing.household_id == household_id,
                                                        Pairing.status == "active").with_for_update())).first()
    if pairing is None:
        return
    pairing.status, pairing.ended_on = "ended", max(ended_on, pairing.starts_on)
    pairing.reason, pairing.reason_code = "household removed by the registry", "household_removed"
    session.add(pairing)
    await session.flush()
    await published.helper_released(session, pairing)


async def coverage_of(session: AsyncSession, division_code: str) -> CoverageOut:
    """The division's current coverage: still-poor households without a helper, poor villages without a unit or a
    team (a team withdrawn under the rule counts), active teams short of a role, a technician or members."""
    division = await readmodels.known_division(session, division_code)
    prefix = readmodels.code_prefix(division)
    paired = select(Pairing.household_id).where(Pairing.status == "active")
    poor = (await session.exec(select(Household, col(Household.household_id).in_(paired)).where(
        col(Household.village_code).startswith(prefix), col(Household.status).in_(tuple(STILL_POOR)))
        .order_by(col(Household.village_code), col(Household.household_id)))).all()
    with_helper = sum(1 for _, has in poor if has)
    villages = await readmodels.poor_villages(session, prefix)
    codes = [v.code for v in villages]
    with_unit = set((await session.exec(select(VillagePairing.village_code).where(
        col(VillagePairing.village_code).in_(codes), VillagePairing.status == "active"))).all())
    teams = (await session.exec(select(Team).where(col(Team.village_code).in_(codes))
                                .order_by(col(Team.village_code)))).all()
    with_team = {t.village_code for t in teams}  # active, or withdrawn (only ever under the rule)
    policy, _ = await policy_for(session, year=today().year)
    active = [t for t in teams if t.status == "active"]
    members = (await session.exec(select(TeamMember).where(
        col(TeamMember.team_id).in_([t.team_id for t in active]), TeamMember.status == "active"))).all()
    short = []
    for team in active:
        mine = [m for m in members if m.team_id == team.team_id]
        lacks = team_lacks(roles=[m.role for m in mine], backgrounds=[m.background for m in mine],
                           min_members=policy.team_min_members)
        if lacks:
            short.append(TeamShort(team_id=team.team_id, village_code=team.village_code, lacks=lacks))
    return CoverageOut(
        division_code=division.code, level=division.level, still_poor_households=len(poor), with_helper=with_helper,
        helper_coverage=f"{four_places(coverage(with_helper, len(poor))):.4f}",
        households_without_helper=[HouseholdGap(household_id=h.household_id, village_code=h.village_code,
                                                status=h.status) for h, has in poor if not has],
        poor_villages=len(villages), villages_without_unit=[c for c in codes if c not in with_unit],
        villages_without_team=[c for c in codes if c not in with_team], teams_short=short)
