"""Test helpers: valid resident ID numbers, registry events published to Kafka, hospitals, settlements."""

import asyncio
import datetime as dt
import json
import os
import random
import uuid
from typing import Any

import asyncpg
import httpx
from conftest import token
from stdnum.cn import ric

from fupin_kit.events.envelope import cloud_event
from fupin_kit.ids import pseudonym
from fupin_kit.settings import DEV_PSEUDONYM_KEY
from fupin_kit.testing import PrefixedProducer, household_event

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
COUNTY = "610723"
VILLAGE = "610723100201"
HIS = token("medical:settle", client_id="his-demo", hospitals=("*",))  # acts for every hospital
GOV = token("medical:read medical:write", client_id="gov-portal")
READ = token("medical:read", client_id="auditor")


def new_id_number() -> str:
    """A random valid 18-character resident ID number (birth date in the past, MOD 11-2 check character)."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=random.randint(0, 20000))
    stem = f"{random.choice(['610723', '610724', '110101'])}{born:%Y%m%d}{random.randint(0, 999):03d}"
    return stem + ric.calc_check_digit(stem + "0")


def ref(id_number: str) -> str:
    return pseudonym(id_number, os.environ.get("FUPIN_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY))


def household_snapshot(id_numbers: list[str], *, status: str = "registered", household_id: str | None = None,
                       village_code: str = VILLAGE, occurred_at: dt.datetime | None = None) -> dict[str, Any]:
    """The data of a registry snapshot, built from the event contract by the kit's helper."""
    members = [{"member_id": str(uuid.uuid5(uuid.NAMESPACE_OID, n)), "person_ref": ref(n), "birth_date": "1970-05-17",
                "relation": "head" if i == 0 else "child", "labor": "full", "school_stage": None, "boarding": False}
               for i, n in enumerate(id_numbers)]
    event = household_event(household_id or str(uuid.uuid4()), status, members, village_code=village_code,
                            occurred_at=occurred_at)
    return dict(event["data"])


async def publish(topic: str, data: dict[str, Any], *, raw: bytes | None = None, key: str | None = None) -> None:
    """Publish a registry event the way the registry's relay does (key = household id unless given)."""
    producer = PrefixedProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        event = cloud_event(source="registry", topic=topic, subject=data.get("household_id", "x"), data=data)
        value = raw if raw is not None else json.dumps(event).encode()
        await producer.send_and_wait(topic, value, key=(key or str(data.get("household_id", "x"))).encode())
    finally:
        await producer.stop()


async def wait_for_person(db: asyncpg.Pool, person_ref: str, status: str, *, timeout: float = 60) -> None:
    """Poll the read model until the person has `status` (the consumer applies the event asynchronously)."""
    async with asyncio.timeout(timeout):
        while await db.fetchval("SELECT household_status FROM persons WHERE person_ref = $1", person_ref) != status:
            await asyncio.sleep(0.2)


async def registered_poor_person(db: asyncpg.Pool, *, village_code: str = VILLAGE) -> str:
    """A new person whose household the registry has just registered; returns the ID number."""
    number = new_id_number()
    await publish("household-registered", household_snapshot([number], village_code=village_code))
    await wait_for_person(db, ref(number), "registered")
    return number


async def hospital(client: httpx.AsyncClient, level: str = "county", county_code: str = COUNTY) -> str:
    code = f"H{uuid.uuid4().hex[:10].upper()}"
    answer = await client.put(f"/medical/hospitals/{code}", headers=GOV,
                              json={"name": f"{level} hospital", "level": level, "county_code": county_code})
    assert answer.status_code == 201, answer.text
    return code


def discharge(id_number: str, hospital_code: str, total: str, eligible: str, *, on: str = "2020-03-10",
              encounter_id: str | None = None, diagnoses: list[str] | None = None) -> dict[str, Any]:
    return {"encounter_id": encounter_id or f"E-{uuid.uuid4().hex}", "id_number": id_number,
            "hospital_code": hospital_code, "total_cost": total, "eligible_cost": eligible,
            "diagnoses": ["C34.1", "I10"] if diagnoses is None else diagnoses, "discharged_on": on}


async def accumulators(db: asyncpg.Pool, id_number: str, year: int) -> dict[str, str] | None:
    row = await db.fetchrow("SELECT basic_insurance, critical_illness_base, critical_illness_insurance, "
                            "medical_assistance FROM accumulators WHERE person_ref = $1 AND year = $2",
                            ref(id_number), year)
    return None if row is None else {key: f"{value:.2f}" for key, value in row.items()}
