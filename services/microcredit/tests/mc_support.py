"""Test helpers: valid resident ID numbers, household events published to Kafka, waiting for the read model."""

import asyncio
import datetime as dt
import os
import random
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from stdnum.cn import ric

from fupin_kit import clock
from fupin_kit.ids import pseudonym
from fupin_kit.settings import DEV_PSEUDONYM_KEY
from fupin_kit.testing import household_event, publish_household


def resident_id(born: dt.date, area: str = "610723") -> str:
    """A valid 18-character resident ID number born on `born`, with a random sequence number."""
    body = f"{area}{born:%Y%m%d}{random.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def adult_id(age: int = 40, today: dt.date | None = None) -> str:
    today = today or clock.today()
    return resident_id(today.replace(year=today.year - age) - dt.timedelta(days=30))


def person_ref(id_number: str) -> str:
    """The pseudonym the service computes (the same key the app under test reads from the environment)."""
    return pseudonym(id_number, os.environ.get("FUPIN_PSEUDONYM_KEY") or DEV_PSEUDONYM_KEY)


def member(id_number: str, *, relation: str = "head", labor: str = "full") -> dict[str, Any]:
    return {"member_id": str(uuid.uuid4()), "person_ref": person_ref(id_number),
            "birth_date": ric.get_birth_date(id_number).isoformat(), "relation": relation, "labor": labor,
            "school_stage": None, "boarding": False}


TOPIC_OF_STATUS = {"registered": "household-registered", "exited": "exit-certified",
                   "returned": "returned-to-poverty", "removed": "household-removed"}


class Registry:
    """Plays the registry: publishes household snapshots to Kafka and waits until the read model shows them."""

    def __init__(self, producer: AIOKafkaProducer, database_dsn: str) -> None:
        self.producer = producer
        self.dsn = database_dsn

    async def publish(self, household_id: str, status: str, members: list[dict[str, Any]], *,
                      village_code: str = "610723101001", occurred_at: dt.datetime | None = None,
                      topic: str | None = None) -> None:
        try:
            household_event(household_id, status, members, village_code=village_code)
            valid = True
        except ValidationError:  # a test publishing a malformed snapshot on purpose
            valid = False
        await publish_household(self.producer, household_id, status, members, village_code=village_code,
                                occurred_at=occurred_at, topic=topic, validate=valid)

    async def household_status(self, household_id: str) -> str | None:
        conn = await asyncpg.connect(self.dsn)
        try:
            value = await conn.fetchval("SELECT status FROM households WHERE household_id = $1", household_id)
            return str(value) if value is not None else None
        finally:
            await conn.close()

    async def wait_for_status(self, household_id: str, status: str, timeout: float = 40.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.household_status(household_id) != status:
                await asyncio.sleep(0.1)

    async def household(self, status: str = "registered", *members: dict[str, Any],
                        village_code: str = "610723101001") -> str:
        """Publish a new household with `members` in `status` and wait until the read model holds it."""
        household_id = str(uuid.uuid4())
        await self.publish(household_id, status, list(members), village_code=village_code)
        await self.wait_for_status(household_id, status)
        return household_id


BANK = {"scopes": "microcredit:eligibility microcredit:loans", "client_id": "bank-demo", "bank_code": "B001"}
OTHER_BANK = {"scopes": "microcredit:eligibility microcredit:loans", "client_id": "bank-other", "bank_code": "B002"}
GOV_READ = {"scopes": "microcredit:read", "client_id": "auditor"}
GOV_WRITE = {"scopes": "microcredit:read microcredit:write", "client_id": "gov-portal"}
