"""The append-only audit of calls that touch personal data: who, what route, which subject, whose data (the
pseudonym of the ID number in a look-up's body, never the number), which hospital, when, with what outcome.

The rows form a hash chain (each row hashes the previous one; a trigger in the database extends it, so replicas share
one chain): `GET /audit/verify` recomputes it, `GET /audit?person_ref=` answers who looked at a person (and is
itself audited).

Rows are queued in memory and written in batches by one background task, so a request never waits for the audit
insert. The queue is bounded: when the database has been unreachable long enough to fill it, personal-data
calls are refused (503 audit_unavailable) rather than served unaudited. What a crash can lose is the last flush
interval (`audit_flush_seconds`), and that is logged as an error when a write fails.
"""

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request
from prometheus_client import Counter, Gauge
from pydantic import BaseModel
from pydantic import Field as In
from sqlalchemy import BigInteger, Column, DateTime, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.auth import Principal, principal_from_request
from fupin_kit.db import Database
from fupin_kit.errors import AppError
from fupin_kit.ids import InvalidResidentId, mask_id_number, pseudonym, validate_resident_id
from fupin_kit.observability import request_id_var

log = logging.getLogger("fupin.gateway.audit")
AUDIT_WRITE_FAILURES = Counter("fupin_gateway_audit_write_failures_total", "Audit batches that failed to write")
AUDIT_BACKLOG = Gauge("fupin_gateway_audit_backlog", "Audit records waiting to be written")

_RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")
# Finance routes are about money flows; only its payments name a payee that can be a household.
_FINANCE_PERSONAL = ("/finance/payments",)
_PERSONAL_SERVICES = ("registry", "microcredit", "education", "medical", "assistance", "welfare")


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    client_id: str
    method: str
    service: str
    path: str
    subject: str | None = None
    status: int
    request_id: str
    person_ref: str | None = None
    hospital_code: str | None = None
    # set by the database's trigger (migration 0003_audit_chain)
    chain_seq: int | None = None
    prev_hash: str | None = None
    row_hash: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    occurred_at: dt.datetime
    client_id: str
    method: str
    service: str
    path: str
    subject: str | None
    status: int
    request_id: str
    person_ref: str | None = None
    hospital_code: str | None = None


AUDIT_HOSPITAL_HEADER = "fupin-audit-hospital"  # a service names the hospital a call was about (medical)
_HOSPITAL_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _json_object(body: bytes) -> Mapping[str, Any]:
    if not body or body[:1] not in (b"{", b" ", b"\n", b"\r", b"\t"):
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def whose_data(body: bytes, key: str) -> str | None:
    """The pseudonym (`person_ref`, the same keyed HMAC the services use) of the resident ID number a look-up names
    in its JSON body; None when there is none or it is not a valid number. The number itself is never kept."""
    number = _json_object(body).get("id_number")
    if not isinstance(number, str):
        return None
    try:
        return pseudonym(validate_resident_id(number), key)
    except InvalidResidentId:
        return None


def which_hospital(body: bytes, answer_headers: Mapping[str, str] | None) -> str | None:
    """The hospital a call was about: the service's answer says it (reads, reversals), else the request names it."""
    named = (answer_headers or {}).get(AUDIT_HOSPITAL_HEADER) or _json_object(body).get("hospital_code")
    return named if isinstance(named, str) and _HOSPITAL_CODE.match(named) else None


def row_hash_text(prev_hash: str, chain_seq: int, row: Mapping[str, Any]) -> str:
    """The text the chain hashes for one row; the trigger of migration 0003_audit_chain spells the same in SQL."""
    occurred: dt.datetime = row["occurred_at"]
    delta = occurred - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return "|".join([prev_hash, str(chain_seq), str(row["id"]), str(micros), row["client_id"], row["method"],
                     row["service"], row["path"], row["subject"] or "", str(row["status"]), row["request_id"],
                     row["person_ref"] or "", row["hospital_code"] or ""])


def row_hash(prev_hash: str, chain_seq: int, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(row_hash_text(prev_hash, chain_seq, row).encode()).hexdigest()


def touches_personal_data(service: str, path: str) -> bool:
    """Every route of the services that hold personal data (helpers' and team members' names and phones in
    assistance, disability grades in welfare); finance payments (payees can be households)."""
    return service in _PERSONAL_SERVICES or path.startswith(_FINANCE_PERSONAL)


def subject_of(path: str) -> str | None:
    """The id segments of the path (those holding a digit: uuids, codes, years), comma-joined; never a body value.

    A resident ID number does not belong in a URL (contract §0); if a caller puts one there anyway it is masked.
    """
    ids = [mask_id_number(s) if _RESIDENT_ID.match(s) else s for s in path.strip("/").split("/")[1:]
           if any(ch.isdigit() for ch in s)]
    return ",".join(ids)[:500] or None


_ENTRY_COLUMNS = tuple(f.name for f in fields(AuditEntry))


async def _copy_rows(conn: AsyncConnection, batch: list[AuditEntry]) -> None:
    """One COPY of the batch, in order (the chain's BEFORE INSERT trigger runs for each row as for an INSERT): no
    per-row parameter building (the ORM's insert and `asdict`'s deep copies cost a tenth of a proxied call)."""
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
    await driver.copy_records_to_table(AuditRecord.__tablename__, columns=_ENTRY_COLUMNS,
                                       records=[tuple(getattr(e, c) for c in _ENTRY_COLUMNS) for e in batch])


class AuditFull(Exception):
    """The backlog is at its bound: the database has not accepted audit rows for a while."""


class AuditWriter:
    def __init__(self, db: Database, *, batch_size: int, flush_seconds: float, max_backlog: int) -> None:
        self._db = db
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._max_backlog = max_backlog
        self._pending: list[AuditEntry] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def ensure_capacity(self) -> None:
        if len(self._pending) >= self._max_backlog:
            raise AuditFull()

    def record(self, entry: AuditEntry) -> None:
        self._pending.append(entry)
        AUDIT_BACKLOG.set(len(self._pending))
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-audit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
        if self._pending:
            log.error("audit: %d records could not be written at shutdown", len(self._pending))

    async def flush(self) -> None:
        """Write everything queued so far (keeps the rows queued and logs an error when the database refuses)."""
        async with self._lock:
            while self._pending:
                batch = self._pending[: self._batch_size]
                try:
                    async with self._db.engine.begin() as conn:
                        await _copy_rows(conn, batch)
                except Exception:
                    AUDIT_WRITE_FAILURES.inc()
                    log.exception("audit: writing %d records failed; kept for the next attempt", len(batch))
                    return
                del self._pending[: len(batch)]
                AUDIT_BACKLOG.set(len(self._pending))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_seconds)
            self._wake.clear()
            await self.flush()


# --- the auditor's routes ---------------------------------------------------------------------------------------

AUDIT_SCOPE = "audit:read"
router = APIRouter(prefix="/audit", tags=["audit"])
PersonRef = Annotated[str, Query(pattern=r"^[0-9a-f]{64}$",
                                 description="the person's pseudonym (POST /audit/person-refs turns a number into it)")]


def _auditor(request: Request) -> Principal:
    principal = principal_from_request(request)
    if not principal.has(AUDIT_SCOPE):
        raise AppError(403, "forbidden", f"this route needs the scope {AUDIT_SCOPE}")
    return principal


class AuditItem(BaseModel):
    occurred_at: dt.datetime
    client_id: str
    method: str
    service: str
    path: str
    subject: str | None
    hospital_code: str | None
    status: int
    request_id: str


class PersonAudit(BaseModel):
    person_ref: str
    items: list[AuditItem]


class ChainCheck(BaseModel):
    valid: bool
    rows: int
    first_broken: int | None = In(None, description="chain position of the first row whose hash does not match")
    last_hash: str | None


class PersonRefIn(BaseModel):
    id_number: str = In(max_length=32)


class PersonRefOut(BaseModel):
    person_ref: str


def _record_own(request: Request, principal: Principal, *, path: str, person_ref: str | None, status: int) -> None:
    from gateway.runtime import runtime

    runtime(request).audit.record(AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC), client_id=principal.client_id, method=request.method, service="audit",
        path=path, subject=None, status=status, request_id=request_id_var.get(), person_ref=person_ref))


@router.get("", response_model=PersonAudit, summary="Who looked at a person's data (audited itself)")
async def person_audit(request: Request, person_ref: PersonRef,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> PersonAudit:
    from gateway.runtime import runtime

    principal = _auditor(request)
    rt = runtime(request)
    try:
        rt.audit.ensure_capacity()
    except AuditFull as exc:
        raise AppError(503, "audit_unavailable", "the audit log cannot be written; personal data is not served",
                       headers={"Retry-After": "5"}) from exc
    await rt.audit.flush()  # the calls of the last moments are in the answer
    async with rt.db.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT occurred_at, client_id, method, service, path, subject, hospital_code, status, request_id "
            "FROM audit_log WHERE person_ref = :ref ORDER BY chain_seq DESC LIMIT :limit"),
            {"ref": person_ref, "limit": limit})).mappings().all()
    _record_own(request, principal, path="/audit", person_ref=person_ref, status=200)
    return PersonAudit(person_ref=person_ref, items=[AuditItem(**dict(r)) for r in rows])


@router.post("/person-refs", response_model=PersonRefOut, summary="The pseudonym of an ID number (body, not URL)")
async def person_ref_of(request: Request, body: PersonRefIn) -> PersonRefOut:
    from gateway.runtime import runtime

    principal = _auditor(request)
    try:
        number = validate_resident_id(body.id_number)
    except InvalidResidentId as exc:
        raise AppError(422, "invalid_id_number", f"id_number is not a valid resident ID number: {exc}",
                       errors=[{"field": "id_number", "message": str(exc)}]) from exc
    ref = pseudonym(number, runtime(request).settings.pseudonym_key.get_secret_value())
    _record_own(request, principal, path="/audit/person-refs", person_ref=ref, status=200)
    return PersonRefOut(person_ref=ref)


async def verify_chain(db: Database, batch: int = 5000) -> ChainCheck:
    """Walk the chain in order, recomputing every row's hash from its fields and the previous row's hash."""
    prev, seq, rows = "", 0, 0
    async with db.engine.connect() as conn:
        while True:
            found = (await conn.execute(text(
                "SELECT id, chain_seq, occurred_at, client_id, method, service, path, subject, status, request_id, "
                "person_ref, hospital_code, prev_hash, row_hash FROM audit_log WHERE chain_seq > :after "
                "ORDER BY chain_seq LIMIT :batch"), {"after": seq, "batch": batch})).mappings().all()
            for row in found:
                seq, rows = row["chain_seq"], rows + 1
                expected = row_hash(prev, seq, dict(row))
                if row["chain_seq"] != rows or row["prev_hash"] != prev or row["row_hash"] != expected:
                    return ChainCheck(valid=False, rows=rows, first_broken=seq, last_hash=prev or None)
                prev = row["row_hash"]
            if len(found) < batch:
                break
        unchained = (await conn.execute(text("SELECT count(*) FROM audit_log WHERE chain_seq IS NULL"))).scalar_one()
    if unchained:
        return ChainCheck(valid=False, rows=rows, first_broken=None, last_hash=prev or None)
    return ChainCheck(valid=True, rows=rows, first_broken=None, last_hash=prev or None)


@router.get("/verify", response_model=ChainCheck, summary="Recompute the audit log's hash chain")
async def verify(request: Request) -> ChainCheck:
    from gateway.runtime import runtime

    principal = _auditor(request)
    rt = runtime(request)
    await rt.audit.flush()
    answer = await verify_chain(rt.db)
    _record_own(request, principal, path="/audit/verify", person_ref=None, status=200)
    return answer
