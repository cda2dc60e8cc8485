"""Bulk intake (拉网式摸底) through the gateway: `POST /registry/imports` answers 202 at once, `GET` reports progress
and each bad row (row, field, code, message); good households are created whole, a bad row never leaves half a
household. The `fupin-import` CLI drives the same routes against the running gateway."""

import asyncio
import csv
import datetime as dt
import io
import json
import os
import random
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from conftest import GATEWAY, KAFKA, Divisions, resident_id
from test_registry import PatientTransport

from fupin_kit.testing import wait_for_event
from registry.imports.parsing import COLUMNS

Auth = Callable[[str], Awaitable[dict[str, str]]]
CLI = Path(sys.executable).with_name("fupin-import")
LOGS = Path(__file__).resolve().parents[2] / ".run" / "logs"
TRUE5 = {"food_clothing_secure": "true", "compulsory_education_ok": "true", "basic_medical_ok": "true",
         "housing_safe": "true", "drinking_water_safe": "true"}


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The conftest client, patient with the rate limit every engineer's e2e run shares."""
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30, transport=PatientTransport()) as client:
        yield client


def person(region: str) -> str:
    return resident_id(region, dt.date(1950, 1, 1) + dt.timedelta(days=random.randrange(365 * 60)))


def family(key: str, village: str, numbers: list[str], **household: str) -> list[dict[str, str]]:
    """One row per member; the household columns on the head's row only (the others may leave them blank)."""
    rows = []
    for i, number in enumerate(numbers):
        row = {"household_key": key, "relation": "head" if i == 0 else "child",
               "name": "赵大山" if i == 0 else "赵小山", "id_number": number,
               "labor": "full" if i == 0 else "none", "health": "healthy"}
        if i == 0:
            row |= {"village_code": village, "annual_income": "5200.00", "income_year": "2019",
                    "causes": "illness;lack_skills", **TRUE5, "low_income_guarantee": "false", **household}
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def finished(http: httpx.AsyncClient, headers: dict[str, str], import_id: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        answer = await http.get(f"/registry/imports/{import_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["state"] in ("done", "failed") or asyncio.get_running_loop().time() > deadline:
            return dict(answer.json())
        await asyncio.sleep(0.3)


async def lookup(http: httpx.AsyncClient, headers: dict[str, str], number: str) -> httpx.Response:
    return await http.post("/registry/person-lookups", headers=headers, json={"id_number": number})


async def test_bad_rows_are_reported_and_good_households_imported_whole(http: httpx.AsyncClient, auth: Auth,
                                                                        divisions: Divisions) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    county, village = divisions.county, divisions.village
    taken = person(county)  # registered through the API before the file arrives
    created = await http.post("/registry/households", headers=gov, json={
        "village_code": village, "head_id_number": taken, "annual_income": "1000.00", "income_year": 2019,
        "causes": ["illness"], "indicators": {k: True for k in TRUE5}, "low_income_guarantee": False,
        "members": [{"id_number": taken, "name": "钱一", "relation": "head", "labor": "full"}]})
    assert created.status_code == 201, created.text

    good = [person(county), person(county)]
    registered = [person(county)]
    bad_id_head, bad_id = person(county), person(county)
    bad_id = bad_id[:-1] + ("1" if bad_id[-1] == "0" else "0")
    lazy = [person(county), person(county)]
    elsewhere = [person(county)]
    headless = [person(county), person(county)]
    clash = [person(county), taken]
    rows = (family("G1", village, good)                                    # rows 2-3: good
            + family("G2", village, registered, status="registered")       # row 4: good, historical status
            + family("B1", village, [bad_id_head, bad_id])                 # rows 5-6: bad check digit in row 6
            + family("B2", village, lazy)                                  # rows 7-8: bad labour in row 8
            + family("B3", divisions.town + "000", elsewhere)              # row 9: no such village
            + family("B4", village, headless)                              # rows 10-11: nobody is head
            + family("B5", village, clash))                                # rows 12-13: row 13 already registered
    rows[6]["labor"] = "lazy"
    rows[8]["relation"] = "spouse"
    accepted = await http.post("/registry/imports", headers=gov, files={"file": ("survey.csv", to_csv(rows))})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["state"] in ("queued", "running", "done") and accepted.json()["import_id"]
    job = await finished(http, auditor, accepted.json()["import_id"])

    assert job["state"] == "done", job
    assert (job["rows_total"], job["rows_done"]) == (12, 12)
    assert (job["households_total"], job["households_created"], job["households_rejected"]) == (7, 2, 5)
    errors = {(e["row"], e["field"], e["code"]) for e in job["errors"]}
    assert errors == {
        (6, "id_number", "invalid_id_number"), (5, "household_key", "household_rejected"),
        (8, "labor", "validation_error"), (7, "household_key", "household_rejected"),
        (9, "village_code", "invalid_division"),
        (10, "relation", "head_not_member"), (11, "household_key", "household_rejected"),
        (13, "id_number", "person_already_registered"), (12, "household_key", "household_rejected")}, errors
    assert all(e["message"] for e in job["errors"]) and job["error_count"] == len(job["errors"])
    assert bad_id not in json.dumps(job)
    for log in LOGS.glob("*.log"):  # neither the rows nor the errors are logged
        text = log.read_text(errors="replace")
        assert bad_id not in text and good[0] not in text and taken not in text, log.name

    g1 = (await lookup(http, gov, good[1])).json()
    assert g1["status"] == "identified" and g1["relation"] == "child"
    household = (await http.get(f"/registry/households/{g1['household_id']}", headers=gov)).json()
    assert household["member_count"] == 2 and household["history"][0]["action"] == "imported"
    assert (await lookup(http, gov, registered[0])).json()["status"] == "registered"
    for number in (bad_id_head, *lazy, *elsewhere, *headless, clash[0]):  # no half household anywhere
        assert (await lookup(http, gov, number)).status_code == 404
    assert (await lookup(http, gov, taken)).json()["household_id"] == created.json()["household_id"]
    stats = (await http.get(f"/registry/divisions/{village}", headers=gov)).json()["stats"]
    assert (stats["households"], stats["persons"], stats["poor_persons"]) == (3, 4, 1)

    page = await http.get(f"/registry/imports/{job['import_id']}", headers=gov,
                          params={"errors_offset": 2, "errors_limit": 3})
    assert len(page.json()["errors"]) == 3 and page.json()["errors_truncated"] is True


async def test_xlsx_upload_with_historical_status_publishes_the_registration(http: httpx.AsyncClient, auth: Auth,
                                                                             divisions: Divisions,
                                                                             tmp_path: Path) -> None:
    gov = await auth("gov-portal")
    numbers = [person(divisions.county), person(divisions.county)]
    rows = family("X1", divisions.village, numbers, status="registered")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c, "") for c in COLUMNS])
    book.save(tmp_path / "survey.xlsx")
    accepted = await http.post("/registry/imports", headers=gov,
                               files={"file": ("survey.xlsx", (tmp_path / "survey.xlsx").read_bytes())})
    assert accepted.status_code == 202 and accepted.json()["file_format"] == "xlsx", accepted.text
    job = await finished(http, gov, accepted.json()["import_id"])
    assert job["state"] == "done" and job["households_created"] == 1 and job["errors"] == [], job
    found = (await lookup(http, gov, numbers[0])).json()
    assert found["status"] == "registered"
    event = await wait_for_event(KAFKA, "household-registered", found["household_id"])
    assert len(event["data"]["members"]) == 2 and numbers[0] not in json.dumps(event)


async def test_unreadable_files_unknown_imports_and_scopes(http: httpx.AsyncClient, auth: Auth) -> None:
    gov, auditor = await auth("gov-portal"), await auth("auditor")
    missing = await http.post("/registry/imports", headers=gov,
                              files={"file": ("x.csv", b"household_key,name\nH1,x\n")})
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error", missing.text
    assert missing.json()["errors"][0]["field"] == "file"
    no_file = await http.post("/registry/imports", headers=gov)
    assert no_file.status_code == 422 and no_file.json()["code"] == "validation_error"
    denied = await http.post("/registry/imports", headers=auditor, files={"file": ("x.csv", to_csv([]))})
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    unknown = await http.get("/registry/imports/00000000-0000-0000-0000-000000000000", headers=auditor)
    assert unknown.status_code == 404 and unknown.json()["code"] == "import_not_found"
    bank = await http.get("/registry/imports/00000000-0000-0000-0000-000000000000", headers=await auth("bank-demo"))
    assert bank.status_code == 403


async def test_fupin_import_cli_uploads_through_the_gateway_and_follows_to_done(http: httpx.AsyncClient,
                                                                                auth: Auth,
                                                                                tmp_path: Path) -> None:
    from registry.synthetic import households, write_file

    city = f"{random.randint(71, 89)}{random.randint(10, 99)}00"
    county = city[:4] + f"{random.randint(1, 99):02d}"
    town = county + f"{random.randint(1, 999):03d}"
    village = town + f"{random.randint(1, 999):03d}"
    tree = [{"code": code, "name": f"CLI {level}", "level": level, "parent_code": parent, "poor": True,
             "population": 500}
            for code, level, parent in ((city, "city", None), (county, "county", city), (town, "town", county),
                                        (village, "village", town))]
    (tmp_path / "tree.json").write_text(json.dumps(tree))
    families = list(households(20, villages=[village]))
    write_file(tmp_path / "city.csv", iter(families))

    process = await asyncio.create_subprocess_exec(
        str(CLI), str(tmp_path / "city.csv"), "--divisions", str(tmp_path / "tree.json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "FUPIN_GATEWAY_URL": GATEWAY, "COLUMNS": "200"})
    output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode == 0, output
    reported = re.search(r"import ([0-9a-f-]{36}): done", output)
    assert reported, output

    gov = await auth("gov-portal")
    job = (await http.get(f"/registry/imports/{reported.group(1)}", headers=gov)).json()
    assert job["state"] == "done" and job["rows_total"] == 20 and job["rows_done"] == 20
    assert job["households_created"] + job["households_rejected"] == len(families) and job["households_created"] > 0
    found = await lookup(http, gov, families[0][0]["id_number"])
    assert found.status_code == 200 and found.json()["village_code"] == village, found.text
    stats = (await http.get(f"/registry/divisions/{village}", headers=gov)).json()["stats"]
    assert stats["households"] == job["households_created"]


def multipart(boundary: str, content: bytes) -> tuple[dict[str, str], bytes]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"retry.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


async def test_an_upload_retried_byte_for_byte_with_its_key_is_replayed(http: httpx.AsyncClient, auth: Auth,
                                                                        divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    content = to_csv(family("R1", divisions.village, [person(divisions.county)]))
    headers, body = multipart("e2e-fixed-boundary", content)
    keyed = {**gov, **headers, "Idempotency-Key": f"e2e-import-{random.getrandbits(64):x}"}
    first = await http.post("/registry/imports", headers=keyed, content=body)
    retry = await http.post("/registry/imports", headers=keyed, content=body)
    assert first.status_code == retry.status_code == 202, (first.text, retry.text)
    assert retry.json()["import_id"] == first.json()["import_id"]
    assert (await finished(http, gov, first.json()["import_id"]))["households_created"] == 1


async def test_an_upload_retried_with_its_key_is_replayed_whatever_the_multipart_boundary(
        http: httpx.AsyncClient, auth: Auth, divisions: Divisions) -> None:
    gov = await auth("gov-portal")
    content = to_csv(family("R2", divisions.village, [person(divisions.county)]))
    keyed = {**gov, "Idempotency-Key": f"e2e-import-{random.getrandbits(64):x}"}
    first = await http.post("/registry/imports", headers={**keyed, **multipart("boundary-one", content)[0]},
                            content=multipart("boundary-one", content)[1])
    retry = await http.post("/registry/imports", headers={**keyed, **multipart("boundary-two", content)[0]},
                            content=multipart("boundary-two", content)[1])
    assert first.status_code == 202, first.text
    assert retry.status_code == 202 and retry.json()["import_id"] == first.json()["import_id"], retry.text
