"""The handlers of the topics finance consumes, run by the kit's consumer with the inbox in the same transaction (each
event is handled once; offsets are committed after the database commit).

The topics that order payments have the kit's `BatchHandler`s: the kit inserts a poll batch's inbox rows in one
statement and calls `apply` with the new events only, in offset order; `settle.order_many` records and pays them with
set-based SQL (issue 14 target 4). A transient failure retries the batch, a bad record is dead-lettered alone (see
`fupin_kit.events.consumer`). Reversals and cancellations are handled one event at a time.
"""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.payments import rules, service, settle
from finance.payments.rules import PaymentOrder
from fupin_events.payloads import BenefitDue
from fupin_kit.events.consumer import BatchHandler, Handler
from fupin_kit.events.envelope import event_model

log = logging.getLogger("fupin.finance.events")
Event = dict[str, Any]
# records of a partition paid in one transaction: money events come in bursts (a city's monthly run sends 100,000
# benefit-due at once, a school year's grants come together), and a larger transaction has fewer statements per payment
ORDER_BATCH = 2000


def _who(event: Event) -> str:
    return f"event:{event.get('source', 'unknown')}"


def _ordering(payload: type[BaseModel], order: Callable[[Any], PaymentOrder | list[PaymentOrder]], *,
              max_records: int = ORDER_BATCH) -> BatchHandler[settle.Ordered]:
    """A handler for a topic whose events order payments (`order` of the validated `payload`): one event, or a poll
    batch (up to `max_records` of a partition; 0: the kit's default) in one transaction. The batch reads each record's
    bytes straight into the envelope and payload models (pydantic from JSON: about a third of `json.loads` plus
    `model_validate`); a record it cannot read takes the per-record path, which reads it as before."""
    envelope = event_model(payload)

    def ordered(event_id: str, source: object, kind: object, data: BaseModel) -> settle.Ordered:
        orders = order(data)
        return settle.Ordered(event_id=event_id, orders=orders if isinstance(orders, list) else [orders],
                              recorded_by=f"event:{source}", note=f"{kind} {event_id}")

    def prepare(event: Event) -> settle.Ordered:
        return ordered(str(event["id"]), event.get("source", "unknown"), event.get("type"),
                       payload.model_validate(event["data"]))

    def read(value: bytes) -> tuple[str, settle.Ordered]:
        event: Any = envelope.model_validate_json(value)
        return event.id, ordered(event.id, event.source, event.type, event.data)

    async def apply(session: AsyncSession, prepared: Sequence[settle.Ordered]) -> None:
        await settle.order_many(session, prepared)

    return BatchHandler(prepare, apply, max_records=max_records, read=read)


on_grant_awarded = _ordering(rules.GrantAwarded, rules.grant_order)
on_settlement_completed = _ordering(rules.SettlementCompleted, rules.settlement_order)
# a claim holds up to 10,000 loans: the kit's default batch
on_interest_subsidy_claimed = _ordering(rules.InterestSubsidyClaimed, rules.interest_subsidy_orders, max_records=0)
on_risk_compensation_claimed = _ordering(rules.RiskCompensationClaimed, rules.risk_compensation_order)
on_benefit_due = _ordering(BenefitDue, rules.benefit_order)


async def on_settlement_reversed(session: AsyncSession, event: Event) -> None:
    reversal = rules.SettlementReversed.model_validate(event["data"])
    await service.reverse_settlement(session, settlement_id=reversal.settlement_id,
                                     reason_code=reversal.reason_code, event_id=str(event["id"]),
                                     recorded_by=_who(event))


async def on_benefit_cancelled(session: AsyncSession, event: Event) -> None:
    cancelled = rules.benefit_cancellation(event["data"])
    await service.cancel_benefit(session, benefit_id=cancelled.benefit_id, reason_code=cancelled.reason_code,
                                 event_id=str(event["id"]), recorded_by=_who(event))


HANDLERS: dict[str, Handler] = {
    "grant-awarded": on_grant_awarded,
    "settlement-completed": on_settlement_completed,
    "settlement-reversed": on_settlement_reversed,
    "interest-subsidy-claimed": on_interest_subsidy_claimed,
    "risk-compensation-claimed": on_risk_compensation_claimed,
    "benefit-due": on_benefit_due,
    "benefit-cancelled": on_benefit_cancelled,
}
