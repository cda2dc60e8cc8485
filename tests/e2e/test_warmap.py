"""The war map's figures through the gateway (contract §9): they agree with the registry's own report for a fresh
county, the children's tiles, gov-portal and auditor read them, officials see only their subtree (dashboard and the
village household list), and a state-changing cookie call needs X-Requested-With."""

import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from conftest import Divisions, eventually, member, register, resident_id

CST = ZoneInfo("Asia/Shanghai")


def any_birth_date() -> dt.date:
    """A random adult's birth date: a fixed one with 1,000 serials collides with earlier runs on the same stack."""
    return dt.date(1950, 1, 1) + dt.timedelta(days=random.randint(0, 365 * 50))


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
    waiting = await register(http, gov, divisions.village, [member(resident_id("610723", any_birth_date()))],
                             verify=False)
    town = await http.post(f"/registry/households/{waiting}/verifications", headers=gov,
                           json={"level": "town", "approved": True, "officer": "town", "note": "e2e"})
    assert town.status_code == 201 and town.json()["status"] == "town_verified", town.text
    refused = await register(http, gov, divisions.village, [member(resident_id("610723", any_birth_date()))],
                             verify=False)
    town = await http.post(f"/registry/households/{refused}/verifications", headers=gov,
                           json={"level": "town", "approved": False, "officer": "town", "note": "e2e"})
    assert town.status_code == 201 and town.json()["status"] == "rejected", town.text
    registry = (await http.get(f"/registry/divisions/{divisions.county}", headers=gov)).json()["stats"]
    assert registry["poor_persons"] == 5 and registry["households"] == 4  # rejected households do not count

    async def figures() -> dict[str, Any]:
        return (await http.get(f"/dashboard/divisions/{divisions.county}", headers=gov)).json()

    body = await eventually(figures, lambda b: b.get("poor_persons") == registry["poor_persons"]
                            and b["households"]["rejected"] == 1 and b["households"]["town_verified"] == 1,
                            timeout=60)
    assert body["poor_persons"] == registry["poor_persons"]
    assert body["incidence"] == registry["poverty_incidence"] == "0.0050"
    assert body["households"] == {"identified": 1, "town_verified": 1, "registered": 2, "exited": 0, "returned": 0,
                                  "removed": 0, "rejected": 1}
    assert sum(n for s, n in body["households"].items() if s not in ("rejected", "removed")) == registry["households"]
    assert body["color"] == "green"
    assert body["as_of"] is not None
    town = body["children"][0]
    assert town["code"] == divisions.town and town["registered_households"] == 2
    auditor = await http.get(f"/dashboard/divisions/{divisions.county}", headers=await auth("auditor"))
    assert auditor.status_code == 200
    bank = await http.get(f"/dashboard/divisions/{divisions.county}", headers=await auth("bank-demo"))
    assert bank.status_code == 403


async def finance_figures(http: httpx.AsyncClient, gov: dict[str, str], county: str, program: str) -> dict[str, str]:
    """Finance's own answers for a county's programme: allocations, money paid (the disclosure) and pending_funds."""
    accounts = (await http.get("/finance/accounts", headers=gov, params={
        "jurisdiction_code": county, "program": program})).json()
    allocations = (await http.get("/finance/allocations", headers=gov, params={
        "status": "allocated", "jurisdiction_code": county})).json()
    # the disclosure's year is the one paid in, on the services' clock (China Standard Time)
    disclosure = (await http.get(f"/finance/disclosures/{county}", params={"year": dt.datetime.now(CST).year})).json()
    paid = [p["amount"] for p in disclosure["programs"] if p["program"] == program]
    allocated = sum((Decimal(a["amount"]) for a in allocations if a["program"] == program), Decimal("0.00"))
    return {"allocated": f"{allocated:.2f}", "paid": paid[0] if paid else "0.00",
            "pending": accounts[0]["pending_funds"]}


async def dashboard_figures(http: httpx.AsyncClient, gov: dict[str, str], county: str,
                            program: str) -> dict[str, str]:
    body = (await http.get(f"/dashboard/divisions/{county}", headers=gov)).json()
    return dict(body.get("funds", {}).get(program, {}))


async def test_fund_figures_agree_with_finance(http: httpx.AsyncClient, divisions: Divisions,
                                              auth: Callable[[str], Awaitable[dict[str, str]]]) -> None:
    """A settlement waits for funds, then an allocation pays it: at each step the dashboard's allocated, paid and
    pending for the county agree with finance's own allocations, accounts (pending_funds) and disclosure."""
    gov, his = await auth("gov-portal"), await auth("his-demo")
    patient = resident_id(divisions.county, any_birth_date())
    await register(http, gov, divisions.village, [member(patient)])
    hospital = f"H{uuid.uuid4().hex[:8]}"
    put = await http.put(f"/medical/hospitals/{hospital}", headers=gov,
                         json={"name": "测试县医院", "level": "county", "county_code": divisions.county})
    assert put.status_code in (200, 201), put.text
    await eventually(lambda: http.post("/medical/eligibility-checks", headers=his, json={"id_number": patient}),
                     lambda r: r.status_code == 200 and r.json()["poor_population"])
    settled = await http.post("/medical/settlements", headers=his, json={
        "encounter_id": f"E-{uuid.uuid4().hex}", "id_number": patient, "hospital_code": hospital,
        "total_cost": "52000.00", "eligible_cost": "50000.00", "diagnoses": ["C34.9"], "discharged_on": "2020-03-01"})
    assert settled.status_code == 201, settled.text
    owed = settled.json()["breakdown"]["medical_assistance"]

    async def finance() -> dict[str, str]:
        return await finance_figures(http, gov, divisions.county, "medical_assistance")

    async def dashboard() -> dict[str, str]:
        return await dashboard_figures(http, gov, divisions.county, "medical_assistance")

    waiting = await eventually(finance, lambda f: f["pending"] == owed)
    assert waiting == {"allocated": "0.00", "paid": "0.00", "pending": owed}
    assert await eventually(dashboard, lambda d: d == waiting, timeout=60) == waiting

    fund = await http.post("/finance/funds", headers=gov, json={
        "jurisdiction_code": divisions.county, "year": 2020, "source": "central", "purpose": "medical",
        "amount": "10000.00"})
    assert fund.status_code == 201, fund.text
    allocation = await http.post("/finance/allocations", headers=gov, json={
        "from_fund_id": fund.json()["fund_id"], "program": "medical_assistance", "amount": "10000.00"})
    assert allocation.status_code == 201 and allocation.json()["status"] == "allocated", allocation.text
    paid = await eventually(finance, lambda f: f["paid"] == owed)
    assert paid == {"allocated": "10000.00", "paid": owed, "pending": "0.00"}
    assert await eventually(dashboard, lambda d: d == paid, timeout=60) == paid


async def test_welfare_fund_figures_agree_with_finance(http: httpx.AsyncClient, divisions: Divisions,
                                                      auth: Callable[[str], Awaitable[dict[str, str]]]) -> None:
    """Welfare's temporary assistance (contract v2 §5): two benefits wait for funds, an allocation pays the older,
    the household's removal cancels the other (finance reverses it): at each step the dashboard's allocated, paid
    and pending for the county agree with finance's own answers."""
    gov = await auth("gov-portal")
    household_id = await register(http, gov, divisions.village, [
        member(resident_id(divisions.county, any_birth_date())),
        member(resident_id(divisions.county, any_birth_date()), "spouse")])
    program = "temporary_assistance"
    first = await eventually(lambda: http.post("/welfare/temporary-assistance", headers=gov, json={
        "household_id": household_id, "amount": "1200.00", "cause": "illness", "decided_on": "2020-07-01"}),
        lambda r: r.status_code != 422, timeout=60)
    assert first.status_code == 201, first.text
    second = await http.post("/welfare/temporary-assistance", headers=gov, json={
        "household_id": household_id, "amount": "300.00", "cause": "disaster", "decided_on": "2020-08-01"})
    assert second.status_code == 201, second.text

    async def finance() -> dict[str, str]:
        return await finance_figures(http, gov, divisions.county, program)

    async def dashboard() -> dict[str, str]:
        return await dashboard_figures(http, gov, divisions.county, program)

    waiting = await eventually(finance, lambda f: f["pending"] == "1500.00", timeout=60)
    assert waiting == {"allocated": "0.00", "paid": "0.00", "pending": "1500.00"}
    assert await eventually(dashboard, lambda d: d == waiting, timeout=60) == waiting

    fund = await http.post("/finance/funds", headers=gov, json={
        "jurisdiction_code": divisions.county, "year": 2020, "source": "central", "purpose": program,
        "amount": "1200.00"})
    assert fund.status_code == 201, fund.text
    allocation = await http.post("/finance/allocations", headers=gov, json={
        "from_fund_id": fund.json()["fund_id"], "program": program, "amount": "1200.00"})
    assert allocation.status_code == 201 and allocation.json()["status"] == "allocated", allocation.text
    paid = await eventually(finance, lambda f: f["paid"] == "1200.00", timeout=60)
    assert paid == {"allocated": "1200.00", "paid": "1200.00", "pending": "300.00"}
    assert await eventually(dashboard, lambda d: d == paid, timeout=60) == paid

    removal = await http.post(f"/registry/households/{household_id}/removal", headers=gov, json={"reason": "识别不准"})
    assert removal.status_code == 200, removal.text
    cancelled = await eventually(finance, lambda f: f["pending"] == "0.00", timeout=60)
    assert cancelled == {"allocated": "1200.00", "paid": "1200.00", "pending": "0.00"}
    assert await eventually(dashboard, lambda d: d == cancelled, timeout=60) == cancelled


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
