"""The audit log: every authenticated call on a personal-data route, in PostgreSQL, append-only."""

import uuid

import asyncpg
import httpx
import pytest
from conftest import bearer

from gateway.audit import subject_of, touches_personal_data


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
