"""Who may call what: the scopes of contract §3 as handler-signature aliases (mypy reads these; a call like
PrincipalWith(...) it cannot)."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

Reader = Annotated[Principal, scoped("education:read")]
Writer = Annotated[Principal, scoped("education:write")]
