"""Eligibility for treat-first-pay-later, and admissions without a deposit for registered-poor patients."""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from medical.admissions.models import Admission, AdmissionIn, EligibilityPublic
from medical.encounters import encounter_conflict, fingerprint, lock_encounter
from medical.hospitals.service import known_hospital
from medical.persons.service import find_person, person_ref_of


async def is_registered_poor(session: AsyncSession, *, person_ref: str) -> bool:
    person = await find_person(session, person_ref=person_ref)
    return person is not None and person.registered_poor


async def check_eligibility(session: AsyncSession, *, id_number: str, pseudonym_key: str) -> EligibilityPublic:
    person_ref, masked = person_ref_of(id_number, pseudonym_key)
    poor = await is_registered_poor(session, person_ref=person_ref)
    return EligibilityPublic(poor_population=poor, treat_first_pay_later=poor, deposit_required=not poor,
                             masked_id_number=masked)


async def admit(session: AsyncSession, *, admission_in: AdmissionIn, pseudonym_key: str) -> tuple[Admission, bool]:
    """Record the admission; (admission, created). A retry of the same encounter returns the first admission."""
    person_ref, masked = person_ref_of(admission_in.id_number, pseudonym_key)
    request_hash = fingerprint({"person_ref": person_ref, "hospital_code": admission_in.hospital_code,
                                "admitted_on": admission_in.admitted_on})
    await lock_encounter(session, kind="admission", encounter_id=admission_in.encounter_id)
    existing = (await session.exec(
        select(Admission).where(Admission.encounter_id == admission_in.encounter_id))).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise encounter_conflict()
        return existing, False
    await known_hospital(session, code=admission_in.hospital_code)
    poor = await is_registered_poor(session, person_ref=person_ref)
    admission = Admission(encounter_id=admission_in.encounter_id, request_hash=request_hash, person_ref=person_ref,
                          masked_id_number=masked, hospital_code=admission_in.hospital_code,
                          admitted_on=admission_in.admitted_on, deposit_required=not poor)
    session.add(admission)
    await session.flush()
    return admission, True
