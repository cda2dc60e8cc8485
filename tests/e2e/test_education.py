"""Contract §3 (issue 6) through the gateway: grant policies per academic year, enrolments and the grants of every
stage, the one-time vocational grant, late registration, removal, grant look-ups, dropout risks (控辍保学), the
coverage report and the scopes of every route."""

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
from conftest import KAFKA, Divisions, eventually, household_body, member, resident_id

from fupin_kit.testing import wait_for_event

Auth = Callable[[str], Awaitable[dict[str, str]]]
CHINA = dt.timezone(dt.timedelta(hours=8))
DEFAULTS = {"preschool": "750.00", "boarding_primary": "1000.00", "boarding_junior": "1250.00", "senior": "2000.00",
            "secondary_vocational": "2000.00", "vocational_once": "3000.00"}


# ---------------------------------------------------------------------------------------------------- helpers

def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def current_academic_year() -> str:
    """September to August (contract §3), on the service's clock (China Standard Time)."""
    day = today()
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def future_academic_year(first: int, last: int) -> str:
    """An academic year far ahead that no other test sets a policy for (defaults: 2100-2149, PUT: 2150-2198)."""
    start = random.randint(first, last)
    return f"{start}-{start + 1}"


def born(age: int) -> dt.date:
    """A birth date about half a year past the `age`-th birthday, far from any boundary."""
    day = today()
    return dt.date(day.year - age - 1, day.month, min(day.day, 28)) + dt.timedelta(days=183)


class People:
    """Valid ID numbers of one county with distinct serials, so that no two share a masked form."""

    def __init__(self, county: str) -> None:
        self.county = county
        self._serials = iter(random.sample(range(1000), 1000))

    def aged(self, age: int) -> str:
        return self.born_on(born(age))

    def born_on(self, day: dt.date) -> str:
        return resident_id(self.county, day, next(self._serials))

    def ending_in_x(self, age: int) -> str:
        """One whose check character is X (callers may send it as a lower-case x).

        About one serial in eleven gives X, so the search walks the unused serials until one does: forty tries
        found none in one run of about forty-five.
        """
        return next(number for number in (self.aged(age) for _ in range(900)) if number.endswith("X"))


def anniversary(day: dt.date, years: int) -> dt.date:
    """The date `years` before `day` (a 29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def nowhere() -> str:
    """A region code of no test's divisions (those are 71xxxx to 89xxxx), for people in no household."""
    return f"9{random.randint(10000, 99999)}"


def masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def child(id_number: str, stage: str | None = None, boarding: bool = False) -> dict[str, Any]:
    return member(id_number, "child", labor="none", school_stage=stage, boarding=boarding)


async def identify(http: httpx.AsyncClient, gov: dict[str, str], village: str, members: list[dict[str, Any]]) -> str:
    created = await http.post("/registry/households", headers=gov, json=household_body(village, members))
    assert created.status_code == 201, created.text
    return str(created.json()["household_id"])


async def verify(http: httpx.AsyncClient, gov: dict[str, str], household_id: str) -> None:
    for level in ("town", "county"):
        answer = await http.post(f"/registry/households/{household_id}/verifications", headers=gov,
                                 json={"level": level, "approved": True, "officer": level, "note": "e2e"})
        assert answer.status_code in (200, 201), answer.text
    assert answer.json()["status"] == "registered"


async def register(http: httpx.AsyncClient, gov: dict[str, str], village: str, members: list[dict[str, Any]]) -> str:
    household_id = await identify(http, gov, village, members)
    await verify(http, gov, household_id)
    return household_id


async def dropout_risks(http: httpx.AsyncClient, headers: dict[str, str], division: str) -> list[dict[str, Any]]:
    """The items, each with the child's masked number added here from the registry's household answer: contract v2
    §3 lists the registry's `member_id` and never a masked number (education knows the birth date)."""
    answer = await http.get("/education/dropout-risks", headers=headers, params={"division_code": division})
    assert answer.status_code == 200, answer.text
    items = list(answer.json()["items"])
    assert all("masked_id_number" not in item and item["member_id"] for item in items), items
    masked_of: dict[str, str] = {}
    for household_id in {item["household_id"] for item in items}:
        found = await http.get(f"/registry/households/{household_id}", headers=headers)
        assert found.status_code == 200, found.text
        masked_of |= {m["member_id"]: m["masked_id_number"] for m in found.json()["members"]}
    return [{**item, "masked_id_number": masked_of.get(item["member_id"])} for item in items]


def listed(items: list[dict[str, Any]]) -> set[str]:
    return {item["masked_id_number"] for item in items}


async def wait_listed(http: httpx.AsyncClient, gov: dict[str, str], village: str, *children: str,
                      present: bool = True) -> list[dict[str, Any]]:
    """Wait until the household read model of education shows (or no longer shows) these school-age children."""
    wanted = {masked(number) for number in children}

    def accept(items: list[dict[str, Any]]) -> bool:
        return wanted <= listed(items) if present else not wanted & listed(items)

    items = await eventually(lambda: dropout_risks(http, gov, village), accept)
    assert accept(items), (wanted, items)
    return items


async def enrol(http: httpx.AsyncClient, headers: dict[str, str], id_number: str, stage: str, academic_year: str,
                boarding: bool = False, **extra: Any) -> httpx.Response:
    body = {"id_number": id_number, "school_code": f"S-{uuid.uuid4().hex[:6]}", "stage": stage, "grade": 1,
            "boarding": boarding, "academic_year": academic_year}
    return await http.post("/education/enrollments", headers=headers, json={**body, **extra})


async def enrolled(http: httpx.AsyncClient, headers: dict[str, str], *args: Any, **kwargs: Any) -> dict[str, Any]:
    answer = await enrol(http, headers, *args, **kwargs)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def grants_of(http: httpx.AsyncClient, headers: dict[str, str], id_number: str) -> list[dict[str, Any]]:
    answer = await http.post("/education/grant-lookups", headers=headers, json={"id_number": id_number})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["grants"])


async def read_enrollment(http: httpx.AsyncClient, headers: dict[str, str], enrollment_id: str) -> dict[str, Any]:
    answer = await http.get(f"/education/enrollments/{enrollment_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def amounts(grants: list[dict[str, Any]]) -> dict[str, str]:
    return {grant["kind"]: grant["amount"] for grant in grants}


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = dict(answer.json())
    assert body["code"] == code and body["status"] == status and body["title"] and body["detail"], body
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


# ---------------------------------------------------------------------------------------------------- policies

async def test_policy_defaults_and_a_put_changes_the_amounts_of_later_enrolments(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    unset_year = future_academic_year(2100, 2149)  # no test sets these
    unset = await http.get(f"/education/policies/{unset_year}", headers=auditor)
    assert unset.status_code == 200, unset.text
    assert unset.json() == {**DEFAULTS, "academic_year": unset_year, "is_default": True}
    year = future_academic_year(2150, 2198)  # an earlier run may have set it: start from the defaults, explicitly
    reset = await http.put(f"/education/policies/{year}", headers=gov, json=DEFAULTS)
    assert reset.status_code == 200 and reset.json() == {**DEFAULTS, "academic_year": year, "is_default": False}

    people = People(divisions.county)
    first, second, pupil = people.aged(5), people.aged(5), people.aged(8)
    await register(http, gov, divisions.village, [member(people.aged(40)), child(first, "preschool"),
                                                  child(second, "preschool"), child(pupil, "primary", True)])
    await wait_listed(http, gov, divisions.village, pupil)
    before = await enrolled(http, gov, first, "preschool", year)
    assert amounts(before["grants"]) == {"preschool": "750.00"}

    changed = {**DEFAULTS, "preschool": 800, "boarding_primary": "1100.50"}  # a JSON number is accepted too
    put = await http.put(f"/education/policies/{year}", headers=gov, json=changed)
    assert put.status_code == 200, put.text
    expected = {**DEFAULTS, "preschool": "800.00", "boarding_primary": "1100.50", "academic_year": year,
                "is_default": False}
    assert put.json() == expected
    assert (await http.get(f"/education/policies/{year}", headers=gov)).json() == expected
    assert (await http.get(f"/education/policies/{unset_year}", headers=gov)).json()["is_default"] is True

    after = await enrolled(http, gov, second, "preschool", year)
    assert amounts(after["grants"]) == {"preschool": "800.00"}
    boarding = await enrolled(http, gov, pupil, "primary", year, boarding=True)
    assert amounts(boarding["grants"]) == {"boarding_primary": "1100.50"}
    # a grant already awarded keeps the amount it was awarded with
    assert amounts((await read_enrollment(http, gov, before["enrollment_id"]))["grants"]) == {"preschool": "750.00"}


@pytest.mark.parametrize("year", ["2020-2022", "2020_2021", "20-21", "2021-2020", "abcd-efgh"])
async def test_policy_with_a_bad_academic_year_is_422_naming_the_field(http: httpx.AsyncClient, auth: Auth,
                                                                       year: str) -> None:
    gov = await auth("gov-portal")
    for answer in (await http.get(f"/education/policies/{year}", headers=gov),
                   await http.put(f"/education/policies/{year}", headers=gov, json=DEFAULTS)):
        assert "academic_year" in fields(problem(answer, 422, "validation_error"))


async def test_policy_body_is_validated(http: httpx.AsyncClient, auth: Auth) -> None:
    gov = await auth("gov-portal")
    year = future_academic_year(2150, 2198)
    missing = {key: value for key, value in DEFAULTS.items() if key != "vocational_once"}
    body = problem(await http.put(f"/education/policies/{year}", headers=gov, json=missing), 422, "validation_error")
    assert any("vocational_once" in field for field in fields(body)), body
    for bad in ("-1.00", "12.345", "lots"):
        answer = await http.put(f"/education/policies/{year}", headers=gov, json={**DEFAULTS, "senior": bad})
        assert any("senior" in field for field in fields(problem(answer, 422, "validation_error"))), bad


# ---------------------------------------------------------------------------------------------------- enrolments

STAGES: list[tuple[str, bool, int, dict[str, str]]] = [
    ("preschool", False, 5, {"preschool": "750.00"}),
    ("primary", True, 8, {"boarding_primary": "1000.00"}),
    ("primary", False, 9, {}),
    ("junior", True, 13, {"boarding_junior": "1250.00"}),
    ("junior", False, 14, {}),
    ("senior", True, 17, {"senior": "2000.00"}),
    ("secondary_vocational", False, 16, {"secondary_vocational": "2000.00", "vocational_once": "3000.00"}),
    ("higher_vocational", False, 19, {"vocational_once": "3000.00"}),
    ("university", False, 20, {}),
]


async def test_every_stage_earns_its_grants_at_enrolment(http: httpx.AsyncClient, auth: Auth,
                                                        divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    students = [(people.aged(age) if stage != "senior" else people.ending_in_x(age), stage, boarding, expected)
                for stage, boarding, age, expected in STAGES]
    household_id = await register(http, gov, divisions.village, [member(people.aged(45))] + [
        child(number, stage, boarding) for number, stage, boarding, _ in students])
    await wait_listed(http, gov, divisions.village, *[number for number, stage, *_ in students
                                                      if stage in ("primary", "junior")])

    once_grant = ""
    for number, stage, boarding, expected in students:
        body = await enrolled(http, gov, number.lower(), stage, year, boarding=boarding)  # x or X: one person
        case = (stage, boarding)
        assert amounts(body["grants"]) == expected, (case, body)
        assert body["registered_poor"] is True and body["stage"] == stage and body["boarding"] is boarding, case
        assert body["masked_id_number"] == masked(number) and number not in json.dumps(body), case
        for grant in body["grants"]:
            assert grant["status"] == "awarded" and grant["academic_year"] == year, (case, grant)
            uuid.UUID(grant["grant_id"])
            once_grant = grant["grant_id"] if stage == "higher_vocational" else once_grant
        stored = await read_enrollment(http, auditor, body["enrollment_id"])
        assert stored["grants"] == body["grants"] and stored["academic_year"] == year, case
        looked_up = await grants_of(http, auditor, number)
        assert sorted(looked_up, key=lambda g: g["grant_id"]) == sorted(body["grants"], key=lambda g: g["grant_id"])

    # each grant is published as grant-awarded for finance: no plain ID number travels, finance books the payment
    event = await wait_for_event(KAFKA, "grant-awarded", household_id)
    assert event["type"] == "cn.fupin.grant-awarded" and event["data"]["household_id"] == household_id
    assert not any(number in json.dumps(event) for number, *_ in students)
    payment = await eventually(
        lambda: http.get("/finance/payments", headers=gov, params={"reference": once_grant}),
        lambda r: r.status_code == 200 and len(r.json()) == 1)
    assert payment.status_code == 200 and len(payment.json()) == 1, payment.text
    assert Decimal(payment.json()[0]["amount"]) == Decimal("3000.00")
    assert payment.json()[0]["program"] == "education_grants"


async def test_enrolment_is_validated(http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    good = resident_id(divisions.county, born(10))
    broken = good[:-1] + ("1" if good[-1] == "0" else "0")
    for bad_id in (broken, good[:-1], "not-an-id-number", good[:6] + "20201340" + good[14:]):
        body = problem(await enrol(http, gov, bad_id, "primary", "2020-2021"), 422, "invalid_id_number")
        assert fields(body) == {"id_number"} and bad_id not in json.dumps(body), bad_id
    body = problem(await enrol(http, gov, good, "primary", "2020-2022"), 422, "validation_error")
    assert "academic_year" in fields(body)
    body = problem(await enrol(http, gov, good, "kindergarten", "2020-2021"), 422, "validation_error")
    assert "stage" in fields(body)
    lookup = await http.post("/education/grant-lookups", headers=gov, json={"id_number": broken})
    assert fields(problem(lookup, 422, "invalid_id_number")) == {"id_number"}
    assert (await grants_of(http, gov, good)) == []
    missing = await http.get(f"/education/enrollments/{uuid.uuid4()}", headers=gov)
    problem(missing, 404, "enrollment_not_found")


async def test_duplicate_enrollment_is_409_and_awards_no_second_grant(http: httpx.AsyncClient, auth: Auth,
                                                                      divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    student, sibling = people.aged(17), people.aged(12)
    await register(http, gov, divisions.village, [member(people.aged(44)), child(student, "senior"),
                                                  child(sibling, "junior", True)])
    await wait_listed(http, gov, divisions.village, sibling)
    first = await enrolled(http, gov, student, "senior", year)
    assert amounts(first["grants"]) == {"senior": "2000.00"}
    again = await enrol(http, gov, student, "senior", year, boarding=True, grade="2")  # another school too
    problem(again, 409, "duplicate_enrollment")
    # concurrent duplicates: exactly one enrolment, one grant
    racing = await asyncio.gather(*[enrol(http, gov, sibling, "junior", year, boarding=True) for _ in range(4)])
    assert sorted(answer.status_code for answer in racing) == [201, 409, 409, 409], [a.text for a in racing]
    assert all(a.json()["code"] == "duplicate_enrollment" for a in racing if a.status_code == 409)
    assert amounts(await grants_of(http, gov, sibling)) == {"boarding_junior": "1250.00"}
    assert len(await grants_of(http, gov, sibling)) == 1
    assert [g["grant_id"] for g in await grants_of(http, gov, student)] == [first["grants"][0]["grant_id"]]
    # the same person in another stage or another year is a new enrolment
    next_year = f"{int(year[:4]) + 1}-{int(year[:4]) + 2}"
    later = await enrolled(http, gov, student, "senior", next_year)
    assert amounts(later["grants"]) == {"senior": "2000.00"}
    assert len(await grants_of(http, gov, student)) == 2


async def test_enrolment_honours_idempotency_keys(http: httpx.AsyncClient, auth: Auth,
                                                  divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    year = future_academic_year(2100, 2149)
    student = resident_id(divisions.county, born(17))
    body = {"id_number": student, "school_code": "S-1", "stage": "senior", "grade": "1", "boarding": False,
            "academic_year": year}
    headers = {**gov, "Idempotency-Key": uuid.uuid4().hex}
    first = await http.post("/education/enrollments", headers=headers, json=body)
    assert first.status_code == 201, first.text
    retry = await http.post("/education/enrollments", headers=headers, json=body)
    assert retry.status_code == 201 and retry.json() == first.json()
    problem(await http.post("/education/enrollments", headers=headers, json={**body, "grade": "2"}), 409,
            "idempotency_conflict")


async def test_one_time_grant_is_paid_once_across_stages_and_years(http: httpx.AsyncClient, auth: Auth,
                                                                   divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    start = random.randint(2100, 2148)
    first_year, second_year = f"{start}-{start + 1}", f"{start + 1}-{start + 2}"
    people = People(divisions.county)
    student, twin, probe = people.aged(18), people.aged(18), people.aged(11)
    await register(http, gov, divisions.village, [member(people.aged(46)), child(student, "secondary_vocational"),
                                                  child(twin, "higher_vocational"), child(probe, "primary")])
    await wait_listed(http, gov, divisions.village, probe)

    secondary = await enrolled(http, gov, student, "secondary_vocational", first_year)
    assert amounts(secondary["grants"]) == {"secondary_vocational": "2000.00", "vocational_once": "3000.00"}
    higher = await enrolled(http, gov, student, "higher_vocational", second_year)
    assert higher["grants"] == []
    same_year = await enrolled(http, gov, student, "higher_vocational", first_year)
    assert same_year["grants"] == []
    again = await enrolled(http, gov, student, "secondary_vocational", second_year)
    assert amounts(again["grants"]) == {"secondary_vocational": "2000.00"}
    kinds = sorted((g["kind"], g["academic_year"]) for g in await grants_of(http, gov, student))
    assert kinds == [("secondary_vocational", first_year), ("secondary_vocational", second_year),
                     ("vocational_once", first_year)]

    # the other way round: higher vocational first, then secondary vocational
    higher_first = await enrolled(http, gov, twin, "higher_vocational", first_year)
    assert amounts(higher_first["grants"]) == {"vocational_once": "3000.00"}
    secondary_later = await enrolled(http, gov, twin, "secondary_vocational", second_year)
    assert amounts(secondary_later["grants"]) == {"secondary_vocational": "2000.00"}


# ---------------------------------------------------------------------------------------------------- who is poor

async def test_non_poor_student_gets_grants_when_the_household_is_registered_later(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    start = random.randint(2100, 2148)
    first_year, second_year = f"{start}-{start + 1}", f"{start + 1}-{start + 2}"
    people = People(divisions.county)
    senior, vocational, pupil = people.aged(17), people.aged(16), people.aged(9)

    unknown = await enrolled(http, gov, senior, "senior", first_year)  # not in any household yet
    assert unknown["grants"] == [] and unknown["registered_poor"] is False
    household_id = await identify(http, gov, divisions.village, [
        member(people.aged(41)), child(senior, "senior"), child(vocational, "secondary_vocational"),
        child(pupil, "primary", True)])
    voc = await enrolled(http, gov, vocational, "secondary_vocational", first_year)
    board = await enrolled(http, gov, pupil, "primary", first_year, boarding=True)
    later = await enrolled(http, gov, senior, "senior", second_year)
    assert voc["grants"] == [] and board["grants"] == [] and later["grants"] == []
    assert await grants_of(http, gov, vocational) == []

    await verify(http, gov, household_id)
    expected = {unknown["enrollment_id"]: {"senior": "2000.00"}, later["enrollment_id"]: {"senior": "2000.00"},
                voc["enrollment_id"]: {"secondary_vocational": "2000.00", "vocational_once": "3000.00"},
                board["enrollment_id"]: {"boarding_primary": "1000.00"}}
    for enrollment_id, grants in expected.items():
        caught_up = await eventually(lambda e=enrollment_id: read_enrollment(http, gov, e),
                                     lambda body, g=grants: amounts(body["grants"]) == g)
        assert amounts(caught_up["grants"]) == grants, caught_up
        assert caught_up["registered_poor"] is True
    looked_up = await grants_of(http, gov, senior)
    assert sorted((g["kind"], g["academic_year"]) for g in looked_up) == [("senior", first_year),
                                                                         ("senior", second_year)]
    # the catch-up awards each grant once: a new enrolment after it gets only its own
    assert len(await grants_of(http, gov, vocational)) == 2
    problem(await enrol(http, gov, vocational, "secondary_vocational", first_year), 409, "duplicate_enrollment")
    assert len(await grants_of(http, gov, vocational)) == 2


async def test_rejected_household_gets_no_grants(http: httpx.AsyncClient, auth: Auth,
                                                 divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    student = people.aged(17)
    household_id = await identify(http, gov, divisions.village, [member(people.aged(42)), child(student, "senior")])
    refused = await http.post(f"/registry/households/{household_id}/verifications", headers=gov,
                              json={"level": "town", "approved": False, "officer": "town", "note": "e2e"})
    assert refused.status_code in (200, 201) and refused.json()["status"] == "rejected", refused.text
    body = await enrolled(http, gov, student, "senior", year)
    assert body["grants"] == [] and body["registered_poor"] is False


async def test_removed_household_gets_no_further_grants(http: httpx.AsyncClient, auth: Auth,
                                                        divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    start = random.randint(2100, 2148)
    first_year, second_year = f"{start}-{start + 1}", f"{start + 1}-{start + 2}"
    people = People(divisions.county)
    student, pupil = people.aged(17), people.aged(10)
    household_id = await register(http, gov, divisions.village, [
        member(people.aged(43)), child(student, "senior"), child(pupil, "primary", True)])
    await wait_listed(http, gov, divisions.village, pupil)
    before = await enrolled(http, gov, student, "senior", first_year)
    assert amounts(before["grants"]) == {"senior": "2000.00"}

    removal = await http.post(f"/registry/households/{household_id}/removal", headers=gov,
                              json={"reason": "家庭成员有财政供养人员"})
    assert removal.status_code == 200 and removal.json()["status"] == "removed", removal.text
    await wait_listed(http, gov, divisions.village, pupil, present=False)
    after = await enrolled(http, gov, student, "senior", second_year)
    assert after["grants"] == [] and after["registered_poor"] is False
    boarding = await enrolled(http, gov, pupil, "primary", first_year, boarding=True)
    assert boarding["grants"] == []
    assert [g["grant_id"] for g in await grants_of(http, gov, student)] == [before["grants"][0]["grant_id"]]
    assert await grants_of(http, gov, pupil) == []


async def test_exited_household_keeps_its_grants(http: httpx.AsyncClient, auth: Auth,
                                                 divisions: Divisions) -> None:
    """脱贫不脱政策: an exited household is still registered poor for education."""
    gov = await auth("gov-portal")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    student, pupil = people.aged(17), people.aged(10)
    household_id = await register(http, gov, divisions.village, [
        member(people.aged(43)), child(student, "senior"), child(pupil, "primary", True)])
    review = await http.post(f"/registry/households/{household_id}/annual-reviews", headers=gov, json={
        "income_year": 2020, "annual_income": "30000.00", "indicators": {
            "food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
            "housing_safe": True, "drinking_water_safe": True}})
    assert review.status_code in (200, 201), review.text
    exited = await http.post(f"/registry/households/{household_id}/exit", headers=gov, json={})
    assert exited.status_code == 200 and exited.json()["status"] == "exited", exited.text
    await wait_for_event(KAFKA, "exit-certified", household_id)
    await wait_listed(http, gov, divisions.village, pupil)  # still registered poor: still watched
    body = await enrolled(http, gov, student, "senior", year)
    assert amounts(body["grants"]) == {"senior": "2000.00"} and body["registered_poor"] is True


# ---------------------------------------------------------------------------------------------------- 控辍保学

async def test_dropout_risks_list_school_age_children_without_an_enrolment_this_year(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    this_year = current_academic_year()
    last_year = f"{int(this_year[:4]) - 1}-{this_year[:4]}"
    people = People(divisions.county)
    five, six, ten, twelve, fifteen, sixteen = (people.aged(age) for age in (5, 6, 10, 12, 15, 16))
    # on the day asked: 6 today is in, 6 tomorrow is not; 16 today is out, 16 tomorrow is still 15
    day, tomorrow = today(), today() + dt.timedelta(days=1)
    six_today, six_tomorrow, sixteen_today, sixteen_tomorrow = (
        people.born_on(anniversary(on, years)) for on, years in ((day, 6), (tomorrow, 6), (day, 16), (tomorrow, 16)))
    household_id = await register(http, gov, divisions.village, [
        member(people.aged(38)), child(five, "preschool"), child(six, "primary"), child(ten, "primary"),
        child(twelve, "junior"), child(fifteen, "junior"), child(sixteen, "senior"), child(six_today),
        child(six_tomorrow), child(sixteen_today, "senior"), child(sixteen_tomorrow, "junior")])
    not_yet_poor = people.aged(9)
    await identify(http, gov, divisions.village, [member(people.aged(39)), child(not_yet_poor, "primary")])
    await enrolled(http, gov, ten, "primary", this_year)
    await enrolled(http, gov, twelve, "primary", last_year)  # last year's enrolment does not count

    items = await wait_listed(http, gov, divisions.village, six, twelve, fifteen, six_today, sixteen_tomorrow)
    expected = {masked(six): 6, masked(twelve): 12, masked(fifteen): 15, masked(six_today): 6,
                masked(sixteen_tomorrow): 15}
    assert {item["masked_id_number"]: item["age"] for item in items} == expected, items
    for item in items:
        assert item["household_id"] == household_id and item["village_code"] == divisions.village
    assert not any(number in json.dumps(items) for number in (five, six, ten, twelve, fifteen, sixteen,
                                                             six_today, sixteen_tomorrow))

    # the town, the county and the city see the same children; a division elsewhere does not
    for division in (divisions.town, divisions.county, divisions.city):
        assert expected.items() <= {i["masked_id_number"]: i["age"]
                                    for i in await dropout_risks(http, auditor, division)}.items(), division
    elsewhere = divisions.town[:6] + f"{(int(divisions.town[6:]) + 1) % 1000:03d}"
    assert not listed(await dropout_risks(http, gov, elsewhere)) & set(expected)

    # enrolling a child this academic year takes them off the list
    await enrolled(http, gov, six, "preschool", this_year)
    assert {i["masked_id_number"] for i in await dropout_risks(http, gov, divisions.village)} == {
        masked(twelve), masked(fifteen), masked(six_today), masked(sixteen_tomorrow)}


@pytest.mark.parametrize("division", ["", "12345", "1234567", "abcdef", "1234567890123"])
async def test_dropout_risks_need_a_division_code(http: httpx.AsyncClient, auth: Auth, division: str) -> None:
    answer = await http.get("/education/dropout-risks", headers=await auth("gov-portal"),
                            params={"division_code": division})
    assert "division_code" in fields(problem(answer, 422, "validation_error"))
    missing = await http.get("/education/dropout-risks", headers=await auth("gov-portal"))
    assert "division_code" in fields(problem(missing, 422, "validation_error"))


# ---------------------------------------------------------------------------------------------------- coverage

async def test_coverage_report_counts_enrolled_children_and_grants_awarded_and_paid(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    little, pupil, walker, teen = people.aged(5), people.aged(9), people.aged(10), people.aged(17)
    await register(http, gov, divisions.village, [
        member(people.aged(37)), child(little, "preschool"), child(pupil, "primary", True),
        child(walker, "primary"), child(teen, "secondary_vocational")])
    await wait_listed(http, gov, divisions.village, pupil, walker)
    for number, stage, boarding in ((little, "preschool", False), (pupil, "primary", True),
                                    (walker, "primary", False), (teen, "secondary_vocational", False)):
        await enrolled(http, gov, number, stage, year, boarding=boarding)
    await enrolled(http, gov, resident_id(divisions.county, born(17)), "senior", year)  # not poor: not counted

    async def report() -> dict[tuple[str, str], dict[str, Any]]:
        answer = await http.get("/education/reports/coverage", headers=auditor, params={"academic_year": year})
        assert answer.status_code == 200, answer.text
        assert answer.json()["academic_year"] == year
        return {(line["county_code"], line["stage"]): line for line in answer.json()["items"]
                if line["county_code"] == divisions.county}

    def line(enrolled_: int, awarded: int, amount: str, paid: int, paid_amount: str) -> dict[str, Any]:
        return {"enrolled": enrolled_, "grants_awarded": awarded, "amount_awarded": amount, "grants_paid": paid,
                "amount_paid": paid_amount}

    def shape(lines: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {stage: {key: value for key, value in entry.items() if key not in ("county_code", "stage")}
                for (_, stage), entry in lines.items()}

    awarded = shape(await report())
    assert awarded == {"preschool": line(1, 1, "750.00", 0, "0.00"), "primary": line(2, 1, "1000.00", 0, "0.00"),
                       "secondary_vocational": line(1, 2, "5000.00", 0, "0.00")}, awarded

    fund = await http.post("/finance/funds", headers=gov, json={
        "jurisdiction_code": divisions.county, "year": 2020, "source": "central", "purpose": "education_grants",
        "amount": "10000.00"})
    assert fund.status_code == 201, fund.text
    allocation = await http.post("/finance/allocations", headers=gov, json={
        "from_fund_id": fund.json()["fund_id"], "program": "education_grants", "amount": "10000.00"})
    assert allocation.status_code == 201, allocation.text
    expected = {"preschool": line(1, 1, "750.00", 1, "750.00"), "primary": line(2, 1, "1000.00", 1, "1000.00"),
                "secondary_vocational": line(1, 2, "5000.00", 2, "5000.00")}
    paid = shape(await eventually(report, lambda lines: shape(lines) == expected))
    assert paid == expected, paid
    assert all(g["status"] == "paid" for g in await grants_of(http, gov, teen))

    current = await http.get("/education/reports/coverage", headers=gov)
    assert current.status_code == 200 and current.json()["academic_year"] == current_academic_year()
    assert set(current.json()["totals"]) >= {"enrolled", "grants_awarded", "amount_awarded", "grants_paid",
                                             "amount_paid"}
    bad = await http.get("/education/reports/coverage", headers=gov, params={"academic_year": "2020-2022"})
    assert "academic_year" in fields(problem(bad, 422, "validation_error"))


# ---------------------------------------------------------------------------------------------------- scopes

def routes(id_number: str) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, path, body, scope needed) of every §3 route."""
    year = "2020-2021"
    return [
        ("GET", f"/education/policies/{year}", None, "read"),
        ("PUT", f"/education/policies/{year}", DEFAULTS, "write"),
        ("POST", "/education/enrollments", {"id_number": id_number, "school_code": "S-1", "stage": "senior",
                                            "grade": "1", "boarding": False, "academic_year": year}, "write"),
        ("GET", f"/education/enrollments/{uuid.uuid4()}", None, "read"),
        ("POST", "/education/grant-lookups", {"id_number": id_number}, "read"),
        ("GET", "/education/dropout-risks?division_code=610723", None, "read"),
        ("GET", "/education/reports/coverage", None, "read"),
    ]


@pytest.mark.parametrize("client_id", ["bank-demo", "bank-other", "his-demo"])
async def test_banks_and_hospitals_have_no_education_scope(http: httpx.AsyncClient, auth: Auth,
                                                           client_id: str) -> None:
    headers = await auth(client_id)
    for method, path, body, _ in routes(resident_id(nowhere(), born(12))):
        answer = await http.request(method, path, headers=headers, json=body)
        problem(answer, 403, "forbidden")


async def test_auditor_reads_but_cannot_enrol_or_set_policies(http: httpx.AsyncClient, auth: Auth) -> None:
    auditor = await auth("auditor")
    student = resident_id(nowhere(), born(12))
    for method, path, body, scope in routes(student):
        answer = await http.request(method, path, headers=auditor, json=body)
        if scope == "write":
            problem(answer, 403, "forbidden")
        elif "enrollments/" in path:
            problem(answer, 404, "enrollment_not_found")
        else:
            assert answer.status_code == 200, (path, answer.text)
    assert await grants_of(http, await auth("gov-portal"), student) == []  # the refused enrolment made nothing
    assert (await http.post("/education/enrollments", headers=await auth("gov-portal"), json=routes(student)[2][2])
            ).status_code == 201


async def test_every_route_needs_a_token(http: httpx.AsyncClient) -> None:
    for method, path, body, _ in routes(resident_id(nowhere(), born(12))):
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            problem(await http.request(method, path, headers=headers, json=body), 401, "unauthorized")


async def test_member_of_a_removed_household_registered_again_gets_grants(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    """Removal frees the members (contract §1); their new household's registration counts, whatever order the
    household-removed and household-registered topics are consumed in."""
    gov = await auth("gov-portal")
    year = future_academic_year(2100, 2149)
    people = People(divisions.county)
    student, pupil = people.aged(17), people.aged(10)
    first = await register(http, gov, divisions.village, [member(people.aged(43)), child(student, "senior"),
                                                          child(pupil, "primary", True)])
    removal = await http.post(f"/registry/households/{first}/removal", headers=gov, json={"reason": "分户"})
    assert removal.status_code == 200, removal.text
    second = await register(http, gov, divisions.village, [member(people.aged(44)), child(student, "senior"),
                                                           child(pupil, "primary", True)])
    items = await eventually(lambda: dropout_risks(http, gov, divisions.village),
                             lambda found: [i["household_id"] for i in found] == [second])
    await asyncio.sleep(1.5)  # let both households' events settle
    items = await dropout_risks(http, gov, divisions.village)
    assert [(i["household_id"], i["masked_id_number"]) for i in items] == [(second, masked(pupil))], items
    body = await enrolled(http, gov, student, "senior", year)
    assert amounts(body["grants"]) == {"senior": "2000.00"} and body["registered_poor"] is True
