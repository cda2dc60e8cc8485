"""Grants that arrive from events: late registration (catch-up in the consumer's transaction) and payment."""

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from edu_support import (
    KAFKA,
    READ,
    enroll,
    eventually,
    grant_rows,
    kinds,
    member,
    new_id_number,
    new_village,
    publish_household,
    register_household,
    wait_for_status,
)

from fupin_kit.events.envelope import cloud_event
from fupin_kit.testing import wait_for_event

SENIOR_STUDENT = dt.date(2009, 4, 1)


async def test_a_late_registration_awards_the_grants_then(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student, sibling = new_id_number(SENIOR_STUDENT), new_id_number(dt.date(2014, 1, 1))
    vocational = await enroll(client, student, "secondary_vocational", "2020-2021")
    higher = await enroll(client, student, "higher_vocational", "2021-2022")
    boarder = await enroll(client, sibling, "primary", "2020-2021", boarding=True)
    assert all(a.status_code == 201 and a.json()["grants"] == [] for a in (vocational, higher, boarder))

    household_id, _ = await register_household(producer, db, members=[member(student), member(sibling)])

    async def granted(answer: httpx.Response) -> httpx.Response | None:
        found = await client.get(f"/education/enrollments/{answer.json()['enrollment_id']}", headers=READ)
        return found if found.json()["grants"] else None

    assert kinds(await eventually(lambda: granted(vocational))) == [
        ("secondary_vocational", "2000.00"), ("vocational_once", "3000.00")]
    assert kinds(await eventually(lambda: granted(boarder))) == [("boarding_primary", "1000.00")]
    after = await client.get(f"/education/enrollments/{higher.json()['enrollment_id']}", headers=READ)
    assert after.json()["registered_poor"] is True and after.json()["grants"] == []
    event = await wait_for_event(KAFKA, "grant-awarded", household_id)
    assert event["data"]["household_id"] == household_id
    # an exit certificate (and any redelivery) awards nothing twice
    outbox_before = await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", household_id)
    await register_household(producer, db, members=[member(new_id_number(SENIOR_STUDENT))])
    assert len(await grant_rows(db, student)) == 2
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", household_id) == outbox_before == 3


async def test_a_return_to_poverty_awards_the_grants_then(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    enrolled = await enroll(client, student, "senior", "2022-2023")
    assert enrolled.json()["grants"] == []
    household_id = str(uuid.uuid4())
    await publish_household(producer, household_id=household_id, status="returned", village_code=new_village(),
                            members=[member(student)])

    async def granted() -> list[Any]:
        return await grant_rows(db, student)

    rows = await eventually(granted)
    assert [(r["kind"], r["academic_year"], r["enrollment_id"]) for r in rows] == [
        ("senior", "2022-2023", uuid.UUID(enrolled.json()["enrollment_id"]))]


async def test_an_enrolment_racing_the_registration_gets_its_grant_exactly_once(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    students = [new_id_number(SENIOR_STUDENT) for _ in range(4)]
    household_id = str(uuid.uuid4())
    answers, _ = await asyncio.gather(
        asyncio.gather(*[enroll(client, n, "senior", "2025-2026") for n in students]),
        publish_household(producer, household_id=household_id, status="registered", village_code=new_village(),
                          members=[member(n) for n in students]))
    assert all(a.status_code == 201 for a in answers)
    await wait_for_status(db, household_id, "registered")

    async def all_granted() -> bool:
        counts = [len(await grant_rows(db, n)) for n in students]
        return counts == [1] * len(students)

    await eventually(all_granted)
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE key = $1", household_id) == len(students)



async def test_a_payment_by_finance_marks_the_grant_paid(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    household_id, _ = await register_household(producer, db, members=[member(student)])
    answer = await enroll(client, student, "senior")
    grant = answer.json()["grants"][0]
    payment = cloud_event(source="finance", topic="payment-completed", subject=household_id, data={
        "payment_id": str(uuid.uuid4()), "reference": grant["grant_id"], "program": "education_grants",
        "payee": household_id, "amount": grant["amount"], "status": "paid"})
    await producer.send_and_wait("payment-completed", json.dumps(payment).encode(), key=household_id.encode())

    async def paid() -> httpx.Response | None:
        found = await client.get(f"/education/enrollments/{answer.json()['enrollment_id']}", headers=READ)
        return found if found.json()["grants"][0]["status"] == "paid" else None

    await eventually(paid)
    stored = await db.fetchrow('SELECT payment_id, paid_at FROM "grant" WHERE grant_id = $1',
                               uuid.UUID(grant["grant_id"]))
    assert stored["payment_id"] == payment["data"]["payment_id"] and stored["paid_at"] is not None
