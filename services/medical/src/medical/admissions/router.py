"""POST /medical/eligibility-checks and POST /medical/admissions (the HIS at admission)."""

from fastapi import APIRouter, Response

from fupin_kit.db import SessionDep
from fupin_kit.pseudonyms import PseudonymKey
from medical.access import AUDIT_HOSPITAL, HisClient, require_hospital
from medical.admissions import service
from medical.admissions.models import Admission, AdmissionIn, AdmissionPublic, EligibilityCheckIn, EligibilityPublic

router = APIRouter(prefix="/medical", tags=["admissions"])


@router.post("/eligibility-checks")
async def check_eligibility(body: EligibilityCheckIn, session: SessionDep, response: Response, key: PseudonymKey,
                            principal: HisClient) -> EligibilityPublic:
    if body.hospital_code is not None:
        require_hospital(principal, body.hospital_code)
        response.headers[AUDIT_HOSPITAL] = body.hospital_code
    return await service.check_eligibility(session, id_number=body.id_number, pseudonym_key=key)


@router.post("/admissions", status_code=201)
async def admit(body: AdmissionIn, session: SessionDep, response: Response, key: PseudonymKey,
                principal: HisClient) -> AdmissionPublic:
    require_hospital(principal, body.hospital_code)
    response.headers[AUDIT_HOSPITAL] = body.hospital_code
    admission, created = await service.admit(session, admission_in=body, pseudonym_key=key)
    response.status_code = 201 if created else 200
    return public(admission)


def public(admission: Admission) -> AdmissionPublic:
    return AdmissionPublic(admission_id=admission.id, encounter_id=admission.encounter_id,
                           hospital_code=admission.hospital_code, admitted_on=admission.admitted_on,
                           deposit_required=admission.deposit_required,
                           treat_first_pay_later=not admission.deposit_required,
                           masked_id_number=admission.masked_id_number)
