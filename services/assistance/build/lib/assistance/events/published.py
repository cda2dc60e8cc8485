"""The events assistance publishes (contract §7), built with fupin_events' models and staged in the outbox.
Subject = the household id (the county code for assessments); no names, the helpers' included."""

from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.assessment.models import Assessment
from assistance.config import COMPONENT
from assistance.helpers.models import Pairing
from assistance.plans.models import Measure
from fupin_events.payloads import (
    AssessmentCompleted,
    HelperAssigned,
    HelperReleased,
    MeasureReference,
    PlanMeasureCompleted,
)
from fupin_kit.events.outbox import enqueue


async def helper_assigned(session: AsyncSession, pairing: Pairing) -> None:
    data = HelperAssigned(pairing_id=pairing.pairing_id, helper_id=pairing.helper_id,
                          household_id=pairing.household_id,  # type: ignore[arg-type]
                          village_code=pairing.village_code, county_code=pairing.county_code,
                          starts_on=pairing.starts_on)
    await enqueue(session, source=COMPONENT, topic="helper-assigned", subject=pairing.household_id,
                  data=data.model_dump(mode="json"))


async def helper_released(session: AsyncSession, pairing: Pairing) -> None:
    assert pairing.ended_on is not None
    data = HelperReleased(pairing_id=pairing.pairing_id, helper_id=pairing.helper_id,
                          household_id=pairing.household_id,  # type: ignore[arg-type]
                          ended_on=pairing.ended_on,
                          reason_code="household_removed" if pairing.reason_code == "household_removed" else "ended")
    await enqueue(session, source=COMPONENT, topic="helper-released", subject=pairing.household_id,
                  data=data.model_dump(mode="json"))


async def plan_measure_completed(session: AsyncSession, measure: Measure) -> None:
    assert measure.completed_on is not None
    reference = (MeasureReference(kind=measure.reference_kind, id=measure.reference_id)  # type: ignore[arg-type]
                 if measure.reference_kind and measure.reference_id else None)
    data = PlanMeasureCompleted(measure_id=measure.measure_id, household_id=measure.household_id,  # type: ignore[arg-type]
                                village_code=measure.village_code, county_code=measure.county_code,
                                line=measure.line, cause=measure.cause,  # type: ignore[arg-type]
                                completed_on=measure.completed_on, reference=reference)
    await enqueue(session, source=COMPONENT, topic="plan-measure-completed", subject=measure.household_id,
                  data=data.model_dump(mode="json"))


async def assessment_completed(session: AsyncSession, assessment: Assessment) -> None:
    data = AssessmentCompleted(assessment_id=assessment.assessment_id, county_code=assessment.county_code,
                               year=assessment.year, final=assessment.final, score=assessment.score,
                               verdict=assessment.verdict,  # type: ignore[arg-type]
                               vetoes=list(assessment.vetoes), reasons=list(assessment.reasons),
                               summons_id=assessment.summons_id)
    await enqueue(session, source=COMPONENT, topic="assessment-completed", subject=assessment.county_code,
                  data=data.model_dump(mode="json"))
