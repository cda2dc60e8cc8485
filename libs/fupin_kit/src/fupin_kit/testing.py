"""Helpers for tests on real PostgreSQL and Kafka: keys, tokens, fresh databases, migrations."""

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def mint_token(private_pem: str, client_id: str, scopes: str, *, bank_code: str | None = None,
               ttl: dt.timedelta = dt.timedelta(minutes=30)) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"iss": "fupin-gateway", "aud": "fupin", "sub": client_id, "scope": scopes, "iat": now,
              "exp": now + ttl, "jti": uuid.uuid4().hex}
    if bank_code:
        claims["bank_code"] = bank_code
    return jwt.encode(claims, private_pem, algorithm="RS256")


async def recreate_database(server_dsn: str, name: str) -> None:
    """Drop and create database `name` on the server of `server_dsn` (a libpq DSN to any database there)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def migrate(alembic_ini: Path, url_env: str, url: str) -> None:
    """Run `alembic upgrade head` in a subprocess (Alembic's env.py runs its own event loop)."""
    import os

    env = {**os.environ, url_env: url}
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(alembic_ini), "upgrade", "head"],
                   check=True, env=env, cwd=alembic_ini.parent)


async def wait_for_event(bootstrap_servers: str, topic: str, subject: str, *, timeout: float = 20.0,
                         event_type: str | None = None) -> dict:
    """Read `topic` from the beginning with a throw-away group until an event about `subject` arrives."""
    import asyncio
    import json

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers, group_id=f"probe-{uuid.uuid4().hex}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(timeout):
            async for record in consumer:
                if record.key is not None and record.key.decode() == subject:
                    event = json.loads(record.value)
                    if event_type is None or event["type"] == event_type:
                        return event
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


async def ensure_topics(bootstrap_servers: str, names: list[str], partitions: int = 1) -> None:
    """Create topics that do not exist yet (the local broker does not auto-create topics)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        missing = set(names) - set(await admin.list_topics())
        if missing:
            await admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing])
    finally:
        await admin.close()
