"""POST /education/grant-lookups: every grant of a person, the ID number only in the body."""

import datetime as dt

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from edu_support import READ, WRITE, enroll, member, new_id_number, register_household, token


async def test_every_grant_of_the_person_is_listed(client: httpx.AsyncClient, producer: AIOKafkaProducer,
                                                   db: asyncpg.Connection) -> None:
    student, sibling = new_id_number(dt.date(2008, 1, 1)), new_id_number(dt.date(2012, 1, 1))
    await register_household(producer, db, members=[member(student), member(sibling)])
    await enroll(client, student, "senior", "2020-2021")
    await enroll(client, student, "secondary_vocational", "2021-2022")
    await enroll(client, sibling, "junior", "2021-2022", boarding=True)
    answer = await client.post("/education/grant-lookups", json={"id_number": student.lower()}, headers=READ)
    assert answer.status_code == 200
    body = answer.json()
    assert [(g["kind"], g["amount"], g["academic_year"], g["status"]) for g in body["grants"]] == [
        ("senior", "2000.00", "2020-2021", "awarded"),
        ("secondary_vocational", "2000.00", "2021-2022", "awarded"),
        ("vocational_once", "3000.00", "2021-2022", "awarded")]
    assert all(g["grant_id"] for g in body["grants"])
    assert body["masked_id_number"] == student[:6] + "********" + student[-4:]
    assert student not in answer.text


async def test_a_person_without_grants_gets_an_empty_list(client: httpx.AsyncClient) -> None:
    nobody = new_id_number(dt.date(2010, 10, 10))
    answer = await client.post("/education/grant-lookups", json={"id_number": nobody}, headers=READ)
    assert (answer.status_code, answer.json()["grants"]) == (200, [])
    await enroll(client, nobody, "university")
    assert (await client.post("/education/grant-lookups", json={"id_number": nobody}, headers=READ)).json()[
        "grants"] == []


async def test_a_lookup_validates_the_id_number_and_needs_the_read_scope(client: httpx.AsyncClient) -> None:
    bad = await client.post("/education/grant-lookups", json={"id_number": "610723200801011230"}, headers=READ)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_id_number")
    assert bad.json()["errors"][0]["field"] == "id_number"
    missing = await client.post("/education/grant-lookups", json={}, headers=READ)
    assert (missing.status_code, missing.json()["code"]) == (422, "validation_error")
    number = new_id_number(dt.date(2010, 1, 1))
    assert (await client.post("/education/grant-lookups", json={"id_number": number})).status_code == 401
    forbidden = await client.post("/education/grant-lookups", json={"id_number": number},
                                  headers=token("registry:read"))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    assert (await client.post("/education/grant-lookups", json={"id_number": number}, headers=WRITE)).status_code \
        == 200
