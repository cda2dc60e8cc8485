"""POST /medical/admissions: no deposit for registered-poor patients; the encounter id is the idempotency key."""

import uuid

import asyncpg
import httpx
from medical_support import HIS, READ, hospital, new_id_number, ref, registered_poor_person


def admission(number: str, hospital_code: str, encounter_id: str | None = None) -> dict[str, str]:
    return {"encounter_id": encounter_id or f"A-{uuid.uuid4().hex}", "id_number": number,
            "hospital_code": hospital_code, "admitted_on": "2020-03-01"}


async def test_a_registered_poor_patient_is_admitted_without_a_deposit(client: httpx.AsyncClient,
                                                                       db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    answer = await client.post("/medical/admissions", headers=HIS, json=admission(number, code))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["deposit_required"] is False and body["treat_first_pay_later"] is True
    assert body["masked_id_number"] == number[:6] + "********" + number[-4:]
    row = await db.fetchrow("SELECT person_ref, hospital_code FROM admissions WHERE id = $1",
                            uuid.UUID(body["admission_id"]))
    assert (row["person_ref"], row["hospital_code"]) == (ref(number), code)
    assert number not in answer.text


async def test_a_patient_who_is_not_registered_poor_pays_a_deposit(client: httpx.AsyncClient) -> None:
    code = await hospital(client)
    answer = await client.post("/medical/admissions", headers=HIS, json=admission(new_id_number(), code))
    assert answer.status_code == 201 and answer.json()["deposit_required"] is True


async def test_the_same_encounter_again_returns_the_first_admission_or_conflicts(client: httpx.AsyncClient,
                                                                                 db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = admission(number, code)
    first = await client.post("/medical/admissions", headers=HIS, json=body)
    again = await client.post("/medical/admissions", headers=HIS, json=body)
    assert again.status_code == 200 and again.json() == first.json()
    other = await client.post("/medical/admissions", headers=HIS, json={**body, "admitted_on": "2020-03-02"})
    assert other.status_code == 409 and other.json()["code"] == "encounter_conflict"
    assert await db.fetchval("SELECT count(*) FROM admissions WHERE encounter_id = $1", body["encounter_id"]) == 1


async def test_admission_errors(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number = await registered_poor_person(db)
    unknown = await client.post("/medical/admissions", headers=HIS, json=admission(number, "NO-SUCH-HOSPITAL"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_hospital"
    code = await hospital(client)
    bad_id = await client.post("/medical/admissions", headers=HIS, json=admission(number[:-1] + "Z", code))
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "id_number"
    no_date = await client.post("/medical/admissions", headers=HIS, json={**admission(number, code),
                                                                          "admitted_on": "2020-13-01"})
    assert no_date.status_code == 422 and no_date.json()["errors"][0]["field"] == "admitted_on"
    forbidden = await client.post("/medical/admissions", headers=READ, json=admission(number, code))
    assert forbidden.status_code == 403
