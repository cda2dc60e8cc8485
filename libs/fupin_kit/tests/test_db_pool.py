"""The pool without pre-ping: a connection the server closed is replaced at checkout, not handed to a request; a
write in plain SQL on a pooled connection (`write_connection`)."""

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import exc, text
from starlette.requests import Request

from fupin_kit.db import (
    SESSION_STATE_KEY,
    Database,
    DatabaseSettings,
    advisory_key,
    session_driver,
    write_connection,
)
from fupin_kit.fair_pool import FairQueue


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


async def test_callers_waiting_for_a_connection_get_one_in_the_order_they_came(db: Database) -> None:
    """fupin_kit.fair_pool: a connection given back goes to the oldest waiter; a caller arriving just then does not
    take it first (SQLAlchemy's own queue let it, and the woken waiter went to the back again)."""
    pool = Database(db.url, pool_size=1, settings=DatabaseSettings(max_overflow=0, pool_timeout=5))
    served: list[int] = []

    async def caller(number: int) -> None:
        async with pool.driver_connection() as conn:
            served.append(number)
            await conn.execute("SELECT 1")

    async def holder() -> None:
        async with pool.driver_connection():  # the only connection, held while the callers line up
            await asyncio.sleep(0.2)
        await caller(5)  # back for another at once, as a busy service's next request is

    try:
        held = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        waiting = []
        for number in range(5):
            waiting.append(asyncio.create_task(caller(number)))
            await asyncio.sleep(0.02)
        await asyncio.gather(held, *waiting)
        assert served == [0, 1, 2, 3, 4, 5]
    finally:
        await pool.dispose()


async def test_a_caller_that_waits_longer_than_pool_timeout_fails_and_the_connection_goes_on(db: Database) -> None:
    pool = Database(db.url, pool_size=1, settings=DatabaseSettings(max_overflow=0, pool_timeout=0.2))
    try:
        async with pool.driver_connection():
            with pytest.raises(exc.TimeoutError):
                async with pool.driver_connection():
                    pass
        async with pool.driver_connection() as conn:  # the timed-out waiter left nothing behind
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.dispose()


async def test_fair_queue_passes_an_item_handed_to_a_cancelled_waiter_to_the_next() -> None:
    queue = FairQueue()
    first, second = asyncio.create_task(queue.get()), asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("connection")  # handed to the first waiter, which is cancelled before it runs
    first.cancel()
    assert await second == "connection"
    with pytest.raises(asyncio.CancelledError):
        await first
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
