"""Async engine and the per-request session: services flush, the dependency commits (or rolls back) once."""

import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import MetaData, event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.fair_pool import FairAsyncQueuePool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class DatabaseSettings(BaseSettings):
    """The connection budget of one process (env `FUPIN_DB_*`); see docs/conventions.md "Connection budget".

    One pool per process serves the request handlers, the Idempotency-Key records, the event consumer and the
    outbox relay: at most `pool_size + max_overflow` connections (max_overflow defaults to pool_size), plus one
    for the relay's LISTEN."""

    model_config = SettingsConfigDict(env_prefix="FUPIN_DB_", extra="ignore")

    max_overflow: int | None = Field(None, ge=0)
    pool_timeout: float = Field(30.0, gt=0)  # seconds a request waits for a free connection
    statement_timeout_ms: int = Field(60_000, ge=0)  # 0 = none
    lock_timeout_ms: int = Field(10_000, ge=0)  # a row lock waited for longer fails (and is retried by consumers)
    idle_in_transaction_timeout_ms: int = Field(60_000, ge=0)
    connect_timeout: float = Field(30.0, gt=0)  # seconds to open a connection (a restarting server refuses fast)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, settings: DatabaseSettings | None = None) -> None:
        self.url = url
        self.settings = settings or DatabaseSettings()
        self.pool_size = pool_size
        self.max_overflow = self.settings.max_overflow if self.settings.max_overflow is not None else pool_size
        server_settings = {
            "statement_timeout": str(self.settings.statement_timeout_ms),
            "lock_timeout": str(self.settings.lock_timeout_ms),
            "idle_in_transaction_session_timeout": str(self.settings.idle_in_transaction_timeout_ms),
            "application_name": _application_name(),
        }
        # The pool keeps every connection it opens, up to the budget (pool_size + max_overflow): SQLAlchemy closes an
        # overflow connection as soon as it is returned, so under a steady load above pool_size every few requests
        # opened a new one (a new server process, a TLS attempt and the session settings: 4-5 % of the registry's
        # CPU in a profile of its household read at 64 connections). Same budget; a burst's connections stay open.
        self.engine: AsyncEngine = create_async_engine(
            url, poolclass=FairAsyncQueuePool,  # waiters served in order (fupin_kit.fair_pool)
            pool_size=self.max_connections, max_overflow=0, pool_timeout=self.settings.pool_timeout,
            pool_pre_ping=False, hide_parameters=True,
            connect_args={"server_settings": server_settings, "timeout": self.settings.connect_timeout})
        # No pre-ping (BEGIN; SELECT; ROLLBACK: three round trips on every checkout, a third of a short request's
        # time). A connection the server closed (restart, terminate, idle timeout) is known to the driver without a
        # round trip: its socket saw EOF. Such a connection is refused at checkout, and the pool discards it and
        # hands out another one (the pool retries a checkout refused with DisconnectionError). A connection that
        # breaks during a statement fails that statement and is discarded (the dialect's is_disconnect).
        event.listen(self.engine.sync_engine.pool, "checkout", _refuse_closed_connection)
        self.sessionmaker = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def max_connections(self) -> int:
        """Connections this process may open through the pool (the relay's LISTEN adds one)."""
        return self.pool_size + self.max_overflow

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def healthy(self, timeout: float = 2.0) -> bool:
        try:
            await asyncio.wait_for(self.ping(), timeout)
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[Any]:
        """A connection of the pool as the plain asyncpg connection, for a read in plain SQL outside any transaction
        (each statement commits on its own). Cheaper than `engine.connect()` plus `get_raw_connection()`: no
        SQLAlchemy Connection is built around it (a few % of a short read's CPU)."""
        raw = await self.engine.raw_connection()
        try:
            yield raw.driver_connection
        finally:
            raw.close()  # back to the pool; nothing to roll back, SQLAlchemy began no transaction on it


def _refuse_closed_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("connection closed by the server")


def _application_name() -> str:
    return (os.environ.get("FUPIN_COMPONENT") or os.path.basename(sys.argv[0]) or "fupin")[:60]


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain libpq DSN for asyncpg's own connections (LISTEN, COPY)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# Where IdempotencyMiddleware leaves the request's session (in the ASGI scope's state) for `SessionDep`.
SESSION_STATE_KEY = "fupin_request_session"


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    shared: AsyncSession | None = request.scope.get("state", {}).get(SESSION_STATE_KEY)
    if shared is not None:
        # The Idempotency-Key middleware owns the transaction: it stores the answer and commits both together.
        try:
            yield shared
            await shared.flush()
        except BaseException:
            await shared.rollback()
            raise
        return
    db: Database = request.app.state.db
    async with db.session() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit runs before the response is sent, so a failed commit is the caller's error.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def session_driver(session: AsyncSession) -> Any:
    """The asyncpg connection under `session`, inside its transaction (plain SQL, COPY and arrays for bulk work).

    SQLAlchemy's asyncpg adapter sends BEGIN only with the session's first statement; before that, a statement on
    the driver would run in autocommit, outside what the session later commits or rolls back. When nothing has run
    yet, one statement through the session begins the transaction first."""
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")
    return driver


@asynccontextmanager
async def read_connection(request: Request) -> AsyncIterator[Any]:
    """The asyncpg connection a read in plain SQL runs on: the request's session's when a middleware holds one (an
    Idempotency-Key's transaction), else a pooled connection outside any transaction (`Database.driver_connection`)."""
    shared: AsyncSession | None = request.scope.get("state", {}).get(SESSION_STATE_KEY)
    if shared is not None:
        yield await session_driver(shared)
        return
    db: Database = request.app.state.db
    async with db.driver_connection() as conn:
        yield conn


def advisory_key(name: str) -> int:
    """A transaction-level advisory lock's key for `name` (a signed 64-bit integer, written into SQL as a literal)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@asynccontextmanager
async def write_connection(request: Request, *, lock: int | None = None) -> AsyncIterator[Any]:
    """The asyncpg connection a write in plain SQL runs on, inside a transaction: the request's session's when a
    middleware holds one (an Idempotency-Key's transaction, which it commits with the stored answer), else a pooled
    connection in a transaction of its own, committed when the block ends and rolled back when it raises. No
    SQLAlchemy session or Connection is built around it (the ORM's transaction cost more than a short write).
    `lock`: a transaction-level advisory lock (`advisory_key`) taken first, in the same round trip as BEGIN."""
    locking = "" if lock is None else f"SELECT pg_advisory_xact_lock({int(lock)})"
    shared: AsyncSession | None = request.scope.get("state", {}).get(SESSION_STATE_KEY)
    if shared is not None:
        try:
            driver = await session_driver(shared)
            if locking:
                await driver.execute(locking)
            yield driver
        except BaseException:
            await shared.rollback()  # the middleware commits what the route leaves, a refusal's answer included
            raise
        return
    db: Database = request.app.state.db
    raw = await db.engine.raw_connection()
    conn: Any = raw.driver_connection
    try:
        await conn.execute(f"BEGIN;{locking}")  # one simple query: no parameters, the key is an integer literal
        try:
            yield conn
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
    finally:
        if conn.is_in_transaction():  # a rollback cut short (a cancelled task): never lend it open again
            conn.terminate()  # the pool discards a closed connection at its next checkout
        raw.close()
