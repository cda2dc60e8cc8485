"""The figures from events: a county, a town and villages built from division-updated, household snapshots moved
through statuses, loans, grants, settlements and payments; the official's subtree; as_of."""

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from dash_support import division, new_county, publish, snapshot, token


async def until(client: httpx.AsyncClient, code: str, check: Callable[[dict[str, Any]], bool],
                timeout: float = 60) -> dict[str, Any]:
    body: dict[str, Any] = {}
    async with asyncio.timeout(timeout):
        while True:
            answer = await client.get(f"/dashboard/divisions/{code}", headers=token())
            if answer.status_code == 200:
                body = answer.json()
                if check(body):
                    return body
            await asyncio.sleep(0.3)


async def build_county(producer: AIOKafkaProducer) -> tuple[str, str, str, str]:
    county = new_county()
    town, village_a, village_b = f"{county}101", f"{county}101201", f"{county}101202"
    city = f"{county[:4]}00" if county[:4] + "00" != county else "990000"
    await division(producer, city, "city", None, 0)
    await division(producer, county, "county", city, 10_000)
    await division(producer, town, "town", county, 1_000)
    await division(producer, village_a, "village", town, 100)
    await division(producer, village_b, "village", town, 300)
    return county, town, village_a, village_b


async def test_households_move_between_statuses(client: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, town, village_a, village_b = await build_county(producer)
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    await publish(producer, "household-registered", first, snapshot(first, "registered", village_a, 3, 1))
    await publish(producer, "household-registered", second, snapshot(second, "registered", village_b, 4, 1))
    await publish(producer, "household-registered", third, snapshot(third, "registered", village_b, 2, 1))
    await publish(producer, "exit-certified", third, snapshot(third, "exited", village_b, 2, 2))
    # an older snapshot arriving late changes nothing
    await publish(producer, "household-registered", third, snapshot(third, "registered", village_b, 2, 1))
    body = await until(client, county, lambda b: b["households"]["exited"] == 1 and b["poor_persons"] == 7)
    assert body["households"]["registered"] == 2
    assert body["incidence"] == "0.0007" and body["color"] == "green"
    assert body["exits"]["households_this_year"] == 1
    assert [c["code"] for c in body["children"]] == [town]
    town_body = await until(client, town, lambda b: len(b["children"]) == 2)
    tiles = {c["code"]: c for c in town_body["children"]}
    assert tiles[village_a]["incidence"] == "0.0300" and tiles[village_a]["color"] == "red"
    assert tiles[village_b]["poor_persons"] == 4 and tiles[village_b]["color"] == "amber"
    assert town_body["level"] == "town" and town_body["as_of"] is not None
    assert [a["code"] for a in town_body["ancestors"]][-1:] == [county]
    city = (await client.get(f"/dashboard/divisions/{county}", headers=token())).json()
    assert city["code"] == county

    await publish(producer, "returned-to-poverty", third, snapshot(third, "returned", village_b, 2, 3))
    body = await until(client, county, lambda b: b["households"]["returned"] == 1)
    assert body["poor_persons"] == 9 and body["households"]["exited"] == 0


async def test_money_figures(client: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, _, village, _ = await build_county(producer)
    household = str(uuid.uuid4())
    await publish(producer, "household-registered", household, snapshot(household, "registered", village, 3, 1))
    loan = {"loan_id": uuid.uuid4().hex, "bank_code": "B001", "person_ref": "p", "household_id": household,
            "county_code": county, "village_code": village, "amount": "30000.00", "term_months": 36,
            "annual_rate": "0.0435", "disbursed_on": "2026-03-01", "maturity_date": "2029-03-01"}
    await publish(producer, "loan-disbursed", loan["loan_id"], loan)
    await publish(producer, "loan-disbursed", loan["loan_id"], loan)  # the same loan again (a new event id)
    grant = {"grant_id": uuid.uuid4().hex, "person_ref": "p", "household_id": household, "county_code": county,
             "village_code": village, "kind": "boarding_primary", "amount": "500.00", "academic_year": "2026-2027",
             "enrollment_id": "e", "stage": "primary"}
    await publish(producer, "grant-awarded", grant["grant_id"], grant)
    settlement = {"settlement_id": uuid.uuid4().hex, "person_ref": "p", "household_id": household,
                  "county_code": county, "village_code": village, "hospital_code": "H1",
                  "medical_assistance": "700.00", "supplementary": "50.00", "amount": "750.00",
                  "patient_pays": "120.00"}
    await publish(producer, "settlement-completed", settlement["settlement_id"], settlement)
    payment = {"payment_id": uuid.uuid4().hex, "reference": grant["grant_id"], "program": "education_grants",
               "payee": "household", "amount": "500.00", "status": "paid", "county_code": county,
               "village_code": village, "paid_at": "2026-11-30T10:00:00Z"}
    await publish(producer, "payment-completed", payment["payment_id"], payment)
    allocation = {"allocation_id": str(uuid.uuid4()), "fund_id": str(uuid.uuid4()), "jurisdiction_code": county,
                  "program": "education_grants", "amount": "800.00", "year": 2026,
                  "allocated_at": "2026-11-30T09:00:00Z"}
    await publish(producer, "funds-allocated", allocation["allocation_id"], allocation)
    body = await until(client, county, lambda b: b["funds"]["education_grants"]["paid"] == "500.00"
                       and b["funds"]["education_grants"]["allocated"] == "800.00"
                       and b["medical"]["settlements"] == 1 and b["microcredit"]["loans"] == 1)
    assert body["microcredit"] == {"loans": 1, "households_with_loans": 1, "registered_poor_households": 1,
                                   "loan_rate": "1.0000", "outstanding": "30000.00"}
    assert body["education"] == {"grants": 1, "amount": "500.00"}
    assert body["medical"]["paid_by_payers"] == "750.00" and body["medical"]["patient_paid"] == "120.00"
    # allocated is what finance allocated (funds-allocated), pending what the events owe and finance has not paid
    assert body["funds"]["education_grants"] == {"allocated": "800.00", "paid": "500.00", "pending": "0.00"}
    assert body["funds"]["medical_assistance"] == {"allocated": "0.00", "paid": "0.00", "pending": "750.00"}

    await publish(producer, "settlement-reversed", settlement["settlement_id"],
                  {"settlement_id": settlement["settlement_id"]})
    await publish(producer, "payment-completed", payment["payment_id"], {**payment, "status": "reversed"})
    body = await until(client, county, lambda b: b["medical"]["settlements"] == 0
                       and b["funds"]["education_grants"]["paid"] == "0.00")
    assert body["funds"]["education_grants"]["pending"] == "500.00"
    assert body["medical"]["paid_by_payers"] == "0.00" and body["medical"]["patient_paid"] == "0.00"


async def test_an_official_sees_only_their_subtree(client: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
    county, town, village, _ = await build_county(producer)
    other, _, other_village, _ = await build_county(producer)
    # division-updated events of different codes travel on different partitions: wait for the whole chains
    await until(client, village, lambda b: len(b["ancestors"]) == 3)
    await until(client, other_village, lambda b: len(b["ancestors"]) == 3)
    official = token(division=town, sub="official:t")
    assert (await client.get(f"/dashboard/divisions/{town}", headers=official)).status_code == 200
    inside = await client.get(f"/dashboard/divisions/{village}", headers=official)
    assert inside.status_code == 200 and [a["code"] for a in inside.json()["ancestors"]] == [town]
    for outside in (county, other, other_village):
        answer = await client.get(f"/dashboard/divisions/{outside}", headers=official)
        assert answer.status_code == 404 and answer.json()["code"] == "division_not_found"


async def test_scope_and_unknown_division(client: httpx.AsyncClient) -> None:
    assert (await client.get("/dashboard/divisions/610700")).status_code == 401
    answer = await client.get("/dashboard/divisions/610700", headers=token("registry:read"))
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    answer = await client.get("/dashboard/divisions/123456789012", headers=token())
    assert answer.status_code == 404 and answer.json()["code"] == "division_not_found"
    assert (await client.get("/dashboard/divisions/12ab", headers=token())).status_code == 422
