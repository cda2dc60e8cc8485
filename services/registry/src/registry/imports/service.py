"""Bulk intake jobs: accepted in the request, processed in the background chunk by chunk.

Each chunk is one transaction (households, members, history, events, row errors, progress), so a crash leaves whole
households only and the progress figures always match what is stored."""

import asyncio
import datetime as dt
import logging
import multiprocessing
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO

import asyncpg
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import telemetry
from fupin_kit.db import asyncpg_dsn
from fupin_kit.errors import AppError, NotFound, Unprocessable
from fupin_kit.memory import release_memory
from fupin_kit.text import printable
from registry.imports import writer
from registry.imports.drafts import HouseholdDraft, QuickCheck, RowError, build_household
from registry.imports.models import ImportJob, ImportPublic, ImportRowError, ImportState, RowErrorPublic
from registry.imports.parsing import (
    MAX_BYTES,
    Row,
    UnreadableFile,
    check_file,
    file_format,
    household_key,
    household_sizes,
    read_file_rows,
)

log = logging.getLogger("registry.imports")
# Households per chunk (one transaction each). A chunk's rows, drafts and lines are the checking process's peak
# memory, its lines (about 1.5 MB for 500 households, about 1,700 members) the registry's: while a 100,000-member
# import runs the registry stays within about 6 MB of its RSS before it. (Measured when the checking was still a thread
# of the registry: 500 households held its RSS after a 20,000-member import to about +12 MB, 1,000 to about +18 MB,
# at the same CPU per member.)
CHUNK_HOUSEHOLDS = 500
# First key of the two-int advisory lock a process holds on its connection while it works on an import: the lock
# dies with the connection, so a `running` import whose lock is free has lost its process (restart, crash).
IMPORT_LOCK_NAMESPACE = 7301
# Connections an import stores its chunks on, side by side.
STORE_CONNECTIONS = 2
# The longest the registry waits for the checking process's next message (the file's first pass takes ~2 s for the
# largest file on a quiet machine, a chunk ~50 ms). The process is forked from a threaded one: should it hang (a lock
# another thread held at the fork), the import fails instead of holding its lock and connection for good.
CHECKER_SILENCE_SECONDS = 120.0
INTERRUPTED = ("interrupted: the registry stopped while this import was running; the households counted in "
               "households_created are stored, the rest were not. Upload the file again: households already "
               "stored are then reported as person_already_registered")


LOST_UPLOAD = ("the uploaded file is no longer on this registry instance (it stopped before the import started); "
               "upload the file again")


def spool_dir() -> Path:
    """Where accepted uploads wait for their import (env FUPIN_IMPORT_SPOOL_DIR; default under the temp dir)."""
    folder = Path(os.environ.get("FUPIN_IMPORT_SPOOL_DIR") or Path(tempfile.gettempdir()) / "fupin-registry-imports")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def spool_path(import_id: uuid.UUID) -> Path:
    return spool_dir() / f"{import_id}.upload"


def payload_too_large() -> AppError:
    return AppError(413, "payload_too_large",
                    f"intake files are limited to {MAX_BYTES // (1024 * 1024)} MiB; split the file by county",
                    errors=[{"field": "file", "message": f"larger than {MAX_BYTES} bytes"}])


def _spool(upload: BinaryIO, path: Path) -> bytes:
    """Copy the upload (already a temporary file of the form parser) to the spool in pieces; its first bytes."""
    upload.seek(0)
    with path.open("xb") as out:
        os.chmod(path, 0o600)
        shutil.copyfileobj(upload, out, 1 << 20)
    with path.open("rb") as spooled:
        return spooled.read(8)


async def accept(session: AsyncSession, *, filename: str, upload: BinaryIO, size: int | None,
                 actor: str) -> ImportJob:
    """Check the uploaded file and queue its import. The file goes to the spool on disk, never whole into memory
    nor into the database; the import reads it from there and deletes it when done."""
    if size is not None and size > MAX_BYTES:
        raise payload_too_large()
    job_id = uuid.uuid4()
    path = spool_path(job_id)
    try:
        head = await asyncio.to_thread(_spool, upload, path)
        if path.stat().st_size > MAX_BYTES:
            raise payload_too_large()
        fmt = file_format(filename, head)
        try:
            await asyncio.to_thread(check_file, path, fmt)
        except UnreadableFile as exc:
            raise Unprocessable("validation_error", f"the file cannot be imported: {exc}",
                                errors=[{"field": "file", "message": str(exc)}]) from exc
        job = ImportJob(id=job_id, filename=printable(filename)[:200], file_format=fmt, content=b"",
                        state=ImportState.queued, created_by=actor)
        session.add(job)
        await session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


async def read_job(session: AsyncSession, import_id: uuid.UUID, *, errors_offset: int = 0,
                   errors_limit: int = 1000) -> ImportPublic:
    job = await session.get(ImportJob, import_id)
    if job is None:
        raise NotFound("import_not_found", f"no import {import_id}")
    errors = (await session.exec(select(ImportRowError).where(ImportRowError.import_id == import_id)
                                 .order_by(col(ImportRowError.row), col(ImportRowError.id))
                                 .offset(errors_offset).limit(errors_limit))).all()
    return ImportPublic(
        import_id=job.id, state=job.state, status=job.state, filename=job.filename, file_format=job.file_format,
        rows_total=job.rows_total, rows_done=job.rows_done, households_total=job.households_total,
        households_created=job.households_created, households_rejected=job.households_rejected,
        error_count=job.error_count,
        errors=[RowErrorPublic(row=e.row, field=e.field, code=e.code, message=e.message) for e in errors],
        errors_truncated=errors_offset + len(errors) < job.error_count, failure=job.failure,
        created_at=job.created_at, finished_at=job.finished_at)


def group_rows(rows: Sequence[tuple[int, Row]]) -> dict[str, list[tuple[int, Row]]]:
    households: dict[str, list[tuple[int, Row]]] = {}
    for number, row in rows:
        households.setdefault(household_key(number, row), []).append((number, row))
    return households


Chunk = list[tuple[str, list[tuple[int, Row]]]]


def household_chunks(rows: Iterable[tuple[int, Row]], sizes: dict[str, int], *,
                     size: int = CHUNK_HOUSEHOLDS) -> Iterator[Chunk]:
    """`group_rows` of the whole file cut into chunks of `size` households (same households, same order), given as
    soon as each chunk's households are whole: `sizes` (`household_sizes`) says how many rows each one has. A file
    written household by household is thus held about one chunk at a time, never whole."""
    order = list(sizes)
    chunk_of = {key: i // size for i, key in enumerate(order)}
    missing = [sum(sizes[key] for key in order[start:start + size]) for start in range(0, len(order), size)]
    pending: dict[str, list[tuple[int, Row]]] = {}
    ready = 0
    for number, row in rows:
        key = household_key(number, row)
        pending.setdefault(key, []).append((number, row))
        missing[chunk_of[key]] -= 1
        while ready < len(missing) and missing[ready] == 0:
            keys = order[ready * size:(ready + 1) * size]
            yield [(key, pending.pop(key)) for key in keys]
            ready += 1


async def run(database_url: str, import_id: uuid.UUID) -> None:
    """Process a queued import to the end; an unexpected failure marks it failed (no row content is logged)."""
    dsn = asyncpg_dsn(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", IMPORT_LOCK_NAMESPACE,
                                   str(import_id)):
            return  # another process works on it
        job = await conn.fetchrow("UPDATE import_job SET state = 'running' WHERE id = $1 AND state = 'queued' "
                                  "RETURNING file_format, length(content) AS stored, created_by", import_id)
        if job is None:
            return
        path = spool_path(import_id)
        try:
            if job["stored"]:  # accepted by an earlier version, which kept the file in the row
                await asyncio.to_thread(path.write_bytes, await conn.fetchval(
                    "SELECT content FROM import_job WHERE id = $1", import_id))
            if not path.exists():
                await conn.execute("UPDATE import_job SET state = 'failed', failure = $2, finished_at = now() "
                                   "WHERE id = $1", import_id, LOST_UPLOAD)
                return
            await _process(conn, dsn, import_id, job["file_format"], path, job["created_by"])
        except Exception as exc:
            log.exception("import %s failed", import_id)
            await conn.execute("UPDATE import_job SET state = 'failed', failure = $2, finished_at = now(), "
                               "content = ''::bytea WHERE id = $1", import_id,
                               f"{type(exc).__name__}: processing stopped")
        finally:
            path.unlink(missing_ok=True)
    finally:
        await conn.close()
        release_memory()


def start(state: Any, database_url: str, import_id: uuid.UUID) -> None:
    """Process the import in a task that outlives the request; `state.import_tasks` keeps a reference to it."""
    if not hasattr(state, "import_tasks"):
        state.import_tasks = set()
    tasks: set[asyncio.Task[None]] = state.import_tasks
    task = asyncio.create_task(run(database_url, import_id), name=f"import-{import_id}")
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def recover_interrupted(database_url: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """At startup: fail the `running` imports no live process holds (their process stopped mid-way), and return
    them with the `queued` ones, which never started and are safe to run (`run` claims a job once)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    failed: list[uuid.UUID] = []
    try:
        for record in await conn.fetch("SELECT id FROM import_job WHERE state = 'running' ORDER BY created_at"):
            import_id = record["id"]
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", IMPORT_LOCK_NAMESPACE,
                                       str(import_id)):
                continue  # still being processed by another instance
            try:
                updated = await conn.execute(
                    "UPDATE import_job SET state = 'failed', failure = $2, finished_at = now(), content = ''::bytea "
                    "WHERE id = $1 AND state = 'running'", import_id, INTERRUPTED)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", IMPORT_LOCK_NAMESPACE,
                                   str(import_id))
            if updated.endswith(" 1"):
                failed.append(import_id)
                spool_path(import_id).unlink(missing_ok=True)
        queued = [r["id"] for r in await conn.fetch(
            "SELECT id FROM import_job WHERE state = 'queued' ORDER BY created_at")]
    finally:
        await conn.close()
    for import_id in failed:
        log.warning("import %s was interrupted by a restart: marked failed", import_id)
    return failed, queued


async def _process(conn: asyncpg.Connection, dsn: str, import_id: uuid.UUID, fmt: str, path: Path,
                   actor: str) -> None:
    villages = {r["code"] for r in await conn.fetch("SELECT code FROM division WHERE level = 'village'")}
    # Reading and checking the file is CPU work: done in a child process (the registry's memory and cores), chunk
    # by chunk, the next chunk's while PostgreSQL stores the current one. Forked, it starts at once with what is
    # already loaded; it only computes and sends (no event loop, no connection, no log), and its memory dies with it.
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    checker = context.Process(target=_check_file, name=f"import-{import_id}", daemon=True, args=(
        send, path, fmt, villages, QuickCheck.now(), telemetry.current_traceparent(), import_id, actor))
    checker.start()
    send.close()
    connections = [conn]
    try:
        rows_total, households_total = await _received(receive)
        await conn.execute("UPDATE import_job SET rows_total = $2, households_total = $3 WHERE id = $1",
                           import_id, rows_total, households_total)
        for _ in range(STORE_CONNECTIONS - 1):
            connections.append(await asyncpg.connect(dsn))
        await _store_chunks(connections, import_id, receive)
    finally:
        for other in connections[1:]:
            await other.close()
        if checker.is_alive():
            checker.kill()  # the thread waiting on the pipe then sees its end
        await asyncio.to_thread(checker.join)
    # The upload (names, plain ID numbers, health) is deleted once processed (contract v2 §0): the job keeps its
    # figures and row errors, never the file.
    await conn.execute("UPDATE import_job SET state = 'done', finished_at = now(), content = ''::bytea "
                       "WHERE id = $1", import_id)


async def _store_chunks(connections: list[asyncpg.Connection], import_id: uuid.UUID, receive: Connection) -> None:
    """Store each chunk the checking process sends, on whichever connection is free: the chunks of one file never
    share a person (the checking process refuses a person's second row in the file), so they can be stored side by
    side, each in its own transaction. The next chunk is received meanwhile."""
    free = list(connections)
    storing: dict[asyncio.Future[None], asyncpg.Connection] = {}
    pending = asyncio.ensure_future(_received(receive))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(_received(receive))
            if not free:
                done, _ = await asyncio.wait(storing, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    free.append(storing.pop(task))
                    task.result()  # a chunk that failed stops the import
            connection = free.pop()
            storing[asyncio.ensure_future(_store_chunk(connection, import_id, batch))] = connection
    finally:
        pending.cancel()
        # A chunk being stored ends (committed or rolled back) before the import is marked done or failed.
        results = await asyncio.gather(*storing, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _received(receive: Connection) -> Any:
    """The checking process's next message; raises what stopped it."""
    try:
        message = await asyncio.to_thread(_receive_within, receive, CHECKER_SILENCE_SECONDS)
    except EOFError:
        raise RuntimeError("the checking process stopped") from None
    if isinstance(message, BaseException):
        raise message
    return message


def _receive_within(receive: Connection, seconds: float) -> Any:
    if not receive.poll(seconds):  # the process's end (EOF) counts as readable: recv raises EOFError
        raise TimeoutError(f"the checking process sent nothing for {seconds:g} s")
    return receive.recv()


def _check_file(send: Connection, path: Path, fmt: str, villages: set[str], quick: QuickCheck,
                traceparent: str | None, import_id: uuid.UUID, actor: str) -> None:
    """The checking process: sends (rows, households) of the file, then each chunk's `writer.Batch`, then None; or
    the exception that stopped it."""
    try:
        sizes = household_sizes(path, fmt)
        send.send((sum(sizes.values()), len(sizes)))
        seen: dict[str, int] = {}  # person_ref -> row, across the file's chunks
        for chunk in household_chunks(read_file_rows(path, fmt), sizes, size=CHUNK_HOUSEHOLDS):
            drafts, errors = _check_chunk(chunk, villages, seen, quick)
            households = writer.ready(drafts, import_id=import_id, actor=actor, now=dt.datetime.now(dt.UTC),
                                      traceparent=traceparent)
            send.send(writer.Batch(households, errors, rows=sum(len(m) for _, m in chunk), count=len(chunk)))
        send.send(None)
    except Exception as exc:
        send.send(exc)
    finally:
        send.close()


def _check_chunk(chunk: Chunk, villages: set[str], seen: dict[str, int],
                 quick: QuickCheck | None = None) -> tuple[list[HouseholdDraft], list[RowError]]:
    drafts: list[HouseholdDraft] = []
    errors: list[RowError] = []
    for key, members in chunk:
        draft, draft_errors = build_household(key, members, villages, seen, quick)
        errors.extend(draft_errors)
        if draft:
            drafts.append(draft)
    return drafts, errors


async def _store_chunk(conn: asyncpg.Connection, import_id: uuid.UUID, batch: writer.Batch) -> None:
    try:
        async with conn.transaction():
            stored, refused = await _store_checked(conn, batch.households)
            await _progress(conn, import_id, rows=batch.rows, created=stored, rejected=batch.count - stored,
                            errors=batch.errors + refused)
    except asyncpg.UniqueViolationError:
        # A registration through the API took one of these persons meanwhile: retry one household at a time.
        await _store_one_by_one(conn, import_id, batch)


async def _store_checked(conn: asyncpg.Connection, households: list[writer.Ready]) -> tuple[int, list[RowError]]:
    """Store the households whose persons are free; returns how many were stored and the refused rows."""
    taken = await writer.taken_refs(conn, [ref for h in households for ref in h.refs])
    keep, refused = [], []
    for household in households:
        if any(ref in taken for ref in household.refs):
            refused.extend(writer.already_registered(household, taken))
        else:
            keep.append(household)
    if keep:
        await writer.store(conn, keep)
    return len(keep), refused


async def _store_one_by_one(conn: asyncpg.Connection, import_id: uuid.UUID, batch: writer.Batch) -> None:
    stored, all_errors = 0, list(batch.errors)
    for household in batch.households:
        for _ in range(3):  # a household can lose a race again; it is then refused like any taken person
            try:
                async with conn.transaction():
                    count, refused = await _store_checked(conn, [household])
                stored += count
                all_errors.extend(refused)
                break
            except asyncpg.UniqueViolationError:
                continue
        else:
            all_errors.extend(writer.already_registered(household, set(household.refs)))
    async with conn.transaction():
        await _progress(conn, import_id, rows=batch.rows, created=stored, rejected=batch.count - stored,
                        errors=all_errors)


async def _progress(conn: asyncpg.Connection, import_id: uuid.UUID, *, rows: int, created: int, rejected: int,
                    errors: list[RowError]) -> None:
    await writer.record_errors(conn, import_id, errors)
    await conn.execute(
        "UPDATE import_job SET rows_done = rows_done + $2, households_created = households_created + $3, "
        "households_rejected = households_rejected + $4, error_count = error_count + $5 WHERE id = $1",
        import_id, rows, created, rejected, len(errors))
