"""Issue 2: tokens, scopes, request ids, readiness, and the first real flow across services through Kafka."""

import datetime as dt
import json
from pathlib import Path

import httpx
import jwt
from conftest import KAFKA, Divisions, eventually, household_body, member, resident_id

from fupin_kit.testing import wait_for_event

SERVICES = ("registry", "finance", "microcredit", "education", "medical")
LOGS = Path(__file__).resolve().parents[2] / ".run" / "logs"


async def test_every_service_is_ready_through_the_gateway(http: httpx.AsyncClient) -> None:
    for service in SERVICES:
        answer = await http.get(f"/{service}/readyz")
        assert answer.status_code == 200, (service, answer.text)
    assert (await http.get("/readyz")).status_code == 200
    assert (await http.get("/healthz")).status_code == 200


async def test_token_is_a_signed_jwt_verifiable_with_the_published_jwks(http: httpx.AsyncClient) -> None:
    answer = await http.post("/oauth/token", auth=("bank-demo", "bank-demo-dev-secret"),
                             data={"grant_type": "client_credentials"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert set(body["scope"].split()) == {"microcredit:eligibility", "microcredit:loans"}
    jwks = (await http.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(body["access_token"], key.key, algorithms=["RS256"], audience="fupin")
    assert claims["sub"] == "bank-demo" and claims["bank_code"] == "B001"


async def test_bad_credentials_and_missing_scopes_are_problems(http: httpx.AsyncClient, auth) -> None:  # type: ignore[no-untyped-def]
    bad = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "gov-portal",
                                                "client_secret": "wrong"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_client"
    anonymous = await http.get("/registry/households/00000000-0000-0000-0000-000000000000")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    bank = await http.post("/registry/person-lookups", headers=await auth("bank-demo"),
                           json={"id_number": resident_id("610723", dt.date(1980, 1, 1))})
    assert bank.status_code == 403 and bank.json()["code"] == "forbidden"
    auditor = await http.post("/registry/households", headers=await auth("auditor"), json={})
    assert auditor.status_code == 403


async def test_request_id_is_echoed(http: httpx.AsyncClient) -> None:
    answer = await http.get("/registry/readyz", headers={"X-Request-ID": "e2e-trace-1"})
    assert answer.headers["x-request-id"] == "e2e-trace-1"


async def test_registered_household_reaches_the_other_services(http: httpx.AsyncClient, auth,  # type: ignore[no-untyped-def]
                                                               divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    head = resident_id(divisions.county, dt.date(1980, 5, 17))
    created = await http.post("/registry/households", headers=gov,
                              json=household_body(divisions.village, [member(head)]))
    assert created.status_code == 201, created.text
    household_id = created.json()["household_id"]
    assert created.json()["status"] == "identified"
    for level in ("town", "county"):
        answer = await http.post(f"/registry/households/{household_id}/verifications", headers=gov,
                                 json={"level": level, "approved": True, "officer": f"{level}-leader", "note": "ok"})
        assert answer.status_code in (200, 201), answer.text
    assert answer.json()["status"] == "registered"

    event = await wait_for_event(KAFKA, "household-registered", household_id)
    raw = json.dumps(event, ensure_ascii=False)
    assert head not in raw and "王小明" not in raw
    assert event["data"]["household_id"] == household_id

    bank = await auth("bank-demo")
    check = await eventually(
        lambda: http.post("/microcredit/eligibility-checks", headers=bank, json={"id_number": head}),
        lambda r: r.status_code == 200 and r.json()["eligible"])
    assert check.json()["eligible"] is True, check.text
    assert check.json()["masked_id_number"] == head[:6] + "********" + head[-4:]
    his = await auth("his-demo")
    medical = await eventually(
        lambda: http.post("/medical/eligibility-checks", headers=his, json={"id_number": head}),
        lambda r: r.status_code == 200 and r.json()["poor_population"])
    assert medical.json()["poor_population"] is True and medical.json()["deposit_required"] is False


async def test_invalid_id_number_is_named_and_never_logged(http: httpx.AsyncClient, auth,  # type: ignore[no-untyped-def]
                                                           divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    good = resident_id(divisions.county, dt.date(1975, 3, 3))
    broken = good[:-1] + ("0" if good[-1] != "0" else "1")
    answer = await http.post("/registry/households", headers=gov,
                             json=household_body(divisions.village, [member(good), member(broken, "spouse")]))
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_id_number"
    assert "members" in json.dumps(answer.json())
    for log in LOGS.glob("*.log"):
        text = log.read_text(errors="replace")
        assert good not in text and broken not in text, log.name
