"""Welfare programmes' pending as finance answers it (contract v2 §5): a benefit waits from `benefit-due` until
finance pays or reverses it (`payment-completed`); `benefit-cancelled` ends the wait (finance reverses a waiting
payment, a paid one stays paid), whatever order the three topics arrive in."""

import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from dash_support import publish
from test_figures import build_county, until


def due(village: str, kind: str, amount: str) -> dict[str, Any]:
    return {"benefit_id": f"B-{uuid.uuid4().hex}", "kind": kind, "case_id": None, "household_id": str(uuid.uuid4()),
            "county_code": village[:6], "village_code": village, "month": "2026-11", "amount": amount}


def completed(benefit: dict[str, Any], program: str, status: str) -> dict[str, Any]:
    return {"payment_id": str(uuid.uuid4()), "reference": benefit["benefit_id"], "program": program,
            "payee": f"household:{benefit['household_id']}", "amount": benefit["amount"], "status": status,
            "county_code": benefit["county_code"], "village_code": benefit["village_code"],
            "paid_at": "2026-11-30T10:00:00Z"}


def cancelled(benefit: dict[str, Any]) -> dict[str, Any]:
    return {"benefit_id": benefit["benefit_id"], "household_id": benefit["household_id"],
            "reason_code": "household_removed"}


async def test_welfare_pending_follows_finance(client: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, town, village_a, village_b = await build_county(producer)
    waiting, paid, cancelled_waiting, cancelled_paid, early = (
        due(village_a, "minimum_living", "100.00"), due(village_a, "minimum_living", "20.00"),
        due(village_b, "minimum_living", "3.00"), due(village_b, "minimum_living", "400.00"),
        due(village_b, "minimum_living", "5000.00"))
    ranger = due(village_b, "eco_ranger", "800.00")
    for benefit in (waiting, paid, cancelled_waiting, cancelled_paid, ranger):
        await publish(producer, "benefit-due", benefit["benefit_id"], benefit)
    await publish(producer, "benefit-due", paid["benefit_id"], paid)  # the same benefit again (a new event id)
    body = await until(client, county, lambda b: b["funds"].get("eco_rangers", {}).get("pending") == "800.00"
                       and b["funds"].get("minimum_living", {}).get("pending") == "523.00")
    assert body["funds"]["minimum_living"] == {"allocated": "0.00", "paid": "0.00", "pending": "523.00"}

    # finance pays two; one waiting benefit is cancelled (finance reverses it), a paid one too (it stays paid)
    await publish(producer, "payment-completed", paid["benefit_id"], completed(paid, "minimum_living", "paid"))
    await publish(producer, "benefit-cancelled", cancelled_waiting["benefit_id"], cancelled(cancelled_waiting))
    await publish(producer, "payment-completed", cancelled_waiting["benefit_id"],
                  completed(cancelled_waiting, "minimum_living", "reversed"))
    await publish(producer, "payment-completed", cancelled_paid["benefit_id"],
                  completed(cancelled_paid, "minimum_living", "paid"))
    await publish(producer, "benefit-cancelled", cancelled_paid["benefit_id"], cancelled(cancelled_paid))
    # a cancellation that arrives before its benefit-due: finance records it reversed, it never waits
    await publish(producer, "benefit-cancelled", early["benefit_id"], cancelled(early))
    await publish(producer, "benefit-due", early["benefit_id"], early)
    await publish(producer, "payment-completed", ranger["benefit_id"], completed(ranger, "eco_rangers", "paid"))
    body = await until(client, county, lambda b: b["funds"]["minimum_living"]["paid"] == "420.00"
                       and b["funds"]["minimum_living"]["pending"] == "100.00"
                       and b["funds"]["eco_rangers"]["pending"] == "0.00")
    assert body["funds"]["eco_rangers"] == {"allocated": "0.00", "paid": "800.00", "pending": "0.00"}
    village = await until(client, village_a, lambda b: b["funds"]["minimum_living"]["pending"] == "100.00")
    assert village["funds"]["minimum_living"]["paid"] == "20.00"
    other = await until(client, village_b, lambda b: b["funds"]["minimum_living"]["paid"] == "400.00")
    assert other["funds"]["minimum_living"]["pending"] == "0.00"
    town_body = await until(client, town, lambda b: b["funds"]["minimum_living"]["pending"] == "100.00")
    assert town_body["funds"]["minimum_living"]["paid"] == "420.00"
