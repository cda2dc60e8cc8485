"""The war map's village household list (contract §9): the queries behind `warmap/router.py`."""

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import NotFound
from fupin_kit.ids import mask_name
from registry.divisions.models import Division, Level
from registry.households.models import Household, Member
from registry.scope import in_subtree


def _not_found(code: str) -> NotFound:
    return NotFound("division_not_found", f"no division with code {code}")


async def village_households(session: AsyncSession, *, code: str, division: str | None, page: int,
                             page_size: int) -> dict[str, Any]:
    """A page of the village's households with masked head names; a village outside the official's `division`
    subtree (or no village) is `404 division_not_found`."""
    village = await session.get(Division, code)
    if village is None or village.level != Level.village or not await in_subtree(session, village, division):
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
