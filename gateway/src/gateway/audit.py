"""The append-only audit of calls that touch personal data: who, what route, which subject, when, with what outcome.

Rows are queued in memory and written in batches by one background task, so a request never waits for the
audit insert. The queue is bounded: when the database has been unreachable long enough to fill it, personal-data
calls are refused (503 audit_unavailable) rather than served unaudited. What a crash can lose is the last flush
interval (`audit_flush_seconds`), and that is logged as an error when a write fails.
"""

import asyncio
import contextlib
import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass

from prometheus_client import Counter, Gauge
from sqlalchemy import BigInteger, Column, DateTime, insert
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.db import Database
from fupin_kit.ids import mask_id_number

log = logging.getLogger("fupin.gateway.audit")
AUDIT_WRITE_FAILURES = Counter("fupin_gateway_audit_write_failures_total", "Audit batches that failed to write")
AUDIT_BACKLOG = Gauge("fupin_gateway_audit_backlog", "Audit records waiting to be written")

_RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")
# Finance routes are about money flows; only its payments name a payee that can be a household.
_FINANCE_PERSONAL = ("/finance/payments",)
_PERSONAL_SERVICES = ("registry", "microcredit", "education", "medical")


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


def touches_personal_data(service: str, path: str) -> bool:
    """Every route of registry, microcredit, education and medical; finance payments (payees can be households)."""
    return service in _PERSONAL_SERVICES or path.startswith(_FINANCE_PERSONAL)


def subject_of(path: str) -> str | None:
    """The id segments of the path (those holding a digit: uuids, codes, years), comma-joined; never a body value.

    A resident ID number does not belong in a URL (contract §0); if a caller puts one there anyway it is masked.
    """
    ids = [mask_id_number(s) if _RESIDENT_ID.match(s) else s for s in path.strip("/").split("/")[1:]
           if any(ch.isdigit() for ch in s)]
    return ",".join(ids)[:500] or None


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
                        await conn.execute(insert(AuditRecord), [asdict(e) for e in batch])
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
