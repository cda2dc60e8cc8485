"""Verification, objections and their resolution."""

import uuid

from fastapi import APIRouter

from fupin_kit.db import SessionDep
from registry.access import DivisionWriter as Writer
from registry.households.models import Household
from registry.scope import HouseholdInScope
from registry.verification import service
from registry.verification.models import (
    Objection,
    ObjectionIn,
    ObjectionPublic,
    ResolutionIn,
    VerificationIn,
    VerificationPublic,
)

# An official acts only on households of their division subtree (another is 404 household_not_found).
router = APIRouter(prefix="/registry/households/{household_id}", tags=["verification"],
                   dependencies=[HouseholdInScope])


@router.post("/verifications", status_code=201, response_model=VerificationPublic)
async def verify(household_id: uuid.UUID, body: VerificationIn, session: SessionDep,
                 principal: Writer) -> VerificationPublic:
    verification, household = await service.verify(session, household_id=household_id, body=body,
                                                    actor=principal.client_id)
    return VerificationPublic(verification_id=verification.id, household_id=household_id, level=verification.level,
                              approved=verification.approved, officer=verification.officer, note=verification.note,
                              status=household.status, at=verification.at)


def _objection_public(objection: Objection, household: Household) -> ObjectionPublic:
    return ObjectionPublic(
        objection_id=objection.id, household_id=objection.household_id, reason=objection.reason,
        state=objection.state, filed_by=objection.filed_by, filed_at=objection.filed_at,
        resolution_note=objection.resolution_note, resolved_by=objection.resolved_by,
        resolved_at=objection.resolved_at, household_status=household.status)


@router.post("/objections", status_code=201, response_model=ObjectionPublic)
async def file_objection(household_id: uuid.UUID, body: ObjectionIn, session: SessionDep,
                         principal: Writer) -> ObjectionPublic:
    objection, household = await service.file_objection(session, household_id=household_id, body=body,
                                                        actor=principal.client_id)
    return _objection_public(objection, household)


@router.post("/objections/{objection_id}/resolution", response_model=ObjectionPublic)
async def resolve_objection(household_id: uuid.UUID, objection_id: uuid.UUID, body: ResolutionIn,
                            session: SessionDep, principal: Writer) -> ObjectionPublic:
    objection, household = await service.resolve_objection(
        session, household_id=household_id, objection_id=objection_id, body=body, actor=principal.client_id)
    return _objection_public(objection, household)
