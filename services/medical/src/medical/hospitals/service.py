"""Hospital master data."""

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import NotFound, Unprocessable
from medical.hospitals.models import Hospital, HospitalIn


async def put_hospital(session: AsyncSession, *, code: str, hospital_in: HospitalIn) -> tuple[Hospital, bool]:
    """Create or update a hospital; True when it was created."""
    hospital = await session.get(Hospital, code)
    created = hospital is None
    if hospital is None:
        hospital = Hospital(code=code, **hospital_in.model_dump())
    else:
        hospital.sqlmodel_update(hospital_in.model_dump())
        hospital.updated_at = dt.datetime.now(dt.UTC)
    session.add(hospital)
    await session.flush()
    return hospital, created


async def get_hospital(session: AsyncSession, *, code: str) -> Hospital:
    hospital = await session.get(Hospital, code)
    if hospital is None:
        raise NotFound("hospital_not_found", "no hospital with this code")
    return hospital


async def known_hospital(session: AsyncSession, *, code: str) -> Hospital:
    """The hospital an HIS call names, or 422 unknown_hospital."""
    hospital = await session.get(Hospital, code)
    if hospital is None:
        raise Unprocessable("unknown_hospital", "hospital_code is not a registered hospital",
                            errors=[{"field": "hospital_code", "message": "unknown hospital"}])
    return hospital
