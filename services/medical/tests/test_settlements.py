"""POST /medical/settlements (contract §4): the waterfall, its events, idempotency on encounter_id, errors."""

import asyncio
import datetime as dt
import json
import os
import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest
from conftest import token
from medical_support import (
    GOV,
    HIS,
    KAFKA,
    READ,
    VILLAGE,
    accumulators,
    discharge,
    hospital,
    household_snapshot,
    new_id_number,
    publish,
    ref,
    registered_poor_person,
    wait_for_person,
)

from fupin_events.payloads import SettlementCompleted
from fupin_kit.errors import Conflict
from fupin_kit.settings import DEV_PSEUDONYM_KEY
from fupin_kit.testing import wait_for_event
from medical.events import published
from medical.policies.service import policy_document
from medical.settlements import service
from medical.settlements.models import SettlementIn, SettlementRecord
from medical.settlements.router import public, public_json
from medical.settlements.rules import DEFAULT_POLICY, SettlementPolicy

EXAMPLE_A = {"basic_insurance": "42245.00", "critical_illness_insurance": "3804.00", "medical_assistance": "2765.70",
             "supplementary": "0.00"}
EXAMPLE_B = {"basic_insurance": "33745.00", "critical_illness_insurance": "5004.00", "medical_assistance": "875.70",
             "supplementary": "14375.30"}


async def settle(client: httpx.AsyncClient, body: dict, headers: dict | None = None) -> httpx.Response:
    return await client.post("/medical/settlements", headers=headers or HIS, json=body)


async def test_contract_examples_a_and_b_same_person_county_hospital(client: httpx.AsyncClient,
                                                                     db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client, "county")
    a = await settle(client, discharge(number, code, "52000.00", "50000.00", on="2020-03-10"))
    assert a.status_code == 201, a.text
    assert a.json()["breakdown"] == EXAMPLE_A
    assert (a.json()["patient_pays"], a.json()["deposit_required"]) == ("3185.30", False)
    b = await settle(client, discharge(number, code, "60000.00", "40000.00", on="2020-07-02"))
    assert b.status_code == 201, b.text
    assert b.json()["breakdown"] == EXAMPLE_B
    assert b.json()["patient_pays"] == "6000.00"
    assert await accumulators(db, number, 2020) == {
        "basic_insurance": "75990.00", "critical_illness_base": "14010.00", "critical_illness_insurance": "8808.00",
        "medical_assistance": "3641.40"}


async def test_settlement_completed_event_carries_amounts_not_diagnoses(client: httpx.AsyncClient,
                                                                        db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = discharge(number, code, "52000.00", "50000.00", diagnoses=["C34.1"])
    answer = await settle(client, body)
    assert "C34.1" not in answer.text and "diagnoses" not in answer.json()
    settlement_id = answer.json()["settlement_id"]
    event = await wait_for_event(KAFKA, "settlement-completed", settlement_id)
    assert event["type"] == "cn.fupin.settlement-completed" and event["source"] == "medical"
    data = event["data"]
    household_id = await db.fetchval("SELECT household_id::text FROM persons WHERE person_ref = $1", ref(number))
    assert data == {"settlement_id": settlement_id, "person_ref": ref(number), "household_id": household_id,
                    "county_code": VILLAGE[:6], "village_code": VILLAGE, "hospital_code": code,
                    "medical_assistance": "2765.70", "supplementary": "0.00", "amount": "2765.70"}
    raw = json.dumps(event)
    assert "C34" not in raw and number not in raw and number[:6] + "********" not in raw


async def test_the_same_encounter_returns_the_first_settlement_and_another_body_conflicts(
        client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = discharge(number, code, "52000.00", "50000.00")
    first = await settle(client, body)
    again = await settle(client, body)
    assert again.status_code == 200 and again.json() == first.json()
    for change in ({"total_cost": "52000.01"}, {"diagnoses": ["C34.2"]}, {"discharged_on": "2020-03-11"}):
        other = await settle(client, {**body, **change})
        assert other.status_code == 409 and other.json()["code"] == "encounter_conflict"
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE encounter_id = $1", body["encounter_id"]) == 1
    assert (await accumulators(db, number, 2020))["basic_insurance"] == "42245.00"


async def test_concurrent_retries_of_one_discharge_settle_once(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = discharge(number, code, "52000.00", "50000.00")
    answers = await asyncio.gather(*(settle(client, body) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["settlement_id"] for a in answers}) == 1
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE person_ref = $1", ref(number)) == 1
    assert await accumulators(db, number, 2020) == {
        "basic_insurance": "42245.00", "critical_illness_base": "7755.00", "critical_illness_insurance": "3804.00",
        "medical_assistance": "2765.70"}
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE topic = 'settlement-completed' AND "
                             "payload->'data'->>'settlement_id' = $1", answers[0].json()["settlement_id"]) == 1


async def test_an_idempotency_key_replays_the_settlement_and_a_refused_one_leaves_nothing(
        client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = discharge(number, code, "52000.00", "50000.00")
    keyed = {**HIS, "Idempotency-Key": f"settle-{uuid.uuid4().hex}"}
    first, again = await settle(client, body, keyed), await settle(client, body, keyed)
    assert first.status_code == 201 and again.status_code == 201, first.text
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE encounter_id = $1", body["encounter_id"]) == 1
    assert (await accumulators(db, number, 2020))["basic_insurance"] == "42245.00"

    stranger = new_id_number()  # not registered poor: refused inside the settlement, in the key's transaction
    refused = await settle(client, discharge(stranger, code, "100.00", "100.00"),
                           {**HIS, "Idempotency-Key": f"settle-{uuid.uuid4().hex}"})
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible", refused.text
    assert await db.fetchval("SELECT count(*) FROM accumulators WHERE person_ref = $1", ref(stranger)) == 0


async def test_concurrent_discharges_of_one_person_use_the_accumulators_in_turn(client: httpx.AsyncClient,
                                                                                db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    answers = await asyncio.gather(*(settle(client, discharge(number, code, "20000.00", "20000.00"))
                                     for _ in range(8)))
    assert all(a.status_code == 201 for a in answers)
    paid = sum(float(a.json()["breakdown"]["critical_illness_insurance"]) for a in answers)
    # each admission adds 3255.00 to the yearly total; only the first 3000.00 of the year is below the threshold
    assert round(paid, 2) == round(0.8 * (8 * 3255 - 3000), 2)
    totals = await accumulators(db, number, 2020)
    assert totals is not None and totals["critical_illness_base"] == "26040.00"


async def test_a_patient_who_is_not_registered_poor_is_not_eligible(client: httpx.AsyncClient,
                                                                    db: asyncpg.Pool) -> None:
    code = await hospital(client)
    unknown = await settle(client, discharge(new_id_number(), code, "1000.00", "900.00"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "not_eligible"
    removed = await registered_poor_person(db)
    household_id = await db.fetchval("SELECT household_id::text FROM persons WHERE person_ref = $1", ref(removed))
    await publish("household-removed", household_snapshot([removed], status="removed", household_id=household_id))
    await wait_for_person(db, ref(removed), "removed")
    answer = await settle(client, discharge(removed, code, "1000.00", "900.00"))
    assert answer.status_code == 422 and answer.json()["code"] == "not_eligible"
    assert await accumulators(db, removed, 2020) is None


async def test_unknown_hospital_and_validation_errors(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    unknown = await settle(client, discharge(number, "NO-SUCH-HOSPITAL", "1000.00", "900.00"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_hospital"
    above = await settle(client, discharge(number, code, "1000.00", "1000.01"))
    assert above.status_code == 422 and above.json()["code"] == "validation_error"
    assert [e["field"] for e in above.json()["errors"]] == ["eligible_cost"]
    negative = await settle(client, discharge(number, code, "-5", "0"))
    assert negative.status_code == 422 and negative.json()["errors"][0]["field"] == "total_cost"
    three_places = await settle(client, discharge(number, code, "10.001", "0"))
    assert three_places.status_code == 422 and three_places.json()["errors"][0]["field"] == "total_cost"
    bad_icd = await settle(client, discharge(number, code, "10.00", "0", diagnoses=["lung cancer"]))
    assert bad_icd.status_code == 422 and bad_icd.json()["errors"][0]["field"] == "diagnoses.0"
    assert "lung cancer" not in bad_icd.text
    bad_id = await settle(client, discharge(number[:-1] + "Z", code, "10.00", "0"))
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "id_number"
    missing = await client.post("/medical/settlements", headers=HIS, json={"encounter_id": "E-1"})
    assert missing.status_code == 422 and "hospital_code" in {e["field"] for e in missing.json()["errors"]}
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE person_ref = $1", ref(number)) == 0
    assert await accumulators(db, number, 2020) is None


async def test_numbers_in_json_are_accepted(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = {**discharge(number, code, "0", "0"), "total_cost": 52000, "eligible_cost": 50000.00}
    answer = await settle(client, body)
    assert answer.status_code == 201 and answer.json()["breakdown"] == EXAMPLE_A


async def test_settlement_scopes(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    body = discharge(number, code, "100.00", "50.00")
    assert (await client.post("/medical/settlements", json=body)).status_code == 401
    expired = {"Authorization": "Bearer not-a-token"}
    assert (await settle(client, body, expired)).json()["code"] == "unauthorized"
    for headers in (READ, GOV):
        forbidden = await settle(client, body, headers)
        assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"


async def test_get_settlement_by_id(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    created = (await settle(client, discharge(number, code, "52000.00", "50000.00"))).json()
    for headers in (HIS, READ):
        answer = await client.get(f"/medical/settlements/{created['settlement_id']}", headers=headers)
        assert answer.status_code == 200 and answer.json() == created
    assert created["status"] == "completed" and created["policy_year"] == 2020
    assert created["policy"]["levels"]["county"] == {"deductible": "300.00", "rate": "0.85"}
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        missing = await client.get(f"/medical/settlements/{unknown}", headers=READ)
        assert missing.status_code == 404 and missing.json()["code"] == "settlement_not_found"
    forbidden = await client.get(f"/medical/settlements/{created['settlement_id']}", headers=token("medical:write"))
    assert forbidden.status_code == 403


async def test_the_policy_of_the_discharge_year_is_used_and_stored(client: httpx.AsyncClient,
                                                                   db: asyncpg.Pool) -> None:
    policy = (await client.get("/medical/policies/2033", headers=READ)).json()
    policy.pop("year"), policy.pop("source")
    policy["assistance_rate"] = "0.5"
    assert (await client.put("/medical/policies/2033", headers=GOV, json=policy)).status_code in (200, 201)
    number, code = await registered_poor_person(db), await hospital(client)
    answer = await settle(client, discharge(number, code, "52000.00", "50000.00", on="2033-05-01"))
    assert answer.json()["breakdown"]["medical_assistance"] == "1975.50"  # 3951.00 × 50%
    assert answer.json()["policy"]["assistance_rate"] == "0.5"
    stored = await db.fetchval("SELECT policy->>'assistance_rate' FROM settlements WHERE id = $1",
                               uuid.UUID(answer.json()["settlement_id"]))
    assert stored == "0.5"
    policy["assistance_rate"] = "0.9"
    await client.put("/medical/policies/2033", headers=GOV, json=policy)
    again = await client.get(f"/medical/settlements/{answer.json()['settlement_id']}", headers=READ)
    assert again.json()["policy"]["assistance_rate"] == "0.5"  # a later policy change does not rewrite history


async def test_reversal_restores_the_accumulators_and_publishes(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    a = (await settle(client, discharge(number, code, "52000.00", "50000.00"))).json()
    before_b = await accumulators(db, number, 2020)
    b = (await settle(client, discharge(number, code, "60000.00", "40000.00"))).json()
    assert b["breakdown"] == EXAMPLE_B
    reversed_b = await client.post(f"/medical/settlements/{b['settlement_id']}/reversal", headers=HIS,
                                   json={"reason": "wrong bill for patient Zhang", "reason_code": "billing_error"})
    assert reversed_b.status_code == 200, reversed_b.text
    assert reversed_b.json()["status"] == "reversed"
    assert await accumulators(db, number, 2020) == before_b
    event = await wait_for_event(KAFKA, "settlement-reversed", b["settlement_id"])
    assert event["data"] == {"settlement_id": b["settlement_id"], "reason_code": "billing_error"}
    twice = await client.post(f"/medical/settlements/{b['settlement_id']}/reversal", headers=HIS,
                              json={"reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"
    assert (await client.get(f"/medical/settlements/{b['settlement_id']}", headers=READ)).json()["status"] == \
        "reversed"
    # reversing A too brings the year back to zero; the next admission is a first admission again
    await client.post(f"/medical/settlements/{a['settlement_id']}/reversal", headers=GOV, json={"reason": "test"})
    assert set((await accumulators(db, number, 2020)).values()) == {"0.00"}
    again = await settle(client, discharge(number, code, "52000.00", "50000.00"))
    assert again.json()["breakdown"] == EXAMPLE_A


async def test_reversal_errors(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    missing = await client.post(f"/medical/settlements/{uuid.uuid4()}/reversal", headers=HIS, json={"reason": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "settlement_not_found"
    number, code = await registered_poor_person(db), await hospital(client)
    created = (await settle(client, discharge(number, code, "100.00", "50.00"))).json()
    url = f"/medical/settlements/{created['settlement_id']}/reversal"
    no_reason = await client.post(url, headers=HIS, json={})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    nul = await client.post(url, headers=HIS, json={"reason": "\x00"})  # fuzzing: was a 500 from PostgreSQL
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "reason"
    assert (await client.post(url, headers=READ, json={"reason": "x"})).status_code == 403
    answers = await asyncio.gather(*(client.post(url, headers=HIS, json={"reason": "dup"}) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 4
    assert set((await accumulators(db, number, 2020)).values()) == {"0.00"}


async def test_a_yearly_total_past_the_books_is_a_validation_error_not_a_500(client: httpx.AsyncClient,
                                                                           db: asyncpg.Pool) -> None:
    """The critical-illness base sums every admission of the year with no cap: past NUMERIC(14,2) it overflowed."""
    number, code = await registered_poor_person(db), await hospital(client)
    assert (await settle(client, discharge(number, code, "100.00", "50.00"))).status_code == 201
    await db.execute("UPDATE accumulators SET critical_illness_base = 999999999000.00 "
                     "WHERE person_ref = $1 AND year = 2020", ref(number))
    answer = await settle(client, discharge(number, code, "20000.00", "20000.00"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "validation_error" and answer.json()["errors"][0]["field"] == "eligible_cost"
    assert (await accumulators(db, number, 2020))["critical_illness_base"] == "999999999000.00"


async def test_an_amount_too_large_for_the_books_is_a_validation_error(client: httpx.AsyncClient,
                                                                       db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    answer = await settle(client, discharge(number, code, "999999999999.00", "0.00"))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "total_cost"


async def test_a_settlement_above_the_per_admission_maximum_is_a_validation_error(client: httpx.AsyncClient,
                                                                                  db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    refused = await settle(client, discharge(number, code, "2000000.01", "10.00"))
    assert refused.status_code == 422 and refused.json()["code"] == "validation_error", refused.text
    assert refused.json()["errors"][0]["field"] == "total_cost"
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE hospital_code = $1", code) == 0
    at_most = await settle(client, discharge(number, code, "2000000.00", "10.00"))
    assert at_most.status_code == 201, at_most.text


# --- the optimistic settlement and its locked retry (service.settle) ------------------------------------------------

KEY = os.environ.get("FUPIN_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY)


async def waiting_on_a_lock(db: asyncpg.Pool, connection: asyncpg.Connection) -> None:
    """Until the statement running on `connection` waits for a lock another transaction holds."""
    pid = connection.get_server_pid()
    async with asyncio.timeout(30):
        while await db.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid) != "Lock":
            await asyncio.sleep(0.02)


async def test_a_settlement_whose_accumulators_moved_meanwhile_writes_nothing_and_settles_locked(
        client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, code = await registered_poor_person(db), await hospital(client)
    assert (await settle(client, discharge(number, code, "52000.00", "50000.00"))).status_code == 201
    body = SettlementIn.model_validate(discharge(number, code, "20000.00", "20000.00"))
    async with db.acquire() as other, db.acquire() as connection:
        moving = other.transaction()
        await moving.start()  # another settlement of the person, not yet committed when this one reads
        await other.execute("UPDATE accumulators SET basic_insurance = basic_insurance + 1 "
                            "WHERE person_ref = $1 AND year = 2020", ref(number))
        attempt = asyncio.create_task(service.settle(connection, settlement_in=body, pseudonym_key=KEY,
                                                     settled_by="his-demo", locked=False))
        await waiting_on_a_lock(db, connection)  # read done, its write waits for the row
        await moving.commit()
        with pytest.raises(service.Contended):
            await attempt
        assert await db.fetchval("SELECT count(*) FROM settlements WHERE encounter_id = $1", body.encounter_id) == 0
        assert (await accumulators(db, number, 2020))["basic_insurance"] == "42246.00"
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", service.encounter_lock(body.encounter_id))
            settlement, created = await service.settle(connection, settlement_in=body, pseudonym_key=KEY,
                                                       settled_by="his-demo", locked=True)
    # settled on the totals as they were then: (20000.00 - 300.00) x 0.85 more basic insurance
    assert created and settlement.basic_insurance == Decimal("16745.00")
    assert (await accumulators(db, number, 2020))["basic_insurance"] == "58991.00"


async def test_an_encounter_settled_meanwhile_fails_the_optimistic_write_and_conflicts_when_locked(
        client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    number, other_number, code = await registered_poor_person(db), await registered_poor_person(db), \
        await hospital(client)
    theirs = discharge(other_number, code, "52000.00", "50000.00")
    mine = SettlementIn.model_validate({**discharge(number, code, "52000.00", "50000.00"),
                                        "encounter_id": theirs["encounter_id"]})
    async with db.acquire() as other, db.acquire() as connection:
        first = other.transaction()
        await first.start()  # the other person's settlement of the encounter, under its lock, not yet committed
        await other.execute("SELECT pg_advisory_xact_lock($1)", service.encounter_lock(mine.encounter_id))
        await service.settle(other, settlement_in=SettlementIn.model_validate(theirs), pseudonym_key=KEY,
                             settled_by="his-demo", locked=True)
        attempt = asyncio.create_task(service.settle(connection, settlement_in=mine, pseudonym_key=KEY,
                                                     settled_by="his-demo", locked=False))
        await waiting_on_a_lock(db, connection)  # its write waits for the encounter's lock
        await first.commit()
        with pytest.raises(service.Contended):
            await attempt
        assert await accumulators(db, number, 2020) is None  # the failed statement left nothing
        with pytest.raises(Conflict):
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", service.encounter_lock(mine.encounter_id))
                await service.settle(connection, settlement_in=mine, pseudonym_key=KEY, settled_by="his-demo",
                                     locked=True)
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE encounter_id = $1", mine.encounter_id) == 1


async def test_an_optimistic_write_waits_for_the_encounters_lock_before_it_touches_the_totals(
        client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    """A locked settlement of the encounter (a retry inside an Idempotency-Key's transaction, or after `Contended`)
    takes the encounter's lock, then the totals' row lock; the optimistic write takes them in the same order, so the
    two never wait for each other (the other order was a deadlock, one of them failing after deadlock_timeout)."""
    number, code = await registered_poor_person(db), await hospital(client)
    assert (await settle(client, discharge(number, code, "52000.00", "50000.00"))).status_code == 201
    body = SettlementIn.model_validate(discharge(number, code, "20000.00", "20000.00"))
    async with db.acquire() as other, db.acquire() as connection:
        locked = other.transaction()
        await locked.start()
        await other.execute("SELECT pg_advisory_xact_lock($1)", service.encounter_lock(body.encounter_id))
        attempt = asyncio.create_task(service.settle(connection, settlement_in=body, pseudonym_key=KEY,
                                                     settled_by="his-demo", locked=False))
        await waiting_on_a_lock(db, connection)  # the optimistic write waits for the encounter's lock
        settlement, created = await service.settle(other, settlement_in=body, pseudonym_key=KEY,
                                                   settled_by="his-demo", locked=True)
        await locked.commit()
        with pytest.raises(service.Contended):  # the totals moved meanwhile: nothing written
            await attempt
    assert created and settlement.basic_insurance == Decimal("16745.00")
    assert await db.fetchval("SELECT count(*) FROM settlements WHERE encounter_id = $1", body.encounter_id) == 1
    assert (await accumulators(db, number, 2020))["basic_insurance"] == "58990.00"


def test_the_answer_is_the_models_json_byte_for_byte() -> None:
    """`public_json` writes the bytes `public(...).model_dump_json()` would: default and set policies, a replay's
    policy as the database gives it back (other key order), zero and large amounts, a reversed settlement."""
    stored_policy = json.loads(json.dumps(policy_document(DEFAULT_POLICY), sort_keys=True))
    set_policy = policy_document(SettlementPolicy(basic_annual_cap=Decimal("123456.78"),
                                                  self_pay_cap_rate=Decimal("0.0525")))
    for policy, amount, reversed_at in ((policy_document(DEFAULT_POLICY), Decimal("52000.00"), None),
                                        (stored_policy, Decimal("0.00"), None),
                                        (set_policy, Decimal("9999999999.99"), None),
                                        (set_policy, Decimal("10.50"), dt.datetime(2020, 3, 11, 8, 1, 2, 34, dt.UTC))):
        record = SettlementRecord(
            id=uuid.uuid4(), encounter_id="E-1.a_B", person_ref="f" * 64, masked_id_number="610723********123X",
            household_id=uuid.uuid4(), village_code=VILLAGE, county_code=VILLAGE[:6], hospital_code="H-9.x_Y",
            discharged_on=dt.date(2020, 2, 29), year=2020, total_cost=amount, eligible_cost=amount,
            basic_insurance=Decimal("42245.00"), critical_illness_insurance=Decimal("3804.00"),
            medical_assistance=Decimal("2765.70"), supplementary=Decimal("0.00"), patient_pays=Decimal("3185.30"),
            critical_illness_base=Decimal("7755.00"), policy=policy,
            status="completed" if reversed_at is None else "reversed", reversed_at=reversed_at,
            created_at=dt.datetime.now(dt.UTC))
        assert public_json(record) == public(record).model_dump_json().encode()


def test_the_settlement_completed_data_is_the_payload_models() -> None:
    """`published.settlement_completed` writes plain data: the data `SettlementCompleted` validates and dumps."""
    for assistance, supplementary in (("2765.70", "0.00"), ("0.00", "0.00"), ("49999.99", "9999999999.99")):
        record = SettlementRecord(
            id=uuid.uuid4(), encounter_id="E-1", person_ref="f" * 64, masked_id_number="610723********123X",
            household_id=uuid.uuid4(), village_code=VILLAGE, county_code=VILLAGE[:6], hospital_code="H-9.x_Y",
            discharged_on=dt.date(2020, 2, 29), year=2020, total_cost=Decimal("1.00"), eligible_cost=Decimal("1.00"),
            basic_insurance=Decimal("1.00"), critical_illness_insurance=Decimal("0.00"),
            medical_assistance=Decimal(assistance), supplementary=Decimal(supplementary),
            patient_pays=Decimal("0.10"), critical_illness_base=Decimal("0.00"), policy={})
        by_the_model = SettlementCompleted.model_validate(dict(
            settlement_id=str(record.id), person_ref=record.person_ref, household_id=record.household_id,
            county_code=record.county_code, village_code=record.village_code, hospital_code=record.hospital_code,
            medical_assistance=record.medical_assistance, supplementary=record.supplementary,
            amount=record.medical_assistance + record.supplementary)).model_dump(mode="json", exclude_unset=True)
        data = published.settlement_completed(record)
        assert data == by_the_model and list(data) == list(by_the_model)
