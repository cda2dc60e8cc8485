"""The service's scope as an annotated principal."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

Reader = Annotated[Principal, scoped("dashboard:read")]
