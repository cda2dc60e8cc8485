"""Who may call what: the scopes of contract §7 as handler-signature aliases (`assistance:read` reads,
`assistance:write` writes and reads)."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

Reader = Annotated[Principal, scoped("assistance:read", "assistance:write")]
Writer = Annotated[Principal, scoped("assistance:write")]
