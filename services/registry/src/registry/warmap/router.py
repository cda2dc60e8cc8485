"""The war map's village household list (contract §9): masked names, status, member count and causes, never an ID
number. An official (the `division` claim of the gateway's session token) sees only villages in their subtree; any
other village is `404 division_not_found`."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import col, select

from fupin_kit.auth import Principal, scoped
from fupin_kit.db import SessionDep
from fupin_kit.errors import NotFound
from fupin_kit.ids import mask_name
from registry.divisions.models import Division, Level
from registry.households.models import Household, Member
from registry.scope import in_subtree

router = APIRouter(prefix="/registry/warmap", tags=["war map"])
# registry:read (systems) or registry:warmap (officials' session tokens: this route checks the subtree)
WarmapReader = Annotated[Principal, scoped("registry:read", "registry:warmap")]
VillageCode = Annotated[str, Path(pattern=r"^\d{12}$", description="the village's 12-digit code")]


def _not_found(code: str) -> NotFound:
    return NotFound("division_not_found", f"no division with code {code}")


@router.get("/villages/{code}/households", summary="A village's households for the war map (masked names)")
async def village_households(code: VillageCode, session: SessionDep, principal: WarmapReader,
                             page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                             page_size: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    village = await session.get(Division, code)
    if village is None or village.level != Level.village or not await in_subtree(session, village,
                                                                                  principal.division):
        raise _not_found(code)
    total = (await session.exec(select(func.count()).select_from(Household)
                                .where(Household.village_code == code))).one()
    members = (select(func.count(col(Member.id))).where(Member.household_id == Household.id, col(Member.active))
               .correlate(Household).scalar_subquery())
    head = (select(Member.name).where(Member.household_id == Household.id, Member.relation == "head")
            .correlate(Household).limit(1).scalar_subquery())
    rows = (await (await session.connection()).execute(
        core_select(col(Household.id), col(Household.status), col(Household.causes), members, head)
        .where(col(Household.village_code) == code)
        .order_by(col(Household.created_at), col(Household.id))
        .offset((page - 1) * page_size).limit(page_size))).all()
    return {"village_code": code, "name": village.name, "total": total, "page": page, "page_size": page_size,
            "households": [{"household_id": str(r[0]), "head_name": mask_name(r[4] or ""), "status": str(r[1]),
                            "members": r[3], "causes": list(r[2])} for r in rows]}
