"""Contract §1 through the gateway: divisions and their statistics, identification, person look-ups, town → county
sign-off with its history, public-notice objections, the public notice page, annual reviews, household exit with its
unmet list (income exactly at the line is not above it), return, removal, village and county exit by incidence,
policies per year, monitoring (防返贫) and verification quality; every refusal with its code, every scope checked."""

import asyncio
import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from conftest import GATEWAY, KAFKA, Divisions, eventually, household_body, member, resident_id

Auth = Callable[[str], Awaitable[dict[str, str]]]
ALL_MET = {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
           "housing_safe": True, "drinking_water_safe": True}


class PatientTransport(httpx.AsyncBaseTransport):
    """Waits out `429 rate_limited` (Retry-After) like a well-behaved client: every engineer's e2e run shares the demo
    clients' rate limits, and these tests are about the registry, not the limiter."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(20):
            response = await self.inner.handle_async_request(request)
            if response.status_code != 429:
                return response
            await response.aread()
            await response.aclose()
            await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 2) + random.random() / 2)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The conftest client, patient with the shared rate limit (the `divisions` fixture uses it too)."""
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30, transport=PatientTransport()) as client:
        yield client


def person(region: str, born: dt.date | None = None) -> str:
    """A fresh valid ID number born in `region` (random birth date unless given, so tests do not collide)."""
    born = born or dt.date(1950, 1, 1) + dt.timedelta(days=random.randrange(365 * 50))
    return resident_id(region, born)


def masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def problem_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body = dict(answer.json())
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"], body
    return body


async def event_about(topic: str, subject: str, timeout: float = 20) -> dict[str, Any]:
    """The first event of `topic` keyed by `subject` (read from the beginning, no consumer group)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=timeout)
        while dt.datetime.now() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    if record.key is not None and record.key.decode() == subject:
                        return dict(json.loads(record.value))
    finally:
        await consumer.stop()
    raise AssertionError(f"no {topic} event about {subject} within {timeout} s")


class Registry:
    """The registry routes as the gov portal calls them, with the contract's answers asserted on the way."""

    def __init__(self, http: httpx.AsyncClient, gov: dict[str, str]) -> None:
        self.http, self.gov = http, gov

    async def create(self, village: str, members: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        answer = await self.http.post("/registry/households", headers=self.gov,
                                      json={**household_body(village, members), **fields})
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "identified"
        return dict(answer.json())

    async def verify(self, household_id: str, level: str, approved: bool = True,
                     officer: str = "leader") -> httpx.Response:
        return await self.http.post(f"/registry/households/{household_id}/verifications", headers=self.gov,
                                    json={"level": level, "approved": approved, "officer": officer,
                                          "note": f"{level} {'signed' if approved else 'refused'}"})

    async def register(self, village: str, members: list[dict[str, Any]], **fields: Any) -> str:
        household_id = str((await self.create(village, members, **fields))["household_id"])
        for level in ("town", "county"):
            answer = await self.verify(household_id, level)
            assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "registered"
        return household_id

    async def household(self, household_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/registry/households/{household_id}", headers=self.gov)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def post(self, household_id: str, action: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/registry/households/{household_id}/{action}", headers=self.gov, json=body)

    async def review(self, household_id: str, year: int, income: str, **indicators: bool) -> httpx.Response:
        answer = await self.post(household_id, "annual-reviews", {
            "income_year": year, "annual_income": income, "indicators": {**ALL_MET, **indicators}})
        assert answer.status_code == 201, answer.text
        return answer

    async def stats(self, code: str) -> dict[str, Any]:
        answer = await self.http.get(f"/registry/divisions/{code}", headers=self.gov)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["stats"])

    async def put_division(self, code: str, level: str, parent: str | None, *, poor: bool = True,
                           population: int = 1000) -> httpx.Response:
        return await self.http.put(f"/registry/divisions/{code}", headers=self.gov, json={
            "name": f"{level} {code}", "level": level, "parent_code": parent, "poor": poor, "population": population})


async def fresh_county(registry: Registry, city: str, population: int = 1000) -> Divisions:
    """A county (with a town and a village) under `city` whose code nobody has used: counts over a whole county are
    then exactly this test's (the fixture's random codes may repeat a county another run left behind)."""
    while True:
        county = city[:4] + f"{random.randint(1, 99):02d}"
        if (await registry.http.get(f"/registry/divisions/{county}", headers=registry.gov)).status_code == 404:
            break
    tree = Divisions(city, county, county + f"{random.randint(1, 999):03d}", "")
    tree.village = tree.town + f"{random.randint(1, 999):03d}"
    for code, level, parent in ((county, "county", city), (tree.town, "town", county),
                                (tree.village, "village", tree.town)):
        answer = await registry.put_division(code, level, parent, population=population)
        assert answer.status_code == 201, answer.text
    return tree


@pytest.fixture
async def registry(http: httpx.AsyncClient, auth: Auth) -> Registry:
    return Registry(http, await auth("gov-portal"))


# --- divisions -------------------------------------------------------------------------------------------------------

async def test_divisions_are_created_then_updated_and_codes_must_fit_their_level(
        registry: Registry, divisions: Divisions) -> None:
    village = divisions.town + f"{random.randint(1, 999):03d}"
    while village == divisions.village:
        village = divisions.town + f"{random.randint(1, 999):03d}"
    created = await registry.put_division(village, "village", divisions.town, population=500)
    assert created.status_code == 201, created.text
    updated = await registry.put_division(village, "village", divisions.town, poor=False, population=600)
    assert updated.status_code == 200 and updated.json()["population"] == 600 and updated.json()["poor"] is False
    read = await registry.http.get(f"/registry/divisions/{village}", headers=registry.gov)
    assert read.json()["level"] == "village" and read.json()["parent_code"] == divisions.town

    unknown_parent = divisions.county + "999"
    if unknown_parent == divisions.town:
        unknown_parent = divisions.county + "998"
    problem_of(await registry.put_division(unknown_parent + "001", "village", unknown_parent), 422,
               "invalid_division")
    problem_of(await registry.put_division(divisions.town + "01", "village", divisions.town), 422,
               "invalid_division")  # 11 digits
    problem_of(await registry.put_division(divisions.county + "001002", "town", divisions.county), 422,
               "invalid_division")  # a town has 9 digits
    other_town = str(int(divisions.county) + 1) + "001"  # does not start with its parent county's code
    problem_of(await registry.put_division(other_town, "town", divisions.county), 422, "invalid_division")
    problem_of(await registry.put_division(divisions.town + "777", "village", divisions.county), 422,
               "invalid_division")  # a village sits under a town


async def test_division_stats_count_registered_and_returned_members_only(
        registry: Registry, divisions: Divisions) -> None:
    divisions = await fresh_county(registry, divisions.city)
    county = divisions.county
    identified = await registry.create(divisions.village, [member(person(county))])
    registered = await registry.register(divisions.village, [member(person(county)), member(person(county), "spouse"),
                                                             member(person(county), "child", labor="none")])
    refused = await registry.create(divisions.village, [member(person(county))])
    assert (await registry.verify(refused["household_id"], "town", approved=False)).json()["status"] == "rejected"
    stats = await registry.stats(divisions.village)
    # rejected households are not counted; the identified one counts as a household but not as poor
    assert stats == {"households": 2, "persons": 4, "poor_persons": 3, "poverty_incidence": "0.0030"}
    for code in (divisions.town, divisions.county):
        assert await registry.stats(code) == stats, code
    city = await registry.stats(divisions.city)  # other runs may have counties under the same random city code
    assert city["households"] >= 2 and city["poor_persons"] >= 3
    assert identified["household_id"] != registered


async def test_unknown_division_and_division_scopes(http: httpx.AsyncClient, auth: Auth,
                                                    divisions: Divisions) -> None:
    auditor, bank = await auth("auditor"), await auth("bank-demo")
    assert (await http.get(f"/registry/divisions/{divisions.village}", headers=auditor)).status_code == 200
    denied = await http.put(f"/registry/divisions/{divisions.village}", headers=auditor, json={
        "name": "x", "level": "village", "parent_code": divisions.town, "poor": True, "population": 1})
    problem_of(denied, 403, "forbidden")
    problem_of(await http.get(f"/registry/divisions/{divisions.village}", headers=bank), 403, "forbidden")
    problem_of(await http.get(f"/registry/divisions/{divisions.village}"), 401, "unauthorized")
    problem_of(await http.get(f"/registry/divisions/{divisions.town}000", headers=auditor), 404,
               "division_not_found")


# --- identification and look-ups ------------------------------------------------------------------------------------

async def test_household_is_read_with_masked_members_and_its_history(registry: Registry, divisions: Divisions,
                                                                     auth: Auth) -> None:
    head, child = person(divisions.county), person(divisions.county, dt.date(2012, 4, 1))
    created = await registry.create(divisions.village, [
        member(head), member(child, "child", labor="none", school_stage="primary", boarding=True)],
        annual_income="5000.00", causes=["illness", "education"])
    household = await registry.household(created["household_id"])
    assert household["status"] == "identified" and household["village_code"] == divisions.village
    assert household["member_count"] == 2 and household["annual_income"] == "5000.00"
    assert household["causes"] == ["illness", "education"] and household["indicators"] == ALL_MET
    assert [m["masked_id_number"] for m in household["members"]] == [masked(head), masked(child)]
    # contract v2 §0: beside the masked number at most the birth year or age, never the full birth date
    assert household["members"][1]["birth_year"] == 2012 and household["members"][1]["boarding"] is True
    assert all("birth_date" not in m for m in household["members"])
    assert head not in json.dumps(household) and child not in json.dumps(household)
    assert [(h["to_status"], h["action"], h["actor"]) for h in household["history"]] == [
        ("identified", "identified", "gov-portal")]

    auditor = await registry.http.get(f"/registry/households/{created['household_id']}", headers=await auth("auditor"))
    assert auditor.status_code == 200 and auditor.json()["members"][0]["masked_id_number"] == masked(head)
    problem_of(await registry.http.get("/registry/households/00000000-0000-0000-0000-000000000000",
                                       headers=registry.gov), 404, "household_not_found")


async def test_identification_refusals(registry: Registry, divisions: Divisions, auth: Auth) -> None:
    county, village = divisions.county, divisions.village
    head, spouse = person(county), person(county)
    broken = spouse[:-1] + ("1" if spouse[-1] == "0" else "0")
    bad = problem_of(await registry.http.post("/registry/households", headers=registry.gov, json=household_body(
        village, [member(head), member(broken, "spouse")])), 422, "invalid_id_number")
    assert any("members[1]" in e["field"] for e in bad["errors"]) and broken not in json.dumps(bad)

    for code in (divisions.town, divisions.town + "000"):  # a town; a village nobody created (villages are 001-999)
        answer = await registry.http.post("/registry/households", headers=registry.gov,
                                          json=household_body(code, [member(head)]))
        assert problem_of(answer, 422, "invalid_division")["errors"][0]["field"] == "village_code"

    unknown_relation = await registry.http.post("/registry/households", headers=registry.gov, json=household_body(
        village, [member(head), member(spouse, "cousin")]))
    fields = [e["field"] for e in problem_of(unknown_relation, 422, "validation_error")["errors"]]
    assert any("relation" in f for f in fields), fields

    outsider = household_body(village, [member(head)])
    outsider["head_id_number"] = person(county)
    problem_of(await registry.http.post("/registry/households", headers=registry.gov, json=outsider), 422,
               "head_not_member")
    not_head = household_body(village, [member(head, "spouse"), member(spouse, "child")])
    problem_of(await registry.http.post("/registry/households", headers=registry.gov, json=not_head), 422,
               "head_not_member")

    first = await registry.create(village, [member(head), member(spouse, "spouse")])
    taken = await registry.http.post("/registry/households", headers=registry.gov,
                                     json=household_body(village, [member(person(county)), member(spouse, "spouse")]))
    assert any(e["field"] == "members[1].id_number" for e in problem_of(taken, 409, "person_already_registered")
               ["errors"])
    problem_of(await registry.http.post("/registry/households", headers=await auth("auditor"),
                                        json=household_body(village, [member(person(county))])), 403, "forbidden")

    # a rejected household frees its members: they may be identified again
    assert (await registry.verify(first["household_id"], "town", approved=False)).json()["status"] == "rejected"
    again = await registry.create(village, [member(spouse)])
    assert again["household_id"] != first["household_id"]


async def test_person_lookup_by_id_number_in_the_body(registry: Registry, divisions: Divisions,
                                                     auth: Auth) -> None:
    head, spouse = person(divisions.county), person(divisions.county)
    created = await registry.create(divisions.village, [member(head), member(spouse, "spouse")])
    found = await registry.http.post("/registry/person-lookups", headers=await auth("auditor"),
                                     json={"id_number": spouse})
    assert found.status_code == 200, found.text
    assert {k: found.json()[k] for k in ("household_id", "status", "village_code", "relation")} == {
        "household_id": created["household_id"], "status": "identified", "village_code": divisions.village,
        "relation": "spouse"}
    problem_of(await registry.http.post("/registry/person-lookups", headers=registry.gov,
                                        json={"id_number": person(divisions.county)}), 404, "person_not_found")
    problem_of(await registry.http.post("/registry/person-lookups", headers=registry.gov,
                                        json={"id_number": head[:-1] + ("1" if head[-1] == "0" else "0")}),
               422, "invalid_id_number")
    for client in ("bank-demo", "his-demo"):
        problem_of(await registry.http.post("/registry/person-lookups", headers=await auth(client),
                                            json={"id_number": head}), 403, "forbidden")


async def test_identification_is_idempotent_with_a_key(registry: Registry, divisions: Divisions) -> None:
    body = household_body(divisions.village, [member(person(divisions.county))])
    key = {**registry.gov, "Idempotency-Key": f"e2e-registry-{random.getrandbits(64):x}"}
    first = await registry.http.post("/registry/households", headers=key, json=body)
    retry = await registry.http.post("/registry/households", headers=key, json=body)
    assert first.status_code == retry.status_code == 201 and retry.json() == first.json()
    other = household_body(divisions.village, [member(person(divisions.county))])
    problem_of(await registry.http.post("/registry/households", headers=key, json=other), 409,
               "idempotency_conflict")
    assert (await registry.stats(divisions.village))["households"] == 1


# --- verification, objections, public notice -----------------------------------------------------------------------

async def test_town_then_county_sign_off_registers_and_publishes(registry: Registry, divisions: Divisions) -> None:
    head = person(divisions.county)
    household_id = (await registry.create(divisions.village, [member(head)]))["household_id"]
    problem_of(await registry.verify(household_id, "county"), 409, "verification_out_of_order")
    town = await registry.verify(household_id, "town", officer="镇长")
    assert town.status_code == 201 and town.json()["status"] == "town_verified", town.text
    problem_of(await registry.verify(household_id, "town"), 409, "verification_out_of_order")
    county = await registry.verify(household_id, "county", officer="县长")
    assert county.status_code == 201 and county.json()["status"] == "registered"
    problem_of(await registry.verify(household_id, "county"), 409, "verification_out_of_order")

    history = (await registry.household(household_id))["history"]
    assert [(h["from_status"], h["to_status"], h["officer"], h["reason"], h["actor"]) for h in history] == [
        (None, "identified", None, None, "gov-portal"),
        ("identified", "town_verified", "镇长", "town signed", "gov-portal"),
        ("town_verified", "registered", "县长", "county signed", "gov-portal")]
    assert all(h["at"] for h in history)

    event = await event_about("household-registered", household_id)
    assert event["type"] == "cn.fupin.household-registered" and event["source"] == "registry"
    assert event["specversion"] == "1.0" and event["subject"] == household_id and event["id"] and event["time"]
    assert event["data"]["status"] == "registered" and event["data"]["village_code"] == divisions.village
    # contract v2 §6: member_id, person_ref and birth date travel, never a masked number
    members = (await registry.household(household_id))["members"]
    assert [m["member_id"] for m in event["data"]["members"]] == [m["member_id"] for m in members]
    assert "masked_id_number" not in json.dumps(event) and event["data"]["members"][0]["person_ref"]
    assert head not in json.dumps(event) and "王小明" not in json.dumps(event, ensure_ascii=False)


@pytest.mark.parametrize("level", ["town", "county"])
async def test_refusal_at_either_level_rejects(registry: Registry, divisions: Divisions, level: str) -> None:
    household_id = (await registry.create(divisions.village, [member(person(divisions.county))]))["household_id"]
    if level == "county":
        assert (await registry.verify(household_id, "town")).status_code == 201
    refused = await registry.verify(household_id, level, approved=False)
    assert refused.status_code == 201 and refused.json()["status"] == "rejected"
    assert (await registry.household(household_id))["history"][-1]["action"] == f"{level}_refused"
    problem_of(await registry.verify(household_id, "town"), 409, "verification_out_of_order")
    problem_of(await registry.verify(household_id, "county"), 409, "verification_out_of_order")


async def test_open_objection_blocks_county_approval_until_dismissed(registry: Registry, divisions: Divisions,
                                                                     auth: Auth) -> None:
    household_id = (await registry.create(divisions.village, [member(person(divisions.county))]))["household_id"]
    filed = await registry.post(household_id, "objections", {"reason": "家中有轿车"})
    assert filed.status_code == 201 and filed.json()["objection_id"], filed.text
    objection_id = filed.json()["objection_id"]
    assert (await registry.verify(household_id, "town")).json()["status"] == "town_verified"
    problem_of(await registry.verify(household_id, "county"), 409, "open_objection")
    problem_of(await registry.http.post(f"/registry/households/{household_id}/objections",
                                        headers=await auth("auditor"), json={"reason": "x"}), 403, "forbidden")

    dismissed = await registry.post(household_id, f"objections/{objection_id}/resolution",
                                    {"upheld": False, "note": "核实无车"})
    assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed", dismissed.text
    assert dismissed.json()["household_status"] == "town_verified"
    problem_of(await registry.post(household_id, f"objections/{objection_id}/resolution", {"upheld": True}), 409,
               "invalid_status")
    assert (await registry.verify(household_id, "county")).json()["status"] == "registered"
    problem_of(await registry.post(household_id, "objections", {"reason": "too late"}), 409, "invalid_status")
    problem_of(await registry.post(household_id, "objections/00000000-0000-0000-0000-000000000000/resolution",
                                   {"upheld": True}), 404, "objection_not_found")


async def test_upheld_objection_rejects_the_household(registry: Registry, divisions: Divisions) -> None:
    head = person(divisions.county)
    household_id = (await registry.create(divisions.village, [member(head)]))["household_id"]
    assert (await registry.verify(household_id, "town")).status_code == 201
    objection_id = (await registry.post(household_id, "objections", {"reason": "收入不实"})).json()["objection_id"]
    upheld = await registry.post(household_id, f"objections/{objection_id}/resolution",
                                 {"upheld": True, "note": "查实"})
    assert upheld.status_code == 200 and upheld.json()["household_status"] == "rejected", upheld.text
    household = await registry.household(household_id)
    assert household["status"] == "rejected" and household["history"][-1]["action"] == "objection_upheld"
    problem_of(await registry.verify(household_id, "county"), 409, "verification_out_of_order")
    # the person is free again
    assert (await registry.create(divisions.village, [member(head)]))["household_id"] != household_id


async def test_public_notice_needs_no_token_and_shows_only_town_verified_households_masked(
        registry: Registry, divisions: Divisions) -> None:
    head, spouse = person(divisions.county), person(divisions.county)
    on_notice = (await registry.create(divisions.village, [member(head, name="李建国"), member(spouse, "spouse")],
                                       causes=["illness", "lack_funds"]))["household_id"]
    assert (await registry.verify(on_notice, "town")).status_code == 201
    waiting = (await registry.create(divisions.village, [member(person(divisions.county))]))["household_id"]
    registered = await registry.register(divisions.village, [member(person(divisions.county))])

    answer = await registry.http.get(f"/registry/divisions/{divisions.village}/public-notice")
    assert answer.status_code == 200, answer.text
    notice = answer.json()
    assert notice["village_code"] == divisions.village
    assert [(h["household_id"], h["head_name"], h["member_count"], h["causes"]) for h in notice["households"]] == [
        (on_notice, "李**", 2, ["illness", "lack_funds"])]
    text = answer.text
    for number in (head, spouse, masked(head), head[6:14]):
        assert number not in text
    assert "李建国" not in json.dumps(notice, ensure_ascii=False) and "id_number" not in text
    assert waiting not in text and registered not in text
    # a town is not a village
    problem_of(await registry.http.get(f"/registry/divisions/{divisions.town}/public-notice"), 422,
               "invalid_division")


# --- scopes ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/registry/households/{id}/verifications"), ("POST", "/registry/households/{id}/objections"),
    ("POST", "/registry/households/{id}/annual-reviews"), ("POST", "/registry/households/{id}/exit"),
    ("POST", "/registry/households/{id}/return"), ("POST", "/registry/households/{id}/removal"),
    ("POST", "/registry/divisions/{village}/exit"), ("PUT", "/registry/policies/2019"),
    ("POST", "/registry/imports")])
async def test_writes_need_registry_write(http: httpx.AsyncClient, auth: Auth, registry: Registry,
                                          divisions: Divisions, method: str, path: str) -> None:
    household_id = (await registry.create(divisions.village, [member(person(divisions.county))]))["household_id"]
    url = path.format(id=household_id, village=divisions.village)
    for client in ("auditor", "bank-demo", "his-demo"):
        problem_of(await http.request(method, url, headers=await auth(client), json={}), 403, "forbidden")
    problem_of(await http.request(method, url, json={}), 401, "unauthorized")
    assert (await registry.household(household_id))["status"] == "identified"


@pytest.mark.parametrize("path", ["/registry/households/{id}", "/registry/divisions/{village}",
                                  "/registry/policies/2019", "/registry/monitoring?division_code={county}",
                                  "/registry/divisions/{county}/verification-stats"])
async def test_reads_need_registry_read(http: httpx.AsyncClient, auth: Auth, registry: Registry,
                                        divisions: Divisions, path: str) -> None:
    household_id = (await registry.create(divisions.village, [member(person(divisions.county))]))["household_id"]
    url = path.format(id=household_id, village=divisions.village, county=divisions.county)
    assert (await http.get(url, headers=await auth("auditor"))).status_code == 200
    for client in ("bank-demo", "his-demo"):
        problem_of(await http.get(url, headers=await auth(client)), 403, "forbidden")
    problem_of(await http.get(url), 401, "unauthorized")


# --- annual reviews, exit, return, removal -------------------------------------------------------------------------

async def test_exit_standard_income_exactly_at_the_line_is_not_above_it(registry: Registry,
                                                                        divisions: Divisions) -> None:
    # two members, income year 2019 (line 3747): 7494.00 is exactly 3747.00 per person
    household_id = await registry.register(
        divisions.village, [member(person(divisions.county)), member(person(divisions.county), "spouse")],
        annual_income=7494, income_year=2019)  # money may come as a JSON number
    at_line = problem_of(await registry.post(household_id, "exit", {}), 422, "exit_standard_not_met")
    assert at_line["unmet"] == ["income_below_line"]
    assert at_line["decision"]["poverty_line"] == "3747.00" and at_line["decision"]["per_capita_income"] == "3747.00"

    review = await registry.review(household_id, 2020, "8000.00", housing_safe=False, drinking_water_safe=False)
    assert review.json()["per_capita_income"] == "4000.00"
    unmet = problem_of(await registry.post(household_id, "exit", {}), 422, "exit_standard_not_met")["unmet"]
    assert unmet == ["income_below_line", "housing_safe", "drinking_water_safe"]

    await registry.review(household_id, 2020, "8000.02", compulsory_education_ok=False)
    unmet = problem_of(await registry.post(household_id, "exit", {}), 422, "exit_standard_not_met")["unmet"]
    assert unmet == ["compulsory_education_ok"]

    await registry.review(household_id, 2020, "8000.02")
    # an older year's review does not replace the latest data
    await registry.review(household_id, 2018, "100.00", food_clothing_secure=False)
    exited = await registry.post(household_id, "exit", {})
    assert exited.status_code == 200, exited.text
    assert exited.json()["status"] == "exited" and exited.json()["decision"]["poverty_line"] == "4000.00"
    assert exited.json()["decision"]["per_capita_income"] == "4000.01"
    event = await event_about("exit-certified", household_id)
    assert event["data"]["status"] == "exited" and event["type"] == "cn.fupin.exit-certified"
    problem_of(await registry.post(household_id, "exit", {}), 409, "invalid_status")


@pytest.mark.parametrize(("year", "line"), [(2014, "2800.00"), (2016, "2952.00"), (2017, "3335.00"),
                                            (2018, "3535.00"), (2021, "4000.00")])
async def test_exit_uses_the_poverty_line_of_the_income_year(registry: Registry, divisions: Divisions, year: int,
                                                             line: str) -> None:
    household_id = await registry.register(divisions.village, [member(person(divisions.county))],
                                           annual_income=line, income_year=year)
    refused = problem_of(await registry.post(household_id, "exit", {}), 422, "exit_standard_not_met")
    assert refused["unmet"] == ["income_below_line"] and refused["decision"]["poverty_line"] == line
    await registry.review(household_id, year, str(Decimal(line) + Decimal("0.01")))
    assert (await registry.post(household_id, "exit", {})).json()["status"] == "exited"


async def test_exit_needs_a_registered_or_returned_household(registry: Registry, divisions: Divisions) -> None:
    household_id = (await registry.create(divisions.village, [member(person(divisions.county))],
                                          annual_income="90000.00"))["household_id"]
    problem_of(await registry.post(household_id, "exit", {}), 409, "invalid_status")
    assert (await registry.verify(household_id, "town")).status_code == 201
    problem_of(await registry.post(household_id, "exit", {}), 409, "invalid_status")
    problem_of(await registry.post("00000000-0000-0000-0000-000000000000", "exit", {}), 404, "household_not_found")


async def test_return_to_poverty_and_exit_again(registry: Registry, divisions: Divisions) -> None:
    county = divisions.county
    household_id = await registry.register(divisions.village, [member(person(county))], annual_income="9000.00")
    problem_of(await registry.post(household_id, "return", {"reason": "not exited yet"}), 409, "invalid_status")
    assert (await registry.post(household_id, "exit", {})).json()["status"] == "exited"
    assert (await registry.stats(divisions.village))["poor_persons"] == 0  # exited is not counted for incidence

    returned = await registry.post(household_id, "return", {"reason": "因病返贫"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned", returned.text
    assert returned.json()["history"][-1]["reason"] == "因病返贫"
    event = await event_about("returned-to-poverty", household_id)
    assert event["data"]["status"] == "returned"
    assert (await registry.stats(divisions.village))["poor_persons"] == 1
    problem_of(await registry.post(household_id, "return", {"reason": "again"}), 409, "invalid_status")
    problem_of(await registry.post(household_id, "return", {}), 422, "validation_error")

    await registry.review(household_id, 2020, "9000.00")
    again = await registry.post(household_id, "exit", {})
    assert again.status_code == 200 and again.json()["status"] == "exited", again.text


async def test_removal_frees_members_and_publishes(registry: Registry, divisions: Divisions,
                                                  http: httpx.AsyncClient, auth: Auth) -> None:
    head = person(divisions.county, dt.date(1979, 7, 7))
    household_id = await registry.register(divisions.village, [member(head)])
    his = await auth("his-demo")
    poor = await eventually(lambda: http.post("/medical/eligibility-checks", headers=his, json={"id_number": head}),
                            lambda r: r.status_code == 200 and r.json()["poor_population"])
    assert poor.json()["poor_population"] is True, poor.text
    removed = await registry.post(household_id, "removal", {"reason": "识别错误: 有稳定工资收入"})
    assert removed.status_code == 200 and removed.json()["status"] == "removed", removed.text
    event = await event_about("household-removed", household_id)
    assert event["data"]["status"] == "removed" and head not in json.dumps(event)
    problem_of(await registry.post(household_id, "removal", {"reason": "twice"}), 409, "invalid_status")
    problem_of(await registry.post(household_id, "annual-reviews", {
        "income_year": 2020, "annual_income": "1.00", "indicators": ALL_MET}), 409, "invalid_status")
    assert (await registry.stats(divisions.village))["households"] == 0
    # removed is not registered poor for the other services
    check = await eventually(lambda: http.post("/medical/eligibility-checks", headers=his, json={"id_number": head}),
                             lambda r: r.status_code == 200 and not r.json()["poor_population"])
    assert check.json()["poor_population"] is False, check.text
    again = await registry.create(divisions.village, [member(head)])
    assert again["household_id"] != household_id


async def test_exited_and_returned_households_stay_registered_poor_elsewhere(
        registry: Registry, divisions: Divisions, http: httpx.AsyncClient, auth: Auth) -> None:
    head = person(divisions.county, dt.date(1980, 3, 3))
    household_id = await registry.register(divisions.village, [member(head)], annual_income="9000.00")
    assert (await registry.post(household_id, "exit", {})).json()["status"] == "exited"
    await event_about("exit-certified", household_id)
    his = await auth("his-demo")
    check = await eventually(lambda: http.post("/medical/eligibility-checks", headers=his, json={"id_number": head}),
                             lambda r: r.status_code == 200 and r.json()["poor_population"])
    assert check.json()["poor_population"] is True, check.text


# --- village and county exit ----------------------------------------------------------------------------------------

async def test_village_exits_only_below_three_percent(registry: Registry, divisions: Divisions) -> None:
    county = divisions.county
    assert (await registry.put_division(divisions.village, "village", divisions.town, population=100)).status_code \
        == 200
    first = await registry.register(divisions.village, [member(person(county)), member(person(county), "spouse")],
                                    annual_income="9000.00")
    await registry.register(divisions.village, [member(person(county))])
    assert (await registry.stats(divisions.village))["poverty_incidence"] == "0.0300"
    refused = problem_of(await registry.http.post(f"/registry/divisions/{divisions.village}/exit",
                                                  headers=registry.gov, json={}), 422, "incidence_above_threshold")
    assert refused["poverty_incidence"] == "0.0300" and refused["threshold"] == "0.0300"

    assert (await registry.post(first, "exit", {})).json()["status"] == "exited"
    exited = await registry.http.post(f"/registry/divisions/{divisions.village}/exit", headers=registry.gov, json={})
    assert exited.status_code == 200 and exited.json()["exited"] is True, exited.text
    assert exited.json()["poverty_incidence"] == "0.0100"
    event = await event_about("division-exited", divisions.village)
    assert event["data"]["division_code"] == divisions.village and event["data"]["level"] == "village"
    assert event["data"]["poverty_incidence"] == "0.0100" and event["data"]["threshold"] == "0.0300"
    read = await registry.http.get(f"/registry/divisions/{divisions.village}", headers=registry.gov)
    assert read.json()["exited"] is True


async def test_county_exit_by_incidence_and_divisions_that_cannot_exit(registry: Registry,
                                                                       divisions: Divisions) -> None:
    divisions = await fresh_county(registry, divisions.city)
    county = divisions.county
    assert (await registry.put_division(county, "county", divisions.city, population=20)).status_code == 200
    household_id = await registry.register(divisions.village, [member(person(county))], annual_income="9000.00")
    refused = problem_of(await registry.http.post(f"/registry/divisions/{county}/exit", headers=registry.gov,
                                                  json={}), 422, "incidence_above_threshold")
    assert refused["poverty_incidence"] == "0.0500"
    assert (await registry.post(household_id, "exit", {})).json()["status"] == "exited"
    exited = await registry.http.post(f"/registry/divisions/{county}/exit", headers=registry.gov, json={})
    assert exited.status_code == 200 and exited.json()["exited"] is True and exited.json()["level"] == "county"
    assert (await event_about("division-exited", county))["data"]["level"] == "county"

    problem_of(await registry.http.post(f"/registry/divisions/{divisions.town}/exit", headers=registry.gov,
                                        json={}), 422, "invalid_division")
    other = divisions.town + ("001" if not divisions.village.endswith("001") else "002")
    assert (await registry.put_division(other, "village", divisions.town, poor=False)).status_code == 201
    problem_of(await registry.http.post(f"/registry/divisions/{other}/exit", headers=registry.gov, json={}), 422,
               "invalid_division")


# --- policies, monitoring, verification quality -----------------------------------------------------------------------

async def test_policies_have_contract_defaults_and_drive_exit_decisions(registry: Registry, divisions: Divisions,
                                                                        http: httpx.AsyncClient,
                                                                        auth: Auth) -> None:
    auditor = await auth("auditor")
    for year, line in ((2015, "2855.00"), (2020, "4000.00"), (2030, "4000.00")):
        policy = await http.get(f"/registry/policies/{year}", headers=auditor)
        assert policy.status_code == 200, policy.text
        if policy.json()["source"] == "default":
            assert policy.json()["poverty_line"] == line and policy.json()["exit_incidence_threshold"] == "0.0300"
    # 1995 is a year no other test uses: a stored policy replaces the default table there
    put = await http.put("/registry/policies/1995", headers=registry.gov, json={
        "poverty_line": 5000, "exit_incidence_threshold": "0.0200", "return_risk_multiplier": "1.50"})
    assert put.status_code in (200, 201), put.text
    assert put.json() == {"year": 1995, "poverty_line": "5000.00", "exit_incidence_threshold": "0.0200",
                          "return_risk_multiplier": "1.50", "source": "set", "is_default": False}
    assert (await http.get("/registry/policies/1995", headers=auditor)).json()["poverty_line"] == "5000.00"
    household_id = await registry.register(divisions.village, [member(person(divisions.county))],
                                           annual_income="4999.99", income_year=1995)
    refused = problem_of(await registry.post(household_id, "exit", {}), 422, "exit_standard_not_met")
    assert refused["decision"]["poverty_line"] == "5000.00" and refused["decision"]["policy_source"] == "set"
    problem_of(await http.put("/registry/policies/1995", headers=registry.gov, json={"poverty_line": "x"}), 422,
               "validation_error")


async def test_monitoring_lists_exited_households_at_risk_with_reasons(registry: Registry,
                                                                       divisions: Divisions) -> None:
    county = divisions.county
    # 2020 line 4000, monitoring line 6000 per person
    low = await registry.register(divisions.village, [member(person(county))], annual_income="5000.00",
                                  income_year=2020)
    ill = await registry.register(divisions.village, [member(person(county), health="serious"),
                                                      member(person(county), "spouse", health="disabled",
                                                             disability_grade=2)],
                                  annual_income="13000.00", income_year=2020)
    safe = await registry.register(divisions.village, [member(person(county))], annual_income="6000.00",
                                   income_year=2020)
    turned = await registry.register(divisions.village, [member(person(county))], annual_income="9000.00",
                                     income_year=2020)
    not_exited = await registry.register(divisions.village, [member(person(county), health="disabled")],
                                         annual_income="100.00", income_year=2020)
    for household_id in (low, ill, safe, turned):
        assert (await registry.post(household_id, "exit", {})).json()["status"] == "exited"
    await registry.review(turned, 2021, "9000.00", housing_safe=False)

    answer = await registry.http.get("/registry/monitoring", headers=registry.gov,
                                     params={"division_code": divisions.town})
    assert answer.status_code == 200, answer.text
    items = {i["household_id"]: i for i in answer.json()["items"]}
    assert set(items) == {low, ill, turned}, items
    assert items[low]["reasons"] == ["income_below_monitoring_line"] and items[low]["monitoring_line"] == "6000.00"
    assert items[ill]["reasons"] == ["member_serious_illness", "member_disabled"]
    assert items[turned]["reasons"] == ["indicator_turned_false"]
    assert items[turned]["false_indicators"] == ["housing_safe"]
    assert not_exited not in items and safe not in items
    assert answer.json()["count"] == 3


async def test_verification_stats_per_town_with_the_error_rate(registry: Registry, divisions: Divisions) -> None:
    divisions = await fresh_county(registry, divisions.city)
    county = divisions.county
    kept = await registry.register(divisions.village, [member(person(county))])
    removed = await registry.register(divisions.village, [member(person(county))])
    await registry.register(divisions.village, [member(person(county))])
    refused_by_county = (await registry.create(divisions.village, [member(person(county))]))["household_id"]
    assert (await registry.verify(refused_by_county, "town")).status_code == 201
    assert (await registry.verify(refused_by_county, "county", approved=False)).json()["status"] == "rejected"
    refused_by_town = (await registry.create(divisions.village, [member(person(county))]))["household_id"]
    assert (await registry.verify(refused_by_town, "town", approved=False)).status_code == 201
    assert (await registry.post(removed, "removal", {"reason": "错评"})).status_code == 200

    answer = await registry.http.get(f"/registry/divisions/{county}/verification-stats", headers=registry.gov)
    assert answer.status_code == 200, answer.text
    assert answer.json()["level"] == "county"
    units = {u["division_code"]: u for u in answer.json()["units"]}
    town = units[divisions.town]
    assert {k: town[k] for k in ("town_approved", "town_refused", "approved", "refused_at_county_after_town",
                                 "removed_as_wrongly_identified", "error_rate")} == {
        "town_approved": 4, "town_refused": 1, "approved": 3, "refused_at_county_after_town": 1,
        "removed_as_wrongly_identified": 1, "error_rate": "0.5000"}
    city = await registry.http.get(f"/registry/divisions/{divisions.city}/verification-stats", headers=registry.gov)
    assert {u["division_code"]: u["error_rate"] for u in city.json()["units"]}[county] == "0.5000"
    problem_of(await registry.http.get(f"/registry/divisions/{divisions.village}/verification-stats",
                                       headers=registry.gov), 422, "invalid_division")
    assert kept
