"""Contract §0 (v2): an HIS client acts only for the hospitals of its registration, carried in its token's
`hospitals` claim. Another hospital's check, admission or settlement is 403; its settlements are 404 to it."""

import uuid

import asyncpg
import httpx
from conftest import token
from medical_support import GOV, HIS, READ, discharge, hospital, registered_poor_person

AUDIT_HOSPITAL = "fupin-audit-hospital"


def his_of(*codes: str) -> dict[str, str]:
    return token("medical:settle", client_id=f"his-{uuid.uuid4().hex[:6]}", hospitals=codes)


async def test_an_his_may_not_name_another_hospital(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, mine, theirs = await registered_poor_person(db), await hospital(client), await hospital(client)
    his = his_of(mine)
    for path, body in (("/medical/eligibility-checks", {"id_number": number, "hospital_code": theirs}),
                       ("/medical/admissions", {"encounter_id": f"E-{uuid.uuid4().hex}", "id_number": number,
                                                "hospital_code": theirs, "admitted_on": "2020-03-01"}),
                       ("/medical/settlements", discharge(number, theirs, "100.00", "50.00"))):
        refused = await client.post(path, headers=his, json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", (path, refused.text)
        assert refused.json()["errors"][0]["field"] == "hospital_code"
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE hospital_code = $1", theirs) == 0
    own = await client.post("/medical/settlements", headers=his, json=discharge(number, mine, "100.00", "50.00"))
    assert own.status_code == 201 and own.headers[AUDIT_HOSPITAL] == mine
    checked = await client.post("/medical/eligibility-checks", headers=his,
                                json={"id_number": number, "hospital_code": mine})
    assert checked.status_code == 200 and checked.json()["poor_population"] is True


async def test_a_token_without_the_claim_acts_for_no_hospital(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    bare = token("medical:settle", client_id="his-unbound")
    refused = await client.post("/medical/settlements", headers=bare, json=discharge(number, code, "100.00", "50.00"))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


async def test_another_hospitals_settlement_is_not_found_for_read_and_reversal(client: httpx.AsyncClient,
                                                                                db: asyncpg.Pool) -> None:
    number, mine, theirs = await registered_poor_person(db), await hospital(client), await hospital(client)
    created = await client.post("/medical/settlements", headers=HIS, json=discharge(number, theirs, "100.00", "50.00"))
    assert created.status_code == 201, created.text
    url = f"/medical/settlements/{created.json()['settlement_id']}"
    his = his_of(mine)
    read = await client.get(url, headers=his)
    assert read.status_code == 404 and read.json()["code"] == "settlement_not_found"
    reversal = await client.post(f"{url}/reversal", headers=his, json={"reason": "not ours"})
    assert reversal.status_code == 404 and reversal.json()["code"] == "settlement_not_found"
    assert await db.fetchval("SELECT status FROM settlements WHERE id = $1",
                             uuid.UUID(created.json()["settlement_id"])) == "completed"
    # its own hospital's client, the reader and the city see it; the city may reverse any
    assert (await client.get(url, headers=his_of(theirs))).status_code == 200
    seen = await client.get(url, headers=READ)
    assert seen.status_code == 200 and seen.headers[AUDIT_HOSPITAL] == theirs
    reversed_by_city = await client.post(f"{url}/reversal", headers=GOV, json={"reason": "city"})
    assert reversed_by_city.status_code == 200 and reversed_by_city.headers[AUDIT_HOSPITAL] == theirs
