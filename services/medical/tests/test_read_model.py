"""Registry household events → the person read model → eligibility for treat-first-pay-later."""

import datetime as dt
import uuid

import asyncpg
import httpx
from medical_support import (
    HIS,
    household_snapshot,
    new_id_number,
    publish,
    ref,
    registered_poor_person,
    wait_for_person,
)


async def eligibility(client: httpx.AsyncClient, number: str) -> dict:
    answer = await client.post("/medical/eligibility-checks", headers=HIS, json={"id_number": number})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_registered_household_members_are_poor_population(client: httpx.AsyncClient,
                                                                db: asyncpg.Pool) -> None:
    head, child = new_id_number(), new_id_number()
    snapshot = household_snapshot([head, child])
    await publish("household-registered", snapshot)
    await wait_for_person(db, ref(child), "registered")
    row = await db.fetchrow("SELECT * FROM persons WHERE person_ref = $1", ref(head))
    assert str(row["household_id"]) == snapshot["household_id"]
    assert (row["village_code"], row["county_code"]) == (snapshot["village_code"], snapshot["village_code"][:6])
    # contract v2 §6: the registry's member id; no masked number in the read model (v2 §0)
    assert str(row["member_id"]) == snapshot["members"][0]["member_id"] and "masked_id_number" not in row
    answer = await eligibility(client, child)
    assert answer == {"poor_population": True, "treat_first_pay_later": True, "deposit_required": False,
                      "masked_id_number": child[:6] + "********" + child[-4:]}


async def test_exited_and_returned_stay_registered_poor_removed_does_not(client: httpx.AsyncClient,
                                                                        db: asyncpg.Pool) -> None:
    number = await registered_poor_person(db)
    household_id = await db.fetchval("SELECT household_id::text FROM persons WHERE person_ref = $1", ref(number))
    for topic, status, poor in (("exit-certified", "exited", True), ("returned-to-poverty", "returned", True),
                                ("household-removed", "removed", False)):
        await publish(topic, household_snapshot([number], status=status, household_id=household_id))
        await wait_for_person(db, ref(number), status)
        assert (await eligibility(client, number))["poor_population"] is poor


async def test_an_unknown_person_is_not_poor_population(client: httpx.AsyncClient) -> None:
    answer = await eligibility(client, new_id_number())
    assert answer["poor_population"] is False and answer["deposit_required"] is True
    assert answer["treat_first_pay_later"] is False


async def test_an_older_snapshot_does_not_overwrite_a_newer_one(db: asyncpg.Pool) -> None:
    number = await registered_poor_person(db)
    household_id = await db.fetchval("SELECT household_id::text FROM persons WHERE person_ref = $1", ref(number))
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    await publish("household-removed", household_snapshot([number], status="removed", household_id=household_id,
                                                          occurred_at=stale))
    marker = new_id_number()  # same topic and key, so the same partition: once it is in, the stale one was handled
    await publish("household-removed", household_snapshot([marker], status="removed"), key=household_id)
    await wait_for_person(db, ref(marker), "removed")
    assert await db.fetchval("SELECT household_status FROM persons WHERE person_ref = $1", ref(number)) == \
        "registered"


async def test_a_malformed_event_is_set_aside_and_later_events_still_apply(db: asyncpg.Pool) -> None:
    await publish("household-registered", {"household_id": str(uuid.uuid4())}, raw=b"{not json")
    await publish("household-registered", {"household_id": str(uuid.uuid4()), "status": "registered",
                                           "members": "nobody"})
    await registered_poor_person(db)


async def test_eligibility_check_refuses_an_invalid_id_number(client: httpx.AsyncClient) -> None:
    answer = await client.post("/medical/eligibility-checks", headers=HIS, json={"id_number": "610723197005171234"})
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_id_number"
    assert answer.json()["errors"][0]["field"] == "id_number"
    assert "610723197005171234" not in answer.text


async def test_eligibility_check_needs_the_settle_scope(client: httpx.AsyncClient) -> None:
    from conftest import token
    body = {"id_number": new_id_number()}
    assert (await client.post("/medical/eligibility-checks", json=body)).status_code == 401
    forbidden = await client.post("/medical/eligibility-checks", json=body, headers=token("medical:read"))
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
