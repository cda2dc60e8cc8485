"""Who may call what: the scopes of contract v2 §8 as handler-signature aliases (`welfare:read` reads, `welfare:write`
writes and reads)."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

WelfareReader = Annotated[Principal, scoped("welfare:read", "welfare:write")]
WelfareWriter = Annotated[Principal, scoped("welfare:write")]
