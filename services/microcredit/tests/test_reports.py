"""GET /microcredit/reports/portfolio: per county and per bank, granted, outstanding, 获贷率, overdue, defaulted."""

import datetime as dt
import random

import httpx
from conftest import token
from mc_support import BANK, GOV_READ, Registry, member, resident_id

from fupin_kit.clock import today

REPORT = "/microcredit/reports/portfolio"


async def test_portfolio_per_county_and_per_bank(client: httpx.AsyncClient, registry: Registry) -> None:
    county = f"9{random.randint(0, 99999):05d}"                    # a county no other test uses
    banks = [f"R{random.randint(0, 10**6):06d}" for _ in range(2)]
    village = f"{county}101001"
    people = [resident_id(dt.date(1975, 1, 1) + dt.timedelta(days=n)) for n in range(5)]
    households = [await registry.household("registered", member(p), village_code=village) for p in people]

    async def grant(person: str, bank: str, amount: str, disbursed_on: str, term: int = 36) -> str:
        answer = await client.post("/microcredit/loans", headers=token("microcredit:loans", bank_code=bank), json={
            "id_number": person, "amount": amount, "term_months": term, "annual_rate": "4.35",
            "disbursed_on": disbursed_on, "purpose": "orchard"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["loan_id"])

    await grant(people[0], banks[0], "30000.00", "2019-01-10", term=12)       # overdue since 2020-01-10
    defaulted = await grant(people[1], banks[1], "20000.00", "2021-05-01")
    await client.post(f"/microcredit/loans/{defaulted}/default", headers=token("microcredit:loans", bank_code=banks[1]),
                      json={"unpaid_principal": "10000.00", "declared_on": "2022-01-01"})
    repaid = await grant(people[2], banks[0], "5000.00", "2021-06-01")
    await client.post(f"/microcredit/loans/{repaid}/repayments", headers=token("microcredit:loans", bank_code=banks[0]),
                      json={"amount": "5000.00", "paid_on": "2021-07-01"})
    await grant(people[3], banks[0], "8000.00", str(today() - dt.timedelta(days=30)))  # not yet due
    await registry.publish(households[3], "removed", [member(people[3])], village_code=village)  # left the poor
    await registry.wait_for_status(households[3], "removed")

    answer = await client.get(REPORT, headers=token(**GOV_READ))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    row = next(c for c in report["counties"] if c["county_code"] == county)
    assert row == {"county_code": county, "loans_granted": 4, "amount_granted": "63000.00",
                   "outstanding_principal": "38000.00", "overdue_loans": 1, "overdue_principal": "30000.00",
                   "defaulted_loans": 1, "defaulted_principal": "10000.00", "compensation": "7000.00",
                   "borrowing_households": 3, "registered_poor_households": 4, "loan_uptake_rate": "0.7500"}
    first_bank = next(b for b in report["banks"] if b["bank_code"] == banks[0])
    assert (first_bank["loans_granted"], first_bank["amount_granted"], first_bank["outstanding_principal"],
            first_bank["overdue_principal"], first_bank["borrowing_households"]) == (3, "43000.00", "38000.00",
                                                                                  "30000.00", 2)
    second_bank = next(b for b in report["banks"] if b["bank_code"] == banks[1])
    assert (second_bank["defaulted_loans"], second_bank["defaulted_principal"], second_bank["compensation"]) == (
        1, "10000.00", "7000.00")
    assert int(report["total"]["loans_granted"]) >= 4

    in_2021 = (await client.get(REPORT, params={"year": 2021}, headers=token(**GOV_READ))).json()
    row = next(c for c in in_2021["counties"] if c["county_code"] == county)
    assert (row["loans_granted"], row["amount_granted"], row["overdue_loans"], row["borrowing_households"],
            row["loan_uptake_rate"]) == (2, "25000.00", 0, 2, "0.5000")


async def test_report_scopes(client: httpx.AsyncClient) -> None:
    assert (await client.get(REPORT)).status_code == 401
    assert (await client.get(REPORT, headers=token(**BANK))).status_code == 403
    bad = await client.get(REPORT, params={"year": "soon"}, headers=token(**GOV_READ))
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "year")
