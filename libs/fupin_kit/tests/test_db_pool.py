"""The pool without pre-ping: a connection the server closed is replaced at checkout, not handed to a request; a
write in plain SQL on a pooled connection (`write_connection`)."""

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from starlette.requests import Request

from fupin_kit.db import SESSION_STATE_KEY, Database, advisory_key, session_driver, write_connection


async def test_a_connection_closed_by_the_server_is_replaced_at_checkout(db: Database) -> None:
    pool = Database(db.url, pool_size=1)
    try:
        async with pool.engine.connect() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await asyncio.sleep(0.3)  # the driver learns of the closed socket on the event loop

        async with pool.engine.connect() as conn:
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()

        assert second != first
    finally:
        await pool.dispose()


def _request(db: Database, session: object | None = None) -> Request:
    state = {} if session is None else {SESSION_STATE_KEY: session}
    return Request({"type": "http", "app": SimpleNamespace(state=SimpleNamespace(db=db)), "state": state})


async def test_write_connection_commits_rolls_back_and_takes_its_lock_with_begin(db: Database) -> None:
    name, lost = uuid.uuid4().hex, uuid.uuid4().hex
    key = advisory_key(f"widget:{name}")
    async with write_connection(_request(db), lock=key) as conn:
        await conn.execute("INSERT INTO widgets (name) VALUES ($1)", name)
        held = await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                                   "pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = $1",
                                   key)
        assert held == 1
    with pytest.raises(ValueError):
        async with write_connection(_request(db)) as conn:
            await conn.execute("INSERT INTO widgets (name) VALUES ($1)", lost)
            raise ValueError("refused")
    async with db.driver_connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM widgets WHERE name = $1", name) == 1
        assert await conn.fetchval("SELECT count(*) FROM widgets WHERE name = $1", lost) == 0
        assert not conn.is_in_transaction()

    async with db.session() as session:  # an Idempotency-Key's session: its transaction, rolled back on a refusal
        with pytest.raises(ValueError):
            async with write_connection(_request(db, session), lock=key) as conn:
                await conn.execute("INSERT INTO widgets (name) VALUES ($1)", lost)
                raise ValueError("refused")
        await session.commit()
    async with db.driver_connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM widgets WHERE name = $1", lost) == 0


async def test_the_session_driver_is_inside_the_session_transaction_before_any_statement(db: Database) -> None:
    name = uuid.uuid4().hex
    async with db.session() as session:
        driver = await session_driver(session)  # nothing has run through the session yet
        assert driver.is_in_transaction()
        await driver.execute("INSERT INTO widgets (name) VALUES ($1)", name)
        await session.rollback()
    async with db.driver_connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM widgets WHERE name = $1", name) == 0
