"""Who may call what: the scopes of contract §4 as handler-signature aliases."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped
from fupin_kit.errors import AppError, NotFound

# Names the hospital a call was about, for the gateway's audit record (contract v2: "the audit log names the
# hospital"); a header because the gateway does not read answers.
AUDIT_HOSPITAL = "Fupin-Audit-Hospital"

# The hospital information system (admission, discharge, reversal of its own bill).
HisClient = Annotated[Principal, scoped("medical:settle")]
MedicalReader = Annotated[Principal, scoped("medical:read")]
MedicalWriter = Annotated[Principal, scoped("medical:write")]
SettlementReader = Annotated[Principal, scoped("medical:settle", "medical:read")]
SettlementReverser = Annotated[Principal, scoped("medical:settle", "medical:write")]
AnyMedicalClient = Annotated[Principal, scoped("medical:read", "medical:write", "medical:settle")]


def require_hospital(principal: Principal, code: str) -> None:
    """Contract §0: an HIS client acts only for the hospitals on its registration (its token's `hospitals` claim);
    a check, admission or settlement naming another is `403 forbidden`."""
    if principal.has("medical:write") or principal.acts_for_hospital(code):
        return
    raise AppError(403, "forbidden", "this client does not act for the hospital named in the request",
                   errors=[{"field": "hospital_code", "message": "not a hospital of this client"}])


def require_visible(principal: Principal, hospital_code: str, *, any_with: str) -> None:
    """Another hospital's settlement does not exist for an HIS (`404 settlement_not_found`); `any_with` is the scope
    that sees every hospital (`medical:read` to read, `medical:write` to reverse)."""
    if principal.has(any_with) or principal.acts_for_hospital(hospital_code):
        return
    raise NotFound("settlement_not_found", "no settlement with this id")
