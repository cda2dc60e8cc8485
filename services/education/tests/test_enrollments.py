"""POST /education/enrollments and GET /education/enrollments/{id}: grants decided from the read model."""

import asyncio
import datetime as dt
import json
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from edu_support import (
    KAFKA,
    READ,
    WRITE,
    enroll,
    grant_rows,
    kinds,
    member,
    new_id_number,
    person_ref,
    publish_household,
    register_household,
    token,
    wait_for_status,
)

from fupin_kit.testing import wait_for_event

SENIOR_STUDENT = dt.date(2009, 4, 1)


async def test_a_poor_student_gets_the_grants_of_the_stage_and_each_is_published(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    students = {stage: new_id_number(SENIOR_STUDENT) for stage in
                ("preschool", "primary", "junior", "senior", "secondary_vocational", "higher_vocational",
                 "university", "day_primary", "day_junior")}
    household_id, village = await register_household(producer, db, members=[member(n) for n in students.values()])
    expected = {
        "preschool": [("preschool", "750.00")], "primary": [("boarding_primary", "1000.00")],
        "junior": [("boarding_junior", "1250.00")], "senior": [("senior", "2000.00")],
        "secondary_vocational": [("secondary_vocational", "2000.00"), ("vocational_once", "3000.00")],
        "higher_vocational": [("vocational_once", "3000.00")], "university": [], "day_primary": [], "day_junior": []}
    for label, id_number in students.items():
        stage = label.removeprefix("day_")
        answer = await enroll(client, id_number, stage, boarding=not label.startswith("day_"))
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["registered_poor"] is True
        assert kinds(answer) == expected[label], label
        assert all(g["status"] == "awarded" and uuid.UUID(g["grant_id"]) for g in body["grants"])
        assert body["masked_id_number"] == id_number[:6] + "********" + id_number[-4:]
        assert id_number not in answer.text

    event = await wait_for_event(KAFKA, "grant-awarded", household_id)
    assert event["type"] == "cn.fupin.grant-awarded" and event["source"] == "education"
    data = event["data"]
    assert {"grant_id", "person_ref", "household_id", "county_code", "village_code", "kind", "amount",
            "academic_year"} <= set(data)
    assert (data["household_id"], data["village_code"], data["county_code"], data["academic_year"]) == (
        household_id, village, village[:6], "2020-2021")
    stored = await db.fetchrow('SELECT kind, amount, person_ref FROM "grant" WHERE grant_id = $1',
                               uuid.UUID(data["grant_id"]))
    assert (data["kind"], data["amount"], data["person_ref"]) == (
        stored["kind"], f"{stored['amount']:.2f}", stored["person_ref"])
    assert not any(n in json.dumps(event) for n in students.values())


async def test_every_award_is_one_outbox_event(client: httpx.AsyncClient, producer: AIOKafkaProducer,
                                               db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    household_id, _ = await register_household(producer, db, members=[member(student)])
    answer = await enroll(client, student, "secondary_vocational")
    outbox = await db.fetch("SELECT payload FROM outbox WHERE topic = 'grant-awarded' AND key = $1", household_id)
    assert sorted(json.loads(r["payload"])["data"]["grant_id"] for r in outbox) == sorted(
        g["grant_id"] for g in answer.json()["grants"])


async def test_a_student_of_a_non_poor_household_is_recorded_without_grants(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    unknown = new_id_number(SENIOR_STUDENT)
    answer = await enroll(client, unknown, "senior")
    assert answer.status_code == 201
    assert (answer.json()["registered_poor"], answer.json()["grants"]) == (False, [])
    assert await db.fetchval("SELECT count(*) FROM enrollment WHERE enrollment_id = $1",
                             uuid.UUID(answer.json()["enrollment_id"])) == 1
    assert await grant_rows(db, unknown) == []


async def test_a_removed_household_gets_no_further_grants(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    household_id, village = await register_household(producer, db, members=[member(student)])
    first = await enroll(client, student, "senior", "2020-2021")
    assert kinds(first) == [("senior", "2000.00")]
    await publish_household(producer, household_id=household_id, status="removed", village_code=village,
                            members=[member(student)])
    await wait_for_status(db, household_id, "removed")
    later = await enroll(client, student, "senior", "2021-2022")
    assert later.status_code == 201
    assert (later.json()["registered_poor"], later.json()["grants"]) == (False, [])
    kept = await client.get(f"/education/enrollments/{first.json()['enrollment_id']}", headers=READ)
    assert kinds(kept) == [("senior", "2000.00")]  # what was awarded before the removal stays
    assert [(r["kind"], r["academic_year"]) for r in await grant_rows(db, student)] == [("senior", "2020-2021")]


async def test_exited_and_returned_households_stay_registered_poor(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    for status in ("exited", "returned"):
        student = new_id_number(SENIOR_STUDENT)
        await register_household(producer, db, members=[member(student)], status=status)
        assert kinds(await enroll(client, student, "senior")) == [("senior", "2000.00")]


async def test_the_same_person_stage_and_year_again_is_a_duplicate_with_no_second_grant(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(student)])
    assert (await enroll(client, student, "senior", school_code="S1")).status_code == 201
    again = await enroll(client, student, "senior", school_code="S2", grade=2)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "duplicate_enrollment"
    assert await db.fetchval("SELECT count(*) FROM enrollment WHERE person_ref = $1", person_ref(student)) == 1
    assert len(await grant_rows(db, student)) == 1
    assert (await enroll(client, student, "senior", "2021-2022")).status_code == 201
    assert (await enroll(client, student, "secondary_vocational", "2020-2021")).status_code == 201


async def test_concurrent_duplicates_make_one_enrolment_and_one_grant(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(student)])
    answers = await asyncio.gather(*[enroll(client, student, "senior") for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert len(await grant_rows(db, student)) == 1


async def test_the_one_time_grant_is_paid_once_across_stages_and_years(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(student)])
    assert kinds(await enroll(client, student, "secondary_vocational", "2020-2021")) == [
        ("secondary_vocational", "2000.00"), ("vocational_once", "3000.00")]
    assert kinds(await enroll(client, student, "secondary_vocational", "2021-2022")) == [
        ("secondary_vocational", "2000.00")]
    assert kinds(await enroll(client, student, "higher_vocational", "2023-2024")) == []
    assert kinds(await enroll(client, student, "higher_vocational", "2024-2025")) == []
    rows = await grant_rows(db, student)
    assert [r["kind"] for r in rows].count("vocational_once") == 1


async def test_concurrent_vocational_enrolments_share_one_one_time_grant(
        client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(student)])
    answers = await asyncio.gather(enroll(client, student, "secondary_vocational", "2022-2023"),
                                   enroll(client, student, "higher_vocational", "2022-2023"),
                                   enroll(client, student, "higher_vocational", "2023-2024"))
    assert [a.status_code for a in answers] == [201, 201, 201]
    once = [g for a in answers for g in a.json()["grants"] if g["kind"] == "vocational_once"]
    assert len(once) == 1
    assert [r["kind"] for r in await grant_rows(db, student)].count("vocational_once") == 1


async def test_the_years_policy_sets_the_amounts(client: httpx.AsyncClient, producer: AIOKafkaProducer,
                                                 db: asyncpg.Connection) -> None:
    policy = {"preschool": "900.00", "boarding_primary": "1000.00", "boarding_junior": "1250.00",
              "senior": "2000.00", "secondary_vocational": "2500.00", "vocational_once": "3300.00"}
    assert (await client.put("/education/policies/2036-2037", json=policy, headers=WRITE)).status_code == 200
    child, teen = new_id_number(dt.date(2021, 5, 1)), new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(child), member(teen)])
    assert kinds(await enroll(client, child, "preschool", "2036-2037")) == [("preschool", "900.00")]
    assert kinds(await enroll(client, teen, "secondary_vocational", "2036-2037")) == [
        ("secondary_vocational", "2500.00"), ("vocational_once", "3300.00")]
    assert kinds(await enroll(client, child, "preschool", "2037-2038")) == [("preschool", "750.00")]


async def test_an_invalid_id_number_is_refused_and_nothing_is_stored(
        client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    valid = new_id_number(SENIOR_STUDENT)
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")
    before = await db.fetchval("SELECT count(*) FROM enrollment")
    for number in (wrong_check, "12345", valid[:6] + "20991301" + valid[14:]):
        answer = await enroll(client, number, "senior")
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        body = answer.json()
        assert body["code"] == "invalid_id_number"
        assert [e["field"] for e in body["errors"]] == ["id_number"]
        assert number not in answer.text
    assert await db.fetchval("SELECT count(*) FROM enrollment") == before


async def test_malformed_fields_are_validation_errors_naming_the_field(client: httpx.AsyncClient) -> None:
    student = new_id_number(SENIOR_STUDENT)
    for extra, field in (({"stage": "kindergarten"}, "stage"), ({"academic_year": "2020-2022"}, "academic_year"),
                         ({"academic_year": "2020"}, "academic_year"), ({"boarding": "sometimes"}, "boarding"),
                         ({"school_code": ""}, "school_code"), ({"grade": ""}, "grade")):
        body = {"id_number": student, "school_code": "S1", "stage": "senior", "grade": 1, "boarding": False,
                "academic_year": "2020-2021", **extra}
        answer = await client.post("/education/enrollments", json=body, headers=WRITE)
        assert answer.status_code == 422
        assert answer.json()["code"] == "validation_error"
        assert field in [e["field"] for e in answer.json()["errors"]]
    missing = await client.post("/education/enrollments", json={"stage": "senior"}, headers=WRITE)
    assert {"id_number", "school_code", "grade", "academic_year"} <= {e["field"] for e in missing.json()["errors"]}


async def test_an_enrolment_is_read_with_its_grants(client: httpx.AsyncClient, producer: AIOKafkaProducer,
                                                    db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    await register_household(producer, db, members=[member(student)])
    created = (await enroll(client, student, "junior", "2020-2021", boarding=True)).json()
    answer = await client.get(f"/education/enrollments/{created['enrollment_id']}", headers=READ)
    assert answer.status_code == 200
    body = answer.json()
    assert {k: body[k] for k in ("enrollment_id", "school_code", "stage", "grade", "boarding", "academic_year")} == {
        "enrollment_id": created["enrollment_id"], "school_code": "S610723001", "stage": "junior", "grade": "1",
        "boarding": True, "academic_year": "2020-2021"}
    assert body["grants"] == created["grants"]
    assert [(g["kind"], g["amount"], g["status"]) for g in body["grants"]] == [
        ("boarding_junior", "1250.00", "awarded")]
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        missing = await client.get(f"/education/enrollments/{unknown}", headers=READ)
        assert (missing.status_code, missing.json()["code"]) == (404, "enrollment_not_found")


async def test_enrolments_need_their_scopes(client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    assert (await enroll(client, student, "senior", headers={})).status_code == 401
    forbidden = await enroll(client, student, "senior", headers=READ)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    assert (await enroll(client, student, "senior", headers=token("medical:settle", "his-demo"))).status_code == 403
    assert await db.fetchval("SELECT count(*) FROM enrollment WHERE person_ref = $1", person_ref(student)) == 0
    created = await enroll(client, student, "senior")
    path = f"/education/enrollments/{created.json()['enrollment_id']}"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=token("microcredit:loans", "bank-demo", "B001"))).status_code == 403


async def test_a_retry_with_the_same_idempotency_key_creates_nothing(
        client: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    student = new_id_number(SENIOR_STUDENT)
    body = {"id_number": student, "school_code": "S1", "stage": "senior", "grade": 1, "boarding": False,
            "academic_year": "2020-2021"}
    headers = {**WRITE, "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/education/enrollments", json=body, headers=headers)
    retry = await client.post("/education/enrollments", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201) and first.json() == retry.json()
    conflict = await client.post("/education/enrollments", json={**body, "grade": 2}, headers=headers)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")
    assert await db.fetchval("SELECT count(*) FROM enrollment WHERE person_ref = $1", person_ref(student)) == 1


async def test_a_nul_in_school_code_or_grade_is_a_422_not_a_500(client: httpx.AsyncClient,
                                                                 db: asyncpg.Connection) -> None:
    """PostgreSQL text cannot hold U+0000: refused as a validation error naming the field (found by fuzzing)."""
    student = new_id_number(SENIOR_STUDENT)
    for extra, field in (({"school_code": "S\x001"}, "school_code"), ({"grade": "1\x00"}, "grade")):
        answer = await enroll(client, student, "senior", **extra)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_error"
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert await db.fetchval("SELECT count(*) FROM enrollment WHERE person_ref = $1", person_ref(student)) == 0
