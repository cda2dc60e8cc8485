"""Demo officials of the dev profile (contract §9): password `<username>-dev-password`, divisions of the demo city
(registry.synthetic: 汉中市(演示) 610700, 洋县 610723, its first town's first village)."""

import asyncio

from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.officials import service

DEMO_OFFICIALS: tuple[tuple[str, str, str], ...] = (
    ("city-admin", "operator", "610700"),
    ("county-viewer", "viewer", "610723"),
    ("village-viewer", "viewer", "610723101201"),
)
# (username, role, division, password) for `make up`'s summary
DEMO_OFFICIAL_ROWS = tuple((u, r, d, f"{u}-dev-password") for u, r, d in DEMO_OFFICIALS)

_done = False
_lock = asyncio.Lock()


async def ensure_demo_officials(session: AsyncSession) -> None:
    """Create the demo officials once per process if they are missing (an existing one, say disabled, is kept)."""
    global _done
    if _done:
        return
    async with _lock:
        if _done:
            return
        for username, role, division in DEMO_OFFICIALS:
            await service.create(session, username=username, password=f"{username}-dev-password", role=role,
                                 division_code=division)
        _done = True
