"""GET /education/reports/coverage: per county and stage, enrolled poor children, grants awarded and paid."""

import datetime as dt
import json
import random
import uuid
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from edu_support import READ, enroll, eventually, member, new_id_number, register_household, token
from fastapi import FastAPI

from fupin_kit import clock
from fupin_kit.events.envelope import cloud_event

YEAR = "2029-2030"


async def report(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    answer = await client.get("/education/reports/coverage", params=params, headers=READ)
    assert answer.status_code == 200, answer.text
    return answer.json()


def lines_of(body: dict[str, Any], county: str) -> dict[str, dict[str, Any]]:
    return {line["stage"]: {k: v for k, v in line.items() if k not in ("county_code", "stage")}
            for line in body["items"] if line["county_code"] == county}


async def test_coverage_per_county_and_stage(app: FastAPI, client: httpx.AsyncClient, producer: AIOKafkaProducer,
                                             db: asyncpg.Connection) -> None:
    county = f"{random.randint(100000, 999999)}"
    seniors = [new_id_number(dt.date(2011, 1, i + 1)) for i in range(2)]
    vocational, day_pupil = new_id_number(dt.date(2012, 2, 2)), new_id_number(dt.date(2019, 3, 3))
    household_id, _ = await register_household(producer, db, village_code=county + "001001", members=[
        member(n) for n in (*seniors, vocational, day_pupil)])
    not_poor = new_id_number(dt.date(2011, 5, 5))
    paid_grant = (await enroll(client, seniors[0], "senior", YEAR)).json()["grants"][0]
    await enroll(client, seniors[1], "senior", YEAR)
    await enroll(client, vocational, "secondary_vocational", YEAR)
    await enroll(client, day_pupil, "primary", YEAR)
    await enroll(client, not_poor, "senior", YEAR)
    await enroll(client, seniors[0], "senior", "2030-2031")

    payment = cloud_event(source="finance", topic="payment-completed", subject=household_id, data={
        "payment_id": str(uuid.uuid4()), "reference": paid_grant["grant_id"], "program": "education_grants",
        "payee": household_id, "amount": paid_grant["amount"], "status": "paid"})
    await producer.send_and_wait("payment-completed", json.dumps(payment).encode(), key=household_id.encode())

    async def paid() -> dict[str, Any] | None:
        body = await report(client, academic_year=YEAR)
        return body if lines_of(body, county)["senior"]["grants_paid"] == 1 else None

    body = await eventually(paid)
    assert body["academic_year"] == YEAR
    assert lines_of(body, county) == {
        "senior": {"enrolled": 2, "grants_awarded": 2, "amount_awarded": "4000.00", "grants_paid": 1,
                   "amount_paid": "2000.00"},
        "secondary_vocational": {"enrolled": 1, "grants_awarded": 2, "amount_awarded": "5000.00", "grants_paid": 0,
                                 "amount_paid": "0.00"},
        "primary": {"enrolled": 1, "grants_awarded": 0, "amount_awarded": "0.00", "grants_paid": 0,
                    "amount_paid": "0.00"},
    }
    totals = body["totals"]
    assert totals["enrolled"] >= 4 and totals["grants_awarded"] >= 4
    assert lines_of(await report(client, academic_year="2030-2031"), county)["senior"]["enrolled"] == 1


async def test_the_report_defaults_to_the_current_year_and_checks_its_input(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    with clock.frozen(dt.date(2029, 12, 1)):
        assert (await report(client))["academic_year"] == YEAR
    bad = await client.get("/education/reports/coverage", params={"academic_year": "2029-2031"}, headers=READ)
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    assert [e["field"] for e in bad.json()["errors"]] == ["academic_year"]
    assert (await client.get("/education/reports/coverage")).status_code == 401
    forbidden = await client.get("/education/reports/coverage", headers=token("finance:read"))
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")
    assert (await client.get("/education/reports/coverage", headers=token("education:read", "auditor"))
            ).status_code == 200
