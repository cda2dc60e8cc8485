"""The service's scopes as annotated principals (mypy reads these; a call like PrincipalWith(...) it cannot)."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

Reader = Annotated[Principal, scoped("registry:read")]
Writer = Annotated[Principal, scoped("registry:write")]
