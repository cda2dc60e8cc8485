"""`Idempotency-Key` on POST: a retry with the same key and body replays the first answer and creates nothing."""

import hashlib
from typing import Any

import jwt
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fupin_kit.db import Database
from fupin_kit.errors import problem
from fupin_kit.events.models import IdempotencyRecord

HEADER = b"idempotency-key"
# Answers that depend on who asks or when, not on the request: never replayed.
NOT_STORED = {401, 403, 429}


def _client_of(headers: dict[bytes, bytes]) -> str:
    """The token's subject, read without verification only to namespace keys; the route verifies the token."""
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return "anonymous"
    try:
        return str(jwt.decode(token, options={"verify_signature": False}).get("sub", "anonymous"))
    except jwt.PyJWTError:
        return "anonymous"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._engine: AsyncEngine | None = None

    def _lock_engine(self, db: Database) -> AsyncEngine:
        """Its own small pool: a request waiting for a key's lock must never starve the handlers' pool."""
        if self._engine is None:
            self._engine = create_async_engine(db.url, pool_size=5, max_overflow=45, pool_pre_ping=True)
        return self._engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        if scope["type"] != "http" or scope["method"] != "POST" or not key:
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await problem(422, "validation_error", "Idempotency-Key is longer than 200 characters",
                          errors=[{"field": "Idempotency-Key", "message": "too long"}])(scope, receive, send)
            return
        body = await _read_body(receive)
        client = _client_of(headers)
        request_hash = _fingerprint(scope["path"], headers.get(b"content-type", b""), body)
        db: Database = scope["app"].state.db
        async with self._lock_engine(db).connect() as conn:
            # A session-level advisory lock serialises concurrent retries of one key.
            await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"{client}\n{key}"})
            try:
                found = (await conn.execute(
                    text("SELECT request_hash, status_code, content_type, body FROM idempotency_keys "
                         "WHERE client_id = :c AND key = :k"), {"c": client, "k": key})).first()
                await conn.commit()
                if found is not None:
                    await self._replay(found, request_hash, scope, receive, send)
                    return
                status, content_type, answer = await self._forward(scope, body, send)
                if status < 500 and status not in NOT_STORED:
                    await conn.execute(insert(IdempotencyRecord).values(
                        client_id=client, key=key, request_hash=request_hash, status_code=status,
                        content_type=content_type, body=answer).on_conflict_do_nothing())
                    await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": f"{client}\n{key}"})
                await conn.commit()

    async def _replay(self, found: Any, request_hash: str, scope: Scope, receive: Receive, send: Send) -> None:
        if found.request_hash != request_hash:
            response = problem(409, "idempotency_conflict",
                               "this Idempotency-Key was used with a different request body")
            await response(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": found.status_code,
                    "headers": [(b"content-type", found.content_type.encode()), (b"idempotent-replayed", b"true"),
                                (b"content-length", str(len(found.body)).encode())]})
        await send({"type": "http.response.body", "body": bytes(found.body)})

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> tuple[int, str, bytes]:
        sent = False

        async def replay_receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status, content_type, chunks = 500, "application/json", []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers") or []).get(b"content-type", b"").decode() or content_type
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay_receive, capture)
        return status, content_type, b"".join(chunks)


def _fingerprint(path: str, content_type: bytes, body: bytes) -> str:
    """What makes two requests the same: path and body, with a multipart boundary (a fresh random string on every
    send by most clients) replaced by a fixed marker, so that retrying the same upload is the same request."""
    media_type, _, params = content_type.decode("latin-1").partition(";")
    if media_type.strip().lower() == "multipart/form-data":
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                body = body.replace(value.strip('"').encode("latin-1"), b"<boundary>")
    return hashlib.sha256(path.encode() + b"\n" + body).hexdigest()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
