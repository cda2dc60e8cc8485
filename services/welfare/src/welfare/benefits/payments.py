"""Finance's `payment-completed` for the four welfare programmes marks benefits `paid` (contract v2 §8), a poll batch
at a time: the kit's `BatchHandler` calls `apply` once per batch inside one transaction, and one UPDATE marks them
all. A paid payment wins over a late cancellation (the money left); other programmes and reversals are ignored."""

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import PaymentCompleted
from fupin_kit.db import session_driver
from fupin_kit.events.consumer import BatchHandler, Event
from fupin_kit.events.envelope import event_model
from welfare.benefits.models import PROGRAM_OF_KIND

log = logging.getLogger("welfare.events")

WELFARE_PROGRAMS = frozenset(PROGRAM_OF_KIND.values())

_MARK_PAID = """
    UPDATE benefits b SET status = 'paid', paid_at = p.paid_at, payment_id = p.payment_id
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS p(benefit_id, paid_at, payment_id)
    WHERE b.benefit_id = p.benefit_id AND b.status <> 'paid'"""


@dataclass(frozen=True)
class Paid:
    benefit_id: uuid.UUID
    paid_at: dt.datetime
    payment_id: str


def prepare(event: Event) -> Paid | None:
    """The benefit a payment pays, None when the event is not about one (raises on malformed content)."""
    return _paid(PaymentCompleted.model_validate(event["data"]), event.get("time"))


def read(value: bytes) -> tuple[str, Paid | None]:
    """`prepare` from the record's bytes (the batch's faster path: pydantic validates the JSON itself, about a third
    of `json.loads` plus `model_validate`); what it cannot read takes the per-record path."""
    event: Any = event_model(PaymentCompleted).model_validate_json(value)
    return event.id, _paid(event.data, event.time)


def _paid(payment: PaymentCompleted, time: Any) -> Paid | None:
    if payment.program not in WELFARE_PROGRAMS or payment.status != "paid":
        return None
    try:
        benefit_id = uuid.UUID(payment.reference)
    except ValueError:
        log.warning("payment-completed for a welfare programme with a reference that is not a benefit",
                    extra={"fields": {"payment_id": payment.payment_id}})
        return None
    paid_at = payment.paid_at or dt.datetime.fromisoformat(str(time).replace("Z", "+00:00"))
    return Paid(benefit_id, paid_at, payment.payment_id)


async def apply(session: AsyncSession, payments: Sequence[Paid | None]) -> None:
    """Mark the batch's benefits paid in one statement; of two payments of one benefit the first counts."""
    first: dict[uuid.UUID, Paid] = {}
    for paid in payments:
        if paid is not None and paid.benefit_id not in first:
            first[paid.benefit_id] = paid
    if not first:
        return
    ordered = sorted(first.values(), key=lambda p: p.benefit_id)  # one lock order for concurrent writers
    raw = await session_driver(session)
    await raw.execute(_MARK_PAID, [p.benefit_id for p in ordered], [p.paid_at for p in ordered],
                      [p.payment_id for p in ordered])


# a monthly run's payments arrive by the 100,000: up to 2,000 of a partition per transaction
on_payment_completed: BatchHandler[Paid | None] = BatchHandler(prepare, apply, max_records=2000, read=read)
