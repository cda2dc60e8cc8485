"""An official's division subtree (contract §9): the gateway mints the official's division into the session token
(`division` claim, `Principal.division`); systems have none and are not limited. For an official, a division or a
household outside the subtree does not exist: `404 division_not_found` / `404 household_not_found`. A write that
is not about one division (policies, bulk imports) is refused to officials by `registry.access.Writer` (403)."""

import uuid

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.db import SessionDep
from fupin_kit.errors import AppError, NotFound
from registry.access import DivisionWriter
from registry.divisions.models import Division
from registry.households.models import Household

MAX_ANCESTORS = 8  # village → town → county → city, and room to spare


def division_not_found(code: str | None) -> NotFound:
    return NotFound("division_not_found", f"no division with code {code}")


def household_not_found(household_id: uuid.UUID) -> NotFound:
    return NotFound("household_not_found", f"no household {household_id}")


async def in_subtree(session: AsyncSession, division: Division, scope: str | None) -> bool:
    """`division` is `scope` or lies below it (None: no limit). Walks up the parents (codes nest for towns and
    villages, not for a city's counties, so the codes alone cannot tell)."""
    if scope is None or division.code == scope:
        return True
    current: Division | None = division
    for _ in range(MAX_ANCESTORS):
        if current is None or current.parent_code is None:
            return False
        if current.parent_code == scope:
            return True
        current = await session.get(Division, current.parent_code)
    return False


async def code_in_subtree(session: AsyncSession, code: str | None, scope: str | None) -> bool:
    """The division `code` exists and lies in the subtree of `scope` (None: no limit, existence not checked)."""
    if scope is None:
        return True
    division = await session.get(Division, code) if code else None
    return division is not None and await in_subtree(session, division, scope)


async def require_division(session: AsyncSession, code: str, scope: str | None) -> None:
    """`404 division_not_found` unless the official may see `code` (a system may always)."""
    if not await code_in_subtree(session, code, scope):
        raise division_not_found(code)


async def require_known_division(session: AsyncSession, code: str, scope: str | None) -> None:
    """`404 division_not_found` when `code` names an existing division outside the official's subtree; an unknown
    code is left to the route's own validation (`422 invalid_division` for a body field)."""
    if scope is None:
        return
    division = await session.get(Division, code)
    if division is not None and not await in_subtree(session, division, scope):
        raise division_not_found(code)


async def require_division_put(session: AsyncSession, code: str, parent_code: str | None,
                               scope: str | None) -> None:
    """An official creates or changes divisions strictly below their own: an existing one must be in the subtree,
    the new parent too; their own division is set by the level above (403)."""
    if scope is None:
        return
    existing = await session.get(Division, code)
    if existing is not None and not await in_subtree(session, existing, scope):
        raise division_not_found(code)
    if code == scope:
        raise AppError(403, "forbidden", "an official's own division is changed by the level above")
    if not await code_in_subtree(session, parent_code, scope):
        raise division_not_found(parent_code)


async def _household_in_scope(household_id: uuid.UUID, session: SessionDep, principal: DivisionWriter) -> None:
    """Router dependency of the `/registry/households/{household_id}/...` writes."""
    if principal.division is None:
        return
    household = await session.get(Household, household_id)
    if household is None or not await code_in_subtree(session, household.village_code, principal.division):
        raise household_not_found(household_id)


HouseholdInScope = Depends(_household_in_scope)
