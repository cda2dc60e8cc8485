"""Test helpers: resident ID numbers, household snapshots (contract v2 §6) and payments published to Kafka, waiting
for the read model."""

import asyncio
import datetime as dt
import json
import os
import random
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from stdnum.cn import ric

from fupin_events.payloads import PaymentCompleted
from fupin_kit.events.envelope import cloud_event
from fupin_kit.ids import pseudonym
from fupin_kit.settings import DEV_PSEUDONYM_KEY
from fupin_kit.testing import household_event

TOPIC_OF_STATUS = {"registered": "household-registered", "exited": "exit-certified",
                   "returned": "returned-to-poverty", "removed": "household-removed",
                   "identified": "household-registered"}


# A county the demo data never funds: these tests publish on the shared topics, and a running stack's finance must
# not pay their benefit-due events (it would mark benefits paid under the tests' feet); it leaves them pending_funds.
TEST_VILLAGE = "610799101001"


def resident_id(born: dt.date, area: str = "610723") -> str:
    body = f"{area}{born:%Y%m%d}{random.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def person_ref(id_number: str) -> str:
    return pseudonym(id_number, os.environ.get("FUPIN_PSEUDONYM_KEY") or DEV_PSEUDONYM_KEY)


def member(born: dt.date | str, *, relation: str = "head", labor: str = "full",
           id_number: str | None = None) -> dict[str, Any]:
    """A snapshot member; `id_number` (generated from the birth date when not given) only makes the person_ref."""
    born = dt.date.fromisoformat(born) if isinstance(born, str) else born
    number = id_number or resident_id(born)
    return {"member_id": str(uuid.uuid4()), "person_ref": person_ref(number), "birth_date": born.isoformat(),
            "relation": relation, "labor": labor, "school_stage": None, "boarding": False,
            "id_number": number}


def snapshot(household_id: str, status: str, members: list[dict[str, Any]], *, village_code: str,
             occurred_at: dt.datetime | None = None, sequence: int | None = None) -> dict[str, Any]:
    """The data of a registry snapshot, built from the event contract by the kit's helper."""
    event = household_event(household_id, status, [{k: v for k, v in m.items() if k != "id_number"} for m in members],
                            village_code=village_code, occurred_at=occurred_at, sequence=sequence, causes=["illness"])
    return dict(event["data"])


class Bus:
    def __init__(self, producer: AIOKafkaProducer, database_dsn: str) -> None:
        self.producer = producer
        self.dsn = database_dsn

    async def publish(self, topic: str, subject: str, data: dict[str, Any], source: str = "registry") -> None:
        event = cloud_event(source=source, topic=topic, subject=subject, data=data)
        await self.producer.send_and_wait(topic, json.dumps(event, default=str).encode(), key=subject.encode())

    async def household(self, *members: dict[str, Any], status: str = "registered",
                        village_code: str = TEST_VILLAGE, household_id: str | None = None) -> str:
        household_id = household_id or str(uuid.uuid4())
        await self.publish(TOPIC_OF_STATUS[status], household_id,
                           snapshot(household_id, status, list(members), village_code=village_code))
        await self.wait_for(household_id, status)
        return household_id

    async def set_status(self, household_id: str, status: str, members: list[dict[str, Any]], *,
                         village_code: str = TEST_VILLAGE) -> None:
        await self.publish(TOPIC_OF_STATUS[status], household_id,
                           snapshot(household_id, status, members, village_code=village_code))
        await self.wait_for(household_id, status)

    async def pay(self, benefit: dict[str, Any], *, status: str = "paid") -> None:
        program = {"eco_ranger": "eco_rangers"}.get(benefit["kind"], benefit["kind"])
        data = PaymentCompleted.model_validate(dict(
            payment_id=str(uuid.uuid4()), reference=benefit["benefit_id"], program=program,
            payee=f"household:{benefit['household_id']}", amount=benefit["amount"], status=status,
            county_code=benefit["county_code"], village_code=benefit["village_code"],
            paid_at=dt.datetime.now(dt.UTC))).model_dump(mode="json")
        await self.publish("payment-completed", benefit["benefit_id"], data, source="finance")

    async def fetchval(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    async def wait_for(self, household_id: str, status: str, timeout: float = 40.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.fetchval("SELECT status FROM households WHERE household_id = $1",
                                      household_id) != status:
                await asyncio.sleep(0.1)

    async def wait_until(self, query: str, *args: Any, expect: Any = True, timeout: float = 40.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.fetchval(query, *args) != expect:
                await asyncio.sleep(0.1)

    async def outbox(self, topic: str, household_id: str) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch("SELECT payload::text AS p FROM outbox WHERE topic = $1 AND key = $2 "
                                    "ORDER BY id", topic, household_id)
            return [json.loads(r["p"])["data"] for r in rows]
        finally:
            await conn.close()
