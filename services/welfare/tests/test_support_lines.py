"""Temporary assistance (cap under concurrency), ranger quotas and posts (quota under concurrency, eligibility),
relocations (subsidy once, relocation-completed) over HTTP on real PostgreSQL and Kafka."""

import asyncio
import datetime as dt

import httpx
from conftest import READ, WRITE
from wf_support import Bus, member, resident_id

from fupin_kit import clock

THIS_YEAR = clock.today().year


async def test_temporary_assistance_and_its_cap(client: httpx.AsyncClient, bus: Bus) -> None:
    household_id = await bus.household(member("1970-01-01"))
    first = await client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "3000.00", "cause": "illness", "decided_on": "2020-03-01"})
    assert first.status_code == 201, first.text
    assert first.json()["year_total"] == "3000.00" and first.json()["year_cap"] == "5000.00"
    over = await client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "2000.01", "cause": "disaster", "decided_on": "2020-09-01"})
    assert over.status_code == 422 and over.json()["code"] == "cap_exceeded"
    assert over.json()["available"] == "2000.00"
    next_year = await client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "5000.00", "cause": "disaster", "decided_on": "2021-01-01"})
    assert next_year.status_code == 201 and next_year.json()["year_total"] == "5000.00"
    read = await client.get(f"/welfare/temporary-assistance/{first.json()['benefit_id']}", headers=READ)
    assert read.status_code == 200 and read.json()["amount"] == "3000.00"
    due = await bus.outbox("benefit-due", household_id)
    assert [(d["kind"], d["case_id"], d["month"], d["amount"]) for d in due] == [
        ("temporary_assistance", None, None, "3000.00"), ("temporary_assistance", None, None, "5000.00")]
    bad = await client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "1", "cause": "boredom", "decided_on": "2020-03-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cause"
    unknown = await client.get("/welfare/temporary-assistance/00000000-0000-0000-0000-000000000000", headers=READ)
    assert unknown.status_code == 404 and unknown.json()["code"] == "benefit_not_found"


async def test_temporary_assistance_cap_holds_under_concurrency(client: httpx.AsyncClient, bus: Bus) -> None:
    household_id = await bus.household(member("1970-01-01"))
    answers = await asyncio.gather(*(client.post("/welfare/temporary-assistance", headers=WRITE, json={
        "household_id": household_id, "amount": "700.00", "cause": "accident", "decided_on": "2022-05-05"})
        for _ in range(12)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 7 and codes.count(422) == 5  # 7 × 700 = 4,900 ≤ 5,000 < 8 × 700
    total = await bus.fetchval("SELECT sum(amount) FROM benefits WHERE household_id = $1", household_id)
    assert str(total) == "4900.00"


async def test_ranger_quota_and_posts(client: httpx.AsyncClient, bus: Bus) -> None:
    county, village = "610790", "610790101001"
    adult = resident_id(dt.date(1990, 4, 1), area=county)
    household_id = await bus.household(member("1990-04-01", id_number=adult), village_code=village)
    none_yet = await client.get(f"/welfare/ranger-quotas/{county}/years/2020", headers=READ)
    assert none_yet.json() == {"county_code": county, "year": 2020, "quota": 0, "filled": 0, "available": 0}
    body = {"id_number": adult, "year": 2020, "appointed_on": "2020-03-15"}
    exhausted = await client.post("/welfare/ranger-posts", headers=WRITE, json=body)
    assert exhausted.status_code == 409 and exhausted.json()["code"] == "quota_exhausted"
    put = await client.put(f"/welfare/ranger-quotas/{county}/years/2020", headers=WRITE, json={"quota": 1})
    assert put.status_code == 201
    post = await client.post("/welfare/ranger-posts", headers=WRITE, json=body)
    assert post.status_code == 201, post.text
    answer = post.json()
    assert answer["age"] == 29 and answer["household_id"] == household_id and answer["county_code"] == county
    assert answer["status"] == "active" and answer["yearly_allowance"] == "10000.00"
    assert "id_number" not in answer and "masked_id_number" not in answer and adult not in post.text
    again = await client.post("/welfare/ranger-posts", headers=WRITE, json=body)
    assert again.status_code == 422 and again.json()["reasons"] == ["household_has_ranger"]
    below = await client.put(f"/welfare/ranger-quotas/{county}/years/2020", headers=WRITE, json={"quota": 0})
    assert below.status_code == 409 and below.json()["code"] == "quota_below_filled"
    same = await client.put(f"/welfare/ranger-quotas/{county}/years/2020", headers=WRITE, json={"quota": 1})
    assert same.status_code == 200
    assert (await client.get(f"/welfare/ranger-quotas/{county}/years/2020", headers=READ)).json()["filled"] == 1

    await client.post("/welfare/runs", headers=WRITE, json={"month": "2020-02"})
    for month in ("2020-03", "2020-04", "2020-05"):
        await client.post("/welfare/runs", headers=WRITE, json={"month": month})
    ended = await client.post(f"/welfare/ranger-posts/{answer['post_id']}/end", headers=WRITE,
                              json={"ended_on": "2020-05-10", "reason": "moved to the city"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    await client.post("/welfare/runs", headers=WRITE, json={"month": "2020-06"})
    benefits = (await client.get(f"/welfare/benefits?case_id={answer['post_id']}", headers=READ)).json()
    assert [(b["month"], b["amount"], b["kind"]) for b in benefits] == [
        ("2020-03", "833.33", "eco_ranger"), ("2020-04", "833.33", "eco_ranger"), ("2020-05", "833.34", "eco_ranger")]
    assert (await client.get(f"/welfare/ranger-quotas/{county}/years/2020", headers=READ)).json()["available"] == 1
    twice = await client.post(f"/welfare/ranger-posts/{answer['post_id']}/end", headers=WRITE,
                              json={"ended_on": "2020-05-10", "reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"
    assert (await client.get("/welfare/ranger-posts/nope", headers=READ)).json()["code"] == "ranger_post_not_found"


async def test_ranger_eligibility_reasons(client: httpx.AsyncClient, bus: Bus) -> None:
    county, village = "610791", "610791101001"
    await client.put(f"/welfare/ranger-quotas/{county}/years/2020", headers=WRITE, json={"quota": 10})
    old = resident_id(dt.date(1950, 1, 1), area=county)
    await bus.household(member("1950-01-01", id_number=old, labor="none"), village_code=village)
    answer = await client.post("/welfare/ranger-posts", headers=WRITE,
                               json={"id_number": old, "year": 2020, "appointed_on": "2020-01-02"})
    assert answer.status_code == 422 and answer.json()["code"] == "not_eligible"
    assert answer.json()["reasons"] == ["no_labor_capacity", "age_out_of_range"]
    removed = resident_id(dt.date(1990, 1, 1), area=county)
    await bus.household(member("1990-01-01", id_number=removed), status="removed", village_code=village)
    answer = await client.post("/welfare/ranger-posts", headers=WRITE,
                               json={"id_number": removed, "year": 2020, "appointed_on": "2020-01-02"})
    assert answer.json()["reasons"] == ["not_registered_poor"]
    stranger = resident_id(dt.date(1990, 1, 1), area=county)
    answer = await client.post("/welfare/ranger-posts", headers=WRITE,
                               json={"id_number": stranger, "year": 2020, "appointed_on": "2020-01-02"})
    assert answer.status_code == 422 and answer.json()["reasons"] == ["not_registered_poor"]
    invalid = await client.post("/welfare/ranger-posts", headers=WRITE,
                                json={"id_number": stranger[:-1] + ("0" if stranger[-1] != "0" else "1"),
                                      "year": 2020, "appointed_on": "2020-01-02"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_id_number"
    outside = await client.post("/welfare/ranger-posts", headers=WRITE,
                                json={"id_number": stranger, "year": 2020, "appointed_on": "2021-01-02"})
    assert outside.status_code == 422 and outside.json()["code"] == "validation_error"


async def test_ranger_quota_never_exceeded_under_concurrency(client: httpx.AsyncClient, bus: Bus) -> None:
    county, village = "610792", "610792101001"
    await client.put(f"/welfare/ranger-quotas/{county}/years/2021", headers=WRITE, json={"quota": 3})
    numbers = []
    for i in range(10):
        number = resident_id(dt.date(1985, 1, 1 + i), area=county)
        await bus.household(member(f"1985-01-{1 + i:02d}", id_number=number), village_code=village)
        numbers.append(number)
    answers = await asyncio.gather(*(client.post("/welfare/ranger-posts", headers=WRITE, json={
        "id_number": n, "year": 2021, "appointed_on": "2021-02-01"}) for n in numbers))
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 3 and codes.count(409) == 7
    assert all(a.json()["code"] == "quota_exhausted" for a in answers if a.status_code == 409)
    quota = (await client.get(f"/welfare/ranger-quotas/{county}/years/2021", headers=READ)).json()
    assert quota["filled"] == 3 and quota["available"] == 0


async def test_relocation_once_with_subsidy_and_event(client: httpx.AsyncClient, bus: Bus) -> None:
    members = [member("1970-01-01"), member("1972-01-01", relation="spouse"), member("2005-01-01", relation="child")]
    household_id = await bus.household(*members)
    body = {"household_id": household_id, "destination_village_code": "610723102001", "site_name": "幸福小区",
            "planned_year": 2020}
    plan = await client.post("/welfare/relocations", headers=WRITE, json=body)
    assert plan.status_code == 201 and plan.json()["status"] == "planned"
    relocation_id = plan.json()["relocation_id"]
    again = await client.post("/welfare/relocations", headers=WRITE, json=body)
    assert again.status_code == 409 and again.json()["code"] == "relocation_exists"
    moved = await client.post(f"/welfare/relocations/{relocation_id}/move-in", headers=WRITE,
                              json={"moved_in_on": "2020-10-01"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "moved_in" and moved.json()["persons"] == 3
    assert moved.json()["subsidy"] == "75000.00"
    twice = await client.post(f"/welfare/relocations/{relocation_id}/move-in", headers=WRITE,
                              json={"moved_in_on": "2020-10-02"})
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_status"
    benefit = (await client.get(f"/welfare/benefits/{moved.json()['benefit_id']}", headers=READ)).json()
    assert benefit["kind"] == "relocation" and benefit["amount"] == "75000.00" and benefit["month"] is None
    completed = await bus.outbox("relocation-completed", household_id)
    assert len(completed) == 1 and completed[0]["persons"] == 3
    assert completed[0]["benefit_id"] == moved.json()["benefit_id"]
    assert len(await bus.outbox("benefit-due", household_id)) == 1
    assert (await client.get(f"/welfare/relocations/{relocation_id}", headers=READ)).json()["status"] == "moved_in"
    assert (await client.get("/welfare/relocations/x", headers=READ)).json()["code"] == "relocation_not_found"
