"""The war map's figures through the gateway (contract §9): they agree with the registry's own report for a fresh
county, the children's tiles, gov-portal and auditor read them, officials see only their subtree (dashboard and the
village household list), and a state-changing cookie call needs X-Requested-With."""

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from conftest import Divisions, eventually, member, register, resident_id


async def _login(http: httpx.AsyncClient, username: str) -> httpx.Cookies:
    answer = await http.post("/auth/login", json={"username": username, "password": f"{username}-dev-password"})
    assert answer.status_code == 200, answer.text
    return answer.cookies


async def test_figures_agree_with_the_registry(http: httpx.AsyncClient, divisions: Divisions,
                                               auth: Callable[[str], Awaitable[dict[str, str]]]) -> None:
    gov = await auth("gov-portal")
    born = dt.date(1980, 5, 1)
    for size in (3, 2):
        members = [member(resident_id("610723", born, random.randint(0, 999)))]
        members += [member(resident_id("610723", dt.date(2012, 1, 1), random.randint(0, 999)), "child",
                           labor="none") for _ in range(size - 1)]
        await register(http, gov, divisions.village, members)
    await register(http, gov, divisions.village, [member(resident_id("610723", born, random.randint(0, 999)))],
                   verify=False)
    registry = (await http.get(f"/registry/divisions/{divisions.county}", headers=gov)).json()["stats"]
    assert registry["poor_persons"] == 5

    async def figures() -> dict[str, Any]:
        return (await http.get(f"/dashboard/divisions/{divisions.county}", headers=gov)).json()

    body = await eventually(figures, lambda b: b.get("poor_persons") == registry["poor_persons"], timeout=60)
    assert body["poor_persons"] == registry["poor_persons"]
    assert body["incidence"] == registry["poverty_incidence"] == "0.0050"
    assert body["households"]["registered"] == 2 and body["color"] == "green"
    assert body["as_of"] is not None
    town = body["children"][0]
    assert town["code"] == divisions.town and town["registered_households"] == 2
    auditor = await http.get(f"/dashboard/divisions/{divisions.county}", headers=await auth("auditor"))
    assert auditor.status_code == 200
    bank = await http.get(f"/dashboard/divisions/{divisions.county}", headers=await auth("bank-demo"))
    assert bank.status_code == 403


async def test_officials_see_only_their_subtree(http: httpx.AsyncClient, divisions: Divisions) -> None:
    async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as browser:
        browser.cookies = await _login(http, "village-viewer")
        mine = await browser.get("/dashboard/divisions/610723101201")
        assert mine.status_code == 200 and mine.json()["ancestors"] == []
        for outside in ("610723", "610723101", "610723101202", divisions.county):
            answer = await browser.get(f"/dashboard/divisions/{outside}")
            assert answer.status_code == 404 and answer.json()["code"] == "division_not_found"
        listing = await browser.get("/registry/warmap/villages/610723101201/households?page_size=5")
        assert listing.status_code == 200
        other = await browser.get("/registry/warmap/villages/610723101202/households")
        assert other.status_code == 404 and other.json()["code"] == "division_not_found"
        # a viewer's session reaches no other service, and no household by id
        assert (await browser.get("/finance/budgets")).status_code == 403
        write = await browser.post("/registry/households", json={})
        assert write.status_code == 403 and write.json()["code"] == "forbidden"
        assert (await browser.post("/auth/logout", headers={"X-Requested-With": "fupin"})).status_code == 204
        assert (await browser.get("/dashboard/divisions/610723101201")).status_code == 401
