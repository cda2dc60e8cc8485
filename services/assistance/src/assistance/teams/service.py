"""Units, their villages, village work teams, members, attendance and withdrawal (contract §7). One active unit and
one active team per village: the village's read-model row is locked FOR UPDATE while deciding (partial unique
indexes back it); one first secretary and one captain per team: the team's row is locked."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.common import new_id, not_found
from assistance.policies.service import policy_for
from assistance.readmodels import service as readmodels
from assistance.teams.models import Attendance, Team, TeamMember, Unit, VillagePairing
from assistance.teams.rules import SINGLE_ROLES, days_on_team, meets_minimum, required_days, withdrawal_check
from assistance.teams.schemas import (
    AttendanceOut,
    EndIn,
    LeaveIn,
    MemberAttendance,
    MemberIn,
    MemberOut,
    TeamAttendanceOut,
    TeamIn,
    TeamOut,
    UnitIn,
    VillagePairingIn,
    WithdrawalIn,
)
from fupin_kit.errors import Conflict, Unprocessable


def _date_error(field: str, message: str) -> Unprocessable:
    return Unprocessable("validation_error", f"{field} {message}", errors=[{"field": field, "message": message}])


async def create_unit(session: AsyncSession, body: UnitIn) -> Unit:
    unit = Unit(unit_id=new_id(), name=body.name, kind=body.kind)
    session.add(unit)
    await session.flush()
    return unit


async def get_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise not_found("unit", unit_id)
    return unit


async def known_unit(session: AsyncSession, unit_id: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise Unprocessable("unknown_unit", f"unit {unit_id} does not exist",
                            errors=[{"field": "unit_id", "message": "unknown unit"}])
    return unit


async def pair_village(session: AsyncSession, unit_id: str, body: VillagePairingIn) -> VillagePairing:
    await get_unit(session, unit_id)
    await readmodels.poor_village(session, body.village_code, lock=True)
    existing = (await session.exec(select(VillagePairing).where(
        VillagePairing.village_code == body.village_code, VillagePairing.status == "active"))).first()
    if existing is not None:
        raise Conflict("village_has_unit", f"village {body.village_code} already has a paired unit",
                       village_pairing_id=existing.village_pairing_id, unit_id=existing.unit_id)
    pairing = VillagePairing(village_pairing_id=new_id(), unit_id=unit_id, village_code=body.village_code,
                             starts_on=body.starts_on)
    session.add(pairing)
    await session.flush()
    return pairing


async def get_village_pairing(session: AsyncSession, village_pairing_id: str, *, lock: bool = False) -> VillagePairing:
    query = select(VillagePairing).where(VillagePairing.village_pairing_id == village_pairing_id)
    found = (await session.exec(query.with_for_update() if lock else query)).first()
    if found is None:
        raise not_found("village_pairing", village_pairing_id)
    return found


async def end_village_pairing(session: AsyncSession, village_pairing_id: str, body: EndIn) -> VillagePairing:
    pairing = await get_village_pairing(session, village_pairing_id, lock=True)
    if pairing.status != "active":
        raise Conflict("invalid_status", f"village pairing {village_pairing_id} is {pairing.status}, not active")
    if body.ended_on < pairing.starts_on:
        raise _date_error("ended_on", "must not be before starts_on")
    pairing.status, pairing.ended_on, pairing.reason = "ended", body.ended_on, body.reason
    session.add(pairing)
    await session.flush()
    return pairing


async def form_team(session: AsyncSession, body: TeamIn) -> Team:
    await readmodels.poor_village(session, body.village_code, lock=True)
    await known_unit(session, body.unit_id)
    existing = (await session.exec(select(Team).where(Team.village_code == body.village_code,
                                                      Team.status == "active"))).first()
    if existing is not None:
        raise Conflict("village_has_team", f"village {body.village_code} already has a work team",
                       team_id=existing.team_id)
    team = Team(team_id=new_id(), village_code=body.village_code, unit_id=body.unit_id, formed_on=body.formed_on)
    session.add(team)
    await session.flush()
    return team


async def get_team(session: AsyncSession, team_id: str, *, lock: bool = False) -> Team:
    query = select(Team).where(Team.team_id == team_id)
    team = (await session.exec(query.with_for_update() if lock else query)).first()
    if team is None:
        raise not_found("team", team_id)
    return team


async def members_of(session: AsyncSession, team_id: str) -> Sequence[TeamMember]:
    return (await session.exec(select(TeamMember).where(TeamMember.team_id == team_id)
                               .order_by(col(TeamMember.joined_on), col(TeamMember.team_member_id)))).all()


async def team_view(session: AsyncSession, team: Team) -> TeamOut:
    members = await members_of(session, team.team_id)
    return TeamOut(team_id=team.team_id, village_code=team.village_code, unit_id=team.unit_id,
                   formed_on=team.formed_on, status=team.status, withdrawn_on=team.withdrawn_on,
                   withdrawal_reason=team.withdrawal_reason,
                   members=[MemberOut.model_validate(m) for m in members])


async def add_member(session: AsyncSession, team_id: str, body: MemberIn) -> TeamMember:
    team = await get_team(session, team_id, lock=True)
    if team.status != "active":
        raise Conflict("invalid_status", f"team {team_id} is {team.status}")
    if body.role in SINGLE_ROLES:
        holder = (await session.exec(select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.role == body.role, TeamMember.status == "active"))).first()
        if holder is not None:
            raise Conflict("role_taken", f"team {team_id} already has an active {body.role}",
                           role=body.role, team_member_id=holder.team_member_id)
    member = TeamMember(team_member_id=new_id(), team_id=team_id, name=body.name, role=body.role,
                        background=body.background, joined_on=body.joined_on)
    session.add(member)
    await session.flush()
    return member


async def get_member(session: AsyncSession, team_id: str, team_member_id: str, *, lock: bool = False) -> TeamMember:
    query = select(TeamMember).where(TeamMember.team_member_id == team_member_id, TeamMember.team_id == team_id)
    member = (await session.exec(query.with_for_update() if lock else query)).first()
    if member is None:
        raise not_found("team_member", team_member_id)
    return member


async def leave(session: AsyncSession, team_id: str, team_member_id: str, body: LeaveIn) -> TeamMember:
    await get_team(session, team_id, lock=True)
    member = await get_member(session, team_id, team_member_id, lock=True)
    if member.status != "active":
        raise Conflict("invalid_status", f"team member {team_member_id} has already left")
    if body.left_on < member.joined_on:
        raise _date_error("left_on", "must not be before joined_on")
    member.status, member.left_on = "left", body.left_on
    session.add(member)
    await session.flush()
    return member


async def record_attendance(session: AsyncSession, team_id: str, team_member_id: str, year: int,
                            days_present: int) -> tuple[AttendanceOut, bool]:
    """Set the member's days present in `year`; True when created. More than the member's days on the team that
    year is `422 validation_error`."""
    await get_team(session, team_id)
    member = await get_member(session, team_id, team_member_id, lock=True)
    on_team = days_on_team(year, member.joined_on, member.left_on)
    if days_present > on_team:
        raise Unprocessable("validation_error",
                            f"days_present {days_present} is more than the {on_team} days on the team in {year}",
                            errors=[{"field": "days_present",
                                     "message": f"must not exceed the {on_team} days on the team in {year}"}])
    row = await session.get(Attendance, (team_member_id, year))
    created = row is None
    if row is None:
        row = Attendance(team_member_id=team_member_id, year=year, days_present=days_present)
    else:
        row.days_present = days_present
    session.add(row)
    await session.flush()
    policy, _ = await policy_for(session, year=year)
    required = required_days(policy.team_min_days, on_team, year)
    return AttendanceOut(team_member_id=team_member_id, year=year, days_present=days_present, days_on_team=on_team,
                         required_days=required, meets_minimum=meets_minimum(days_present, required)), created


async def team_attendance(session: AsyncSession, team_id: str, year: int) -> TeamAttendanceOut:
    await get_team(session, team_id)
    policy, _ = await policy_for(session, year=year)
    present = {a.team_member_id: a.days_present for a in (await session.exec(select(Attendance).where(
        Attendance.year == year, col(Attendance.team_member_id).in_(
            select(TeamMember.team_member_id).where(TeamMember.team_id == team_id))))).all()}
    rows = []
    for member in await members_of(session, team_id):
        on_team = days_on_team(year, member.joined_on, member.left_on)
        if on_team == 0:
            continue
        required = required_days(policy.team_min_days, on_team, year)
        days = present.get(member.team_member_id, 0)
        rows.append(MemberAttendance(team_member_id=member.team_member_id, role=member.role, days_present=days,
                                     days_on_team=on_team, required_days=required,
                                     meets_minimum=meets_minimum(days, required)))
    return TeamAttendanceOut(team_id=team_id, year=year, min_days=policy.team_min_days, members=rows)


async def withdraw(session: AsyncSession, team_id: str, body: WithdrawalIn) -> Team:
    """不稳定脱贫不撤队伍: only when no household of the village is still poor and the village exited at least
    `team_stay_years` (the policy of the withdrawal's year) before; the members leave with the team."""
    team = await get_team(session, team_id, lock=True)
    if team.status != "active":
        raise Conflict("invalid_status", f"team {team_id} is {team.status}")
    policy, _ = await policy_for(session, year=body.withdrawn_on.year)
    check = withdrawal_check(
        poor_households=await readmodels.still_poor_in_village(session, team.village_code),
        village_exited_on=await readmodels.village_exited_on(session, team.village_code),
        stay_years=policy.team_stay_years, withdrawn_on=body.withdrawn_on)
    if not check.allowed:
        extra: dict[str, object] = {"reasons": check.reasons}
        if "poor_households_remain" in check.reasons:
            extra["poor_households"] = check.poor_households
        if check.stay_until is not None:
            extra["stay_until"] = check.stay_until.isoformat()
        raise Conflict("team_must_stay", f"team {team_id} must stay: {', '.join(check.reasons)}", **extra)
    team.status, team.withdrawn_on, team.withdrawal_reason = "withdrawn", body.withdrawn_on, body.reason
    session.add(team)
    for member in await members_of(session, team_id):
        if member.status == "active":
            member.status, member.left_on = "left", max(body.withdrawn_on, member.joined_on)
            session.add(member)
    await session.flush()
    return team
