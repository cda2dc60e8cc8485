"""Helpers for the dashboard tests: tokens (with an official's division claim), events on the real Kafka."""

import datetime as dt
import json
import random
import uuid
from typing import Any

import jwt
from aiokafka import AIOKafkaProducer

from fupin_kit.events.envelope import cloud_event
from fupin_kit.testing import generate_keypair, kafka_bootstrap

KAFKA = kafka_bootstrap()
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


def token(scopes: str = "dashboard:read", *, division: str | None = None, sub: str = "gov-portal") -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {"iss": "fupin-gateway", "aud": "fupin", "sub": sub, "scope": scopes, "iat": now,
                              "exp": now + dt.timedelta(minutes=30), "jti": uuid.uuid4().hex}
    if division:
        claims["division"] = division
    return {"Authorization": f"Bearer {jwt.encode(claims, PRIVATE_KEY, algorithm='RS256')}"}


def new_county() -> str:
    """A county code no other test (or demo) uses: 9xxxxx."""
    return f"9{random.randint(0, 99_999):05d}"


async def publish(producer: AIOKafkaProducer, topic: str, subject: str, data: dict[str, Any]) -> None:
    event = cloud_event(source="test", topic=topic, subject=subject, data=data)
    await producer.send_and_wait(topic, json.dumps(event).encode(), key=subject.encode())


async def division(producer: AIOKafkaProducer, code: str, level: str, parent: str | None, population: int,
                   name: str | None = None) -> None:
    await publish(producer, "division-updated", code, {
        "division_code": code, "level": level, "parent_code": parent, "name": name or f"D{code}", "poor": True,
        "population": population})


def snapshot(household_id: str, status: str, village: str, persons: int, sequence: int) -> dict[str, Any]:
    return {"household_id": household_id, "status": status, "village_code": village, "town_code": village[:9],
            "county_code": village[:6], "causes": ["illness"], "sequence": sequence,
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
            "members": [{"member_id": str(uuid.uuid4()), "person_ref": uuid.uuid4().hex, "birth_date": "1980-01-01",
                         "relation": "head" if i == 0 else "child", "labor": "full", "school_stage": None,
                         "boarding": False} for i in range(persons)]}
