"""Contract §4 through the gateway: hospitals, eligibility, admissions without a deposit, the one-stop settlement
waterfall (both worked examples), encounter idempotency, reversal, policies per year, the report and the scopes.

Every test uses a fresh division tree and fresh ID numbers, so the per-person yearly accumulators start at zero.
Settlements in 2020 and 2021 rely on the contract's default policy for those years; policy changes are made in a random
far-future year that no other test uses."""

import asyncio
import datetime as dt
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from conftest import KAFKA, Divisions, eventually, member, register, resident_id

from fupin_kit.testing import wait_for_event

Auth = Callable[[str], Awaitable[dict[str, str]]]

EXAMPLE_A = {"total_cost": "52000.00", "eligible_cost": "50000.00"}
EXAMPLE_B = {"total_cost": "60000.00", "eligible_cost": "40000.00"}
FIGURES_A = ({"basic_insurance": "42245.00", "critical_illness_insurance": "3804.00",
              "medical_assistance": "2765.70", "supplementary": "0.00"}, "3185.30")
FIGURES_B = ({"basic_insurance": "33745.00", "critical_illness_insurance": "5004.00",
              "medical_assistance": "875.70", "supplementary": "14375.30"}, "6000.00")
DIAGNOSES = ["C34.9", "J18.1"]
ELIGIBILITY_FIELDS = {"poor_population", "treat_first_pay_later", "deposit_required", "masked_id_number"}


def masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


def fresh_person(county: str) -> str:
    """A resident ID number nobody has used: random birth date and serial in a random county."""
    born = dt.date(random.randint(1950, 1995), random.randint(1, 12), random.randint(1, 28))
    return resident_id(county, born)



async def eligibility(http: httpx.AsyncClient, his: dict[str, str], id_number: str) -> httpx.Response:
    return await http.post("/medical/eligibility-checks", headers=his, json={"id_number": id_number})


async def poor_in_medical(http: httpx.AsyncClient, his: dict[str, str], id_number: str, poor: bool = True) -> None:
    """Wait until medical's read model (fed by registry events over Kafka) says `poor` for this person."""
    answer = await eventually(lambda: eligibility(http, his, id_number),
                              lambda r: r.status_code == 200 and r.json()["poor_population"] is poor)
    assert answer.status_code == 200 and answer.json()["poor_population"] is poor, answer.text


async def registered_poor(http: httpx.AsyncClient, auth: Auth, divisions: Divisions, count: int = 1) -> list[str]:
    """`count` members of one freshly registered household, known to medical as registered poor."""
    gov, his = await auth("gov-portal"), await auth("his-demo")
    people = [fresh_person(divisions.county) for _ in range(count)]
    relations = ["head", "spouse", "child"]
    await register(http, gov, divisions.village, [member(p, relations[i]) for i, p in enumerate(people)])
    for person in people:
        await poor_in_medical(http, his, person)
    return people


async def hospital(http: httpx.AsyncClient, gov: dict[str, str], county: str, level: str = "county") -> str:
    code = f"H{uuid.uuid4().hex[:10]}"
    put = await http.put(f"/medical/hospitals/{code}", headers=gov,
                         json={"name": "测试医院", "level": level, "county_code": county})
    assert put.status_code == 201, put.text
    return code


def discharge(id_number: str, hospital_code: str, bill: dict[str, str], on: str = "2020-03-01",
              encounter_id: str | None = None) -> dict[str, Any]:
    return {"encounter_id": encounter_id or f"E-{uuid.uuid4().hex}", "id_number": id_number,
            "hospital_code": hospital_code, "diagnoses": DIAGNOSES, "discharged_on": on, **bill}


async def settle(http: httpx.AsyncClient, his: dict[str, str], body: dict[str, Any],
                 figures: tuple[dict[str, str], str] | None = None, status: int = 201) -> dict[str, Any]:
    answer = await http.post("/medical/settlements", headers=his, json=body)
    assert answer.status_code == status, answer.text
    settled: dict[str, Any] = answer.json()
    if figures is not None:
        assert (settled["breakdown"], settled["patient_pays"]) == figures, settled
    return settled


def assert_no_diagnoses(answer: httpx.Response) -> None:
    assert "diagnoses" not in answer.text and not any(code in answer.text for code in DIAGNOSES), answer.text


# --- hospitals -------------------------------------------------------------------------------------------------------

async def test_hospital_master_data_is_created_updated_and_its_level_drives_the_settlement(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his, auditor = await auth("gov-portal"), await auth("his-demo"), await auth("auditor")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county, "county")
    updated = await http.put(f"/medical/hospitals/{code}", headers=gov,
                             json={"name": "测试镇卫生院", "level": "township", "county_code": divisions.county})
    assert updated.status_code == 200, updated.text
    for reader in (his, auditor):
        read = await http.get(f"/medical/hospitals/{code}", headers=reader)
        assert read.status_code == 200, read.text
        expected = {"code": code, "name": "测试镇卫生院", "level": "township", "county_code": divisions.county}
        assert {k: read.json().get(k) for k in expected} == expected, read.text

    # township terms now apply: (1000 − 100) × 90% = 810.00; 190.00 left, under the 3,000.00 threshold;
    # assistance 70% = 133.00; the patient's 57.00 is under 10% of the total
    await settle(http, his, discharge(patient, code, {"total_cost": "1000.00", "eligible_cost": "1000.00"}),
                 ({"basic_insurance": "810.00", "critical_illness_insurance": "0.00", "medical_assistance": "133.00",
                   "supplementary": "0.00"}, "57.00"))


async def test_hospital_errors_and_scopes(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    code = f"H{uuid.uuid4().hex[:10]}"
    good = {"name": "测试医院", "level": "county", "county_code": divisions.county}
    for field, bad in (("level", "clinic"), ("county_code", "12"), ("name", "")):
        answer = await http.put(f"/medical/hospitals/{code}", headers=gov, json=good | {field: bad})
        assert answer.status_code == 422 and answer.json()["code"] == "validation_error", answer.text
        assert field in [error["field"] for error in answer.json()["errors"]], answer.text
    missing = await http.get(f"/medical/hospitals/{code}", headers=gov)
    assert missing.status_code == 404 and missing.json()["code"] == "hospital_not_found", missing.text
    for client in ("his-demo", "auditor", "bank-demo"):
        answer = await http.put(f"/medical/hospitals/{code}", headers=await auth(client), json=good)
        assert answer.status_code == 403 and answer.json()["code"] == "forbidden", (client, answer.text)
    assert (await http.get(f"/medical/hospitals/{code}", headers=await auth("bank-demo"))).status_code == 403
    assert (await http.get(f"/medical/hospitals/{code}", headers=gov)).status_code == 404  # nothing was created


# --- eligibility and admissions --------------------------------------------------------------------------------------

async def test_eligibility_poor_not_poor_and_removed_with_masked_id_only(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    poor, pending, stranger = (fresh_person(divisions.county) for _ in range(3))
    household_id = await register(http, gov, divisions.village, [member(poor)])
    await register(http, gov, divisions.village, [member(pending)], verify=False)  # identified, not yet registered
    await poor_in_medical(http, his, poor)

    answer = await eligibility(http, his, poor)
    assert answer.json() == {"poor_population": True, "treat_first_pay_later": True, "deposit_required": False,
                             "masked_id_number": masked(poor)} | {k: v for k, v in answer.json().items()
                                                                  if k not in ELIGIBILITY_FIELDS}
    for private in (poor, "王小明", household_id, poor[6:14]):
        assert private not in answer.text, private  # no full number, name, household or birth date

    for person in (pending, stranger):
        answer = await eligibility(http, his, person)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["poor_population"], body["treat_first_pay_later"], body["deposit_required"]) == \
            (False, False, True), body
        assert body["masked_id_number"] == masked(person) and person not in answer.text

    removal = await http.post(f"/registry/households/{household_id}/removal", headers=gov,
                              json={"reason": "wrongly identified"})
    assert removal.status_code == 200 and removal.json()["status"] == "removed", removal.text
    await poor_in_medical(http, his, poor, poor=False)
    answer = await eligibility(http, his, poor)
    assert answer.json()["deposit_required"] is True and answer.json()["treat_first_pay_later"] is False
    refused = await http.post("/medical/settlements", headers=his, json=discharge(
        poor, await hospital(http, gov, divisions.county), EXAMPLE_A))
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible", refused.text


async def test_an_exited_household_keeps_treat_first_pay_later(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (patient,) = await registered_poor(http, auth, divisions)
    household = await http.post("/registry/person-lookups", headers=gov, json={"id_number": patient})
    household_id = household.json()["household_id"]
    exited = await http.post(f"/registry/households/{household_id}/exit", headers=gov, json={})
    assert exited.status_code == 200 and exited.json()["status"] == "exited", exited.text
    await wait_for_event(KAFKA, "exit-certified", household_id)
    # give medical time to apply the exit snapshot: the person must stay registered poor (contract §1)
    answer = await eventually(lambda: eligibility(http, his, patient),
                              lambda r: r.json()["poor_population"] is not True, timeout=3)
    assert answer.json()["poor_population"] is True and answer.json()["deposit_required"] is False, answer.text
    code = await hospital(http, gov, divisions.county)
    await settle(http, his, discharge(patient, code, EXAMPLE_A), FIGURES_A)


async def test_eligibility_rejects_an_invalid_id_number(http: httpx.AsyncClient, auth: Auth) -> None:
    valid = resident_id("610723", dt.date(1970, 1, 1))
    broken = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    answer = await eligibility(http, await auth("his-demo"), broken)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_id_number", answer.text
    assert broken not in answer.text


async def test_admission_needs_no_deposit_for_the_registered_poor_only(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (poor,) = await registered_poor(http, auth, divisions)
    other = fresh_person(divisions.county)
    code = await hospital(http, gov, divisions.county)

    body = {"encounter_id": f"A-{uuid.uuid4().hex}", "id_number": poor, "hospital_code": code,
            "admitted_on": "2020-02-20"}
    admitted = await http.post("/medical/admissions", headers=his, json=body)
    assert admitted.status_code == 201, admitted.text
    assert admitted.json()["deposit_required"] is False and admitted.json()["admission_id"]
    assert poor not in admitted.text and admitted.json().get("masked_id_number", masked(poor)) == masked(poor)

    retry = await http.post("/medical/admissions", headers=his, json=body)
    assert retry.status_code == 200 and retry.json()["admission_id"] == admitted.json()["admission_id"], retry.text
    conflict = await http.post("/medical/admissions", headers=his, json=body | {"admitted_on": "2020-02-21"})
    assert conflict.status_code == 409 and conflict.json()["code"] == "encounter_conflict", conflict.text

    not_poor = await http.post("/medical/admissions", headers=his, json=body | {
        "encounter_id": f"A-{uuid.uuid4().hex}", "id_number": other})
    assert not_poor.status_code == 201 and not_poor.json()["deposit_required"] is True, not_poor.text

    unknown = await http.post("/medical/admissions", headers=his, json=body | {
        "encounter_id": f"A-{uuid.uuid4().hex}", "hospital_code": f"H{uuid.uuid4().hex[:10]}"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_hospital", unknown.text

    # the admission's encounter is settled without a deposit either
    settled = await settle(http, his, discharge(poor, code, EXAMPLE_A, encounter_id=body["encounter_id"]), FIGURES_A)
    assert settled["deposit_required"] is False


async def test_idempotency_key_on_an_admission(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    code = await hospital(http, gov, divisions.county)
    person = fresh_person(divisions.county)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"encounter_id": f"A-{uuid.uuid4().hex}", "id_number": person, "hospital_code": code,
            "admitted_on": "2020-05-05"}
    first = await http.post("/medical/admissions", headers=his | key, json=body)
    again = await http.post("/medical/admissions", headers=his | key, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json(), (first.text, again.text)
    other = await http.post("/medical/admissions", headers=his | key, json=body | {
        "encounter_id": f"A-{uuid.uuid4().hex}"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict", other.text


# --- settlements -----------------------------------------------------------------------------------------------------

async def test_examples_a_then_b_for_one_person_read_back_and_reported(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his, auditor = await auth("gov-portal"), await auth("his-demo"), await auth("auditor")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county)

    body_a = discharge(patient, code, EXAMPLE_A, "2020-03-01")
    a = await settle(http, his, body_a, FIGURES_A)
    assert a["encounter_id"] == body_a["encounter_id"] and a["deposit_required"] is False and a["settlement_id"]
    b = await settle(http, his, discharge(patient, code, EXAMPLE_B, "2020-09-15"), FIGURES_B)
    assert b["settlement_id"] != a["settlement_id"]

    for reader in (his, auditor):
        read = await http.get(f"/medical/settlements/{a['settlement_id']}", headers=reader)
        assert read.status_code == 200, read.text
        assert read.json()["breakdown"] == FIGURES_A[0] and read.json()["patient_pays"] == FIGURES_A[1]
        assert read.json()["status"] == "completed" and read.json()["encounter_id"] == body_a["encounter_id"]
        assert read.json()["masked_id_number"] == masked(patient) and patient not in read.text
        assert_no_diagnoses(read)

    # the accumulators are per calendar year: the next year starts again from Example A
    await settle(http, his, discharge(patient, code, EXAMPLE_A, "2021-01-05"), FIGURES_A)

    report = await http.get("/medical/reports/settlements", headers=auditor,
                            params={"year": 2020, "county_code": divisions.county})
    assert report.status_code == 200, report.text
    assert {item["county_code"] for item in report.json()["items"]} == {divisions.county}, report.text
    items = [item for item in report.json()["items"] if item["hospital_code"] == code]
    assert len(items) == 1, report.text
    assert {k: items[0][k] for k in ("county_code", "settlements", "total_cost", "eligible_cost", "basic_insurance",
                                     "critical_illness_insurance", "medical_assistance", "supplementary",
                                     "patient_pays", "average_patient_pays")} == {
        "county_code": divisions.county, "settlements": 2, "total_cost": "112000.00", "eligible_cost": "90000.00",
        "basic_insurance": "75990.00", "critical_illness_insurance": "8808.00", "medical_assistance": "3641.40",
        "supplementary": "14375.30", "patient_pays": "9185.30", "average_patient_pays": "4592.65"}
    assert patient not in report.text and masked(patient) not in report.text
    assert_no_diagnoses(report)


async def test_concurrent_retries_make_one_settlement_and_move_the_accumulators_once(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county)
    body_a = discharge(patient, code, EXAMPLE_A)

    answers = await asyncio.gather(*(http.post("/medical/settlements", headers=his, json=body_a) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["settlement_id"] for a in answers}) == 1
    assert all((a.json()["breakdown"], a.json()["patient_pays"]) == FIGURES_A for a in answers)
    first = next(a for a in answers if a.status_code == 201)

    replay = await http.post("/medical/settlements", headers=his, json=body_a)
    assert replay.status_code == 200 and replay.json() == first.json(), replay.text
    as_numbers = body_a | {"total_cost": 52000, "eligible_cost": 50000.0}  # the same amounts as JSON numbers
    replay = await http.post("/medical/settlements", headers=his, json=as_numbers)
    assert replay.status_code == 200 and replay.json() == first.json(), replay.text
    for change in ({"total_cost": "52000.01"}, {"eligible_cost": "49999.00"}, {"diagnoses": ["C34.1"]},
                   {"discharged_on": "2020-03-02"}):
        conflict = await http.post("/medical/settlements", headers=his, json=body_a | change)
        assert conflict.status_code == 409 and conflict.json()["code"] == "encounter_conflict", (change, conflict.text)
        assert_no_diagnoses(conflict)

    # Example B right after gives exactly the contract's figures: Example A was counted once, not eight times
    await settle(http, his, discharge(patient, code, EXAMPLE_B, "2020-09-15"), FIGURES_B)


async def test_concurrent_discharges_of_one_person_see_each_other(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county)
    a, b = await asyncio.gather(settle(http, his, discharge(patient, code, EXAMPLE_A)),
                                settle(http, his, discharge(patient, code, EXAMPLE_B)))
    results = ((a["breakdown"], a["patient_pays"]), (b["breakdown"], b["patient_pays"]))
    # whichever came first is the year's first admission; the other sees its accumulators (never both "first")
    b_first = (({"basic_insurance": "42245.00", "critical_illness_insurance": "6204.00",
                 "medical_assistance": "1085.70", "supplementary": "0.00"}, "2465.30"),
               ({"basic_insurance": "33745.00", "critical_illness_insurance": "2604.00",
                 "medical_assistance": "2555.70", "supplementary": "15095.30"}, "6000.00"))
    assert results in ((FIGURES_A, FIGURES_B), b_first), results


async def test_annual_caps_hold_across_admissions_and_the_supplementary_guarantee_pays_the_rest(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (patient,) = await registered_poor(http, auth, divisions)
    province, township = await hospital(http, gov, divisions.county, "province"), \
        await hospital(http, gov, divisions.county, "township")
    # basic (1,000,000 − 1,500) × 65% = 649,025.00 → cap 300,000.00; critical 80% × 697,000.00 → cap 300,000.00;
    # assistance 70% × 400,000.00 → cap 50,000.00; the patient's 350,000.00 is capped at 100,000.00
    await settle(http, his, discharge(patient, province, {"total_cost": "1000000.00",
                                                          "eligible_cost": "1000000.00"}, "2020-02-01"),
                 ({"basic_insurance": "300000.00", "critical_illness_insurance": "300000.00",
                   "medical_assistance": "50000.00", "supplementary": "250000.00"}, "100000.00"))
    # every capped layer is spent for 2020: only the supplementary guarantee is left
    await settle(http, his, discharge(patient, township, {"total_cost": "10000.00", "eligible_cost": "10000.00"},
                                      "2020-11-01"),
                 ({"basic_insurance": "0.00", "critical_illness_insurance": "0.00", "medical_assistance": "0.00",
                   "supplementary": "9000.00"}, "1000.00"))


async def test_settlement_errors(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (poor,) = await registered_poor(http, auth, divisions)
    pending = fresh_person(divisions.county)
    await register(http, gov, divisions.village, [member(pending)], verify=False)
    code = await hospital(http, gov, divisions.county)

    for person in (pending, fresh_person(divisions.county)):  # identified only; never registered at all
        answer = await http.post("/medical/settlements", headers=his, json=discharge(person, code, EXAMPLE_A))
        assert answer.status_code == 422 and answer.json()["code"] == "not_eligible", answer.text
        assert person not in answer.text
    unknown = await http.post("/medical/settlements", headers=his,
                              json=discharge(poor, f"H{uuid.uuid4().hex[:10]}", EXAMPLE_A))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_hospital", unknown.text

    inverted = await http.post("/medical/settlements", headers=his, json=discharge(
        poor, code, {"total_cost": "1000.00", "eligible_cost": "1000.01"}))
    assert inverted.status_code == 422 and inverted.json()["code"] == "validation_error", inverted.text
    assert inverted.headers["content-type"].startswith("application/problem+json")
    assert "eligible_cost" in [error["field"] for error in inverted.json()["errors"]], inverted.text
    for field, bad in (("total_cost", "-1.00"), ("diagnoses", ["not-icd"]), ("discharged_on", "2020-02-30")):
        answer = await http.post("/medical/settlements", headers=his, json=discharge(poor, code, EXAMPLE_A) | {
            field: bad})
        assert answer.status_code == 422 and answer.json()["code"] == "validation_error", (field, answer.text)
        assert any(error["field"].startswith(field) for error in answer.json()["errors"]), answer.text
        assert "not-icd" not in answer.text

    # none of the refusals touched the accumulators: the first real settlement is Example A
    await settle(http, his, discharge(poor, code, EXAMPLE_A), FIGURES_A)
    missing = await http.get(f"/medical/settlements/{uuid.uuid4()}", headers=his)
    assert missing.status_code == 404 and missing.json()["code"] == "settlement_not_found", missing.text
    missing = await http.post(f"/medical/settlements/{uuid.uuid4()}/reversal", headers=his, json={"reason": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == "settlement_not_found", missing.text


async def test_settlement_never_echoes_or_publishes_diagnoses(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county)
    answer = await http.post("/medical/settlements", headers=his, json=discharge(patient, code, EXAMPLE_A))
    assert answer.status_code == 201, answer.text
    assert_no_diagnoses(answer)
    settlement_id = answer.json()["settlement_id"]
    event = await wait_for_event(KAFKA, "settlement-completed", settlement_id)
    raw = json.dumps(event, ensure_ascii=False)
    assert not any(code in raw for code in DIAGNOSES) and "diagnos" not in raw, raw
    assert patient not in raw and "王小明" not in raw, raw
    assert event["type"] == "cn.fupin.settlement-completed" and event["data"]["county_code"] == divisions.county
    assert Decimal(event["data"]["medical_assistance"]) == Decimal("2765.70")
    assert Decimal(event["data"]["amount"]) == Decimal("2765.70") and event["data"]["hospital_code"] == code


async def test_reversal_restores_the_accumulators_and_only_once(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his, auditor = await auth("gov-portal"), await auth("his-demo"), await auth("auditor")
    (patient,) = await registered_poor(http, auth, divisions)
    code = await hospital(http, gov, divisions.county)

    body_a = discharge(patient, code, EXAMPLE_A, "2020-03-01")
    a = await settle(http, his, body_a, FIGURES_A)
    reversal = await http.post(f"/medical/settlements/{a['settlement_id']}/reversal", headers=his,
                               json={"reason": "billing error"})
    assert reversal.status_code == 200, reversal.text
    assert reversal.json()["status"] == "reversed" and reversal.json()["settlement_id"] == a["settlement_id"]
    read = await http.get(f"/medical/settlements/{a['settlement_id']}", headers=auditor)
    assert read.status_code == 200 and read.json()["status"] == "reversed", read.text
    twice = await http.post(f"/medical/settlements/{a['settlement_id']}/reversal", headers=his,
                            json={"reason": "billing error"})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status", twice.text
    replayed = await http.post("/medical/settlements", headers=his, json=body_a)
    assert replayed.status_code == 200 and replayed.json()["status"] == "reversed", replayed.text  # not re-settled

    # as if A never happened: a new bill of the same amounts is a first admission again, then B follows A exactly
    await settle(http, his, discharge(patient, code, EXAMPLE_A, "2020-04-01"), FIGURES_A)
    b = await settle(http, his, discharge(patient, code, EXAMPLE_B, "2020-09-15"), FIGURES_B)
    denied = await http.post(f"/medical/settlements/{b['settlement_id']}/reversal", headers=auditor,
                             json={"reason": "audit"})
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden", denied.text
    racing = await asyncio.gather(*(http.post(f"/medical/settlements/{b['settlement_id']}/reversal", headers=gov,
                                              json={"reason": "duplicate bill", "reason_code": "duplicate"})
                                    for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [200, 409, 409, 409], [r.text for r in racing]
    assert next(r for r in racing if r.status_code == 200).json()["status"] == "reversed"
    await settle(http, his, discharge(patient, code, EXAMPLE_B, "2020-10-01"), FIGURES_B)

    report = await http.get("/medical/reports/settlements", headers=gov,
                            params={"year": 2020, "county_code": divisions.county})
    assert report.status_code == 200, report.text
    (item,) = [item for item in report.json()["items"] if item["hospital_code"] == code]
    assert item["settlements"] == 2 and item["total_cost"] == "112000.00", item  # the reversed two do not count


# --- policies --------------------------------------------------------------------------------------------------------

def policy(county_deductible: str, county_rate: str, assistance_rate: str, self_pay_cap_rate: str) -> dict[str, Any]:
    return {
        "levels": {"township": {"deductible": "100.00", "rate": "0.9"},
                   "county": {"deductible": county_deductible, "rate": county_rate},
                   "city": {"deductible": "800.00", "rate": "0.75"},
                   "province": {"deductible": "1500.00", "rate": "0.65"}},
        "basic_annual_cap": "300000.00", "critical_illness_threshold": "3000.00", "critical_illness_rate": "0.8",
        "critical_illness_annual_cap": "300000.00", "assistance_rate": assistance_rate,
        "assistance_annual_cap": "50000.00", "self_pay_cap_rate": self_pay_cap_rate,
        "max_admission_total": "2000000.00"}  # the per-admission maximum (issue 12)


def same_policy(stored: dict[str, Any], expected: dict[str, Any]) -> bool:
    def numbers(document: Any) -> Any:
        if isinstance(document, dict):
            return {k: numbers(v) for k, v in document.items() if k not in ("year", "source", "is_default")}
        return Decimal(document)
    return bool(numbers(stored) == numbers(expected))


async def test_a_changed_policy_is_used_and_stored_with_the_settlement(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, his, auditor = await auth("gov-portal"), await auth("his-demo"), await auth("auditor")
    year = random.randint(2050, 2099)  # a year no other test settles in
    first_patient, second_patient = await registered_poor(http, auth, divisions, count=2)
    code = await hospital(http, gov, divisions.county)

    untouched = await http.get("/medical/policies/2049", headers=auditor)
    assert untouched.status_code == 200 and untouched.json()["source"] == "default", untouched.text
    assert untouched.json()["is_default"] is True, untouched.text  # every year policy's answer shape (issue 13)
    assert same_policy(untouched.json(), policy("300.00", "0.85", "0.70", "0.10")), untouched.text
    for client in ("his-demo", "auditor", "bank-demo"):
        denied = await http.put(f"/medical/policies/{year}", headers=await auth(client),
                                json=policy("500.00", "0.80", "0.50", "0.10"))
        assert denied.status_code == 403 and denied.json()["code"] == "forbidden", (client, denied.text)

    policy_1 = policy("500.00", "0.80", "0.50", "0.10")
    put = await http.put(f"/medical/policies/{year}", headers=gov, json=policy_1)
    assert put.status_code in (200, 201) and put.json()["source"] == "set", put.text
    assert put.json()["is_default"] is False, put.text
    read = await http.get(f"/medical/policies/{year}", headers=auditor)
    assert read.status_code == 200 and same_policy(read.json(), policy_1), read.text
    # (50000 − 500) × 80% = 39600.00; 10400.00 left, 7400.00 above 3,000.00 → 5920.00; 50% of 4480.00 = 2240.00;
    # patient 2000.00 + 2240.00 = 4240.00, under 10% of 52000.00
    first = await settle(http, his, discharge(first_patient, code, EXAMPLE_A, f"{year}-06-01"), (
        {"basic_insurance": "39600.00", "critical_illness_insurance": "5920.00", "medical_assistance": "2240.00",
         "supplementary": "0.00"}, "4240.00"))
    assert same_policy(first["policy"], policy_1), first

    policy_2 = policy("300.00", "0.85", "0.70", "0.05")
    put = await http.put(f"/medical/policies/{year}", headers=gov, json=policy_2)
    assert put.status_code == 200, put.text
    # Example A's figures, but the patient's 3185.30 is now capped at 5% of 52000.00 = 2600.00: supplementary 585.30
    second = await settle(http, his, discharge(second_patient, code, EXAMPLE_A, f"{year}-07-01"), (
        {"basic_insurance": "42245.00", "critical_illness_insurance": "3804.00", "medical_assistance": "2765.70",
         "supplementary": "585.30"}, "2600.00"))
    assert same_policy(second["policy"], policy_2), second

    kept = await http.get(f"/medical/settlements/{first['settlement_id']}", headers=auditor)
    assert kept.status_code == 200 and same_policy(kept.json()["policy"], policy_1), kept.text
    assert kept.json()["breakdown"] == first["breakdown"]
    invalid = await http.put(f"/medical/policies/{year}", headers=gov, json=policy_2 | {"assistance_rate": "1.5"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_error", invalid.text


# --- scopes ----------------------------------------------------------------------------------------------------------

SETTLEMENT = {"encounter_id": "E-scope", "id_number": resident_id("610723", dt.date(1970, 1, 1), 1),
              "hospital_code": "H-scope", "total_cost": "100.00", "eligible_cost": "100.00", "diagnoses": [],
              "discharged_on": "2020-01-01"}
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("bank-demo", "POST", "/medical/eligibility-checks", {"id_number": SETTLEMENT["id_number"]}),
    ("bank-demo", "POST", "/medical/admissions", {k: SETTLEMENT[k] for k in ("encounter_id", "id_number",
                                                                             "hospital_code")}
     | {"admitted_on": "2020-01-01"}),
    ("bank-demo", "POST", "/medical/settlements", SETTLEMENT),
    ("bank-other", "GET", "/medical/settlements/{id}", None),
    ("bank-demo", "GET", "/medical/reports/settlements?year=2020", None),
    ("auditor", "POST", "/medical/settlements", SETTLEMENT),
    ("auditor", "POST", "/medical/eligibility-checks", {"id_number": SETTLEMENT["id_number"]}),
    ("auditor", "POST", "/medical/settlements/{id}/reversal", {"reason": "audit"}),
    ("gov-portal", "POST", "/medical/settlements", SETTLEMENT),
    ("his-demo", "GET", "/medical/reports/settlements?year=2020", None),
]


@pytest.mark.parametrize(("client", "method", "path", "body"), ROUTES)
async def test_a_client_without_the_scope_is_forbidden(http: httpx.AsyncClient, auth: Auth, client: str,
                                                       method: str, path: str, body: dict[str, Any] | None) -> None:
    answer = await http.request(method, path.format(id=uuid.uuid4()), headers=await auth(client), json=body)
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden", answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(("method", "path"), [("POST", "/medical/settlements"), ("POST", "/medical/eligibility-checks"),
                                              ("GET", "/medical/reports/settlements?year=2020")])
async def test_no_token_is_unauthorized(http: httpx.AsyncClient, method: str, path: str) -> None:
    answer = await http.request(method, path, json=SETTLEMENT if method == "POST" else None)
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized", answer.text
