"""An import whose process stopped mid-way must not stay `running` forever: startup fails it, unless a live process
still holds it; a queued import that never started is run."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from registry_helpers import READ

from fupin_kit.db import asyncpg_dsn
from registry.imports.service import IMPORT_LOCK_NAMESPACE, INTERRUPTED


async def insert_job(conn: asyncpg.Connection, state: str, content: bytes = b"household_key\n") -> uuid.UUID:
    import_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO import_job (id, filename, file_format, content, state, rows_total, rows_done, households_total,"
        " households_created, households_rejected, error_count, created_by) "
        "VALUES ($1, 'city.csv', 'csv', $2, $3, 10, 4, 3, 1, 0, 0, 'gov-portal')", import_id, content, state)
    return import_id


@asynccontextmanager
async def started_app() -> AsyncIterator[httpx.AsyncClient]:
    from registry.config import get_settings
    from registry.main import create_app

    get_settings.cache_clear()
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test") as http:
            yield http


async def job(http: httpx.AsyncClient, import_id: uuid.UUID) -> dict:  # type: ignore[type-arg]
    answer = await http.get(f"/registry/imports/{import_id}", headers=READ)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_startup_fails_an_interrupted_import_but_not_one_a_live_process_holds(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    other_process = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        orphan = await insert_job(conn, "running")
        alive = await insert_job(conn, "running")
        await other_process.execute("SELECT pg_advisory_lock($1, hashtext($2))", IMPORT_LOCK_NAMESPACE, str(alive))
        async with started_app() as http:
            failed = await job(http, orphan)
            assert failed["state"] == "failed" and failed["failure"] == INTERRUPTED
            assert failed["finished_at"] is not None
            assert (failed["rows_done"], failed["households_created"]) == (4, 1)  # what was stored stays reported
            assert (await job(http, alive))["state"] == "running"
    finally:
        await other_process.close()
        await conn.close()


async def test_startup_runs_an_import_that_was_accepted_but_never_started(database_url: str) -> None:
    import asyncio

    from registry.imports.parsing import COLUMNS

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        queued = await insert_job(conn, "queued", content=(",".join(COLUMNS) + "\n").encode())
    finally:
        await conn.close()
    async with started_app() as http:
        for _ in range(100):
            state = (await job(http, queued))["state"]
            if state in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
        assert state == "done"
