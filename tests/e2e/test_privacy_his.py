"""Issue 12 through the gateway: HIS clients act only for their hospitals (contract v2 §0), and the personal-data
audit says whose data and which hospital, answers the auditor, and verifies as an unbroken hash chain."""

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from conftest import Divisions, eventually, member, register, resident_id

from fupin_kit.clock import today as china_today

Auth = Callable[[str], Awaitable[dict[str, str]]]


def discharge(id_number: str, hospital: str, total: str = "1000.00", eligible: str = "800.00") -> dict[str, Any]:
    return {"encounter_id": f"E2E-{uuid.uuid4().hex}", "id_number": id_number, "hospital_code": hospital,
            "total_cost": total, "eligible_cost": eligible, "diagnoses": ["J18.9"],
            "discharged_on": china_today().isoformat()}


async def _poor_patient(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> str:
    gov, his = await auth("gov-portal"), await auth("his-demo")
    patient = resident_id(divisions.county, dt.date(1961, 3, 9))
    await register(http, gov, divisions.village, [member(patient)])
    found = await eventually(lambda: http.post("/medical/eligibility-checks", headers=his,
                                               json={"id_number": patient}),
                             lambda answer: answer.status_code == 200 and answer.json()["poor_population"],
                             timeout=180)
    assert found.json()["poor_population"] is True, found.text
    return patient


async def _hospital(http: httpx.AsyncClient, gov: dict[str, str], code: str, county: str) -> str:
    answer = await http.put(f"/medical/hospitals/{code}", headers=gov,
                            json={"name": f"医院 {code}", "level": "county", "county_code": county})
    assert answer.status_code in (200, 201), answer.text
    return code


async def test_an_his_acts_only_for_its_hospitals_and_the_audit_names_them(http: httpx.AsyncClient, auth: Auth,
                                                                           divisions: Divisions) -> None:
    gov, his_demo, his_other, auditor = (await auth("gov-portal"), await auth("his-demo"), await auth("his-other"),
                                         await auth("auditor"))
    patient = await _poor_patient(http, auth, divisions)
    mine = await _hospital(http, gov, "HOTHER01", divisions.county)
    theirs = await _hospital(http, gov, f"H-E2E-{uuid.uuid4().hex[:8]}", divisions.county)

    # naming another hospital: 403, nothing happens
    for path, body in (("/medical/eligibility-checks", {"id_number": patient, "hospital_code": theirs}),
                       ("/medical/admissions", {"encounter_id": f"E2E-{uuid.uuid4().hex}", "id_number": patient,
                                                "hospital_code": theirs, "admitted_on": china_today().isoformat()}),
                       ("/medical/settlements", discharge(patient, theirs))):
        refused = await http.post(path, headers=his_other, json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", (path, refused.text)

    # its own hospital works; his-demo acts for every hospital
    own = await http.post("/medical/settlements", headers=his_other, json=discharge(patient, mine))
    assert own.status_code == 201, own.text
    other = await http.post("/medical/settlements", headers=his_demo, json=discharge(patient, theirs))
    assert other.status_code == 201, other.text
    other_id = other.json()["settlement_id"]

    # another hospital's settlement does not exist for his-other: read and reversal are 404, nothing is reversed
    for answer in (await http.get(f"/medical/settlements/{other_id}", headers=his_other),
                   await http.post(f"/medical/settlements/{other_id}/reversal", headers=his_other,
                                   json={"reason": "not ours"})):
        assert answer.status_code == 404 and answer.json()["code"] == "settlement_not_found", answer.text
    still = await http.get(f"/medical/settlements/{other_id}", headers=his_demo)
    assert still.status_code == 200 and still.json()["status"] == "completed"
    seen = await http.get(f"/medical/settlements/{own.json()['settlement_id']}", headers=his_demo)
    assert seen.status_code == 200 and seen.json()["hospital_code"] == mine

    # the auditor: whose data (the pseudonym, asked for with the number in a body) and which hospital
    ref = await http.post("/audit/person-refs", headers=auditor, json={"id_number": patient})
    assert ref.status_code == 200, ref.text
    person_ref = ref.json()["person_ref"]
    trail = await eventually(lambda: http.get("/audit", headers=auditor, params={"person_ref": person_ref}),
                             lambda answer: answer.status_code == 200 and len(answer.json()["items"]) >= 6)
    assert trail.status_code == 200, trail.text
    items = trail.json()["items"]
    assert patient not in trail.text and patient[:6] + "********" not in trail.text
    looked = {(i["client_id"], i["path"], i["status"], i["hospital_code"]) for i in items}
    assert ("his-other", "/medical/settlements", 403, theirs) in looked
    assert ("his-other", "/medical/settlements", 201, mine) in looked
    assert ("his-demo", "/medical/settlements", 201, theirs) in looked
    assert ("his-demo", "/medical/eligibility-checks", 200, None) in looked
    checked = await http.get("/audit/verify", headers=auditor)
    assert checked.status_code == 200 and checked.json()["valid"] is True, checked.text

    # the audit is for the auditor: others are refused, and a number is never a query parameter
    for client in ("gov-portal", "his-demo", "bank-demo"):
        refused = await http.get("/audit", headers=await auth(client), params={"person_ref": person_ref})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (await http.get("/audit", params={"person_ref": person_ref})).status_code == 401
    assert (await http.get("/audit", headers=auditor, params={"person_ref": patient})).status_code == 422
