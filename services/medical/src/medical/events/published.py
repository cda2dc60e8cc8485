"""The events medical publishes (docs/conventions.md), as fupin_events' models have them: ids, codes and amounts only,
no diagnosis, no ID number, no free-text reason (it may name the patient)."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import SettlementReversed
from fupin_kit.events.outbox import enqueue
from medical.config import COMPONENT
from medical.settlements.models import Settlement, SettlementRecord

SETTLEMENT_COMPLETED = "settlement-completed"
SETTLEMENT_REVERSED = "settlement-reversed"


def settlement_completed(settlement: SettlementRecord) -> dict[str, Any]:
    """`settlement-completed`'s payload as JSON data. The settlement's hot path stages it itself, in the statement that
    writes the settlement (`medical.settlements.service.settle`), so this builds the data only, as plain data: the
    data `SettlementCompleted`'s model would dump (test_settlements holds them equal), without validating and
    dumping it (1.7 against 5.3 µs). The fields the model leaves optional and the settlement does not send
    (`patient_pays`) stay out, as before."""
    return {"settlement_id": str(settlement.id), "person_ref": settlement.person_ref,
            "household_id": str(settlement.household_id), "county_code": settlement.county_code,
            "village_code": settlement.village_code, "hospital_code": settlement.hospital_code,
            "medical_assistance": f"{settlement.medical_assistance:.2f}",
            "supplementary": f"{settlement.supplementary:.2f}",
            "amount": f"{settlement.medical_assistance + settlement.supplementary:.2f}"}


async def settlement_reversed(session: AsyncSession, settlement: Settlement, *, reason_code: str | None) -> None:
    payload = SettlementReversed(settlement_id=str(settlement.id), reason_code=reason_code)
    await enqueue(session, source=COMPONENT, topic=SETTLEMENT_REVERSED, subject=str(settlement.id),
                  data=payload.model_dump(mode="json"))
