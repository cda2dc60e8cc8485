"""Targets (责任书), misuse findings, the annual assessment (考核) over the read models, summonses (约谈).

The actuals are gathered as of the reference date D from the event history (contract §7), so a final assessment
made in January sees the year as it stood on 31 December."""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.assessment.models import Assessment, MisuseFinding, Summons, Target
from assistance.assessment.rules import Actuals, Targets, assess, reference_date
from assistance.assessment.schemas import AssessmentOut, FindingIn, FindingOut, RecordIn, SummonsOut, TargetsIn
from assistance.common import new_id, not_found
from assistance.events import published
from assistance.helpers.rules import coverage, four_places
from assistance.policies.service import policy_for, policy_record
from assistance.readmodels import service as readmodels
from fupin_kit.clock import today
from fupin_kit.errors import Conflict, NotFound, Unprocessable
from fupin_kit.money import format_money


async def set_targets(session: AsyncSession, *, county_code: str, year: int, body: TargetsIn,
                      updated_by: str) -> bool:
    """Upsert the county's targets for the year; True when created."""
    await readmodels.county(session, county_code)
    values = dict(dict(body), updated_by=updated_by)
    statement = insert(Target).values(county_code=county_code, year=year, **values)
    created = (await session.exec(statement.on_conflict_do_update(  # type: ignore[call-overload]
        index_elements=["county_code", "year"], set_=values).returning(text("xmax = 0")))).scalar_one()
    return bool(created)


async def get_targets(session: AsyncSession, county_code: str, year: int) -> Target | None:
    return await session.get(Target, (county_code, year))


def targets_not_set(county_code: str, year: int, status: int) -> Exception:
    message = f"no targets are set for county {county_code} in {year}"
    if status == 404:
        return NotFound("targets_not_set", message)
    return Unprocessable("targets_not_set", message, errors=[{"field": "county_code", "message": message}])


async def add_finding(session: AsyncSession, body: FindingIn, recorded_by: str) -> MisuseFinding:
    await readmodels.county(session, body.county_code)
    finding = MisuseFinding(finding_id=new_id(), recorded_by=recorded_by, **dict(body))
    session.add(finding)
    await session.flush()
    return finding


async def get_finding(session: AsyncSession, finding_id: str) -> MisuseFinding:
    finding = await session.get(MisuseFinding, finding_id)
    if finding is None:
        raise not_found("misuse_finding", finding_id)
    return finding


def finding_view(finding: MisuseFinding) -> FindingOut:
    return FindingOut(finding_id=finding.finding_id, county_code=finding.county_code, year=finding.year,
                      found_on=finding.found_on, amount=finding.amount, reference=finding.reference,
                      note=finding.note)


# --- the actuals ------------------------------------------------------------------------------------------------

_EXITS = """
SELECT count(DISTINCT e.household_id) AS certified,
       count(DISTINCT e.household_id) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM household_events l WHERE l.household_id = e.household_id
           AND l.kind IN ('returned', 'removed') AND l.at > e.at AND l.event_on <= :d)) AS kept
FROM household_events e
WHERE e.kind = 'exited' AND e.county_code = :county AND e.event_on BETWEEN :start AND :d
"""
# `certified`: households with an exit dated in the year; `kept`: those with such an exit not followed by a return
# or removal up to D.
_REGISTERED = """
SELECT count(DISTINCT household_id) FROM household_events
WHERE kind = 'registered' AND county_code = :county AND event_on <= :d
"""
_REMOVED = """
SELECT count(DISTINCT r.household_id) FROM household_events r
WHERE r.kind = 'removed' AND r.county_code = :county AND r.event_on BETWEEN :start AND :d
AND EXISTS (SELECT 1 FROM household_events g WHERE g.household_id = r.household_id AND g.kind = 'registered'
            AND g.at <= r.at)
"""
_STILL_POOR = """
WITH latest AS (
    SELECT DISTINCT ON (household_id) household_id, kind FROM household_events
    WHERE county_code = :county AND event_on <= :d ORDER BY household_id, at DESC, event_id DESC)
SELECT count(*) AS poor,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM pairings p WHERE p.household_id = latest.household_id AND p.starts_on <= :d
           AND (p.ended_on IS NULL OR p.ended_on > :d))) AS paired
FROM latest WHERE kind IN ('registered', 'returned')
"""
_VILLAGES = """
SELECT count(DISTINCT division_code) FROM division_exits
WHERE level = 'village' AND division_code LIKE :county || '%' AND exited_on BETWEEN :start AND :d
"""
_FUNDS = """
SELECT coalesce(sum(amount), 0), count(*) FROM payments
WHERE county_code = :county AND paid_on BETWEEN :start AND :d AND (reversed_on IS NULL OR reversed_on > :d)
"""
_FINDINGS = "SELECT count(*) FROM misuse_findings WHERE county_code = :county AND year = :year"


async def gather_actuals(session: AsyncSession, *, county_code: str, year: int,
                         d: dt.date) -> tuple[Actuals, dict[str, Any]]:
    """The county's figures for the year up to D, and the record of them (with the counts behind each)."""
    conn = await session.connection()
    params = {"county": county_code, "start": dt.date(year, 1, 1), "d": d, "year": year}

    async def row(sql: str) -> Sequence[Any]:
        return tuple((await conn.execute(text(sql), params)).one())

    certified, kept = await row(_EXITS)
    (registered,) = await row(_REGISTERED)
    (removed,) = await row(_REMOVED)
    poor, paired = await row(_STILL_POOR)
    (villages,) = await row(_VILLAGES)
    funds, payments = await row(_FUNDS)
    (findings,) = await row(_FINDINGS)
    funds = Decimal(funds).quantize(Decimal("0.01"))
    actuals = Actuals(households_exited=int(kept), villages_exited=int(villages), funds_spent=funds,
                      still_poor_households=int(poor), paired_households=int(paired),
                      households_registered=int(registered), households_removed=int(removed),
                      misuse_findings=int(findings))
    record = {
        "households_exited": actuals.households_exited, "exits_certified": int(certified),
        "exits_returned_or_removed": int(certified) - int(kept),
        "villages_exited": actuals.villages_exited,
        "funds_spent": format_money(funds), "payments_counted": int(payments),
        "helper_coverage": f"{four_places(coverage(int(paired), int(poor))):.4f}",
        "still_poor_households": int(poor), "households_with_helper": int(paired),
        "households_registered": int(registered), "households_removed": int(removed),
        "misuse_findings": int(findings),
    }
    return actuals, record


# --- assessments ------------------------------------------------------------------------------------------------

async def assess_county(session: AsyncSession, *, county_code: str, year: int, assessed_by: str) -> Assessment:
    now = today()
    if year > now.year:
        raise Unprocessable("year_in_future", f"{year} has not begun",
                            errors=[{"field": "year", "message": "must not be in the future"}])
    target = await get_targets(session, county_code, year)
    if target is None:
        raise targets_not_set(county_code, year, 422)
    d, final = reference_date(year, now)
    policy, _ = await policy_for(session, year=year)
    actuals, record = await gather_actuals(session, county_code=county_code, year=year, d=d)
    targets = Targets(households_to_exit=target.households_to_exit, villages_to_exit=target.villages_to_exit,
                      funds_to_spend=target.funds_to_spend)
    outcome = assess(targets, actuals, policy)
    record["error_rate"] = f"{outcome.error_rate:.4f}"
    assessment = Assessment(
        assessment_id=new_id(), county_code=county_code, year=year, final=final, reference_date=d, assessed_on=now,
        targets={"households_to_exit": target.households_to_exit, "villages_to_exit": target.villages_to_exit,
                 "funds_to_spend": format_money(target.funds_to_spend)},
        actuals=record, ratios=outcome.shown_ratios(), policy=policy_record(policy), score=outcome.score,
        vetoes=outcome.vetoes, reasons=outcome.reasons, verdict=outcome.verdict, assessed_by=assessed_by)
    if final and outcome.verdict == "fail":
        assessment.summons_id = await _summons_for(session, assessment)
    session.add(assessment)
    await session.flush()
    await published.assessment_completed(session, assessment)
    return assessment


async def _summons_for(session: AsyncSession, assessment: Assessment) -> str:
    """The county-year's summons, opened by its first final fail (concurrent fails meet on the unique key)."""
    statement = insert(Summons).values(
        summons_id=new_id(), county_code=assessment.county_code, year=assessment.year,
        assessment_id=assessment.assessment_id, reasons=[*assessment.vetoes, *assessment.reasons], status="open")
    await session.exec(statement.on_conflict_do_nothing(index_elements=["county_code", "year"]))  # type: ignore[call-overload]
    found = (await session.exec(select(Summons).where(Summons.county_code == assessment.county_code,
                                                      Summons.year == assessment.year))).one()
    return found.summons_id


def assessment_view(assessment: Assessment) -> AssessmentOut:
    return AssessmentOut(
        assessment_id=assessment.assessment_id, county_code=assessment.county_code, year=assessment.year,
        final=assessment.final, reference_date=assessment.reference_date, assessed_on=assessment.assessed_on,
        targets=assessment.targets, actuals=assessment.actuals, ratios=assessment.ratios, policy=assessment.policy,
        score=assessment.score, vetoes=list(assessment.vetoes), reasons=list(assessment.reasons),
        verdict=assessment.verdict, summons_id=assessment.summons_id)


async def get_assessment(session: AsyncSession, assessment_id: str) -> Assessment:
    found = await session.get(Assessment, assessment_id)
    if found is None:
        raise not_found("assessment", assessment_id)
    return found


# --- summonses --------------------------------------------------------------------------------------------------

def summons_view(summons: Summons) -> SummonsOut:
    return SummonsOut(summons_id=summons.summons_id, county_code=summons.county_code, year=summons.year,
                      assessment_id=summons.assessment_id, reasons=list(summons.reasons), status=summons.status,
                      held_on=summons.held_on, note=summons.note)


async def list_summonses(session: AsyncSession, *, county_code: str | None, year: int | None) -> list[SummonsOut]:
    query = select(Summons).order_by(col(Summons.year), col(Summons.county_code))
    if county_code is not None:
        query = query.where(Summons.county_code == county_code)
    if year is not None:
        query = query.where(Summons.year == year)
    return [summons_view(s) for s in (await session.exec(query)).all()]


async def get_summons(session: AsyncSession, summons_id: str, *, lock: bool = False) -> Summons:
    query = select(Summons).where(Summons.summons_id == summons_id)
    found = (await session.exec(query.with_for_update() if lock else query)).first()
    if found is None:
        raise not_found("summons", summons_id)
    return found


async def record_summons(session: AsyncSession, summons_id: str, body: RecordIn) -> Summons:
    summons = await get_summons(session, summons_id, lock=True)
    if summons.status != "open":
        raise Conflict("invalid_status", f"summons {summons_id} was already held on {summons.held_on}")
    summons.status, summons.held_on, summons.note = "held", body.held_on, body.note
    session.add(summons)
    await session.flush()
    return summons
