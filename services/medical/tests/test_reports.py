"""GET /medical/reports/settlements: per county and hospital, counts, totals per payer layer, average share."""

import random

import asyncpg
import httpx
from conftest import token
from medical_support import GOV, HIS, READ, discharge, hospital, registered_poor_person


async def test_report_per_county_and_hospital_without_reversed_settlements(client: httpx.AsyncClient,
                                                                         db: asyncpg.Pool) -> None:
    county = f"6199{random.randint(10, 99)}"
    village = f"{county}100201"
    number = await registered_poor_person(db, village_code=village)
    county_hospital, township = await hospital(client, "county"), await hospital(client, "township")
    a = await client.post("/medical/settlements", headers=HIS,
                          json=discharge(number, county_hospital, "52000.00", "50000.00", on="2034-02-01"))
    b = await client.post("/medical/settlements", headers=HIS,
                          json=discharge(number, county_hospital, "60000.00", "40000.00", on="2034-03-01"))
    c = await client.post("/medical/settlements", headers=HIS,
                          json=discharge(number, township, "1000.00", "1000.00", on="2034-04-01"))
    assert {a.status_code, b.status_code, c.status_code} == {201}
    await client.post(f"/medical/settlements/{c.json()['settlement_id']}/reversal", headers=HIS,
                      json={"reason": "duplicate bill", "reason_code": "duplicate"})
    answer = await client.get("/medical/reports/settlements", params={"year": 2034, "county_code": county},
                              headers=READ)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["year"], report["county_code"]) == (2034, county)
    assert report["items"] == [{
        "county_code": county, "hospital_code": county_hospital, "settlements": 2,
        "total_cost": "112000.00", "eligible_cost": "90000.00", "basic_insurance": "75990.00",
        "critical_illness_insurance": "8808.00", "medical_assistance": "3641.40", "supplementary": "14375.30",
        "patient_pays": "9185.30", "average_patient_pays": "4592.65", "patient_share": "0.0820"}]
    assert report["totals"]["settlements"] == 2
    everywhere = await client.get("/medical/reports/settlements", params={"year": 2034}, headers=READ)
    assert any(item["hospital_code"] == county_hospital for item in everywhere.json()["items"])


async def test_report_errors_and_scope(client: httpx.AsyncClient) -> None:
    empty = await client.get("/medical/reports/settlements", params={"year": 2001}, headers=READ)
    assert empty.status_code == 200 and empty.json()["items"] == [] and empty.json()["totals"] is None
    missing = await client.get("/medical/reports/settlements", headers=READ)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "year"
    bad = await client.get("/medical/reports/settlements", params={"year": 2020, "county_code": "61"}, headers=READ)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "county_code"
    for headers in (HIS, token("medical:write")):
        assert (await client.get("/medical/reports/settlements", params={"year": 2020},
                                 headers=headers)).status_code == 403
    assert (await client.get("/medical/reports/settlements", params={"year": 2020}, headers=GOV)).status_code == 200
