"""低保 cases: opening, income assessments (gradual exit, re-activation), closure, the coverage list."""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, not_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.clock import today
from fupin_kit.errors import Conflict, NotFound, Unprocessable
from welfare.cases.models import OPEN_STATUSES, AssessmentIn, Case, CaseAssessment, CaseIn, ClosureIn, DisabledMember
from welfare.cases.rules import Assessment, PolicyOf, Timeline, amount_for, per_capita_above_line, timeline_for
from welfare.households.models import Household, Member
from welfare.households.service import STILL_POOR, count_on, facts, members_of, registered_poor
from welfare.months import add_months, last_day, month_from_index, month_of
from welfare.policies.service import policy_table


def _not_found() -> NotFound:
    return NotFound("case_not_found", "no such 低保 case")


def parse_id(value: str, not_found: NotFound) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found from None


def _check_members(disabled: Sequence[DisabledMember], members: Sequence[Member]) -> dict[str, int]:
    known = {m.member_id for m in members}
    for i, entry in enumerate(disabled):
        if entry.member_id not in known:
            raise Unprocessable("not_a_member", f"member {entry.member_id} is not a member of the household",
                                errors=[{"field": f"disabled_members.{i}.member_id",
                                         "message": "not a member of the household"}])
    return {e.member_id: e.disability_grade for e in disabled}


def _assessments(rows: Sequence[CaseAssessment]) -> list[Assessment]:
    return [Assessment(r.assessed_on, r.annual_income, dict(r.disabled)) for r in rows]


async def _assessment_rows(session: AsyncSession, case_id: uuid.UUID) -> list[CaseAssessment]:
    return list((await session.exec(select(CaseAssessment).where(CaseAssessment.case_id == case_id)
                                    .order_by(col(CaseAssessment.assessed_on), col(CaseAssessment.id)))).all())


def auto_closed(case: Case) -> bool:
    """Closed by the end of a gradual exit (not by a closure or a removal): a back-dated assessment may reopen it."""
    return case.status == "closed" and case.closes_from is not None


def manual_closed_on(case: Case) -> dt.date | None:
    """The closure date that bounds the months due (a gradual exit's end is the timeline's business)."""
    return None if case.closes_from is not None else case.closed_on


def _sync_status(case: Case, timeline: Timeline, on: dt.date, *, reopen: bool = False) -> None:
    """Bring the stored status up to date with the timeline (gradual exit, re-activation, closure after R+N); a case
    closed by its gradual exit is re-evaluated only on a new assessment (`reopen`)."""
    if case.status not in OPEN_STATUSES and not (reopen and auto_closed(case)):
        return
    case.closed_on, case.close_reason = None, None
    case.status = timeline.state
    case.closes_from = month_from_index(timeline.closes_from) if timeline.closes_from is not None else None
    if case.closes_from is not None and month_of(on) >= case.closes_from:
        case.status, case.close_reason, case.closed_on = "closed", "income_above_line", timeline.closed_on()


async def load_case(session: AsyncSession, case_id: str, *, lock: bool = False) -> Case:
    query = select(Case).where(Case.case_id == parse_id(case_id, _not_found()))
    if lock:
        query = query.with_for_update()
    case = (await session.exec(query)).first()
    if case is None:
        raise _not_found()
    return case


async def read_case(session: AsyncSession, case_id: str) -> dict[str, Any]:
    """The case's view; a status the view brings up to date (`_sync_status`) is kept."""
    case = await load_case(session, case_id)
    view = await case_view(session, case)
    session.add(case)
    return view


async def case_view(session: AsyncSession, case: Case, *, policy_of: PolicyOf | None = None,
                    reopen: bool = False) -> dict[str, Any]:
    """The case with its members, standard and the amount of its current month: the opening month, else the month
    after the latest assessment (the frozen amount during a gradual exit)."""
    policy_of = policy_of or await policy_table(session)
    rows = await _assessment_rows(session, case.case_id)
    assessments = _assessments(rows)
    members = facts(await members_of(session, case.household_id))
    timeline = timeline_for(case.opened_on, assessments, members, policy_of)
    _sync_status(case, timeline, today(), reopen=reopen)
    month = month_of(case.opened_on)
    if len(rows) > 1:
        month = max(month, add_months(month_of(rows[-1].assessed_on), 1))
    paying = timeline.paying_month(month)
    amount = amount_for(month_from_index(paying) if paying is not None else month, assessments, members, policy_of)
    gradual = None
    if timeline.exit_month is not None and timeline.closes_from is not None:
        gradual = {"assessed_month": month_from_index(timeline.exit_month),
                   "first_month": month_from_index(timeline.exit_month + 1),
                   "last_month": month_from_index(timeline.closes_from - 1)}
    return {
        "case_id": str(case.case_id), "household_id": case.household_id, "village_code": case.village_code,
        "county_code": case.county_code, "status": case.status, "opened_on": case.opened_on.isoformat(),
        "closed_on": case.closed_on.isoformat() if case.closed_on else None, "close_reason": case.close_reason,
        "month": month, "members": amount.members, "standard": f"{amount.standard:.2f}",
        "monthly_amount": f"{amount.amount:.2f}", "breakdown": amount.breakdown(), "gradual_exit": gradual,
        "assessments": [{"assessed_on": r.assessed_on.isoformat(), "annual_income": f"{r.annual_income:.2f}",
                         "disabled_members": len(r.disabled)} for r in rows],
    }


async def open_case_of(session: AsyncSession, household_id: str) -> Case | None:
    cases = (await session.exec(select(Case).where(Case.household_id == household_id,
                                                   col(Case.status).in_(OPEN_STATUSES)))).all()
    current = month_of(today())
    found = None
    for case in cases:
        if case.closes_from is None or case.closes_from > current:
            found = case
        else:  # a gradual exit that has ended: closed (the unique index of open cases must not see it open)
            case.status, case.close_reason = "closed", "income_above_line"
            case.closed_on = last_day(add_months(case.closes_from, -1))
            session.add(case)
    await session.flush()
    return found


async def open_case(session: AsyncSession, body: CaseIn, *, created_by: str) -> dict[str, Any]:
    household = await registered_poor(session, body.household_id, lock=True)  # serialises openings per household
    existing = await open_case_of(session, household.household_id)
    if existing is not None:
        raise Conflict("case_already_open", "the household already has an open 低保 case",
                       case_id=str(existing.case_id))
    members = await members_of(session, household.household_id)
    disabled = _check_members(body.disabled_members, members)
    policy_of = await policy_table(session)
    line = policy_of(body.opened_on.year).poverty_line
    if per_capita_above_line(body.annual_income, count_on(members, body.opened_on), line):
        raise Unprocessable("income_above_line",
                            f"annual income per member is above the poverty line of {body.opened_on.year}",
                            errors=[{"field": "annual_income", "message": f"per capita above {line:.2f}"}])
    case = Case(household_id=household.household_id, county_code=household.county_code,
                village_code=household.village_code, status="active", opened_on=body.opened_on,
                created_by=created_by)
    session.add(case)
    await session.flush()
    session.add(CaseAssessment(case_id=case.case_id, assessed_on=body.assessed_on, annual_income=body.annual_income,
                               disabled=disabled))
    await session.flush()
    return await case_view(session, case, policy_of=policy_of)


async def add_assessment(session: AsyncSession, case_id: str, body: AssessmentIn) -> dict[str, Any]:
    case = await load_case(session, case_id, lock=True)
    rows = await _assessment_rows(session, case.case_id)
    policy_of = await policy_table(session)
    members = await members_of(session, case.household_id)
    timeline = timeline_for(case.opened_on, _assessments(rows), facts(members), policy_of)
    closed_by_exit = timeline.closes_from is not None and month_of(body.assessed_on) >= month_from_index(
        timeline.closes_from)
    if (case.status not in OPEN_STATUSES and not auto_closed(case)) or closed_by_exit:
        raise Conflict("invalid_status", f"the case is {'closed' if closed_by_exit else case.status}",
                       current_status=("closed" if closed_by_exit else case.status))
    if auto_closed(case):
        other = await open_case_of(session, case.household_id)
        if other is not None and other.case_id != case.case_id:
            raise Conflict("invalid_status", "the case is closed and the household has another open case",
                           current_status="closed", case_id=str(other.case_id))
    if body.assessed_on < rows[-1].assessed_on:
        raise Unprocessable("assessment_out_of_order",
                            f"the latest assessment is dated {rows[-1].assessed_on.isoformat()}",
                            errors=[{"field": "assessed_on", "message": "before the latest assessment"}])
    disabled = dict(rows[-1].disabled) if body.disabled_members is None else _check_members(
        body.disabled_members, members)
    session.add(CaseAssessment(case_id=case.case_id, assessed_on=body.assessed_on, annual_income=body.annual_income,
                               disabled=disabled))
    await session.flush()
    view = await case_view(session, case, policy_of=policy_of, reopen=True)
    session.add(case)
    return view


async def close_case(session: AsyncSession, case_id: str, body: ClosureIn) -> dict[str, Any]:
    case = await load_case(session, case_id, lock=True)
    view = await case_view(session, case)  # brings an ended gradual exit to `closed` first
    if case.status not in OPEN_STATUSES:
        raise Conflict("invalid_status", f"the case is {case.status}", current_status=case.status)
    if body.closed_on < case.opened_on:
        raise Unprocessable("validation_error", "closed_on is before the case was opened",
                            errors=[{"field": "closed_on", "message": "before opened_on"}])
    case.status, case.closed_on, case.close_reason, case.closes_from = "closed", body.closed_on, body.reason, None
    session.add(case)
    await session.flush()
    view.update(status="closed", closed_on=body.closed_on.isoformat(), close_reason=body.reason)
    return view


async def cases_of_household(session: AsyncSession, household_id: str) -> list[dict[str, Any]]:
    cases = (await session.exec(select(Case).where(Case.household_id == household_id)
                                .order_by(col(Case.opened_on)))).all()
    policy_of = await policy_table(session)
    return [await case_view(session, c, policy_of=policy_of) for c in cases]


def division_prefix(code: str) -> str:
    """What the village codes under a division start with: a 6-digit code ending in 00 is a city (its counties
    share its first 4 digits) or, ending in 0000, a province (2 digits); otherwise the code itself."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


async def coverage(session: AsyncSession, division_code: str) -> list[dict[str, Any]]:
    """应保尽保: still-poor households of the division whose members all have labour `none` and that have no open
    case (a gradual exit still counts as open)."""
    current = month_of(today())
    prefix = division_prefix(division_code)
    able = exists().where(col(Member.household_id) == col(Household.household_id), col(Member.labor) != "none")
    has_case = exists().where(col(Case.household_id) == col(Household.household_id),
                              col(Case.status).in_(OPEN_STATUSES),
                              (col(Case.closes_from).is_(None)) | (col(Case.closes_from) > current))
    counts = select(Member.household_id, func.count().label("n")).group_by(col(Member.household_id)).subquery()
    query = (select(Household.household_id, Household.village_code, counts.c.n)
             .join(counts, counts.c.household_id == col(Household.household_id))
             .where(col(Household.status).in_(STILL_POOR), col(Household.village_code).startswith(prefix),
                    not_(able), not_(has_case))
             .order_by(col(Household.village_code), col(Household.household_id)))
    return [{"household_id": h, "village_code": v, "members": n} for h, v, n in (await session.exec(query)).all()]
