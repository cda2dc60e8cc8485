"""Household plans (因户施策): measures on the five lines, forward-only progress, the plan with causes unaddressed."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.common import new_id, not_found
from assistance.events import published
from assistance.helpers.schemas import PairingOut
from assistance.helpers.service import active_pairing_of
from assistance.plans.models import Measure
from assistance.plans.rules import causes_unaddressed, may_move, reference_allowed
from assistance.plans.schemas import MeasureIn, MeasureOut, PlanOut, ProgressIn, ReferenceIO
from assistance.readmodels import service as readmodels
from fupin_kit.errors import Conflict, Unprocessable


def measure_view(measure: Measure) -> MeasureOut:
    reference = (ReferenceIO(kind=measure.reference_kind, id=measure.reference_id)  # type: ignore[arg-type]
                 if measure.reference_kind and measure.reference_id else None)
    return MeasureOut(measure_id=measure.measure_id, household_id=measure.household_id,
                      village_code=measure.village_code, line=measure.line, cause=measure.cause,
                      description=measure.description, planned_year=measure.planned_year, reference=reference,
                      status=measure.status, started_on=measure.started_on, completed_on=measure.completed_on)


async def add_measure(session: AsyncSession, household_id: str, body: MeasureIn) -> Measure:
    household = await readmodels.registered_poor(session, household_id)
    kind = body.reference.kind if body.reference else None
    if not reference_allowed(body.line, kind):
        raise Unprocessable("reference_not_allowed", f"a {kind} reference is not allowed on the {body.line} line",
                            errors=[{"field": "reference.kind",
                                     "message": "a grant only on education, a loan only on industry_employment"}])
    measure = Measure(measure_id=new_id(), household_id=household.household_id,
                      village_code=household.village_code, county_code=household.county_code, line=body.line,
                      cause=body.cause, description=body.description, planned_year=body.planned_year,
                      reference_kind=kind, reference_id=body.reference.id if body.reference else None)
    session.add(measure)
    await session.flush()
    return measure


async def get_measure(session: AsyncSession, measure_id: str, *, lock: bool = False) -> Measure:
    query = select(Measure).where(Measure.measure_id == measure_id)
    measure = (await session.exec(query.with_for_update() if lock else query)).first()
    if measure is None:
        raise not_found("measure", measure_id)
    return measure


async def progress(session: AsyncSession, measure_id: str, body: ProgressIn) -> Measure:
    measure = await get_measure(session, measure_id, lock=True)
    if not may_move(measure.status, body.status):
        raise Conflict("invalid_transition", f"measure {measure_id} cannot go from {measure.status} to {body.status}",
                       current_status=measure.status)
    if measure.started_on is not None and body.on < measure.started_on:
        raise Unprocessable("validation_error", "on is before the measure started",
                            errors=[{"field": "on", "message": "must not be before started_on"}])
    measure.status = body.status
    if body.status == "in_progress":
        measure.started_on = body.on
    else:
        measure.completed_on = body.on
    session.add(measure)
    await session.flush()
    if body.status == "done":
        await published.plan_measure_completed(session, measure)
    return measure


async def plan(session: AsyncSession, household_id: str) -> PlanOut:
    household = await readmodels.household(session, household_id)
    if household is None:
        raise not_found("household", household_id)
    measures = (await session.exec(select(Measure).where(Measure.household_id == household_id)
                                   .order_by(col(Measure.created_at), col(Measure.measure_id)))).all()
    pairing = await active_pairing_of(session, household_id)
    return PlanOut(household_id=household.household_id, status=household.status,
                   village_code=household.village_code, causes=list(household.causes),
                   pairing=PairingOut.model_validate(pairing) if pairing else None,
                   measures=[measure_view(m) for m in measures],
                   causes_unaddressed=causes_unaddressed(household.causes, [m.cause for m in measures]))
