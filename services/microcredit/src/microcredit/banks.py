"""The calling bank: its code comes from the token's `bank_code` claim, never from the request body."""

from typing import Annotated

from fastapi import Depends

from fupin_kit.auth import Principal, require_any_scope
from fupin_kit.errors import AppError

_loans_scope = require_any_scope("microcredit:loans")


async def calling_bank(principal: Annotated[Principal, Depends(_loans_scope)]) -> str:
    if not principal.bank_code:
        raise AppError(403, "forbidden", "this route is for banks: the token carries no bank_code")
    return principal.bank_code


BankCode = Annotated[str, Depends(calling_bank)]
