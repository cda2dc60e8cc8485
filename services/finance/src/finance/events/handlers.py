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

log = logging.getLogger("fupin.finance.events")
Event = dict[str, Any]
BENEFIT_BATCH = 2000  # benefit-due records of a partition paid in one transaction


def _who(event: Event) -> str:
    return f"event:{event.get('source', 'unknown')}"


def _why(event: Event) -> str:
    return f"{event.get('type')} {event.get('id')}"


def _ordering(rule: Callable[[dict[str, Any]], PaymentOrder | list[PaymentOrder]], *, max_records: int = 0,
              read: Callable[[bytes], tuple[str, settle.Ordered]] | None = None) -> BatchHandler[settle.Ordered]:
    """A handler for a topic whose events order payments: one event, or a poll batch (up to `max_records` of a
    partition, the kit's default if 0) in one transaction; `read`: the batch's faster path from a record's bytes."""

    def prepare(event: Event) -> settle.Ordered:
        ordered = rule(event["data"])
        return settle.Ordered(event_id=str(event["id"]), orders=ordered if isinstance(ordered, list) else [ordered],
                              recorded_by=_who(event), note=_why(event))

    async def apply(session: AsyncSession, prepared: Sequence[settle.Ordered]) -> None:
        await settle.order_many(session, prepared)

    return BatchHandler(prepare, apply, max_records=max_records, read=read)


on_grant_awarded = _ordering(rules.grant_payment)
on_settlement_completed = _ordering(rules.settlement_payment)
on_interest_subsidy_claimed = _ordering(rules.interest_subsidy_payments)
on_risk_compensation_claimed = _ordering(rules.risk_compensation_payment)
class _BenefitDueEvent(BaseModel):
    """The envelope fields a `benefit-due` order needs, and its payload, parsed from the record's JSON in one go."""
    id: str
    source: str = "unknown"
    type: str | None = None
    data: BenefitDue


def _read_benefit_due(value: bytes) -> tuple[str, settle.Ordered]:
    """`prepare` of a `benefit-due` from the record's bytes: the envelope and the payload validated by pydantic from
    JSON (about a third of `json.loads` plus `model_validate`); what it cannot read takes the per-record path."""
    event = _BenefitDueEvent.model_validate_json(value)
    return event.id, settle.Ordered(event_id=event.id, orders=[rules.benefit_order(event.data)],
                                    recorded_by=f"event:{event.source}", note=f"{event.type} {event.id}")


# a city's monthly run sends 100,000 at once: larger transactions, fewer statements per payment
on_benefit_due = _ordering(rules.benefit_payment, max_records=BENEFIT_BATCH, read=_read_benefit_due)


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
