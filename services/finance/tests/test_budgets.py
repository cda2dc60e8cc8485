"""Jurisdiction budgets per year and the §5 compliance report (2% floor, 10% growth, per-year policy values)."""

import httpx
from conftest import READER, WRITER, new_county, token


async def put_year(http: httpx.AsyncClient, code: str, year: int, revenue: str, special: str) -> httpx.Response:
    return await http.put(f"/finance/jurisdictions/{code}/years/{year}", headers=token(WRITER),
                          json={"general_budget_revenue": revenue, "special_fund_budget": special})


async def test_put_creates_then_updates(client: httpx.AsyncClient) -> None:
    code = new_county()
    created = await put_year(client, code, 2019, "1000000.00", "20000.00")
    assert created.status_code == 201, created.text
    assert created.json()["special_fund_budget"] == "20000.00" and created.json()["recorded_by"] == "gov-portal"
    updated = await put_year(client, code, 2019, "1000000.00", "21000.00")
    assert updated.status_code == 200
    read = await client.get(f"/finance/jurisdictions/{code}/years/2019", headers=token(READER))
    assert read.json()["special_fund_budget"] == "21000.00"


async def test_compliance_without_previous_year(client: httpx.AsyncClient) -> None:
    code = new_county()
    await put_year(client, code, 2020, "1000000.00", "20000.00")
    report = await client.get(f"/finance/jurisdictions/{code}/years/2020/compliance", headers=token(READER))
    assert report.status_code == 200, report.text
    assert report.json() == {
        "jurisdiction_code": code, "year": 2020, "general_budget_revenue": "1000000.00", "floor_ratio": "0.02",
        "floor_amount": "20000.00", "special_fund_budget": "20000.00", "meets_floor": True,
        "previous_special_fund_budget": None, "growth_rate": None, "min_growth_rate": "0.10", "meets_growth": None}


async def test_compliance_with_growth_exactly_ten_percent_and_below_floor(client: httpx.AsyncClient) -> None:
    code = new_county()
    await put_year(client, code, 2019, "1000000.00", "20000.00")
    await put_year(client, code, 2020, "2000000.00", "22000.00")
    report = (await client.get(f"/finance/jurisdictions/{code}/years/2020/compliance", headers=token(READER))).json()
    assert report["floor_amount"] == "40000.00" and report["meets_floor"] is False
    assert report["previous_special_fund_budget"] == "20000.00"
    assert report["growth_rate"] == "0.1000" and report["meets_growth"] is True


async def test_policy_per_year_changes_the_report(client: httpx.AsyncClient) -> None:
    code = new_county()
    await put_year(client, code, 2030, "1000000.00", "21000.00")
    default = await client.get("/finance/policies/2030", headers=token(READER))
    assert default.json() == {"year": 2030, "floor_ratio": "0.02", "min_growth_rate": "0.10",
                              "allocation_approval_threshold": None, "pending_threshold_change": None,
                              # pending_threshold_change: issue 12's threshold maker-checker; is_default: issue 13
                              "default": True, "is_default": True}
    policy = await client.put("/finance/policies/2030", headers=token(WRITER),
                              json={"floor_ratio": "0.025", "min_growth_rate": "0.15"})
    assert policy.status_code == 200, policy.text
    report = (await client.get(f"/finance/jurisdictions/{code}/years/2030/compliance", headers=token(READER))).json()
    assert report["floor_ratio"] == "0.025" and report["floor_amount"] == "25000.00" and report["meets_floor"] is False
    assert report["min_growth_rate"] == "0.15"


async def test_unknown_year_is_not_found(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"/finance/jurisdictions/{new_county()}/years/2020/compliance", headers=token(READER))
    assert answer.status_code == 404 and answer.json()["code"] == "jurisdiction_year_not_found"


async def test_invalid_jurisdiction_and_amounts_name_the_field(client: httpx.AsyncClient) -> None:
    bad_code = await put_year(client, "61072", 2020, "1.00", "1.00")
    assert bad_code.status_code == 422 and bad_code.json()["code"] == "validation_error"
    assert bad_code.json()["errors"][0]["field"] == "code"
    bad_amount = await put_year(client, new_county(), 2020, "1.001", "1.00")
    assert bad_amount.status_code == 422
    assert bad_amount.json()["errors"][0]["field"] == "general_budget_revenue"
    assert bad_amount.headers["content-type"].startswith("application/problem+json")


async def test_scopes_are_checked(client: httpx.AsyncClient) -> None:
    code = new_county()
    anonymous = await client.put(f"/finance/jurisdictions/{code}/years/2020",
                                 json={"general_budget_revenue": "1.00", "special_fund_budget": "1.00"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
    reader = await client.put(f"/finance/jurisdictions/{code}/years/2020", headers=token(READER),
                              json={"general_budget_revenue": "1.00", "special_fund_budget": "1.00"})
    assert reader.status_code == 403 and reader.json()["code"] == "forbidden"
    other = await client.get(f"/finance/jurisdictions/{code}/years/2020/compliance", headers=token("registry:read"))
    assert other.status_code == 403
