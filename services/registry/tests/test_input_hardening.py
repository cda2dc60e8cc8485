"""Input the database cannot hold is refused as a 4xx naming the field, never a 500 (found by fuzzing the API).

PostgreSQL text cannot hold U+0000 and `division.population` is an INTEGER; a division code that is not digits
names no division and is not looked up."""

import httpx
from registry_helpers import READ, WRITE, codes, create_household, household_body, make_tree
from test_imports import finished, first_row_of, lookup, to_csv, upload

from registry.synthetic import households

NUL = "\x00"


def fields(answer: httpx.Response) -> set[str]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    return {e["field"] for e in answer.json()["errors"]}


async def test_a_nul_in_free_text_is_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    county = codes()["county"]
    answer = await client.put(f"/registry/divisions/{county}", headers=WRITE,
                              json={"name": f"county{NUL}", "level": "county", "population": 1})
    assert answer.status_code == 422 and fields(answer) == {"name"}
    assert (await client.get(f"/registry/divisions/{county}", headers=READ)).status_code == 404

    body = household_body(tree["village"], size=2)
    body["members"][1]["name"] = f"张{NUL}"
    answer = await client.post("/registry/households", headers=WRITE, json=body)
    assert answer.status_code == 422 and fields(answer) == {"members.1.name"}
    assert (await lookup(client, body["members"][0]["id_number"])).status_code == 404  # nothing half written

    household_id = (await create_household(client, tree["village"]))["household_id"]
    base = f"/registry/households/{household_id}"
    for path, json, field in (
            ("/verifications", {"level": "town", "approved": True, "officer": f"o{NUL}"}, "officer"),
            ("/verifications", {"level": "town", "approved": True, "officer": "o", "note": f"n{NUL}"}, "note"),
            ("/objections", {"reason": f"r{NUL}"}, "reason"),
            ("/removal", {"reason": f"r{NUL}"}, "reason"),
            ("/return", {"reason": f"r{NUL}"}, "reason")):
        answer = await client.post(base + path, headers=WRITE, json=json)
        assert answer.status_code == 422 and fields(answer) == {field}, (path, answer.text)
    objection = (await client.post(base + "/objections", headers=WRITE, json={"reason": "r"})).json()
    answer = await client.post(f"{base}/objections/{objection['objection_id']}/resolution", headers=WRITE,
                               json={"upheld": False, "note": f"n{NUL}"})
    assert answer.status_code == 422 and fields(answer) == {"note"}
    household = (await client.get(base, headers=READ)).json()
    assert household["status"] == "identified" and len(household["history"]) == 1


async def test_codes_that_are_not_digits_are_invalid_division(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    for village in (f"{tree['village'][:11]}{NUL}", "٠١٢٣٤٥٦٧٨٩٠١", "12345"):
        answer = await client.post("/registry/households", headers=WRITE, json=household_body(village))
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "invalid_division" and fields(answer) == {"village_code"}
    answer = await client.put(f"/registry/divisions/{tree['town'][:6]}999", headers=WRITE, json={
        "name": "t", "level": "town", "parent_code": f"{tree['county'][:5]}{NUL}", "population": 1})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_division"
    assert fields(answer) == {"parent_code"}


async def test_population_beyond_the_integer_column_is_a_422(client: httpx.AsyncClient) -> None:
    county = codes()["county"]
    answer = await client.put(f"/registry/divisions/{county}", headers=WRITE,
                              json={"name": "c", "level": "county", "population": 2**31})
    assert answer.status_code == 422 and fields(answer) == {"population"}
    answer = await client.put(f"/registry/divisions/{county}", headers=WRITE,
                              json={"name": "c", "level": "county", "population": 2**31 - 1})
    assert answer.status_code == 201, answer.text


async def test_a_nul_in_an_import_rejects_its_household_not_the_import(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    families = [f for f in households(20, villages=[tree["village"]]) if len(f) >= 2][:3]
    families[0][1]["name"] = f"张{NUL}"
    for m in families[1]:
        m["household_key"] = f"key{NUL}"
    accepted = await upload(client, f"nul{NUL}.csv", to_csv(families))
    assert accepted.status_code == 202, accepted.text
    assert NUL not in accepted.json()["filename"]
    job = await finished(client, accepted.json()["import_id"])
    assert job["state"] == "done", job
    assert (job["households_created"], job["households_rejected"]) == (1, 2)
    errors = {(e["row"], e["field"], e["code"]) for e in job["errors"]}
    assert (first_row_of(families, 0) + 1, "name", "validation_error") in errors
    assert (first_row_of(families, 1), "household_key", "validation_error") in errors
    assert (await lookup(client, families[2][0]["id_number"])).status_code == 200
    assert (await lookup(client, families[0][0]["id_number"])).status_code == 404
