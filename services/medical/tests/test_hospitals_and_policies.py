"""Hospital master data and the per-year settlement policy (medical:write)."""

import asyncpg
import httpx
from conftest import token
from medical_support import GOV, HIS, READ, hospital

DEFAULT_POLICY = {
    "levels": {"township": {"deductible": "100.00", "rate": "0.9"}, "county": {"deductible": "300.00", "rate": "0.85"},
               "city": {"deductible": "800.00", "rate": "0.75"}, "province": {"deductible": "1500.00", "rate": "0.65"}},
    "basic_annual_cap": "300000.00", "critical_illness_threshold": "3000.00", "critical_illness_rate": "0.8",
    "critical_illness_annual_cap": "300000.00", "assistance_rate": "0.7", "assistance_annual_cap": "50000.00",
    "self_pay_cap_rate": "0.1", "max_admission_total": "2000000.00"}  # the last one: issue 12's abuse guard


async def test_put_hospital_creates_then_updates(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    body = {"name": "城固县医院", "level": "county", "county_code": "610722"}
    created = await client.put("/medical/hospitals/H-610722-01", headers=GOV, json=body)
    assert created.status_code in (200, 201)
    updated = await client.put("/medical/hospitals/H-610722-01", headers=GOV, json={**body, "level": "city"})
    assert updated.status_code == 200
    assert updated.json() == {"code": "H-610722-01", "name": "城固县医院", "level": "city", "county_code": "610722"}
    assert await db.fetchval("SELECT level FROM hospitals WHERE code = 'H-610722-01'") == "city"
    read = await client.get("/medical/hospitals/H-610722-01", headers=READ)
    assert read.status_code == 200 and read.json()["level"] == "city"
    code = await hospital(client, "township")
    assert (await client.get(f"/medical/hospitals/{code}", headers=READ)).json()["level"] == "township"


async def test_hospital_validation_and_scopes(client: httpx.AsyncClient) -> None:
    bad = await client.put("/medical/hospitals/H1", headers=GOV,
                           json={"name": "x", "level": "clinic", "county_code": "61072"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert {e["field"] for e in bad.json()["errors"]} == {"level", "county_code"}
    nul = await client.put("/medical/hospitals/H1", headers=GOV,  # fuzzing: a NUL reached PostgreSQL (was a 500)
                           json={"name": "x\x00y", "level": "county", "county_code": "610723"})
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "name"
    body = {"name": "x", "level": "county", "county_code": "610723"}
    assert (await client.put("/medical/hospitals/H1", json=body)).status_code == 401
    forbidden = await client.put("/medical/hospitals/H1", headers=HIS, json=body)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    missing = await client.get("/medical/hospitals/NOPE", headers=READ)
    assert missing.status_code == 404 and missing.json()["code"] == "hospital_not_found"


async def test_a_year_without_a_policy_uses_the_contract_defaults(client: httpx.AsyncClient) -> None:
    answer = await client.get("/medical/policies/2019", headers=READ)
    assert answer.status_code == 200
    assert answer.json() == {**DEFAULT_POLICY, "year": 2019, "source": "default", "is_default": True}


async def test_put_policy_sets_the_year(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    body = {**DEFAULT_POLICY, "assistance_rate": "0.75", "assistance_annual_cap": 60000,
            "levels": {**DEFAULT_POLICY["levels"], "county": {"deductible": "250.00", "rate": "0.88"}}}
    created = await client.put("/medical/policies/2031", headers=GOV, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["assistance_annual_cap"] == "60000.00"
    again = await client.put("/medical/policies/2031", headers=GOV, json=body)
    assert again.status_code == 200
    read = await client.get("/medical/policies/2031", headers=READ)
    assert read.json() == {**body, "assistance_annual_cap": "60000.00", "year": 2031, "source": "set",
                           "is_default": False}
    row = await db.fetchrow("SELECT county_deductible, county_rate, updated_by FROM policies WHERE year = 2031")
    assert (str(row["county_deductible"]), str(row["county_rate"]), row["updated_by"]) == (
        "250.00", "0.8800", "gov-portal")
    assert (await client.get("/medical/policies/2030", headers=READ)).json()["source"] == "default"


async def test_policy_validation_and_scopes(client: httpx.AsyncClient) -> None:
    bad = await client.put("/medical/policies/2032", headers=GOV,
                           json={**DEFAULT_POLICY, "assistance_rate": "1.5", "basic_annual_cap": "-1"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert {e["field"] for e in bad.json()["errors"]} == {"assistance_rate", "basic_annual_cap"}
    missing_level = {**DEFAULT_POLICY, "levels": {"county": DEFAULT_POLICY["levels"]["county"]}}
    bad_levels = await client.put("/medical/policies/2032", headers=GOV, json=missing_level)
    assert bad_levels.status_code == 422
    assert "levels.township" in {e["field"] for e in bad_levels.json()["errors"]}
    forbidden = await client.put("/medical/policies/2032", headers=token("medical:read"), json=DEFAULT_POLICY)
    assert forbidden.status_code == 403
    assert (await client.get("/medical/policies/2032")).status_code == 401
