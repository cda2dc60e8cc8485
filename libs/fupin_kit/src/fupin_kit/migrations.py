"""Alembic helpers: the async env.py every service shares, and the platform tables' DDL."""

import asyncio
import os

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from fupin_kit.db import metadata


def run_env(*, url_env: str, default_url: str) -> None:
    """Body of a service's migrations/env.py: online, async, against `$url_env`."""
    config = context.config
    url = os.environ.get(url_env) or config.get_main_option("sqlalchemy.url") or default_url

    def do_run(connection: sa.Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())


def create_platform_tables() -> None:
    """Outbox, inbox and idempotency keys: call from a service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("parked_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String, primary_key=True),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String, primary_key=True),
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("request_hash", sa.String, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def add_outbox_parking() -> None:
    """Outbox columns for rows that can never be published (the relay parks them with the error class instead of
    blocking): call from one migration in every service created before them. Idempotent."""
    op.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz, "
               "ADD COLUMN IF NOT EXISTS last_error varchar")


def drop_outbox_parking() -> None:
    op.execute("ALTER TABLE outbox DROP COLUMN IF EXISTS parked_at, DROP COLUMN IF EXISTS last_error")


def drop_platform_tables() -> None:
    for table in ("idempotency_keys", "inbox", "outbox"):
        op.drop_table(table)
