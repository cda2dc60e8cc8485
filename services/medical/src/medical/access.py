"""Who may call what: the scopes of contract §4 as handler-signature aliases."""

from typing import Annotated

from fupin_kit.auth import Principal, scoped

# The hospital information system (admission, discharge, reversal of its own bill).
HisClient = Annotated[Principal, scoped("medical:settle")]
MedicalReader = Annotated[Principal, scoped("medical:read")]
MedicalWriter = Annotated[Principal, scoped("medical:write")]
SettlementReader = Annotated[Principal, scoped("medical:settle", "medical:read")]
SettlementReverser = Annotated[Principal, scoped("medical:settle", "medical:write")]
AnyMedicalClient = Annotated[Principal, scoped("medical:read", "medical:write", "medical:settle")]
