"""GET /education/dropout-risks: school-age children of registered-poor households not enrolled this year."""

import datetime as dt
import random
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from edu_support import (
    READ,
    WRITE,
    enroll,
    member,
    member_id,
    new_id_number,
    new_village,
    register_household,
    token,
)
from fastapi import FastAPI

from fupin_kit import clock

ASKED_ON = dt.date(2026, 11, 28)


@pytest.fixture(autouse=True)
def _running_clock() -> Iterator[None]:
    yield
    clock.reset_clock()


def asked_on(app: FastAPI, day: dt.date) -> None:
    """The service's clock reads `day` (noon in China) until the test ends."""
    clock.set_clock(day)


async def risks(client: httpx.AsyncClient, division_code: str) -> list[tuple[str, int]]:
    answer = await client.get("/education/dropout-risks", params={"division_code": division_code}, headers=READ)
    assert answer.status_code == 200, answer.text
    return sorted((item["member_id"], item["age"]) for item in answer.json()["items"])


async def test_children_6_to_15_not_enrolled_this_year_are_listed(
        app: FastAPI, client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    asked_on(app, ASKED_ON)
    county = f"{random.randint(100000, 999999)}"
    town = county + "101"
    six, almost_six = new_id_number(dt.date(2020, 11, 28)), new_id_number(dt.date(2020, 11, 29))
    fifteen, sixteen = new_id_number(dt.date(2011, 11, 28)), new_id_number(dt.date(2010, 11, 28))
    enrolled_now, enrolled_last_year = new_id_number(dt.date(2015, 5, 5)), new_id_number(dt.date(2014, 1, 1))
    parent = new_id_number(dt.date(1985, 1, 1))
    household_id, village = await register_household(producer, db, village_code=town + "001", members=[
        member(parent, relation="head"), member(six), member(almost_six), member(fifteen), member(sixteen),
        member(enrolled_now), member(enrolled_last_year)])
    await enroll(client, enrolled_now, "primary", "2026-2027")
    await enroll(client, enrolled_last_year, "primary", "2025-2026")
    other_town = new_id_number(dt.date(2016, 1, 1))
    await register_household(producer, db, village_code=county + "102001", members=[member(other_town)])
    removed, exited = new_id_number(dt.date(2016, 2, 2)), new_id_number(dt.date(2017, 3, 3))
    await register_household(producer, db, village_code=town + "002", members=[member(removed)], status="removed")
    await register_household(producer, db, village_code=town + "003", members=[member(exited)], status="exited")
    elsewhere = new_id_number(dt.date(2016, 4, 4))
    await register_household(producer, db, members=[member(elsewhere)])

    in_town = [(member_id(six), 6), (member_id(fifteen), 15), (member_id(enrolled_last_year), 12),
               (member_id(exited), 9)]
    assert await risks(client, town) == sorted(in_town)
    assert await risks(client, county) == sorted([*in_town, (member_id(other_town), 10)])
    assert await risks(client, village) == sorted(in_town[:3])
    answer = await client.get("/education/dropout-risks", params={"division_code": village}, headers=READ)
    body = answer.json()
    assert body["academic_year"] == "2026-2027"
    assert {item["household_id"] for item in body["items"]} == {household_id}
    assert {item["village_code"] for item in body["items"]} == {village}
    assert all(set(item) >= {"household_id", "village_code", "member_id", "age"} for item in body["items"])
    assert all("masked_id_number" not in item for item in body["items"])
    # the city (GB/T 2260: a 6-digit code ending in 00) covers its counties
    assert (member_id(six), 6) in await risks(client, county[:4] + "00")


async def test_the_current_academic_year_turns_on_1_september(
        app: FastAPI, client: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection) -> None:
    pupil = new_id_number(dt.date(2016, 6, 1))
    _, village = await register_household(producer, db, members=[member(pupil)])
    await enroll(client, pupil, "primary", "2026-2027")
    asked_on(app, dt.date(2027, 8, 31))
    assert await risks(client, village) == []
    asked_on(app, dt.date(2027, 9, 1))
    assert await risks(client, village) == [(member_id(pupil), 11)]
    asked_on(app, dt.date(2026, 8, 31))
    assert await risks(client, village) == [(member_id(pupil), 10)]
    assert (await enroll(client, pupil, "primary", "2027-2028")).status_code == 201
    asked_on(app, dt.date(2027, 9, 1))
    assert await risks(client, village) == []


async def test_the_division_code_is_validated_and_the_read_scope_needed(client: httpx.AsyncClient) -> None:
    for params in ({"division_code": "12ab56"}, {"division_code": "1234567"}, {}):
        answer = await client.get("/education/dropout-risks", params=params, headers=READ)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
        assert [e["field"] for e in answer.json()["errors"]] == ["division_code"]
    assert (await client.get("/education/dropout-risks", params={"division_code": new_village()})).status_code == 401
    forbidden = await client.get("/education/dropout-risks", params={"division_code": "610723"},
                                 headers=token("medical:settle"))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    assert (await client.get("/education/dropout-risks", params={"division_code": new_village()},
                             headers=WRITE)).json()["items"] == []
