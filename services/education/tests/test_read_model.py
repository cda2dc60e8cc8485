"""The local read model of the registry's household events, kept by the consumer."""

import datetime as dt
import json
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from edu_support import (
    enroll,
    eventually,
    household_status,
    kinds,
    member,
    member_id,
    new_id_number,
    new_village,
    person_ref,
    publish_household,
    register_household,
    wait_for_status,
)
from fastapi import FastAPI

from fupin_kit.events.envelope import cloud_event


async def test_registered_household_is_upserted_with_its_members(
        app: FastAPI, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    child, head = new_id_number(dt.date(2015, 3, 1)), new_id_number(dt.date(1985, 5, 5))
    household_id, village = await register_household(
        producer, db, members=[member(head, relation="head"), member(child, school_stage="primary", boarding=True)])
    row = await db.fetchrow("SELECT village_code, county_code FROM household WHERE household_id = $1",
                            uuid.UUID(household_id))
    assert (row["village_code"], row["county_code"]) == (village, village[:6])
    members = await db.fetch("SELECT member_id, birth_date, relation, school_stage, boarding "
                             "FROM household_member WHERE household_id = $1 ORDER BY relation",
                             uuid.UUID(household_id))
    assert [(m["relation"], m["birth_date"], m["school_stage"], m["boarding"]) for m in members] == [
        ("child", dt.date(2015, 3, 1), "primary", True), ("head", dt.date(1985, 5, 5), None, False)]
    assert str(members[0]["member_id"]) == member_id(child)  # v2 §6: the member id, no masked number


async def test_each_household_event_upserts_the_status_and_members(
        app: FastAPI, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    head, child, baby = (new_id_number(dt.date(1980, 1, 1)), new_id_number(dt.date(2016, 1, 1)),
                         new_id_number(dt.date(2024, 1, 1)))
    household_id, village = await register_household(producer, db, members=[member(head), member(child)])
    for status in ("exited", "returned"):
        await publish_household(producer, household_id=household_id, status=status, village_code=village,
                                members=[member(head), member(baby)])
        await wait_for_status(db, household_id, status)
    refs = await db.fetch("SELECT member_id FROM household_member WHERE household_id = $1",
                          uuid.UUID(household_id))
    assert sorted(str(r["member_id"]) for r in refs) == sorted([member_id(head), member_id(baby)])
    await publish_household(producer, household_id=household_id, status="removed", village_code=village,
                            members=[member(head), member(baby)])
    await wait_for_status(db, household_id, "removed")


async def test_a_late_older_snapshot_does_not_overwrite_a_newer_one(
        app: FastAPI, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    head = new_id_number(dt.date(1970, 2, 2))
    household_id, village = str(uuid.uuid4()), new_village()
    now = dt.datetime.now(dt.UTC)
    await publish_household(producer, household_id=household_id, status="removed", village_code=village,
                            members=[member(head)], occurred_at=now)
    await wait_for_status(db, household_id, "removed")
    # the registration happened earlier but arrives later (another topic): it must not resurrect the household
    await publish_household(producer, household_id=household_id, status="registered", village_code=village,
                            members=[member(head)], occurred_at=now - dt.timedelta(minutes=5))
    marker, _ = await register_household(producer, db, members=[member(new_id_number(dt.date(1971, 1, 1)))])
    assert marker and await household_status(db, household_id) == "removed"


async def test_malformed_and_foreign_events_are_skipped_without_stopping_the_consumer(
        app: FastAPI, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    bad_id = str(uuid.uuid4())
    malformed = cloud_event(source="registry", topic="household-registered", subject=bad_id,
                            data={"household_id": bad_id, "status": "registered", "village_code": "not-a-code"})
    await producer.send_and_wait("household-registered", json.dumps(malformed).encode(), key=bad_id.encode())
    await producer.send_and_wait("household-registered", b"{not json", key=bad_id.encode())
    foreign = cloud_event(source="finance", topic="payment-completed", subject="x", data={
        "payment_id": str(uuid.uuid4()), "reference": str(uuid.uuid4()), "program": "medical_assistance",
        "payee": "H001", "amount": "10.00", "status": "paid"})
    await producer.send_and_wait("payment-completed", json.dumps(foreign).encode(), key=b"x")
    household_id, _ = await register_household(producer, db, members=[member(new_id_number(dt.date(1990, 1, 1)))])
    assert household_id
    assert await household_status(db, bad_id) is None


async def test_a_redelivered_event_is_applied_once(
        app: FastAPI, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    head = new_id_number(dt.date(1975, 7, 7))
    household_id, village = str(uuid.uuid4()), new_village()
    event = cloud_event(source="registry", topic="household-registered", subject=household_id, data={
        "household_id": household_id, "status": "registered", "village_code": village,
        "town_code": village[:9], "county_code": village[:6],
        "members": [member(head)], "occurred_at": dt.datetime.now(dt.UTC).isoformat()})
    for _ in range(2):
        await producer.send_and_wait("household-registered", json.dumps(event).encode(), key=household_id.encode())
    await wait_for_status(db, household_id, "registered")

    async def inbox_has_it() -> bool:
        return await db.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event["id"]) == 1

    await eventually(inbox_has_it)


async def test_a_late_snapshot_of_an_old_household_does_not_take_back_a_member_who_moved_on(
        app: FastAPI, client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    """Removal frees the members and a new household may register them; the topics are consumed in no fixed order,
    so household A's removal may arrive after household B's registration: the person stays in B, and gets grants."""
    student = new_id_number(dt.date(2008, 6, 6))
    now = dt.datetime.now(dt.UTC)
    old_id, village = str(uuid.uuid4()), new_village()
    await publish_household(producer, household_id=old_id, status="registered", village_code=village,
                            members=[member(student)], occurred_at=now - dt.timedelta(minutes=10))
    await wait_for_status(db, old_id, "registered")
    new_id = str(uuid.uuid4())
    await publish_household(producer, household_id=new_id, status="registered", village_code=village,
                            members=[member(student)], occurred_at=now)
    await wait_for_status(db, new_id, "registered")
    await publish_household(producer, household_id=old_id, status="removed", village_code=village,
                            members=[member(student)], occurred_at=now - dt.timedelta(minutes=5))
    await wait_for_status(db, old_id, "removed")
    household = await db.fetchval("SELECT household_id FROM household_member WHERE person_ref = $1",
                                  person_ref(student))
    assert str(household) == new_id
    answer = await enroll(client, student, "senior", "2034-2035")
    assert answer.status_code == 201 and kinds(answer) == [("senior", "2000.00")], answer.text
