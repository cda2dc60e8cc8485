import httpx
from registry_helpers import READ, WRITE, create_household, household_body, make_tree, verify


async def _objection(client: httpx.AsyncClient, household_id: str) -> httpx.Response:
    return await client.post(f"/registry/households/{household_id}/objections", headers=WRITE,
                             json={"reason": "owns a car and a house in town"})


async def test_open_objection_blocks_county_approval_until_dismissed(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"]))["household_id"]
    await verify(client, household_id, "town")
    filed = await _objection(client, household_id)
    assert filed.status_code == 201 and filed.json()["state"] == "open"
    blocked = await verify(client, household_id, "county")
    assert blocked.status_code == 409 and blocked.json()["code"] == "open_objection"
    objection_id = filed.json()["objection_id"]
    resolved = await client.post(f"/registry/households/{household_id}/objections/{objection_id}/resolution",
                                 headers=WRITE, json={"upheld": False, "note": "the car belongs to a cousin"})
    assert resolved.status_code == 200 and resolved.json()["state"] == "dismissed"
    assert (await verify(client, household_id, "county")).json()["status"] == "registered"


async def test_upheld_objection_rejects_the_household(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"]))["household_id"]
    objection_id = (await _objection(client, household_id)).json()["objection_id"]
    url = f"/registry/households/{household_id}/objections/{objection_id}/resolution"
    upheld = await client.post(url, headers=WRITE, json={"upheld": True, "note": "confirmed by the village"})
    assert upheld.status_code == 200 and upheld.json()["household_status"] == "rejected"
    history = (await client.get(f"/registry/households/{household_id}", headers=READ)).json()["history"]
    assert history[-1]["action"] == "objection_upheld" and history[-1]["to_status"] == "rejected"
    again = await client.post(url, headers=WRITE, json={"upheld": False, "note": None})
    assert again.status_code == 409 and again.json()["code"] == "invalid_status"


async def test_objection_needs_notice_status_and_a_known_objection(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    household_id = (await create_household(client, tree["village"]))["household_id"]
    await verify(client, household_id, "town")
    await verify(client, household_id, "county")
    late = await _objection(client, household_id)
    assert late.status_code == 409 and late.json()["code"] == "invalid_status"
    unknown = await client.post(
        f"/registry/households/{household_id}/objections/00000000-0000-0000-0000-000000000000/resolution",
        headers=WRITE, json={"upheld": True, "note": None})
    assert unknown.status_code == 404
    missing = await _objection(client, "00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "household_not_found"


async def test_public_notice_needs_no_token_and_shows_no_id_numbers(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    body = household_body(tree["village"], size=3)
    body["members"][0]["name"] = "王小明"
    shown = (await client.post("/registry/households", headers=WRITE, json=body)).json()["household_id"]
    await verify(client, shown, "town")
    await create_household(client, tree["village"])  # identified: not yet on notice
    notice = await client.get(f"/registry/divisions/{tree['village']}/public-notice")
    assert notice.status_code == 200
    entries = notice.json()["households"]
    assert entries == [{"household_id": shown, "head_name": "王**", "member_count": 3,
                        "causes": ["illness", "lack_skills"]}]
    for m in body["members"]:
        assert m["id_number"] not in notice.text and m["id_number"][-4:] + '"' not in notice.text
    assert "王小明" not in notice.text
    town = await client.get(f"/registry/divisions/{tree['town']}/public-notice")
    assert town.status_code == 422 and town.json()["code"] == "invalid_division"
    unknown = await client.get("/registry/divisions/999999999999/public-notice")
    assert unknown.status_code == 404 and unknown.json()["code"] == "division_not_found"
