"""GET/PUT /microcredit/policies/{year}: defaults when unset, changes by microcredit:write, and their effect."""

import datetime as dt

import httpx
from conftest import token
from mc_support import BANK, GOV_READ, GOV_WRITE, Registry, member, resident_id

DEFAULTS = {"household_cap": "50000.00", "max_term_months": 36, "min_age": 18, "max_age": 65,
            "benchmark_rate": "4.35", "compensation_ratio": "0.70"}


async def test_unset_year_reads_the_contract_defaults(client: httpx.AsyncClient) -> None:
    answer = await client.get("/microcredit/policies/2035", headers=token(**GOV_READ))
    assert answer.status_code == 200
    assert answer.json() == {"year": 2035, "is_default": True, **DEFAULTS}


async def test_write_scope_sets_a_year(client: httpx.AsyncClient) -> None:
    terms = {"household_cap": "80000", "max_term_months": 48, "min_age": 18, "max_age": 60,
             "benchmark_rate": 4.75, "compensation_ratio": "0.8"}
    answer = await client.put("/microcredit/policies/2036", json=terms, headers=token(**GOV_WRITE))
    assert answer.status_code == 200, answer.text
    expected = {"year": 2036, "is_default": False, "household_cap": "80000.00", "max_term_months": 48,
                "min_age": 18, "max_age": 60, "benchmark_rate": "4.75", "compensation_ratio": "0.80"}
    assert answer.json() == expected
    assert (await client.get("/microcredit/policies/2036", headers=token(**GOV_WRITE))).json() == expected
    terms["max_age"] = 65
    await client.put("/microcredit/policies/2036", json=terms, headers=token(**GOV_WRITE))
    assert (await client.get("/microcredit/policies/2036", headers=token(**GOV_READ))).json()["max_age"] == 65


async def test_scopes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/microcredit/policies/2020")).status_code == 401
    assert (await client.get("/microcredit/policies/2020", headers=token(**BANK))).status_code == 403
    denied = await client.put("/microcredit/policies/2037", json=DEFAULTS, headers=token(**GOV_READ))
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert (await client.get("/microcredit/policies/2037", headers=token(**GOV_READ))).json()["is_default"] is True


async def test_invalid_terms_name_the_field(client: httpx.AsyncClient) -> None:
    cases = [({"household_cap": "-1"}, "household_cap"), ({"household_cap": "1.234"}, "household_cap"),
             ({"max_term_months": 0}, "max_term_months"), ({"benchmark_rate": "abc"}, "benchmark_rate"),
             ({"compensation_ratio": "1.5"}, "compensation_ratio"), ({"min_age": 70}, "body")]
    for change, field in cases:
        answer = await client.put("/microcredit/policies/2038", json={**DEFAULTS, **change}, headers=token(**GOV_WRITE))
        assert answer.status_code == 422, change
        assert answer.json()["code"] == "validation_error"
        assert answer.json()["errors"][0]["field"] == field, answer.json()
    bad_year = await client.put("/microcredit/policies/1900", json=DEFAULTS, headers=token(**GOV_WRITE))
    assert bad_year.json()["errors"][0]["field"] == "year"
    assert (await client.get("/microcredit/policies/2038", headers=token(**GOV_READ))).json()["is_default"] is True


async def test_a_year_policy_governs_loans_disbursed_that_year(client: httpx.AsyncClient, registry: Registry) -> None:
    terms = {**DEFAULTS, "household_cap": "10000.00", "max_term_months": 24, "compensation_ratio": "0.50"}
    assert (await client.put("/microcredit/policies/2018", json=terms, headers=token(**GOV_WRITE))).status_code == 200
    id_number = resident_id(dt.date(1980, 5, 5))
    await registry.household("registered", member(id_number))
    loan = {"id_number": id_number, "amount": "8000.00", "term_months": 24, "annual_rate": "4.35",
            "disbursed_on": "2018-06-01", "purpose": "pigs"}
    too_long = await client.post("/microcredit/loans", json={**loan, "term_months": 25}, headers=token(**BANK))
    assert (too_long.status_code, too_long.json()["code"]) == (422, "term_too_long")
    too_much = await client.post("/microcredit/loans", json={**loan, "amount": "10000.01"}, headers=token(**BANK))
    assert (too_much.status_code, too_much.json()["code"]) == (422, "amount_over_available")
    assert too_much.json()["available_amount"] == "10000.00"
    granted = await client.post("/microcredit/loans", json=loan, headers=token(**BANK))
    assert granted.status_code == 201, granted.text
    defaulted = await client.post(f"/microcredit/loans/{granted.json()['loan_id']}/default",
                                  json={"unpaid_principal": "8000.00", "declared_on": "2018-12-01"},
                                  headers=token(**BANK))
    assert defaulted.json()["compensation"] == "4000.00"  # the 2018 share, 50 %
