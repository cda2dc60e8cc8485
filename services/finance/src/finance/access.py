"""Who may call a route: `finance:read` for reads, `finance:write` for writes (contract §0)."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

FinanceReader = Annotated[Principal, scoped("finance:read")]
FinanceWriter = Annotated[Principal, scoped("finance:write")]
