"""The HIS encounter id is a natural idempotency key: one lock per encounter, one fingerprint per request."""

import hashlib
import json
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict


async def lock_encounter(session: AsyncSession, *, kind: str, encounter_id: str) -> None:
    """Serialise concurrent calls about one encounter until the transaction ends."""
    connection = await session.connection()
    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{kind}:{encounter_id}"})


def fingerprint(fields: dict[str, Any]) -> str:
    """A stable hash of what the caller asked for (after parsing), to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def encounter_conflict() -> Conflict:
    return Conflict("encounter_conflict", "this encounter_id was already used with a different request")
