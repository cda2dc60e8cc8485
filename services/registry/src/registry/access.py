"""Who may call what: the service's scopes as annotated principals (mypy reads these; a call like PrincipalWith(...)
it cannot).

`registry:write` is held by systems and by operator officials (contract §9). An official's token carries their
division, and every write they may make is limited to its subtree: `DivisionWriter` is for routes that check it
(`registry.scope`); `Writer`, for every other write, refuses officials (fail closed: a new write route is closed to
them until it checks the subtree)."""

from typing import Annotated

from fastapi import Depends

from fupin_kit.auth import Principal, scoped
from fupin_kit.errors import AppError

Reader = Annotated[Principal, scoped("registry:read")]
DivisionWriter = Annotated[Principal, scoped("registry:write")]
# The war map: registry:read (systems) or registry:warmap (officials' session tokens: the route checks the subtree).
WarmapReader = Annotated[Principal, scoped("registry:read", "registry:warmap")]


async def _system_writer(principal: DivisionWriter) -> Principal:
    if principal.division is not None:
        raise AppError(403, "forbidden", "this write is not limited to one division: officials cannot make it")
    return principal


Writer = Annotated[Principal, Depends(_system_writer)]
