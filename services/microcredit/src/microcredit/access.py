"""Who may call what: the scopes of contract §2 as handler-signature aliases, and the calling bank (its code comes
from the token's `bank_code` claim, never from the request body)."""

from typing import Annotated

from fastapi import Depends

from fupin_kit.auth import Principal, require_any_scope, scoped
from fupin_kit.errors import AppError

EligibilityChecker = Annotated[Principal, scoped("microcredit:eligibility")]
# The owning bank (microcredit:loans) or the government's reads (microcredit:read).
LoanReader = Annotated[Principal, scoped("microcredit:loans", "microcredit:read")]
MicrocreditReader = Annotated[Principal, scoped("microcredit:read")]
PolicyReader = Annotated[Principal, scoped("microcredit:read", "microcredit:write")]
MicrocreditWriter = Annotated[Principal, scoped("microcredit:write")]

_loans_scope = require_any_scope("microcredit:loans")


async def calling_bank(principal: Annotated[Principal, Depends(_loans_scope)]) -> str:
    if not principal.bank_code:
        raise AppError(403, "forbidden", "this route is for banks: the token carries no bank_code")
    return principal.bank_code


BankCode = Annotated[str, Depends(calling_bank)]
