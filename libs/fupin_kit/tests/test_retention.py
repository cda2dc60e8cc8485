"""Retention: sent outbox rows, inbox rows and Idempotency-Key answers past their time are pruned; unsent and
parked outbox rows and anything recent stay."""

import uuid

from sqlalchemy import text

from fupin_kit.db import Database
from fupin_kit.events.retention import RetentionSettings, prune_once


async def test_prune_once_deletes_only_what_is_past_retention(db: Database) -> None:
    tag = uuid.uuid4().hex
    async with db.session() as session:
        for age, sent, parked in (("10 days", True, False), ("1 day", True, False), ("10 days", False, False),
                                  ("10 days", False, True)):
            await session.exec(text(  # type: ignore[call-overload]
                "INSERT INTO outbox (event_id, topic, key, payload, created_at, sent_at, parked_at) VALUES "
                "(gen_random_uuid(), 't', :k, '{}', now() - CAST(:age AS interval), "
                "CASE WHEN :sent THEN now() - CAST(:age AS interval) END, "
                "CASE WHEN :parked THEN now() END)").bindparams(k=tag, age=age, sent=sent, parked=parked))
        for age in ("40 days", "1 day"):
            await session.exec(text(  # type: ignore[call-overload]
                "INSERT INTO inbox (event_id, topic, received_at) VALUES (:e, :t, now() - CAST(:age AS interval))"
            ).bindparams(e=f"{tag}-{age}", t=tag, age=age))
        for age in ("25 hours", "1 hour"):
            await session.exec(text(  # type: ignore[call-overload]
                "INSERT INTO idempotency_keys (client_id, key, request_hash, status_code, content_type, body, "
                "created_at) VALUES (:c, :k, 'h', 201, 'application/json', '\\x7b7d', now() - CAST(:age AS interval))"
            ).bindparams(c=tag, k=age, age=age))
        await session.commit()

    deleted = await prune_once(db, settings=RetentionSettings(chunk=1))
    assert deleted["outbox"] >= 1 and deleted["inbox"] >= 1 and deleted["idempotency_keys"] >= 1

    async with db.session() as session:
        outbox = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT sent_at IS NOT NULL, parked_at IS NOT NULL FROM outbox WHERE key = :k ORDER BY id"
        ).bindparams(k=tag))).all()
        inbox = (await session.exec(text("SELECT event_id FROM inbox WHERE topic = :t").bindparams(t=tag))).all()  # type: ignore[call-overload]
        keys = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT key FROM idempotency_keys WHERE client_id = :c").bindparams(c=tag))).all()
    assert [tuple(r) for r in outbox] == [(True, False), (False, False), (False, True)]
    assert [r[0] for r in inbox] == [f"{tag}-1 day"]
    assert [r[0] for r in keys] == ["1 hour"]
