"""PUT/GET /medical/hospitals/{code}."""

from fastapi import APIRouter, Path, Response

from fupin_kit.db import SessionDep
from medical.access import AnyMedicalClient, MedicalWriter
from medical.hospitals import service
from medical.hospitals.models import HOSPITAL_CODE_PATTERN, HospitalIn, HospitalPublic

router = APIRouter(prefix="/medical/hospitals", tags=["hospitals"])
Code = Path(pattern=HOSPITAL_CODE_PATTERN)


def _public(hospital: object) -> HospitalPublic:
    return HospitalPublic.model_validate(hospital, from_attributes=True)


@router.put("/{code}")
async def put_hospital(body: HospitalIn, session: SessionDep, _: MedicalWriter,
                       response: Response, code: str = Code) -> HospitalPublic:
    hospital, created = await service.put_hospital(session, code=code, hospital_in=body)
    response.status_code = 201 if created else 200
    return _public(hospital)


@router.get("/{code}")
async def read_hospital(session: SessionDep, _: AnyMedicalClient,
                        code: str = Code) -> HospitalPublic:
    return _public(await service.get_hospital(session, code=code))
