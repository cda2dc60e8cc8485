"""The war map's village household list (contract §9): masked names and status, no ID numbers, the official's
subtree from the `division` claim."""

import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
from conftest import PRIVATE_KEY
from registry_helpers import READ, create_household, make_tree


def official(division: str, scopes: str = "dashboard:read registry:warmap") -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {"iss": "fupin-gateway", "aud": "fupin", "sub": "official:test", "scope": scopes,
                              "division": division, "iat": now, "exp": now + dt.timedelta(minutes=5),
                              "jti": uuid.uuid4().hex}
    return {"Authorization": f"Bearer {jwt.encode(claims, PRIVATE_KEY, algorithm='RS256')}"}


async def test_village_households_masked_and_paged(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    created = [await create_household(client, tree["village"]) for _ in range(3)]
    answer = await client.get(f"/registry/warmap/villages/{tree['village']}/households?page_size=2", headers=READ)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 3 and len(body["households"]) == 2
    first = body["households"][0]
    assert first["head_name"] == "张**" and first["status"] == "identified" and first["members"] == 3
    assert first["household_id"] == created[0]["household_id"]
    text = answer.text
    assert "id_number" not in text and "张三丰" not in text
    second = (await client.get(f"/registry/warmap/villages/{tree['village']}/households?page=2&page_size=2",
                               headers=READ)).json()
    assert len(second["households"]) == 1


async def test_official_sees_only_their_subtree(client: httpx.AsyncClient) -> None:
    mine, other = await make_tree(client), await make_tree(client)
    path = f"/registry/warmap/villages/{mine['village']}/households"
    for division in (mine["city"], mine["county"], mine["town"], mine["village"]):
        assert (await client.get(path, headers=official(division))).status_code == 200
    for division in (other["county"], other["village"]):
        answer = await client.get(path, headers=official(division))
        assert answer.status_code == 404 and answer.json()["code"] == "division_not_found"
    # a town is not a village; an unknown village is not found either
    answer = await client.get(f"/registry/warmap/villages/{mine['town']}000/households", headers=READ)
    assert answer.status_code == 404
    assert (await client.get(path, headers=official(mine["county"], "dashboard:read"))).status_code == 403
    assert (await client.get(path)).status_code == 401
