"""Payments applied a poll batch per transaction (the kit's batch handlers): exactly once, in partition order, the
ledger balanced; a bad record in a batch is dead-lettered alone; a redelivered batch pays nothing again."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from conftest import (
    KAFKA,
    READER,
    balance,
    fund_program,
    has,
    new_county,
    payments_when,
    token,
    verify_ledger,
    village_of,
)

from fupin_kit.db import Database
from fupin_kit.events.consumer import BatchHandler, EventConsumer
from fupin_kit.events.envelope import cloud_event


def grant(county: str, amount: str, household: str) -> dict[str, Any]:
    return cloud_event(source="test", topic="grant-awarded", subject=household, data={
        "grant_id": str(uuid.uuid4()), "person_ref": uuid.uuid4().hex, "household_id": household,
        "county_code": county, "village_code": village_of(county), "kind": "senior", "amount": amount,
        "academic_year": "2020-2021"})


async def test_a_burst_is_paid_once_in_order(http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, household = new_county(), str(uuid.uuid4())  # one key: one partition, in this order
    await fund_program(http, county, "education_grants", "4000.00")
    events = [grant(county, "10.00", household) for _ in range(300)]
    broken = grant(county, "10.00", household)
    del broken["data"]["village_code"], broken["data"]["county_code"]
    again = {**events[5], "id": str(uuid.uuid4())}  # the same grant under another event id
    burst = [*events[:100], events[3], broken, again, *events[100:], events[299]]
    sends = [await producer.send("grant-awarded", json.dumps(e).encode(), key=household.encode()) for e in burst]
    for send in sends:
        await send
    await payments_when(http, events[-1]["data"]["grant_id"], has("paid"), timeout=90)
    paid = []
    for event in events:
        payments = (await http.get("/finance/payments", headers=token(READER),
                                   params={"reference": event["data"]["grant_id"]})).json()
        assert [p["status"] for p in payments] == ["paid"], payments
        paid.append(payments[0]["paid_at"])
    assert paid == sorted(paid)  # paid in the order of the partition
    assert await balance(http, county, "education_grants") == "1000.00"
    assert (await http.get("/finance/payments", headers=token(READER),
                           params={"reference": broken["data"]["grant_id"]})).json() == []
    await verify_ledger(http)


async def test_payments_of_a_batch_share_an_entry_each_with_its_own_trail(
        http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, key = new_county(), str(uuid.uuid4())  # one key: one partition, so one batch as far as polls allow
    await fund_program(http, county, "education_grants", "1000.00")
    events = [grant(county, f"{n}.00", str(uuid.uuid4())) for n in range(1, 41)]
    sends = [await producer.send("grant-awarded", json.dumps(e).encode(), key=key.encode()) for e in events]
    for send in sends:
        await send
    await payments_when(http, events[-1]["data"]["grant_id"], has("paid"), timeout=90)
    entries = set()
    for n, event in enumerate(events, start=1):
        [payment] = (await http.get("/finance/payments", headers=token(READER),
                                    params={"reference": event["data"]["grant_id"]})).json()
        # its audit trail: its entry with its own payee's line and the programme's, its lineage: its own amount
        [entry] = (await http.get("/finance/ledger/entries", headers=token(READER),
                                  params={"reference": payment["payment_id"]})).json()
        entries.add(entry["entry_id"])
        assert entry["kind"] == "payment" and entry["recorded_by"] == "event:test"
        debits = [(line["account"], line["debit"]) for line in entry["lines"] if line["debit"] != "0.00"]
        assert debits == [(f"payee:household:{event['data']['household_id']}", f"{n}.00")], entry
        lineage = (await http.get(f"/finance/payments/{payment['payment_id']}/lineage",
                                  headers=token(READER))).json()
        assert [s["amount"] for s in lineage["sources"]] == [f"{n}.00"], lineage
    assert len(entries) < len(events)  # batched: fewer entries than payments
    assert await balance(http, county, "education_grants") == "180.00"  # 1000 - (1 + ... + 40)
    await verify_ledger(http)


@dataclass
class Record:
    value: bytes
    offset: int
    partition: int = 0
    topic: str = "grant-awarded"
    key: bytes | None = None


async def test_a_redelivered_batch_pays_nothing_again(http: httpx.AsyncClient, db: Database) -> None:
    from finance.events.handlers import HANDLERS

    county, household = new_county(), str(uuid.uuid4())
    await fund_program(http, county, "education_grants", "100.00")
    consumer = EventConsumer(db, bootstrap_servers=KAFKA, group_id="test-batch", handlers=HANDLERS,
                                    dlq_producer=None)  # type: ignore[arg-type]
    handler = HANDLERS["grant-awarded"]
    assert isinstance(handler, BatchHandler)
    events = [grant(county, "30.00", household) for _ in range(4)]  # 3 fit, the 4th waits
    records = [Record(json.dumps(e).encode(), offset) for offset, e in enumerate(events)]
    assert await consumer.process_batch("grant-awarded", records, handler) is None  # type: ignore[arg-type]
    assert await consumer.process_batch("grant-awarded", records, handler) is None  # type: ignore[arg-type]
    statuses = [(await http.get("/finance/payments", headers=token(READER),
                                params={"reference": e["data"]["grant_id"]})).json() for e in events]
    assert [[p["status"] for p in s] for s in statuses] == [["paid"], ["paid"], ["paid"], ["pending_funds"]]
    assert await balance(http, county, "education_grants") == "10.00"
    await verify_ledger(http)


async def test_a_reference_recorded_meanwhile_rolls_the_batch_back_to_be_retried(
        http: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference another transaction recorded after this one looked (under another account's lock) is refused by
    the unique constraint: the batch fails as transient (retried, then it finds the reference recorded)."""
    from finance.payments import settle
    from finance.payments.rules import GrantAwarded, grant_order
    from fupin_kit.events.failures import Failure, classify

    county, household = new_county(), str(uuid.uuid4())
    await fund_program(http, county, "education_grants", "100.00")
    order = grant_order(GrantAwarded.model_validate(grant(county, "30.00", household)["data"]))
    ordered = settle.Ordered(event_id=str(uuid.uuid4()), orders=[order], recorded_by="event:test")
    async with db.session() as session:
        assert [p.status for p in await settle.order_many(session, [ordered])] == ["paid"]
        await session.commit()

    async def nothing_recorded(*_: object) -> set[tuple[str, str, str]]:
        return set()

    monkeypatch.setattr(settle, "_recorded", nothing_recorded)  # as if the other transaction committed after
    with pytest.raises(settle.RecordedMeanwhile) as refused:
        async with db.session() as session:
            await settle.order_many(session, [ordered])
    assert classify(refused.value) is Failure.TRANSIENT
    assert await balance(http, county, "education_grants") == "70.00"  # paid once
    await verify_ledger(http)
