"""Demo data for `make up`, loaded once after the registry's demo city (610700): paired units and village work teams
for the poor villages, helpers for most still-poor households, household plans with measures in progress, and this
year's targets and assessment per county — so the war map shows coverage, with a few gaps left on purpose.

Everything goes through the gateway with the gov-portal dev client; households and villages come from assistance's
own coverage answer (its read models of the registry's events), so running it again only fills what is missing."""

import asyncio
import datetime as dt
import logging
import math
import random
import time
from collections.abc import Awaitable, Iterable
from decimal import Decimal
from typing import Any

import httpx

from fupin_kit import clock
from fupin_kit.gateway_client import GatewayClient as Gateway
from fupin_kit.gateway_client import bounded, fetch_token

log = logging.getLogger("assistance.demo")
CITY = "610700"
DEV_CLIENT_ID = "gov-portal"
DEV_CLIENT_SECRET = "gov-portal-dev-secret"  # refused by the gateway outside the dev profile
UNITS = (("陕西省交通运输厅", "provincial"), ("汉中市财政局", "municipal"), ("汉中市农业农村局", "municipal"),
         ("县人力资源和社会保障局", "county"), ("陕西电力汉中供电公司", "enterprise"),
         ("汉中市慈善总会", "social_organization"))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
LINE_OF_CAUSE = {"illness": "social_security", "disability": "social_security", "education": "education",
                 "disaster": "relocation", "lack_land": "ecological", "lack_water": "relocation",
                 "lack_skills": "industry_employment", "lack_labor": "social_security",
                 "lack_funds": "industry_employment", "transport": "relocation",
                 "self_motivation": "industry_employment", "other": "industry_employment"}
DESCRIPTION = {"industry_employment": "发展茶叶、食用菌产业并参加技能培训", "relocation": "易地扶贫搬迁安置",
               "ecological": "聘为生态护林员", "education": "落实教育资助", "social_security": "纳入医疗救助和兜底保障"}


async def _token(http: httpx.AsyncClient) -> str:
    return await fetch_token(http, client_id=DEV_CLIENT_ID, client_secret=DEV_CLIENT_SECRET)


async def _bounded(calls: Iterable[Awaitable[Any]], limit: int = 12) -> list[Any]:
    return await bounded(calls, limit)


async def _settled_coverage(gw: Gateway, timeout: float = 300.0) -> dict[str, Any]:
    """The city's coverage once the registry's events have arrived (four equal readings three seconds apart)."""
    deadline = time.monotonic() + timeout
    readings: list[tuple[int, int]] = []
    while True:
        answer = await gw.call("GET", "/assistance/coverage", params={"division_code": CITY}, ok=(200, 404))
        if answer.status_code == 200:
            body = dict(answer.json())
            readings = [*readings[-3:], (body["still_poor_households"], body["poor_villages"])]
            if len(readings) == 4 and len(set(readings)) == 1 and readings[0][0] > 0:
                return body
        if time.monotonic() > deadline:
            if answer.status_code == 200:
                return dict(answer.json())
            raise RuntimeError("assistance never heard of the demo city's divisions")
        await asyncio.sleep(3)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice("建国志强秀英丽华军伟芳明")


async def _units_and_teams(gw: Gateway, coverage: dict[str, Any], rng: random.Random, year: int) -> None:
    units = [(await gw.call("POST", "/assistance/units", json={"name": n, "kind": k})).json()["unit_id"]
             for n, k in UNITS]
    villages = list(coverage["villages_without_unit"])
    # leave the last two villages without a unit (and one more without a team): gaps on the map
    await _bounded(gw.call("POST", f"/assistance/units/{units[i % len(units)]}/villages", ok=(201, 409),
                           json={"village_code": v, "starts_on": f"{year - 4}-03-01"})
                   for i, v in enumerate(villages[:-2]))
    teamless = list(coverage["villages_without_team"])[:-3]
    teams = await _bounded(gw.call("POST", "/assistance/teams", ok=(201, 409), json={
        "village_code": v, "unit_id": units[i % len(units)], "formed_on": f"{year - 4}-03-15"})
        for i, v in enumerate(teamless))
    team_ids = [t.json()["team_id"] for t in teams if t.status_code == 201]
    members = []
    for i, team_id in enumerate(team_ids):
        roster = [("first_secretary", "cadre"), ("captain", "cadre"),
                  ("member", "agri_technician" if i % 5 else "other")]
        if i % 7 == 3:
            roster = roster[1:]  # a team still waiting for its first secretary
        for role, background in roster:
            joined = dt.date(year - 1, 1, 1) + dt.timedelta(days=rng.randint(0, 200))
            members.append((team_id, role, background, joined))
    added = await _bounded(gw.call("POST", f"/assistance/teams/{t}/members", json={
        "name": _name(rng), "role": role, "background": background, "joined_on": joined.isoformat()})
        for t, role, background, joined in members)
    await _bounded(gw.call("PUT", f"/assistance/teams/{t}/members/{a.json()['team_member_id']}/attendance/{year - 1}",
                           json={"days_present": min(rng.randint(120, 230),
                                                     (dt.date(year, 1, 1) - joined).days)})
                   for (t, _, _, joined), a in zip(members, added, strict=True))


async def _helpers_and_plans(gw: Gateway, coverage: dict[str, Any], rng: random.Random, year: int) -> int:
    households = [h["household_id"] for h in coverage["households_without_helper"]]
    to_pair = households[:math.floor(len(households) * 0.92)]  # about 8% left without a helper
    helpers = await _bounded(gw.call("POST", "/assistance/helpers", json={
        "name": _name(rng), "unit_id": None, "phone": f"139{rng.randint(0, 99999999):08d}"})
        for _ in range(math.ceil(len(to_pair) / 4)))
    helper_ids = [h.json()["helper_id"] for h in helpers]
    await _bounded(gw.call("POST", "/assistance/pairings", ok=(201, 409, 422), json={
        "helper_id": helper_ids[i // 4], "household_id": h, "starts_on": f"{year - 1}-0{1 + i % 9}-01"})
        for i, h in enumerate(to_pair))
    plans = await _bounded(gw.call("GET", f"/assistance/households/{h}/plan", ok=(200, 404))
                           for h in to_pair[:300])
    measures = []
    for plan in (p.json() for p in plans if p.status_code == 200):
        for cause in plan["causes"][:2]:
            line = LINE_OF_CAUSE.get(cause, "industry_employment")
            measures.append((plan["household_id"], line, cause))
    created = await _bounded(gw.call("POST", f"/assistance/households/{h}/measures", ok=(201, 422), json={
        "line": line, "cause": cause, "description": DESCRIPTION[line], "planned_year": year, "reference": None})
        for h, line, cause in measures)
    ids = [c.json()["measure_id"] for c in created if c.status_code == 201]
    await _bounded(gw.call("POST", f"/assistance/measures/{m}/progress", json={
        "status": "in_progress" if i % 3 else "done", "on": f"{year}-0{1 + i % 9}-15"})
        for i, m in enumerate(ids) if i % 4)
    return len(to_pair)


async def _targets_and_assessments(gw: Gateway, coverage: dict[str, Any], year: int) -> None:
    """This year's responsibility letters and a running (not final) assessment for each county of the city: a first
    assessment against zero targets shows the county's figures, the letter is then set around them (met, just met,
    missed by a tenth) so the war map shows every verdict."""
    counties = sorted({h["village_code"][:6] for h in coverage["households_without_helper"]}
                      | {v[:6] for v in coverage["villages_without_unit"]})
    for i, county in enumerate(counties):
        path = f"/assistance/targets/{county}/years/{year}"
        zero = await gw.call("PUT", path, ok=(200, 201, 422), json={
            "households_to_exit": 0, "villages_to_exit": 0, "funds_to_spend": "0.00"})
        if zero.status_code == 422:  # not a county the registry published
            continue
        actuals = (await gw.call("POST", "/assistance/assessments", json={"county_code": county, "year": year})
                   ).json()["actuals"]
        exits = int(actuals["households_exited"])
        step = max(1, exits // 10)
        households = max(0, exits + (-step, 0, step)[i % 3])
        funds = Decimal(actuals["funds_spent"]) * (Decimal("1.25") if i % 2 else 1)
        await gw.call("PUT", path, json={"households_to_exit": households,
                                         "villages_to_exit": int(actuals["villages_exited"]),
                                         "funds_to_spend": f"{funds.quantize(Decimal('0.01'))}"})
        await gw.call("POST", "/assistance/assessments", json={"county_code": county, "year": year})


async def load(gateway_url: str) -> None:
    """Load the assistance demo through the gateway (after the registry's demo city)."""
    started = time.monotonic()
    rng = random.Random(15)
    year = clock.today().year
    async with httpx.AsyncClient(base_url=gateway_url, timeout=120) as http:
        gw = Gateway(http, await _token(http))
        coverage = await _settled_coverage(gw)
        await _units_and_teams(gw, coverage, rng, year)
        paired = await _helpers_and_plans(gw, coverage, rng, year)
        await _targets_and_assessments(gw, coverage, year)
        final = (await gw.call("GET", "/assistance/coverage", params={"division_code": CITY})).json()
    log.info("assistance demo loaded in %.1f s: %d pairings, helper coverage %s, %d poor villages",
             time.monotonic() - started, paired, final["helper_coverage"], final["poor_villages"])


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO)
    asyncio.run(load(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
