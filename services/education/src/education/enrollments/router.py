"""POST /education/enrollments and GET /education/enrollments/{enrollment_id} (contract §3)."""

from fastapi import APIRouter, status

from education.access import Reader, Writer
from education.enrollments import service
from education.enrollments.models import EnrollmentCreate, EnrollmentPublic
from fupin_kit.db import SessionDep
from fupin_kit.pseudonyms import PseudonymKey

router = APIRouter(prefix="/education/enrollments", tags=["enrollments"])


@router.post("", response_model=EnrollmentPublic, status_code=status.HTTP_201_CREATED)
async def enroll(data: EnrollmentCreate, session: SessionDep,
                 principal: Writer, key: PseudonymKey) -> EnrollmentPublic:
    return await service.enroll(session, data=data, recorded_by=principal.client_id,
                                pseudonym_key=key)


@router.get("/{enrollment_id}", response_model=EnrollmentPublic)
async def read_enrollment(enrollment_id: str, session: SessionDep,
                          _: Reader) -> EnrollmentPublic:
    return await service.read_enrollment(session, enrollment_id=enrollment_id)
