import asyncio
import uuid

import httpx
from conftest import token
from registry_helpers import (
    INDICATORS_OK,
    KAFKA,
    READ,
    WRITE,
    bad_check_digit,
    create_household,
    household_body,
    id_number,
    make_tree,
    member,
    verify,
)

from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.db import Database
from fupin_kit.testing import wait_for_event
from registry.households.public import read_public, read_public_json


async def test_identify_household_then_read_it_with_members_and_history(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=3, income="6000")
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["status"] == "identified"
    assert created["annual_income"] == "6000.00" and created["per_capita_income"] == "2000.00"
    household = (await client.get(f"/registry/households/{created['household_id']}", headers=READ)).json()
    assert household["member_count"] == 3
    head = household["members"][0]
    number = body["members"][0]["id_number"]
    assert head["masked_id_number"] == number[:6] + "********" + number[-4:]
    assert "id_number" not in head
    # contract v2 §0: beside the masked number at most the birth year and age, never the full birth date
    assert "birth_date" not in head and head["birth_year"] == int(number[6:10]) and isinstance(head["age"], int)
    assert household["history"][0]["to_status"] == "identified" and household["history"][0]["actor"] == "gov-portal"


async def test_invalid_id_number_names_the_member(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=3)
    body["members"][2]["id_number"] = bad_check_digit(body["members"][2]["id_number"])
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "invalid_id_number"
    assert problem["errors"][0]["field"] == "members[2].id_number"
    assert body["members"][2]["id_number"] not in answer.text


async def test_impossible_birth_date_is_invalid_id_number(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=2)
    stem = "61072319990231001"  # 31 February
    body["members"][1]["id_number"] = stem + __import__("stdnum.cn.ric", fromlist=["x"]).calc_check_digit(stem + "0")
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_id_number"
    assert answer.json()["errors"][0]["field"] == "members[1].id_number"


async def test_village_must_exist_and_be_a_village(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    for code in (tree["town"], tree["town"] + "999"):
        answer = await client.post("/registry/households", headers=WRITE, json=household_body(code))
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_division"


async def test_head_must_be_a_member(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], head_id_number=id_number())
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 422 and answer.json()["code"] == "head_not_member"


async def test_person_cannot_be_registered_twice(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    first = household_body(tree["village"])
    assert (await client.post("/registry/households", headers=WRITE, json=first)).status_code == 201
    second = household_body(tree["village"])
    second["members"][1]["id_number"] = first["members"][2]["id_number"]
    answer = await client.post("/registry/households", headers=WRITE, json=second)
    assert answer.status_code == 409
    assert answer.json()["code"] == "person_already_registered"
    assert answer.json()["errors"] == [{"field": "members[1].id_number",
                                        "message": "already registered in another household"}]


async def test_concurrent_registrations_of_one_person_leave_one_household(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    shared = id_number()
    bodies = [household_body(tree["village"]) for _ in range(6)]
    for body in bodies:
        body["members"][1]["id_number"] = shared
    answers = await asyncio.gather(*(client.post("/registry/households", headers=WRITE, json=b) for b in bodies))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"person_already_registered"}


async def test_member_of_a_rejected_household_may_be_identified_again(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"])
    created = (await client.post("/registry/households", headers=WRITE, json=body)).json()
    assert (await verify(client, created["household_id"], "town", approved=False)).status_code == 201
    again = await client.post("/registry/households", headers=WRITE, json=body)
    assert again.status_code == 201


async def test_bad_bodies_are_validation_errors(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], causes=["laziness"], annual_income="12.345")
    body["members"][0]["relation"] = "cousin"
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"causes.0", "annual_income", "members.0.relation"} <= fields
    empty = await client.post("/registry/households", headers=WRITE, content=b"not json",
                              )
    assert empty.status_code == 422


async def test_household_not_found_and_scope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/registry/households/00000000-0000-0000-0000-000000000000", headers=READ)
    assert missing.status_code == 404 and missing.json()["code"] == "household_not_found"
    tree = await make_tree(client)
    denied = await client.post("/registry/households", headers=READ, json=household_body(tree["village"]))
    assert denied.status_code == 403
    other = await client.post("/registry/households", headers=token("finance:write"),
                              json=household_body(tree["village"]))
    assert other.status_code == 403


async def test_person_lookup(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"])
    created = await create_household(client, tree["village"]) if False else (
        await client.post("/registry/households", headers=WRITE, json=body)).json()
    found = await client.post("/registry/person-lookups", headers=READ,
                              json={"id_number": body["members"][1]["id_number"].lower()})
    assert found.status_code == 200
    assert found.json()["household_id"] == created["household_id"]
    assert found.json()["relation"] == "child" and found.json()["status"] == "identified"
    assert found.json()["village_code"] == tree["village"]
    missing = await client.post("/registry/person-lookups", headers=READ, json={"id_number": id_number()})
    assert missing.status_code == 404 and missing.json()["code"] == "person_not_found"
    invalid = await client.post("/registry/person-lookups", headers=READ, json={"id_number": "123"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_id_number"


async def test_town_then_county_registers_and_publishes_the_snapshot(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=2)
    household_id = (await client.post("/registry/households", headers=WRITE, json=body)).json()["household_id"]
    town = await verify(client, household_id, "town")
    assert town.status_code == 201 and town.json()["status"] == "town_verified"
    county = await verify(client, household_id, "county")
    assert county.status_code == 201 and county.json()["status"] == "registered"
    event = await wait_for_event(KAFKA, "household-registered", household_id)
    assert event["type"] == "cn.fupin.household-registered" and event["source"] == "registry"
    data = event["data"]
    assert data["status"] == "registered" and data["village_code"] == tree["village"]
    assert data["county_code"] == tree["county"]
    assert [m["relation"] for m in data["members"]] == ["head", "child"]
    snapshot = HouseholdSnapshot.model_validate(data)  # contract v2 §6: the shared payload model
    assert set(data["members"][0]) >= {"member_id", "person_ref", "birth_date", "relation", "labor",
                                       "school_stage", "boarding"}
    assert "masked_id_number" not in str(data)  # with the birth date it would rebuild the number (v2 §0)
    members = (await client.get(f"/registry/households/{household_id}", headers=READ)).json()["members"]
    assert [m.member_id for m in snapshot.members] == [uuid.UUID(m["member_id"]) for m in members]
    assert snapshot.sequence == 1 and snapshot.causes == body["causes"]
    raw = str(event)
    for m in body["members"]:
        assert m["id_number"] not in raw and m["name"] not in raw
    history = (await client.get(f"/registry/households/{household_id}", headers=READ)).json()["history"]
    assert [(h["to_status"], h["officer"]) for h in history] == [
        ("identified", None), ("town_verified", "town leader"), ("registered", "county leader")]


async def test_household_read_is_the_models_json_byte_for_byte(client: httpx.AsyncClient, database_url: str) -> None:
    """GET /registry/households/{id} writes its JSON from the row without building the models (`read_public_json`):
    its text is exactly the models' (`read_public(...).model_dump_json()`), for households of every shape."""
    tree = await make_tree(client)
    single = household_body(tree["village"], size=1, income="0.00")
    varied = household_body(tree["village"], size=3, income="1000.00", low_income_guarantee=True,
                            causes=["lack_labor", "illness", "disability"],
                            indicators={**INDICATORS_OK, "housing_safe": False, "basic_medical_ok": False})
    varied["members"][1] = member("spouse", name="O'Brien \\ 王\"小\"明", health="serious", disability_grade=2,
                                  labor="partial")
    ids = []
    for body in (single, varied):
        answer = await client.post("/registry/households", headers=WRITE, json=body)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["household_id"])
    registered = (await create_household(client, tree["village"], size=2))["household_id"]
    assert (await verify(client, registered, "town")).status_code == 201
    assert (await verify(client, registered, "county")).status_code == 201
    refused = (await create_household(client, tree["village"]))["household_id"]
    assert (await verify(client, refused, "town", approved=False)).status_code == 201
    db = Database(database_url, pool_size=1)
    try:
        async with db.driver_connection() as conn:
            for household_id in [*ids, registered, refused]:
                expected = (await read_public(conn, uuid.UUID(household_id))).model_dump_json()
                assert (await read_public_json(conn, uuid.UUID(household_id))).decode() == expected
                answer = await client.get(f"/registry/households/{household_id}", headers=READ)
                assert answer.status_code == 200 and answer.text == expected
                assert answer.headers["content-type"] == "application/json"
    finally:
        await db.dispose()


async def test_verification_out_of_order_or_repeated(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"]))["household_id"]
    early = await verify(client, household_id, "county")
    assert early.status_code == 409 and early.json()["code"] == "verification_out_of_order"
    assert (await verify(client, household_id, "town")).status_code == 201
    again = await verify(client, household_id, "town")
    assert again.status_code == 409 and again.json()["code"] == "verification_out_of_order"


async def test_refusal_at_county_rejects(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"]))["household_id"]
    await verify(client, household_id, "town")
    refused = await verify(client, household_id, "county", approved=False)
    assert refused.status_code == 201 and refused.json()["status"] == "rejected"
    after = await verify(client, household_id, "county")
    assert after.status_code == 409 and after.json()["code"] == "verification_out_of_order"


async def test_idempotency_key_replays_the_first_answer(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"])
    headers = {**WRITE, "Idempotency-Key": f"hh-{body['head_id_number'][-6:]}"}
    first = await client.post("/registry/households", headers=headers, json=body)
    again = await client.post("/registry/households", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json()["household_id"] == first.json()["household_id"]
    other = await client.post("/registry/households", headers=headers, json=household_body(tree["village"]))
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
