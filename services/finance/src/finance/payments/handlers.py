"""Kafka consumers (run by the kit inside one transaction with the inbox row, so each event is handled once)."""

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from finance.payments import rules, service

log = logging.getLogger("fupin.finance.events")
Event = dict[str, Any]


def _who(event: Event) -> str:
    return f"event:{event.get('source', 'unknown')}"


def _why(event: Event) -> str:
    return f"{event.get('type')} {event.get('id')}"


async def _order(session: AsyncSession, event: Event, *orders: rules.PaymentOrder) -> None:
    await service.order_payments(session, orders=orders, event_id=str(event["id"]), recorded_by=_who(event),
                                 note=_why(event))


async def on_grant_awarded(session: AsyncSession, event: Event) -> None:
    await _order(session, event, rules.grant_payment(event["data"]))


async def on_settlement_completed(session: AsyncSession, event: Event) -> None:
    await _order(session, event, rules.settlement_payment(event["data"]))


async def on_interest_subsidy_claimed(session: AsyncSession, event: Event) -> None:
    await _order(session, event, *rules.interest_subsidy_payments(event["data"]))


async def on_risk_compensation_claimed(session: AsyncSession, event: Event) -> None:
    await _order(session, event, rules.risk_compensation_payment(event["data"]))


async def on_settlement_reversed(session: AsyncSession, event: Event) -> None:
    reversal = rules.SettlementReversed.model_validate(event["data"])
    await service.reverse_settlement(session, settlement_id=reversal.settlement_id,
                                     reason_code=reversal.reason_code, event_id=str(event["id"]),
                                     recorded_by=_who(event))


async def on_benefit_due(session: AsyncSession, event: Event) -> None:
    await _order(session, event, rules.benefit_payment(event["data"]))


async def on_benefit_cancelled(session: AsyncSession, event: Event) -> None:
    cancelled = rules.benefit_cancellation(event["data"])
    await service.cancel_benefit(session, benefit_id=cancelled.benefit_id, reason_code=cancelled.reason_code,
                                 event_id=str(event["id"]), recorded_by=_who(event))


HANDLERS = {
    "grant-awarded": on_grant_awarded,
    "settlement-completed": on_settlement_completed,
    "settlement-reversed": on_settlement_reversed,
    "interest-subsidy-claimed": on_interest_subsidy_claimed,
    "risk-compensation-claimed": on_risk_compensation_claimed,
    "benefit-due": on_benefit_due,
    "benefit-cancelled": on_benefit_cancelled,
}
