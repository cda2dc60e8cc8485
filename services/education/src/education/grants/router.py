"""POST /education/grant-lookups (contract §3): every grant of a person, the ID number in the body."""

from fastapi import APIRouter

from education.access import Reader
from education.grants import service
from education.grants.models import GrantLookup, GrantLookupResult, GrantPublic
from education.persons import checked_id_number
from fupin_kit.db import SessionDep
from fupin_kit.ids import mask_id_number, pseudonym
from fupin_kit.pseudonyms import PseudonymKey

router = APIRouter(prefix="/education/grant-lookups", tags=["grants"])


@router.post("", response_model=GrantLookupResult)
async def look_up_grants(lookup: GrantLookup, session: SessionDep,
                         _: Reader, key: PseudonymKey) -> GrantLookupResult:
    id_number = checked_id_number(lookup.id_number)
    person_ref = pseudonym(id_number, key)
    found = await service.grants_of_person(session, person_ref=person_ref)
    return GrantLookupResult(masked_id_number=mask_id_number(id_number),
                             grants=[GrantPublic.model_validate(grant, from_attributes=True) for grant in found])
