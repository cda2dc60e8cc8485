"""One-stop settlement at discharge and its reversal; both change the person's yearly totals under a row lock."""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict, NotFound, Unprocessable
from fupin_kit.events.outbox import enqueue
from medical.admissions.models import Admission
from medical.columns import MAX_TOTAL
from medical.config import COMPONENT
from medical.encounters import encounter_conflict, fingerprint, lock_encounter
from medical.hospitals.service import known_hospital
from medical.persons.service import find_person, person_ref_of
from medical.policies.service import get_policy, policy_document
from medical.settlements import accumulators
from medical.settlements.models import ReversalIn, Settlement, SettlementIn
from medical.settlements.rules import Breakdown, over_admission_maximum, settle_discharge


def _request_fingerprint(settlement_in: SettlementIn, person_ref: str) -> str:
    return fingerprint({"person_ref": person_ref, "hospital_code": settlement_in.hospital_code,
                        "total_cost": settlement_in.total_cost, "eligible_cost": settlement_in.eligible_cost,
                        "diagnoses": settlement_in.diagnoses, "discharged_on": settlement_in.discharged_on})


async def _admission_of(session: AsyncSession, *, encounter_id: str, person_ref: str) -> uuid.UUID | None:
    admission = (await session.exec(select(Admission).where(Admission.encounter_id == encounter_id))).first()
    if admission is None:
        return None
    if admission.person_ref != person_ref:
        raise encounter_conflict()
    return admission.id


async def settle(session: AsyncSession, *, settlement_in: SettlementIn, pseudonym_key: str,
                 settled_by: str) -> tuple[Settlement, bool]:
    """Settle a discharge; (settlement, created). Retries of one encounter return the first settlement; concurrent
    retries wait on the encounter's lock, so the accumulators move once."""
    if (error := settlement_in.eligible_cost_error()) is not None:
        raise error
    person_ref, masked = person_ref_of(settlement_in.id_number, pseudonym_key)
    request_hash = _request_fingerprint(settlement_in, person_ref)
    await lock_encounter(session, kind="settlement", encounter_id=settlement_in.encounter_id)
    existing = (await session.exec(
        select(Settlement).where(Settlement.encounter_id == settlement_in.encounter_id))).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise encounter_conflict()
        return existing, False
    hospital = await known_hospital(session, code=settlement_in.hospital_code)
    person = await find_person(session, person_ref=person_ref)
    if person is None or not person.registered_poor:
        raise Unprocessable("not_eligible", "the patient is not registered poor: no one-stop settlement")
    admission_id = await _admission_of(session, encounter_id=settlement_in.encounter_id, person_ref=person_ref)
    year = settlement_in.discharged_on.year
    policy, _ = await get_policy(session, year=year)
    if over_admission_maximum(settlement_in.total_cost, policy):
        raise Unprocessable("validation_error", "invalid request: total_cost", errors=[{
            "field": "total_cost", "message": f"above the per-admission maximum {policy.max_admission_total:.2f}"}])
    totals = await accumulators.lock_year(session, person_ref=person_ref, year=year)
    breakdown = settle_discharge(hospital.level, settlement_in.total_cost, settlement_in.eligible_cost,
                                 accumulators.year_to_date(totals), policy)
    after = breakdown.added_to(accumulators.year_to_date(totals))
    if after.critical_illness_base > MAX_TOTAL:  # uncapped yearly sum: NUMERIC(14,2) would overflow (a 500)
        raise Unprocessable("validation_error", "invalid request: eligible_cost",
                            errors=[{"field": "eligible_cost", "message": "the patient's yearly eligible-cost total "
                                     "would pass the largest amount the books hold"}])
    accumulators.store(totals, after)
    settlement = Settlement(
        encounter_id=settlement_in.encounter_id, request_hash=request_hash, person_ref=person_ref,
        masked_id_number=masked, household_id=person.household_id, village_code=person.village_code,
        county_code=person.county_code, hospital_code=hospital.code, hospital_level=hospital.level,
        admission_id=admission_id, discharged_on=settlement_in.discharged_on, year=year,
        total_cost=settlement_in.total_cost, eligible_cost=settlement_in.eligible_cost,
        policy=policy_document(policy), diagnoses=list(settlement_in.diagnoses), created_by=settled_by,
        **_breakdown_columns(breakdown))
    session.add(settlement)
    session.add(totals)
    await session.flush()
    await enqueue(session, source=COMPONENT, topic="settlement-completed", subject=str(settlement.id),
                  data=completed_event(settlement))
    return settlement, True


def _breakdown_columns(breakdown: Breakdown) -> dict[str, Any]:
    return {"basic_insurance": breakdown.basic_insurance,
            "critical_illness_insurance": breakdown.critical_illness_insurance,
            "medical_assistance": breakdown.medical_assistance, "supplementary": breakdown.supplementary,
            "patient_pays": breakdown.patient_pays, "critical_illness_base": breakdown.critical_illness_base}


def breakdown_of(settlement: Settlement) -> Breakdown:
    return Breakdown(basic_insurance=settlement.basic_insurance,
                     critical_illness_insurance=settlement.critical_illness_insurance,
                     medical_assistance=settlement.medical_assistance, supplementary=settlement.supplementary,
                     patient_pays=settlement.patient_pays, critical_illness_base=settlement.critical_illness_base)


def completed_event(settlement: Settlement) -> dict[str, Any]:
    """settlement-completed (docs/conventions.md): ids, codes and amounts only — no diagnosis, no ID number."""
    return {"settlement_id": settlement.id, "person_ref": settlement.person_ref,
            "household_id": settlement.household_id, "county_code": settlement.county_code,
            "village_code": settlement.village_code, "hospital_code": settlement.hospital_code,
            "medical_assistance": settlement.medical_assistance, "supplementary": settlement.supplementary,
            "amount": settlement.medical_assistance + settlement.supplementary}


async def get_settlement(session: AsyncSession, *, settlement_id: str, for_update: bool = False) -> Settlement:
    try:
        key = uuid.UUID(settlement_id)
    except ValueError:
        key = None
    statement = select(Settlement).where(Settlement.id == key)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    settlement = (await session.exec(statement)).first() if key is not None else None
    if settlement is None:
        raise NotFound("settlement_not_found", "no settlement with this id")
    return settlement


async def reverse(session: AsyncSession, *, settlement_id: str, reversal: ReversalIn, reversed_by: str,
                  visible: Callable[[str], None] = lambda hospital_code: None) -> Settlement:
    """Reverse a completed settlement: take off exactly what it added to the person's yearly totals. `visible`
    raises for a settlement the caller may not see (another hospital's, for an HIS) before anything is checked."""
    settlement = await get_settlement(session, settlement_id=settlement_id, for_update=True)
    visible(settlement.hospital_code)
    if settlement.status != "completed":
        raise Conflict("invalid_status", f"the settlement is {settlement.status}; only a completed one can be reversed")
    totals = await accumulators.lock_year(session, person_ref=settlement.person_ref, year=settlement.year)
    accumulators.store(totals, breakdown_of(settlement).removed_from(accumulators.year_to_date(totals)))
    settlement.status = "reversed"
    settlement.reversal_reason = reversal.reason
    settlement.reversal_reason_code = reversal.reason_code
    settlement.reversed_by = reversed_by
    settlement.reversed_at = dt.datetime.now(dt.UTC)
    session.add_all([settlement, totals])
    await session.flush()
    # The free-text reason stays here: it may name the patient. The event carries the code only.
    await enqueue(session, source=COMPONENT, topic="settlement-reversed", subject=str(settlement.id),
                  data={"settlement_id": settlement.id, "reason_code": reversal.reason_code})
    return settlement
