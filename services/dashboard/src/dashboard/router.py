"""The war map's one route (contract §9)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path

from dashboard.access import Reader
from dashboard.figures import page
from fupin_kit.db import SessionDep

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
Code = Annotated[str, Path(pattern=r"^\d{6}(\d{3}(\d{3})?)?$", description="a division code (6, 9 or 12 digits)")]


@router.get("/divisions/{code}", summary="A division's war-map figures and its children's tiles")
async def get_division(code: Code, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """An official sees only their own division and those below it (the `division` claim of the session token);
    any other division is `404 division_not_found`."""
    return await page(session, code, principal.division)
