"""Finance (contract §5) through the gateway: budgets and the compliance report, funds, integration with lineage,
allocations that never overdraw under concurrency, programme accounts, the ledger check, and who may call what."""

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

Auth = Callable[[str], Awaitable[dict[str, str]]]


def new_county() -> str:
    """A county code no other test uses: 9xxxxx never comes from the `divisions` fixture, never ends in 00."""
    return f"9{random.randint(0, 9999):04d}{random.randint(1, 9)}"


async def send(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call; a 429 (other suites share the demo clients' rate limit) never reached the service, so retry it."""
    for _ in range(30):
        answer = await http.request(method, path, **kwargs)
        if answer.status_code != 429:
            return answer
        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
    return answer


async def put_year(http: httpx.AsyncClient, headers: dict[str, str], code: str, year: int, revenue: str,
                   special: str) -> httpx.Response:
    return await send(http, "PUT", f"/finance/jurisdictions/{code}/years/{year}", headers=headers,
                      json={"general_budget_revenue": revenue, "special_fund_budget": special})


async def compliance(http: httpx.AsyncClient, headers: dict[str, str], code: str, year: int) -> dict[str, Any]:
    answer = await send(http, "GET", f"/finance/jurisdictions/{code}/years/{year}/compliance", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def receive(http: httpx.AsyncClient, headers: dict[str, str], code: str, amount: str | float,
                  source: str = "central", purpose: str = "industry") -> dict[str, Any]:
    answer = await send(http, "POST", "/finance/funds", headers=headers, json={
        "jurisdiction_code": code, "year": 2020, "source": source, "purpose": purpose, "amount": amount})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def allocate(http: httpx.AsyncClient, headers: dict[str, str], fund_id: str, program: str,
                   amount: str, **extra: Any) -> httpx.Response:
    return await send(http, "POST", "/finance/allocations", headers=headers,
                      json={"from_fund_id": fund_id, "program": program, "amount": amount}, **extra)


async def fund_balance(http: httpx.AsyncClient, headers: dict[str, str], fund_id: str) -> str:
    answer = await send(http, "GET", f"/finance/funds/{fund_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["balance"])


async def accounts(http: httpx.AsyncClient, headers: dict[str, str], code: str) -> dict[str, str]:
    answer = await send(http, "GET", "/finance/accounts", headers=headers, params={"jurisdiction_code": code})
    assert answer.status_code == 200, answer.text
    return {a["program"]: a["balance"] for a in answer.json()}


async def assert_ledger_balanced(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    answer = await send(http, "GET", "/finance/ledger/verify", headers=headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["balanced"] is True and report["negative_balances"] == 0, report
    assert report["total_debits"] == report["total_credits"]


def assert_fields(body: dict[str, Any], expected: dict[str, Any]) -> None:
    """The contract lists fields a response carries; it may carry more."""
    assert {name: body.get(name) for name in expected} == expected, body


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body = answer.json()
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"], body
    return body


# ---- budgets and the compliance report ----------------------------------------------------------------------------

async def test_compliance_without_previous_year_has_null_growth(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    code = new_county()
    created = await put_year(http, gov, code, 2019, "1000000.00", "20000.00")
    assert created.status_code == 201, created.text
    assert created.json()["special_fund_budget"] == "20000.00" and created.json()["recorded_by"] == "gov-portal"
    report = await compliance(http, auditor, code, 2019)
    assert_fields(report, {"general_budget_revenue": "1000000.00", "floor_ratio": "0.02",
                           "floor_amount": "20000.00", "special_fund_budget": "20000.00", "meets_floor": True,
                           "previous_special_fund_budget": None, "growth_rate": None, "min_growth_rate": "0.10",
                           "meets_growth": None, "jurisdiction_code": code})


async def test_compliance_floor_and_growth_follow_the_budgets(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    code = new_county()
    assert (await put_year(http, gov, code, 2019, "1000000.00", "20000.00")).status_code == 201
    # 2020: revenue doubled, the special fund grew exactly 10%: growth met, 2% floor (40,000.00) missed
    assert (await put_year(http, gov, code, 2020, "2000000.00", "22000.00")).status_code == 201
    report = await compliance(http, gov, code, 2020)
    assert report["floor_amount"] == "40000.00" and report["meets_floor"] is False
    assert report["previous_special_fund_budget"] == "20000.00"
    assert report["growth_rate"] == "0.1000" and report["meets_growth"] is True
    # replacing the year (200, not 201) changes the report: one fen under 10% growth misses, 2% of 1,099,999.50 met
    replaced = await put_year(http, gov, code, 2020, "1099999.50", "21999.99")
    assert replaced.status_code == 200, replaced.text
    report = await compliance(http, gov, code, 2020)
    assert report["floor_amount"] == "21999.99" and report["meets_floor"] is True
    assert report["meets_growth"] is False
    read = await send(http, "GET", f"/finance/jurisdictions/{code}/years/2020", headers=gov)
    assert read.status_code == 200 and read.json()["special_fund_budget"] == "21999.99"


async def test_compliance_figures_never_contradict_the_verdicts(http: httpx.AsyncClient, auth: Auth) -> None:
    """A reader comparing the printed figures reaches the same verdict as the report: the floor amount is the least
    budget (in fen) that meets 2%, and the growth rate never overstates the growth."""
    gov = await auth("gov-portal")
    code = new_county()
    await put_year(http, gov, code, 2019, "1000000.00", "20000.00")
    # 2% of 100.21 is 2.0042: a budget of 2.00 misses it, so the floor printed must be 2.01, not 2.00
    await put_year(http, gov, code, 2020, "100.21", "2.00")
    report = await compliance(http, gov, code, 2020)
    assert report["meets_floor"] is False and report["floor_amount"] == "2.01", report
    # growth of 9.99995% misses 10%, so the rate printed must be below 0.10
    await put_year(http, gov, code, 2020, "1000000.00", "21999.99")
    report = await compliance(http, gov, code, 2020)
    assert report["meets_growth"] is False and report["growth_rate"] == "0.0999", report


async def test_per_year_policy_values_change_that_year_only(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    code, year = new_county(), random.randint(2040, 2069)  # 2070-2099: test_finance_approval.py
    await put_year(http, gov, code, year - 1, "1000000.00", "20000.00")
    await put_year(http, gov, code, year, "1000000.00", "23000.00")
    policy = await send(http, "PUT", f"/finance/policies/{year}", headers=gov,
                        json={"floor_ratio": "0.025", "min_growth_rate": "0.20"})
    assert policy.status_code == 200, policy.text
    assert_fields(policy.json(), {"floor_ratio": "0.025", "min_growth_rate": "0.20", "default": False})
    report = await compliance(http, gov, code, year)
    assert report["floor_ratio"] == "0.025" and report["floor_amount"] == "25000.00" and report["meets_floor"] is False
    assert report["min_growth_rate"] == "0.20" and report["growth_rate"] == "0.1500" and report["meets_growth"] is False
    before = (await send(http, "GET", f"/finance/policies/{year - 1}", headers=gov)).json()
    previous = await compliance(http, gov, code, year - 1)
    assert previous["floor_ratio"] == before["floor_ratio"] and previous["min_growth_rate"] == before["min_growth_rate"]


async def test_budget_errors(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    unknown = await send(http, "GET", f"/finance/jurisdictions/{new_county()}/years/2020/compliance", headers=gov)
    problem(unknown, 404, "jurisdiction_year_not_found")
    bad_code = problem(await put_year(http, gov, "61072", 2020, "1.00", "1.00"), 422, "validation_error")
    assert bad_code["errors"][0]["field"] == "code"
    bad_amount = problem(await put_year(http, gov, new_county(), 2020, "1.001", "1.00"), 422, "validation_error")
    assert bad_amount["errors"][0]["field"] == "general_budget_revenue"
    village = problem(await put_year(http, gov, "610723100200", 2020, "1.00", "1.00"), 422, "validation_error")
    assert village["errors"][0]["field"] == "code"


# ---- funds and integration ----------------------------------------------------------------------------------------

async def test_fund_received_with_balance_and_lineage(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    code = new_county()
    fund = await receive(http, gov, code, 1234.5, source="lottery", purpose="village_teams")  # a JSON number too
    assert fund["amount"] == "1234.50" and fund["balance"] == "1234.50" and fund["source"] == "lottery"
    assert fund["jurisdiction_code"] == code and fund["purpose"] == "village_teams"
    assert fund["lineage"] == [{"fund_id": fund["fund_id"], "amount": "1234.50"}]
    read = await send(http, "GET", f"/finance/funds/{fund['fund_id']}", headers=auditor)
    assert read.status_code == 200 and read.json()["balance"] == "1234.50"
    problem(await send(http, "GET", f"/finance/funds/{uuid.uuid4()}", headers=gov), 404, "fund_not_found")


@pytest.mark.parametrize(("field", "value"), [
    ("jurisdiction_code", "12345"), ("source", "bank"), ("amount", "0.00"), ("amount", "-5.00"), ("amount", "1.234"),
    ("year", 1999)])
async def test_fund_validation_names_the_field(http: httpx.AsyncClient, auth: Auth, field: str, value: Any) -> None:
    body = {"jurisdiction_code": new_county(), "year": 2020, "source": "central", "purpose": "p", "amount": "1.00",
            field: value}
    answer = await send(http, "POST", "/finance/funds", headers=await auth("gov-portal"), json=body)
    assert problem(answer, 422, "validation_error")["errors"][0]["field"] == field


async def test_fund_receipt_is_idempotent(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    code = new_county()
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
    body = {"jurisdiction_code": code, "year": 2020, "source": "county", "purpose": "industry", "amount": "300.00"}
    first = await send(http, "POST", "/finance/funds", headers=gov | key, json=body)
    again = await send(http, "POST", "/finance/funds", headers=gov | key, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json(), again.text
    conflict = await send(http, "POST", "/finance/funds", headers=gov | key, json=body | {"amount": "301.00"})
    problem(conflict, 409, "idempotency_conflict")


async def test_integration_keeps_lineage_to_the_yuan(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    county = new_county()
    city = county[:4] + "00"
    central = await receive(http, gov, county, "1000.00", source="central", purpose="education_grants")
    provincial = await receive(http, gov, city, "500.00", source="provincial", purpose="infrastructure")
    answer = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020,
        "items": [{"fund_id": central["fund_id"], "amount": "600.00"},
                  {"fund_id": provincial["fund_id"], "amount": "500.00"}]})
    assert answer.status_code == 201, answer.text
    integrated = answer.json()
    assert integrated["source"] == "integrated" and integrated["jurisdiction_code"] == county
    assert integrated["amount"] == integrated["balance"] == "1100.00"
    expected = [{"fund_id": central["fund_id"], "amount": "600.00"},
                {"fund_id": provincial["fund_id"], "amount": "500.00"}]
    assert integrated["components"] == expected and integrated["lineage"] == expected
    assert await fund_balance(http, gov, central["fund_id"]) == "400.00"
    assert await fund_balance(http, gov, provincial["fund_id"]) == "0.00"
    # an integrated fund can itself be integrated further: lineage still reaches the received funds
    again = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "items": [{"fund_id": integrated["fund_id"], "amount": "700.00"}]})
    assert again.status_code == 201, again.text
    assert again.json()["lineage"] == [{"fund_id": central["fund_id"], "amount": "600.00"},
                                       {"fund_id": provincial["fund_id"], "amount": "100.00"}]
    await assert_ledger_balanced(http, gov)


async def test_integration_beyond_a_source_moves_nothing(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    county = new_county()
    first = await receive(http, gov, county, "100.00")
    second = await receive(http, gov, county, "50.00")
    answer = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020,
        "items": [{"fund_id": first["fund_id"], "amount": "100.00"},
                  {"fund_id": second["fund_id"], "amount": "50.01"}]})
    body = problem(answer, 422, "insufficient_funds")
    assert second["fund_id"] in body["detail"]
    assert await fund_balance(http, gov, first["fund_id"]) == "100.00"
    assert await fund_balance(http, gov, second["fund_id"]) == "50.00"
    # a fund of another jurisdiction (not this county's city) cannot be integrated here
    foreign = await receive(http, gov, new_county(), "10.00")
    answer = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "items": [{"fund_id": foreign["fund_id"], "amount": "10.00"}]})
    assert problem(answer, 422, "validation_error")["errors"][0]["field"] == "items.0.fund_id"
    missing = await send(http, "POST", "/finance/integrations", headers=gov, json={
        "jurisdiction_code": county, "year": 2020, "items": [{"fund_id": str(uuid.uuid4()), "amount": "1.00"}]})
    problem(missing, 404, "fund_not_found")


# ---- allocations, accounts, the ledger ----------------------------------------------------------------------------

async def test_allocation_moves_money_into_the_programme_account(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    county = new_county()
    fund = await receive(http, gov, county, "1000.00")
    answer = await allocate(http, gov, fund["fund_id"], "infrastructure", "400.00")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["fund_balance"] == "600.00" and body["account_balance"] == "400.00"
    assert body["jurisdiction_code"] == county and body["program"] == "infrastructure"
    assert body["recorded_by"] == "gov-portal" and body["amount"] == "400.00"
    assert await fund_balance(http, auditor, fund["fund_id"]) == "600.00"
    balances = await accounts(http, auditor, county)
    assert balances == {"education_grants": "0.00", "medical_assistance": "0.00", "loan_interest_subsidy": "0.00",
                        "risk_compensation": "0.00", "village_teams": "0.00", "industry": "0.00",
                        "infrastructure": "400.00", "minimum_living": "0.00", "temporary_assistance": "0.00",
                        "eco_rangers": "0.00", "relocation": "0.00"}
    one = await send(http, "GET", "/finance/accounts", headers=auditor,
                     params={"jurisdiction_code": county, "program": "infrastructure"})
    assert one.status_code == 200 and [(a["program"], a["balance"]) for a in one.json()] == [
        ("infrastructure", "400.00")]
    assert one.json()[0]["jurisdiction_code"] == county
    # the audit trail names who moved the money
    trail = await send(http, "GET", "/finance/ledger/entries", headers=auditor,
                       params={"reference": body["allocation_id"]})
    assert trail.status_code == 200 and trail.json()[0]["recorded_by"] == "gov-portal", trail.text
    await assert_ledger_balanced(http, auditor)


async def test_allocation_beyond_the_fund_is_refused_and_moves_nothing(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    county = new_county()
    fund = await receive(http, gov, county, "100.00")
    body = problem(await allocate(http, gov, fund["fund_id"], "industry", "100.01"), 422, "insufficient_funds")
    assert body["balance"] == "100.00" and body["requested"] == "100.01"
    assert await fund_balance(http, gov, fund["fund_id"]) == "100.00"
    assert (await accounts(http, gov, county))["industry"] == "0.00"
    problem(await allocate(http, gov, str(uuid.uuid4()), "industry", "1.00"), 404, "fund_not_found")
    bad_program = problem(await allocate(http, gov, fund["fund_id"], "roads", "1.00"), 422, "validation_error")
    assert bad_program["errors"][0]["field"] == "program"
    bad_amount = problem(await allocate(http, gov, fund["fund_id"], "industry", "0.00"), 422, "validation_error")
    assert bad_amount["errors"][0]["field"] == "amount"
    # the whole fund can go, to the fen
    assert (await allocate(http, gov, fund["fund_id"], "industry", "100.00")).status_code == 201
    assert await fund_balance(http, gov, fund["fund_id"]) == "0.00"


async def test_allocation_retried_with_its_idempotency_key_moves_money_once(http: httpx.AsyncClient,
                                                                           auth: Auth) -> None:
    gov = await auth("gov-portal")
    county = new_county()
    fund = await receive(http, gov, county, "100.00")
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
    first = await allocate(http, gov | key, fund["fund_id"], "village_teams", "60.00")
    again = await allocate(http, gov | key, fund["fund_id"], "village_teams", "60.00")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["allocation_id"] == first.json()["allocation_id"]
    assert await fund_balance(http, gov, fund["fund_id"]) == "40.00"
    problem(await allocate(http, gov | key, fund["fund_id"], "village_teams", "10.00"), 409, "idempotency_conflict")


async def test_concurrent_allocations_never_overdraw_one_fund(http: httpx.AsyncClient, auth: Auth) -> None:
    """50 allocations at once through the gateway (under its 100-call burst) against a fund covering 33 of them."""
    gov = await auth("gov-portal")
    county = new_county()
    fund = await receive(http, gov, county, "1000.00")
    programs = ("education_grants", "medical_assistance")
    answers = await asyncio.gather(*(allocate(http, gov, fund["fund_id"], programs[i % 2], "30.00")
                                     for i in range(50)))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 33, 422: 17}, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"insufficient_funds"}
    assert {a.json()["balance"] for a in answers if a.status_code == 422} == {"10.00"}
    assert await fund_balance(http, gov, fund["fund_id"]) == "10.00"
    granted = Counter(programs[i % 2] for i, a in enumerate(answers) if a.status_code == 201)
    balances = await accounts(http, gov, county)
    for program in programs:
        assert balances[program] == f"{granted[program] * 30}.00", balances
    assert {a.json()["fund_balance"] for a in answers if a.status_code == 201} == {
        f"{1000 - 30 * n}.00" for n in range(1, 34)}
    await assert_ledger_balanced(http, gov)


async def test_accounts_listing_validates_its_filters(http: httpx.AsyncClient, auth: Auth) -> None:
    auditor = await auth("auditor")
    fresh = await accounts(http, auditor, new_county())
    assert len(fresh) == 11 and set(fresh.values()) == {"0.00"}
    bad_program = await send(http, "GET", "/finance/accounts", headers=auditor, params={"program": "roads"})
    assert problem(bad_program, 422, "validation_error")["errors"][0]["field"] == "program"
    bad_code = await send(http, "GET", "/finance/accounts", headers=auditor, params={"jurisdiction_code": "12"})
    assert problem(bad_code, 422, "validation_error")["errors"][0]["field"] == "jurisdiction_code"


async def test_payments_lookup_of_an_unknown_reference_is_empty(http: httpx.AsyncClient, auth: Auth) -> None:
    auditor = await auth("auditor")
    answer = await send(http, "GET", "/finance/payments", headers=auditor, params={"reference": str(uuid.uuid4())})
    assert answer.status_code == 200 and answer.json() == [], answer.text
    missing = await send(http, "GET", "/finance/payments", headers=auditor)
    assert problem(missing, 422, "validation_error")["errors"][0]["field"] == "reference"


# ---- who may call what --------------------------------------------------------------------------------------------

READS = ["/finance/accounts?jurisdiction_code=910001", "/finance/ledger/verify", "/finance/payments?reference=x",
         "/finance/jurisdictions/910001/years/2020", "/finance/policies/2020", f"/finance/funds/{uuid.uuid4()}"]


def writes(fund_id: str, code: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("PUT", f"/finance/jurisdictions/{code}/years/2020", {"general_budget_revenue": "1.00",
                                                              "special_fund_budget": "1.00"}),
        ("PUT", "/finance/policies/2099", {"floor_ratio": "0.5", "min_growth_rate": "0.5"}),
        ("POST", "/finance/funds", {"jurisdiction_code": code, "year": 2020, "source": "central", "purpose": "p",
                                    "amount": "1.00"}),
        ("POST", "/finance/integrations", {"jurisdiction_code": code, "year": 2020,
                                           "items": [{"fund_id": fund_id, "amount": "1.00"}]}),
        ("POST", "/finance/allocations", {"from_fund_id": fund_id, "program": "industry", "amount": "1.00"}),
    ]


async def test_auditor_reads_but_cannot_write(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    code = new_county()
    fund = await receive(http, gov, code, "10.00")
    for path in READS:
        answer = await send(http, "GET", path, headers=auditor)
        assert answer.status_code in (200, 404), (path, answer.text)
        assert answer.status_code == 200 or answer.json()["code"].endswith("_not_found"), (path, answer.text)
    for method, path, body in writes(fund["fund_id"], code):
        problem(await send(http, method, path, headers=auditor, json=body), 403, "forbidden")
    assert await fund_balance(http, gov, fund["fund_id"]) == "10.00"
    assert (await accounts(http, gov, code))["industry"] == "0.00"
    absent = await send(http, "GET", f"/finance/jurisdictions/{code}/years/2020", headers=gov)
    problem(absent, 404, "jurisdiction_year_not_found")


@pytest.mark.parametrize("client_id", ["bank-demo", "bank-other", "his-demo"])
async def test_banks_and_hospitals_get_403(http: httpx.AsyncClient, auth: Auth, client_id: str) -> None:
    headers = await auth(client_id)
    for path in READS:
        problem(await send(http, "GET", path, headers=headers), 403, "forbidden")
    for method, path, body in writes(str(uuid.uuid4()), new_county()):
        problem(await send(http, method, path, headers=headers, json=body), 403, "forbidden")


async def test_no_or_bad_token_is_401(http: httpx.AsyncClient) -> None:
    for path in READS:
        problem(await send(http, "GET", path), 401, "unauthorized")
        problem(await send(http, "GET", path, headers={"Authorization": "Bearer not-a-token"}), 401, "unauthorized")
    problem(await send(http, "POST", "/finance/funds", json={}), 401, "unauthorized")
