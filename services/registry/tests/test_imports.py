import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from registry_helpers import KAFKA, READ, WRITE, bad_check_digit, household_body, make_tree

from fupin_events.payloads import HouseholdSnapshot, HouseholdStatusChanged
from fupin_kit.testing import wait_for_event
from registry.imports.parsing import COLUMNS
from registry.synthetic import households, write_file


def to_csv(families: list[list[dict[str, Any]]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for family in families:
        writer.writerows(family)
    return out.getvalue().encode()


async def upload(client: httpx.AsyncClient, name: str, content: bytes) -> httpx.Response:
    return await client.post("/registry/imports", headers=WRITE, files={"file": (name, content)})


async def finished(client: httpx.AsyncClient, import_id: str) -> dict[str, Any]:
    for _ in range(300):
        job = (await client.get(f"/registry/imports/{import_id}", headers=READ)).json()
        if job["state"] in ("done", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"import {import_id} did not finish: {job}")


async def lookup(client: httpx.AsyncClient, number: str) -> httpx.Response:
    return await client.post("/registry/person-lookups", headers=READ, json={"id_number": number})


def first_row_of(families: list[list[dict[str, Any]]], index: int) -> int:
    """Spreadsheet row number of the first member of family `index` (header is row 1)."""
    return 2 + sum(len(f) for f in families[:index])


async def test_bad_rows_are_reported_and_good_households_imported(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    families = [f for f in households(40, villages=[tree["village"]]) if len(f) >= 2][:6]
    bad_id, no_head, bad_labor, bad_village, repeated = 0, 1, 2, 3, 4
    families[bad_id][1]["id_number"] = bad_check_digit(families[bad_id][1]["id_number"])
    families[no_head][0]["relation"] = "spouse"
    families[bad_labor][1]["labor"] = "lazy"
    for m in families[bad_village]:
        m["village_code"] = tree["town"] + "999"
    families[repeated][1]["id_number"] = families[5][0]["id_number"]  # also in the good family 5 (later)
    accepted = await upload(client, "city.csv", to_csv(families))
    assert accepted.status_code == 202, accepted.text
    job = await finished(client, accepted.json()["import_id"])
    assert job["state"] == "done"
    rows = sum(len(f) for f in families)
    assert job["rows_total"] == rows and job["rows_done"] == rows
    assert (job["households_total"], job["households_created"], job["households_rejected"]) == (6, 1, 5)
    errors = {(e["row"], e["field"], e["code"]) for e in job["errors"]}
    assert (first_row_of(families, bad_id) + 1, "id_number", "invalid_id_number") in errors
    assert (first_row_of(families, bad_id), "household_key", "household_rejected") in errors
    assert (first_row_of(families, no_head), "relation", "head_not_member") in errors
    assert (first_row_of(families, bad_labor) + 1, "labor", "validation_error") in errors
    assert (first_row_of(families, bad_village), "village_code", "invalid_division") in errors
    assert (first_row_of(families, 5), "id_number", "person_already_registered") in errors
    assert job["error_count"] == len(job["errors"])
    # every row of a rejected household is reported; none of its members was stored
    for index in (bad_id, no_head, bad_labor, bad_village, 5):
        reported = {e["row"] for e in job["errors"]}
        start = first_row_of(families, index)
        assert set(range(start, start + len(families[index]))) <= reported
        member = families[index][1 if index == 5 else 0]  # family 5's head is also in family 4
        assert (await lookup(client, member["id_number"])).status_code == 404
    found = await lookup(client, families[repeated][0]["id_number"])
    assert found.status_code == 200 and found.json()["status"] == "identified"
    assert families[bad_id][1]["id_number"] not in str(job)


async def test_xlsx_with_historical_status_publishes_registration(client: httpx.AsyncClient,
                                                                  tmp_path: Path) -> None:
    tree = await make_tree(client)
    families = list(households(12, villages=[tree["village"]], statuses={"registered": 1}))
    path = tmp_path / "history.xlsx"
    write_file(path, iter(families))
    accepted = await upload(client, path.name, path.read_bytes())
    assert accepted.status_code == 202 and accepted.json()["file_format"] == "xlsx"
    job = await finished(client, accepted.json()["import_id"])
    assert job["households_created"] == len(families) and job["errors"] == []
    found = (await lookup(client, families[0][0]["id_number"])).json()
    assert found["status"] == "registered"
    event = await wait_for_event(KAFKA, "household-registered", found["household_id"])
    assert len(event["data"]["members"]) == len(families[0])
    snapshot = HouseholdSnapshot.model_validate(event["data"])  # the same model as a live county approval
    assert snapshot.sequence == 1 and "masked_id_number" not in str(event)
    members = (await client.get(f"/registry/households/{found['household_id']}", headers=READ)).json()["members"]
    assert [str(m.member_id) for m in snapshot.members] == [m["member_id"] for m in members]
    assert families[0][0]["id_number"] not in str(event) and families[0][0]["name"] not in str(event)
    household = (await client.get(f"/registry/households/{found['household_id']}", headers=READ)).json()
    assert household["history"][0]["action"] == "imported"
    stats = (await client.get(f"/registry/divisions/{tree['village']}", headers=READ)).json()["stats"]
    assert stats["poor_persons"] == sum(len(f) for f in families)


async def test_early_statuses_imported_in_bulk_publish_status_changed(client: httpx.AsyncClient) -> None:
    """Issue 17: the war map counts identified and town_verified households of a file as it counts those registered
    one by one (`household-status-changed`, the event the single-household path stages)."""
    tree = await make_tree(client)
    families = list(households(8, villages=[tree["village"]], statuses={"identified": 1}))
    verified = list(households(8, villages=[tree["village"]], statuses={"town_verified": 1}))
    job = await finished(client, (await upload(client, "early.csv", to_csv(families + verified))).json()["import_id"])
    assert job["households_created"] == len(families) + len(verified), job["errors"]
    for family, status in ((families[0], "identified"), (verified[0], "town_verified")):
        found = (await lookup(client, family[0]["id_number"])).json()
        assert found["status"] == status
        event = await wait_for_event(KAFKA, "household-status-changed", found["household_id"])
        data = HouseholdStatusChanged.model_validate(event["data"])
        assert (data.status, data.previous_status) == (status, None)
        assert (data.village_code, data.town_code, data.county_code) == (tree["village"], tree["town"],
                                                                         tree["county"])
        assert event["source"] == "registry" and event["subject"] == found["household_id"]
        raw = str(event)
        assert family[0]["id_number"] not in raw and family[0]["name"] not in raw and "person_ref" not in raw


async def test_stored_household_is_the_file_row_for_row(client: httpx.AsyncClient) -> None:
    """The rows are stored as COPY text lines built in the checking process: every column as the file says, free text
    with COPY's special characters (backslash, tab, newline, carriage return) included."""
    tree = await make_tree(client)
    family = next(f for f in households(30, villages=[tree["village"]], statuses={"registered": 1}) if len(f) >= 3)
    names = ["a\\N\tb", "line\nbreak\r\\.", '"quoted", 王\\t']
    for member, name in zip(family, names, strict=False):
        member["name"] = name
    for member in family:  # household columns, repeated on every row
        member.update(annual_income="1234.5", causes="illness;lack_funds", housing_safe="否",
                      low_income_guarantee="yes")
    family[1].update(health="disabled", disability_grade="2", school_stage="", boarding="")
    family[2].update(relation="child", labor="none", school_stage="junior", boarding="是")
    job = await finished(client, (await upload(client, "t.csv", to_csv([family]))).json()["import_id"])
    assert job["households_created"] == 1, job["errors"]
    found = (await lookup(client, family[0]["id_number"])).json()
    household = (await client.get(f"/registry/households/{found['household_id']}", headers=READ)).json()
    assert (household["status"], household["village_code"], household["town_code"], household["county_code"]) == (
        "registered", tree["village"], tree["town"], tree["county"])
    assert (household["annual_income"], household["income_year"], household["causes"]) == (
        "1234.50", int(family[0]["income_year"]), ["illness", "lack_funds"])
    assert household["indicators"]["housing_safe"] is False and household["low_income_guarantee"] is True
    members = household["members"]
    assert [m["name"] for m in members] == [m["name"] for m in family]
    assert [(m["relation"], m["health"], m["disability_grade"], m["labor"], m["school_stage"], m["boarding"])
            for m in members[:3]] == [
        (family[0]["relation"], family[0]["health"] or "healthy", int(family[0]["disability_grade"] or 0) or None,
         family[0]["labor"], family[0]["school_stage"] or None, family[0]["boarding"] in ("true", "1", "yes")),
        (family[1]["relation"], "disabled", 2, family[1]["labor"], None, False),
        ("child", family[2]["health"] or "healthy", int(family[2]["disability_grade"] or 0) or None, "none",
         "junior", True)]
    assert [m["masked_id_number"] for m in members] == [m["id_number"][:6] + "*" * 8 + m["id_number"][-4:]
                                                         for m in family]
    assert [(h["action"], h["to_status"], h["from_status"]) for h in household["history"]] == [
        ("imported", "registered", None)]


async def test_person_registered_through_the_api_is_refused_in_a_file(client: httpx.AsyncClient) -> None:
    tree = await make_tree(client)
    families = list(households(6, villages=[tree["village"]]))
    body = household_body(tree["village"], size=2)
    body["members"][1]["id_number"] = families[0][0]["id_number"]
    assert (await client.post("/registry/households", headers=WRITE, json=body)).status_code == 201
    job = await finished(client, (await upload(client, "c.csv", to_csv(families))).json()["import_id"])
    assert job["households_created"] == len(families) - 1, job["errors"]
    assert {"row": 2, "field": "id_number", "code": "person_already_registered"}.items() <= job["errors"][0].items()


async def test_a_file_of_many_chunks_stored_side_by_side(client: httpx.AsyncClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of two households, stored on two connections at once: every good household whole and once, every
    refused one reported, the figures those of the whole file."""
    from registry.imports import service

    monkeypatch.setattr(service, "CHUNK_HOUSEHOLDS", 2)
    assert service.STORE_CONNECTIONS == 2
    tree = await make_tree(client)
    families = list(households(60, villages=[tree["village"]], statuses={"registered": 1}))
    taken = next(i for i, family in enumerate(families) if i >= 2 and len(family) >= 2)  # its last member is free
    bad = len(families) - 4
    assert taken < bad
    body = household_body(tree["village"], size=2)
    body["members"][1]["id_number"] = families[taken][0]["id_number"]
    assert (await client.post("/registry/households", headers=WRITE, json=body)).status_code == 201
    families[bad][0]["labor"] = "lazy"
    job = await finished(client, (await upload(client, "many.csv", to_csv(families))).json()["import_id"])
    assert job["state"] == "done"
    rows = sum(len(f) for f in families)
    assert (job["rows_total"], job["rows_done"]) == (rows, rows)
    assert (job["households_total"], job["households_created"], job["households_rejected"]) == (
        len(families), len(families) - 2, 2)
    reported = {e["row"] for e in job["errors"]}
    for index, family in enumerate(families):
        first = first_row_of(families, index)
        found = await lookup(client, family[-1]["id_number"])
        if index in (taken, bad):
            assert set(range(first, first + len(family))) <= reported
            assert found.status_code == 404
        else:
            assert not set(range(first, first + len(family))) & reported
            assert found.status_code == 200 and found.json()["status"] == "registered"
            household = (await client.get(f"/registry/households/{found.json()['household_id']}",
                                          headers=READ)).json()
            assert len(household["members"]) == len(family)


async def test_a_chunk_that_fails_stops_the_import_with_what_was_stored_counted(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk stored on one connection fails while another is stored on the other: the import ends failed (no
    hang), and the households it counts as created are exactly those stored, whole."""
    from registry.imports import service

    monkeypatch.setattr(service, "CHUNK_HOUSEHOLDS", 2)
    store_chunk, calls = service._store_chunk, []

    async def failing_third(conn: Any, import_id: Any, batch: Any) -> None:
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("simulated")
        await store_chunk(conn, import_id, batch)

    monkeypatch.setattr(service, "_store_chunk", failing_third)
    tree = await make_tree(client)
    families = list(households(40, villages=[tree["village"]], statuses={"registered": 1}))
    job = await finished(client, (await upload(client, "fails.csv", to_csv(families))).json()["import_id"])
    assert job["state"] == "failed" and job["failure"] == "RuntimeError: processing stopped"
    stored = [(await lookup(client, family[0]["id_number"])).status_code == 200 for family in families]
    assert sum(stored) == job["households_created"] < len(families)
    for family, found in zip(families, stored, strict=True):
        for member in family:
            assert ((await lookup(client, member["id_number"])).status_code == 200) == found


async def test_a_checking_process_that_stops_answering_fails_the_import(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checking process is forked from a threaded registry; should it hang, the import fails once it has sent
    nothing for CHECKER_SILENCE_SECONDS (its lock and connection are not held for good) and the process is killed."""
    import time

    from registry.imports import service

    def hanging(*_args: Any) -> None:
        time.sleep(3600)

    monkeypatch.setattr(service, "_check_file", hanging)
    monkeypatch.setattr(service, "CHECKER_SILENCE_SECONDS", 0.5)
    tree = await make_tree(client)
    families = list(households(4, villages=[tree["village"]], statuses={"registered": 1}))
    job = await finished(client, (await upload(client, "hangs.csv", to_csv(families))).json()["import_id"])
    assert job["state"] == "failed" and job["failure"] == "TimeoutError: processing stopped"
    assert job["households_created"] == 0


async def test_unreadable_files_are_refused_at_once(client: httpx.AsyncClient) -> None:
    missing = await upload(client, "x.csv", b"household_key,name\nH1,x\n")
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    assert missing.json()["errors"][0]["field"] == "file" and "village_code" in missing.json()["detail"]
    empty = await upload(client, "x.csv", b"")
    assert empty.status_code == 422
    broken = await upload(client, "x.xlsx", b"PK\x03\x04 not really a workbook")
    assert broken.status_code == 422
    no_file = await client.post("/registry/imports", headers=WRITE)
    assert no_file.status_code == 422 and no_file.json()["code"] == "validation_error"


async def test_import_scopes_and_unknown_import(client: httpx.AsyncClient) -> None:
    denied = await client.post("/registry/imports", headers=READ, files={"file": ("x.csv", b"a")})
    assert denied.status_code == 403
    unknown = await client.get("/registry/imports/00000000-0000-0000-0000-000000000000", headers=READ)
    assert unknown.status_code == 404


async def test_the_upload_is_deleted_once_processed(client: httpx.AsyncClient, database_url: str) -> None:
    """Contract v2 §0: the raw file (names, plain ID numbers, health) is not kept after its import has run."""
    import asyncpg

    tree = await make_tree(client)
    families = list(households(3, villages=[tree["village"]]))
    accepted = await upload(client, "few.csv", to_csv(families))
    assert accepted.status_code == 202, accepted.text
    job = await finished(client, accepted.json()["import_id"])
    assert job["state"] == "done" and job["households_created"] == len(families)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        size = await conn.fetchval("SELECT length(content) FROM import_job WHERE id = $1::uuid", job["import_id"])
    finally:
        await conn.close()
    assert size == 0
