"""Helpers for the education tests: tokens, valid random ID numbers, registry events on Kafka, polling, enrolling.
(Not in conftest.py: every service has one, and a module named `conftest` is ambiguous in a combined run.)"""

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from stdnum.cn import ric

from fupin_kit.ids import pseudonym
from fupin_kit.testing import bearer, generate_keypair, kafka_bootstrap
from fupin_kit.testing import publish_household as kit_publish_household

KAFKA = kafka_bootstrap()
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
T = TypeVar("T")


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return bearer(PRIVATE_KEY, scopes, client_id, bank_code)


WRITE = token("education:read education:write")
READ = token("education:read")


def new_id_number(born: dt.date) -> str:
    """A valid resident ID number no other test (of this run or an earlier one still on Kafka) uses."""
    body = f"{random.randint(110000, 999999)}{born:%Y%m%d}{random.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def person_ref(id_number: str) -> str:
    from education.config import get_settings

    return pseudonym(id_number, get_settings().pseudonym_key.get_secret_value())


def new_village(county: str | None = None) -> str:
    """A fresh 12-digit village code (its own county unless given), so tests never see each other's households."""
    county = county or f"{random.randint(100000, 999999)}"
    return f"{county}{random.randint(0, 999_999):06d}"


def member_id(id_number: str) -> str:
    """The registry's member id as the test's registry hands it out: one fixed id per person."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, id_number))


def member(id_number: str, *, relation: str = "child", school_stage: str | None = None,
           boarding: bool = False) -> dict[str, Any]:
    from fupin_kit.ids import birth_date

    return {"member_id": member_id(id_number), "person_ref": person_ref(id_number),
            "birth_date": birth_date(id_number).isoformat(), "relation": relation, "labor": "none",
            "school_stage": school_stage, "boarding": boarding}


TOPIC_OF_STATUS = {"registered": "household-registered", "exited": "exit-certified",
                   "returned": "returned-to-poverty", "removed": "household-removed"}


async def publish_household(producer: AIOKafkaProducer, *, household_id: str, status: str, village_code: str,
                            members: list[dict[str, Any]], occurred_at: dt.datetime | None = None,
                            topic: str | None = None) -> dict[str, Any]:
    """Publish a registry household snapshot (the event contract's model) the way the registry's relay would."""
    return await kit_publish_household(producer, household_id, status, members, village_code=village_code,
                                       occurred_at=occurred_at, topic=topic)


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 45.0) -> T:
    """Poll `probe` until it answers something truthy (the consumer works asynchronously)."""
    async with asyncio.timeout(timeout):
        while True:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(0.2)


async def household_status(db: asyncpg.Connection, household_id: str) -> str | None:
    return await db.fetchval("SELECT status FROM household WHERE household_id = $1", uuid.UUID(household_id))


async def wait_for_status(db: asyncpg.Connection, household_id: str, status: str) -> None:
    async def probe() -> bool:
        return await household_status(db, household_id) == status

    await eventually(probe)


async def register_household(producer: AIOKafkaProducer, db: asyncpg.Connection, *, members: list[dict[str, Any]],
                             village_code: str | None = None, status: str = "registered") -> tuple[str, str]:
    """Publish a household snapshot and wait until the read model holds it; returns (household_id, village)."""
    household_id, village = str(uuid.uuid4()), village_code or new_village()
    await publish_household(producer, household_id=household_id, status=status, village_code=village,
                            members=members)
    await wait_for_status(db, household_id, status)
    return household_id, village


async def enroll(client: httpx.AsyncClient, id_number: str, stage: str, academic_year: str = "2020-2021", *,
                 boarding: bool = False, headers: dict[str, str] = WRITE, **extra: Any) -> httpx.Response:
    body = {"id_number": id_number, "school_code": "S610723001", "stage": stage, "grade": 1, "boarding": boarding,
            "academic_year": academic_year, **extra}
    return await client.post("/education/enrollments", json=body, headers=headers)


def kinds(answer: httpx.Response) -> list[tuple[str, str]]:
    return sorted((g["kind"], g["amount"]) for g in answer.json()["grants"])


async def grant_rows(db: asyncpg.Connection, id_number: str) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM \"grant\" WHERE person_ref = $1 ORDER BY academic_year, kind",
                          person_ref(id_number))
