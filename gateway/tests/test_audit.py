"""The audit log: every authenticated call on a personal-data route, in PostgreSQL, append-only."""

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from conftest import bearer

from gateway.audit import AuditEntry, subject_of, touches_personal_data


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def audit_rows(database_url: str, request_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(libpq(database_url))
    try:
        return await conn.fetch("SELECT * FROM audit_log WHERE request_id = $1 ORDER BY id", request_id)
    finally:
        await conn.close()


async def test_a_personal_data_call_is_recorded(gateway: httpx.AsyncClient, database_url: str) -> None:
    household = str(uuid.uuid4())
    request_id = uuid.uuid4().hex
    await gateway.post(f"/registry/households/{household}/verifications", json={"level": "town", "approved": True},
                       headers={**bearer("registry:write"), "X-Request-ID": request_id})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    [row] = await audit_rows(database_url, request_id)
    assert (row["client_id"], row["method"], row["service"], row["path"], row["subject"], row["status"]) == (
        "gov-portal", "POST", "registry", f"/registry/households/{household}/verifications", household, 200)
    assert row["occurred_at"] is not None


async def test_refused_calls_are_recorded_with_their_outcome(gateway: httpx.AsyncClient, database_url: str) -> None:
    request_id = uuid.uuid4().hex
    await gateway.get("/medical/settlements/s-9", headers={**bearer("microcredit:loans", client_id="bank-demo"),
                                                           "X-Request-ID": request_id})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    [row] = await audit_rows(database_url, request_id)
    assert (row["client_id"], row["status"], row["subject"]) == ("bank-demo", 403, "s-9")


async def test_public_and_non_personal_calls_are_not_recorded(gateway: httpx.AsyncClient, database_url: str) -> None:
    public, ledger = uuid.uuid4().hex, uuid.uuid4().hex
    await gateway.get("/registry/divisions/610723001001/public-notice", headers={"X-Request-ID": public})
    await gateway.get("/finance/ledger/verify", headers={**bearer("finance:read"), "X-Request-ID": ledger})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    assert await audit_rows(database_url, public) == []
    assert await audit_rows(database_url, ledger) == []


async def test_the_database_refuses_update_delete_and_truncate(gateway: httpx.AsyncClient, database_url: str) -> None:
    request_id = uuid.uuid4().hex
    await gateway.get("/education/enrollments/e-1", headers={**bearer("education:read"), "X-Request-ID": request_id})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    conn = await asyncpg.connect(libpq(database_url))
    try:
        for statement in ("UPDATE audit_log SET status = 200 WHERE request_id = $1",
                          "DELETE FROM audit_log WHERE request_id = $1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, request_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE audit_log")
        assert len(await conn.fetch("SELECT 1 FROM audit_log WHERE request_id = $1", request_id)) == 1
    finally:
        await conn.close()


def test_the_subject_is_the_id_segments_of_the_path() -> None:
    assert subject_of("/registry/households/3f1e/objections/9a7b/resolution") == "3f1e,9a7b"
    assert subject_of("/microcredit/eligibility-checks") is None
    assert subject_of("/finance/payments") is None
    # A resident ID number does not belong in a URL; should one arrive there, the audit keeps it masked.
    assert subject_of("/registry/people/61072319900101123X") == "610723********123X"


def test_personal_data_routes() -> None:
    assert touches_personal_data("registry", "/registry/divisions/610723")
    assert touches_personal_data("medical", "/medical/hospitals/H1")
    assert touches_personal_data("finance", "/finance/payments")
    assert touches_personal_data("assistance", "/assistance/helpers/h1")
    assert touches_personal_data("welfare", "/welfare/cases/c1")
    assert not touches_personal_data("finance", "/finance/funds")


async def test_with_the_audit_database_down_calls_pass_until_the_backlog_bound_then_503(gateway_with) -> None:  # type: ignore[no-untyped-def]
    from conftest import free_port

    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gateway"
    async with gateway_with(database_url=unreachable, audit_max_backlog=2, audit_flush_seconds=60) as http:
        served = [await http.get("/registry/divisions/1", headers=bearer("registry:read")) for _ in range(2)]
        refused = await http.get("/registry/divisions/1", headers=bearer("registry:read"))
        public = await http.get("/registry/divisions/610723001001/public-notice")
        await http.app.state.runtime.audit.flush()  # the write fails: logged, rows kept
        assert len(http.app.state.runtime.audit._pending) == 2

    assert [a.status_code for a in served] == [200, 200]
    assert refused.status_code == 503 and refused.json()["code"] == "audit_unavailable"
    assert public.status_code == 200


# --- whose data, which hospital, the auditor's look-up, the hash chain (issue 12) ---------------------------------

def _id_number(born: str = "19990217") -> str:
    from stdnum.cn import ric

    body = f"610723{born}{uuid.uuid4().int % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _ref(number: str) -> str:
    import os

    from fupin_kit.ids import pseudonym
    from fupin_kit.settings import DEV_PSEUDONYM_KEY

    return pseudonym(number, os.environ.get("FUPIN_PSEUDONYM_KEY") or DEV_PSEUDONYM_KEY)


async def test_a_look_up_records_the_persons_pseudonym_never_the_number(gateway: httpx.AsyncClient,
                                                                        database_url: str) -> None:
    number, request_id = _id_number(), uuid.uuid4().hex
    await gateway.post("/microcredit/eligibility-checks", json={"id_number": number},
                       headers={**bearer("microcredit:eligibility", client_id="bank-demo", bank_code="B001"),
                                "X-Request-ID": request_id})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    [row] = await audit_rows(database_url, request_id)
    assert row["person_ref"] == _ref(number)
    assert number not in str(dict(row)) and number[:6] + "********" not in str(dict(row))


async def test_the_audit_names_the_hospital_from_the_request_or_the_services_answer(gateway: httpx.AsyncClient,
                                                                                    database_url: str) -> None:
    his = bearer("medical:settle", client_id="his-other", hospitals=("HOTHER01",))
    posted, read = uuid.uuid4().hex, uuid.uuid4().hex
    await gateway.post("/medical/settlements", json={"id_number": _id_number(), "hospital_code": "HOTHER01"},
                       headers={**his, "X-Request-ID": posted})
    await gateway.get("/medical/settlements/5b1c", headers={**his, "X-Request-ID": read,
                                                            "X-Echo-Audit-Hospital": "H0042"})
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]

    assert [r["hospital_code"] for r in await audit_rows(database_url, posted)] == ["HOTHER01"]
    assert [r["hospital_code"] for r in await audit_rows(database_url, read)] == ["H0042"]


async def test_the_auditor_sees_who_looked_at_a_person_and_that_look_is_audited(gateway: httpx.AsyncClient,
                                                                                database_url: str) -> None:
    number = _id_number()
    for client, scopes, path in (("bank-demo", "microcredit:eligibility", "/microcredit/eligibility-checks"),
                                 ("his-demo", "medical:settle", "/medical/eligibility-checks")):
        await gateway.post(path, json={"id_number": number}, headers=bearer(scopes, client_id=client))
    auditor = bearer("registry:read audit:read", client_id="auditor")
    ref = await gateway.post("/audit/person-refs", json={"id_number": number}, headers=auditor)
    assert ref.status_code == 200 and ref.json()["person_ref"] == _ref(number)
    request_id = uuid.uuid4().hex
    answer = await gateway.get("/audit", params={"person_ref": _ref(number)},
                               headers={**auditor, "X-Request-ID": request_id})
    assert answer.status_code == 200, answer.text
    assert [(i["client_id"], i["path"]) for i in answer.json()["items"]][-2:] == [
        ("his-demo", "/medical/eligibility-checks"), ("bank-demo", "/microcredit/eligibility-checks")]
    assert number not in answer.text
    await gateway.app.state.runtime.audit.flush()  # type: ignore[attr-defined]
    [own] = await audit_rows(database_url, request_id)
    assert (own["client_id"], own["service"], own["path"], own["person_ref"]) == (
        "auditor", "audit", "/audit", _ref(number))

    for headers in ({}, bearer("registry:read", client_id="auditor"), bearer("medical:write")):
        refused = await gateway.get("/audit", params={"person_ref": _ref(number)}, headers=headers)
        assert refused.status_code in (401, 403)
    bad = await gateway.get("/audit", params={"person_ref": number}, headers=auditor)  # not a pseudonym
    assert bad.status_code == 422


async def test_the_chain_verifies_and_a_changed_row_breaks_it(gateway: httpx.AsyncClient, database_url: str) -> None:
    auditor = bearer("audit:read", client_id="auditor")
    request_id = uuid.uuid4().hex
    await gateway.get("/registry/households/9f9f", headers={**bearer("registry:read"), "X-Request-ID": request_id})
    ok = await gateway.get("/audit/verify", headers=auditor)
    assert ok.status_code == 200 and ok.json()["valid"] is True and ok.json()["rows"] > 0, ok.text

    conn = await asyncpg.connect(libpq(database_url))
    try:
        [row] = await conn.fetch("SELECT chain_seq, status FROM audit_log WHERE request_id = $1", request_id)
        # someone with the owner's rights lifts the append-only trigger and edits a row
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        await conn.execute("UPDATE audit_log SET status = 599 WHERE request_id = $1", request_id)
        broken = await gateway.get("/audit/verify", headers=auditor)
        assert broken.json()["valid"] is False and broken.json()["first_broken"] == row["chain_seq"]
        await conn.execute("UPDATE audit_log SET status = $2 WHERE request_id = $1", request_id, row["status"])
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    finally:
        await conn.close()
    assert (await gateway.get("/audit/verify", headers=auditor)).json()["valid"] is True


async def test_the_chain_holds_under_concurrent_writers(gateway: httpx.AsyncClient, database_url: str) -> None:
    import asyncio

    from fupin_kit.db import Database
    from gateway.audit import AuditWriter, verify_chain

    writers = [AuditWriter(Database(database_url), batch_size=50, flush_seconds=0.01, max_backlog=1000)
               for _ in range(3)]
    for w in writers:
        for _ in range(60):
            w.record(AuditEntry(occurred_at=dt.datetime.now(dt.UTC), client_id="c", method="GET", service="registry",
                                path="/registry/x", subject=None, status=200, request_id=uuid.uuid4().hex))
    await asyncio.gather(*(w.flush() for w in writers))
    check = await verify_chain(writers[0]._db)
    assert check.valid, check
    for w in writers:
        await w._db.dispose()
