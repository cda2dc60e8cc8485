"""The pool without pre-ping: a connection the server closed is replaced at checkout, not handed to a request."""

import asyncio

from sqlalchemy import text

from fupin_kit.db import Database


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
