"""`/registry/households` (identification, reading) and `/registry/person-lookups`."""

import uuid

from fastapi import APIRouter, Request, Response

from fupin_kit.db import SessionDep, read_connection
from fupin_kit.pseudonyms import PseudonymKey
from registry import scope
from registry.access import DivisionWriter, Reader
from registry.households import service
from registry.households.public import household_public, read_public_json
from registry.households.schemas import HouseholdCreate, HouseholdPublic, PersonFound, PersonLookup

router = APIRouter(prefix="/registry", tags=["households"])


@router.post("/households", status_code=201, response_model=HouseholdPublic)
async def identify_household(body: HouseholdCreate, session: SessionDep, principal: DivisionWriter,
                             response: Response, key: PseudonymKey) -> HouseholdPublic:
    """An official identifies households in villages of their subtree only (another is `404 division_not_found`;
    a code that is no village stays `422 invalid_division`, as for systems)."""
    await scope.require_known_division(session, body.village_code, principal.division)
    household = await service.identify_household(session, body=body, actor=principal.client_id, pseudonym_key=key)
    response.headers["Location"] = f"/registry/households/{household.id}"
    return await household_public(session, household)


@router.get("/households/{household_id}", response_model=HouseholdPublic)
async def read_household(household_id: uuid.UUID, request: Request, _: Reader) -> Response:
    # A read: no ORM session and no transaction of its own (unless a middleware's transaction holds the request).
    async with read_connection(request) as conn:
        answer = await read_public_json(conn, household_id)
    # the model's JSON without building the models (`read_public_json`); returned as a model, FastAPI would also
    # validate it again before serialising it
    return Response(answer, media_type="application/json")


@router.post("/person-lookups", response_model=PersonFound)
async def look_up_person(body: PersonLookup, session: SessionDep, _: Reader, key: PseudonymKey) -> PersonFound:
    member, household = await service.find_person(session, id_number=body.id_number, pseudonym_key=key)
    return PersonFound(household_id=household.id, status=household.status, village_code=household.village_code,
                       relation=member.relation, masked_id_number=member.masked_id_number)
