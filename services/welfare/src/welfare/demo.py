"""Demo data for `make up`, loaded once after the registry's demo city (610700): 低保 cases for households of the
coverage list (应保尽保), a few households of our own registered through the registry to show every state (the
June 2020 example, a gradual exit closed after November 2020, a re-activation, a closure, an eco-ranger, a
relocation, temporary assistance), the 2020 monthly runs, and the four welfare programme accounts funded so finance
pays them. Everything goes through the gateway with the gov-portal dev client."""

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Iterable
from decimal import Decimal
from typing import Any

import httpx
from stdnum.cn import ric

from fupin_kit import clock
from fupin_kit.gateway_client import GatewayClient as Gateway
from fupin_kit.gateway_client import bounded, fetch_token

log = logging.getLogger("welfare.demo")
CITY = "610700"
DEV_CLIENT_ID = "gov-portal"
DEV_CLIENT_SECRET = "gov-portal-dev-secret"  # refused by the gateway outside the dev profile
CASES_FROM_COVERAGE = 40
PROGRAMS = ("minimum_living", "temporary_assistance", "eco_rangers", "relocation")
NAMES = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨明", "赵丽", "黄强")


async def _token(http: httpx.AsyncClient) -> str:
    return await fetch_token(http, client_id=DEV_CLIENT_ID, client_secret=DEV_CLIENT_SECRET)


async def _bounded(calls: Iterable[Awaitable[Any]], limit: int = 8) -> list[Any]:
    return await bounded(calls, limit)


def _resident_id(county: str, born: dt.date, rng: random.Random) -> str:
    body = f"{county}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def _member(number: str, relation: str, rng: random.Random, **overrides: Any) -> dict[str, Any]:
    return {"id_number": number, "name": rng.choice(NAMES), "relation": relation, "health": "healthy",
            "disability_grade": None, "labor": "full", "school_stage": None, "boarding": False, **overrides}


async def _register(gw: Gateway, village: str, members: list[dict[str, Any]], income: str) -> str:
    """A household of our own, identified then approved by town and county (→ registered, event published)."""
    created = await gw.call("POST", "/registry/households", json={
        "village_code": village, "head_id_number": members[0]["id_number"], "annual_income": income,
        "income_year": 2019, "causes": ["illness"], "low_income_guarantee": True,
        "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
                       "housing_safe": True, "drinking_water_safe": True}, "members": members})
    household_id = str(created.json()["household_id"])
    for level in ("town", "county"):
        await gw.call("POST", f"/registry/households/{household_id}/verifications",
                      json={"level": level, "approved": True, "officer": "演示", "note": "兜底保障演示户"})
    return household_id


async def _until_known(gw: Gateway, method: str, path: str, body: dict[str, Any], *,
                       timeout: float = 60) -> httpx.Response:
    """POST until the household's event has reached welfare (422 not_registered_poor is retried)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await gw.call(method, path, json=body, ok=(200, 201, 409, 422))
        waiting = answer.status_code == 422 and answer.json().get("code") in ("not_registered_poor", "not_eligible") \
            and "not_registered_poor" in (answer.json().get("reasons") or ["not_registered_poor"])
        if not waiting or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


async def _coverage(gw: Gateway, *, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = (await gw.call("GET", "/welfare/coverage",
                                                     params={"division_code": CITY})).json()["items"]
        if items or time.monotonic() > deadline:
            return items
        await asyncio.sleep(1)


async def _cases_from_coverage(gw: Gateway, items: list[dict[str, Any]]) -> int:
    """Open a case for households of the coverage list whose registered income is at or below the line."""
    async def one(item: dict[str, Any]) -> bool:
        household = (await gw.call("GET", f"/registry/households/{item['household_id']}")).json()
        answer = await gw.call("POST", "/welfare/cases", ok=(201, 409, 422), json={
            "household_id": item["household_id"], "annual_income": household.get("annual_income", "0.00"),
            "assessed_on": "2019-12-20", "opened_on": "2020-01-01"})
        return answer.status_code == 201

    return sum(await _bounded(one(i) for i in items[:CASES_FROM_COVERAGE]))


async def _own_households(gw: Gateway, village: str, rng: random.Random) -> dict[str, Any]:
    county = village[:6]

    def rid(born: str) -> str:
        return _resident_id(county, dt.date.fromisoformat(born), rng)

    june = await _register(gw, village, [
        _member(rid("1957-03-01"), "head", rng, labor="partial"),
        _member(rid("1962-01-15"), "spouse", rng, health="disabled", disability_grade=2, labor="none"),
        _member(rid("1986-05-05"), "child", rng), _member(rid("2011-02-02"), "grandchild", rng, labor="none")],
        "9600.00")
    gradual = await _register(gw, village, [_member(rid("1990-01-01"), "head", rng),
                                            _member(rid("1975-03-03"), "spouse", rng),
                                            _member(rid("2000-05-05"), "child", rng)], "7200.00")
    again = await _register(gw, village, [_member(rid("1991-02-01"), "head", rng),
                                          _member(rid("1976-03-03"), "spouse", rng),
                                          _member(rid("2000-06-06"), "child", rng)], "7200.00")
    closing = await _register(gw, village, [_member(rid("1950-07-07"), "head", rng, labor="none")], "1800.00")
    ranger_number = rid("1988-08-08")
    ranger = await _register(gw, village, [_member(ranger_number, "head", rng)], "3000.00")
    moving = await _register(gw, village, [_member(rid("1970-01-01"), "head", rng),
                                           _member(rid("1972-02-02"), "spouse", rng),
                                           _member(rid("2008-03-03"), "child", rng, labor="none")], "6000.00")

    spouse = next(m for m in (await gw.call("GET", f"/registry/households/{june}")).json()["members"]
                  if m["relation"] == "spouse")
    await _until_known(gw, "POST", "/welfare/cases", {
        "household_id": june, "annual_income": "9600.00", "assessed_on": "2020-06-01", "opened_on": "2020-06-01",
        "disabled_members": [{"member_id": spouse["member_id"], "disability_grade": 2}]})
    for household_id, assessments in ((gradual, [("13500.00", "2020-05-20")]),
                                      (again, [("13500.00", "2020-05-20"), ("11400.00", "2020-08-12")])):
        case = await _until_known(gw, "POST", "/welfare/cases", {
            "household_id": household_id, "annual_income": "7200.00", "assessed_on": "2020-01-06",
            "opened_on": "2020-01-06"})
        if case.status_code == 201:
            for income, day in assessments:
                await gw.call("POST", f"/welfare/cases/{case.json()['case_id']}/income-assessments",
                              json={"annual_income": income, "assessed_on": day})
    closed = await _until_known(gw, "POST", "/welfare/cases", {
        "household_id": closing, "annual_income": "1800.00", "assessed_on": "2020-02-01", "opened_on": "2020-02-01"})
    if closed.status_code == 201:
        await gw.call("POST", f"/welfare/cases/{closed.json()['case_id']}/closure",
                      json={"closed_on": "2020-09-30", "reason": "户主进入特困供养机构集中供养"})

    for year in (2020, clock.today().year):
        await gw.call("PUT", f"/welfare/ranger-quotas/{county}/years/{year}", json={"quota": 5})
    await _until_known(gw, "POST", "/welfare/ranger-posts",
                       {"id_number": ranger_number, "year": 2020, "appointed_on": "2020-01-01"})

    plan = await _until_known(gw, "POST", "/welfare/relocations", {
        "household_id": moving, "destination_village_code": village, "site_name": "移民搬迁安置小区",
        "planned_year": 2020})
    if plan.status_code == 201:
        await gw.call("POST", f"/welfare/relocations/{plan.json()['relocation_id']}/move-in",
                      json={"moved_in_on": "2020-10-15"})
    await _until_known(gw, "POST", "/welfare/temporary-assistance", {
        "household_id": ranger, "amount": "2000.00", "cause": "illness", "decided_on": "2020-04-10"})
    return {"county": county}


async def _fund(gw: Gateway, counties: set[str], amount: Decimal) -> None:
    """Money in the four welfare programme accounts of each county, so finance pays the benefits (§5 v2)."""
    for county in sorted(counties):
        for program in PROGRAMS:
            fund = await gw.call("POST", "/finance/funds", ok=(201,), json={
                "jurisdiction_code": county, "year": 2020, "source": "central", "purpose": program,
                "amount": f"{amount:.2f}"})
            await gw.call("POST", "/finance/allocations", ok=(201, 202), json={
                "from_fund_id": fund.json()["fund_id"], "program": program, "amount": f"{amount:.2f}"})


async def load(gateway_url: str) -> None:
    started = time.monotonic()
    rng = random.Random()
    async with httpx.AsyncClient(base_url=gateway_url, timeout=120) as http:
        gw = Gateway(http, await _token(http))
        items = await _coverage(gw)
        opened = await _cases_from_coverage(gw, items)
        village = items[0]["village_code"] if items else "610723101001"
        own = await _own_households(gw, village, rng)
        counties = {i["village_code"][:6] for i in items[:CASES_FROM_COVERAGE]} | {own["county"]}
        await _fund(gw, counties, Decimal("2000000.00"))
        for month in [f"2020-{m:02d}" for m in range(1, 13)]:
            await gw.call("POST", "/welfare/runs", ok=(201,), json={"month": month})
    log.info("welfare demo loaded: %d cases from the coverage list and our own households in %.1f s", opened,
             time.monotonic() - started)


if __name__ == "__main__":
    import sys

    asyncio.run(load(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
