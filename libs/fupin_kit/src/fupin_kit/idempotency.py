"""`Idempotency-Key` on POST: a retry with the same key and body replays the first answer and creates nothing.

The stored answer commits in the request's own transaction (contract §0):
1. The key's namespace is the client of a *verified* token (the app's `TokenVerifier`); without a valid token the
   request passes through untouched and the route answers 401, so a forged `sub` cannot claim another client's keys.
2. The whole body is read before a database connection is taken: no connection waits on a slow client.
3. One session is opened for the request; a transaction-level advisory lock on (client, key) serialises concurrent
   retries; a stored answer younger than 24 hours is replayed (or 409 for another body).
4. Otherwise the route runs with that same session (`SessionDep` hands it out and only flushes). When the route has
   produced its whole response, a 2xx answer is inserted in the same transaction, the transaction commits, and only
   then is the response sent. So a crash before the commit leaves neither the effect nor the answer, and a crash
   after it leaves both: a retry can never act twice. A failed commit answers 503 (nothing happened; retry).
5. Background tasks (`BackgroundTasks`) run after the response is sent, hence after the commit: they see the
   committed rows. (The earlier attempt committed after the whole ASGI call returned, i.e. after the background
   tasks; the registry's import task then waited for a job row that was not committed yet, and app shutdown hung
   on it.)
"""

import hashlib
import logging
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fupin_kit.auth import TokenVerifier
from fupin_kit.db import SESSION_STATE_KEY, Database
from fupin_kit.errors import AppError, problem

log = logging.getLogger("fupin.idempotency")

HEADER = b"idempotency-key"
TTL_HOURS = 24
MAX_KEY_LENGTH = 200

_LOOKUP = text(
    "SELECT request_hash, status_code, content_type, body FROM idempotency_keys WHERE client_id = :c AND key = :k "
    f"AND created_at > now() - interval '{TTL_HOURS} hours'")
_STORE = text(
    "INSERT INTO idempotency_keys (client_id, key, request_hash, status_code, content_type, body, created_at) "
    "VALUES (:c, :k, :h, :s, :t, :b, now()) ON CONFLICT (client_id, key) DO UPDATE SET "
    "request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code, "
    "content_type = EXCLUDED.content_type, body = EXCLUDED.body, created_at = EXCLUDED.created_at "
    f"WHERE idempotency_keys.created_at <= now() - interval '{TTL_HOURS} hours'")


class _CommitFailed(Exception):
    """The answer could not be committed: a 503 was sent instead; background tasks must not run."""


def verified_client(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
    """The client id of the request's bearer token if its signature, issuer, audience and expiry verify."""
    verifier: TokenVerifier | None = getattr(scope["app"].state, "token_verifier", None)
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if verifier is None or scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return verifier.verify(token.strip()).client_id
    except AppError:
        return None


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await problem(422, "validation_error", f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters",
                          errors=[{"field": "Idempotency-Key", "message": "too long"}])(scope, receive, send)
            return
        client = verified_client(scope, headers)
        if client is None:  # the route answers 401; nothing is looked up or stored for an unverified caller
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request_hash = _fingerprint(scope["path"], headers.get(b"content-type", b""), body)
        db: Database = scope["app"].state.db
        session = db.session()
        try:
            await session.exec(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")  # type: ignore[call-overload]
                               .bindparams(k=f"idempotency\n{client}\n{key}"))
            found = (await session.exec(_LOOKUP.bindparams(c=client, k=key))).first()  # type: ignore[call-overload]
            if found is not None:
                await session.rollback()
                await session.close()
                await self._replay(found, request_hash, scope, receive, send)
                return
            await self._run(scope, body, send, session, client=client, key=key, request_hash=request_hash)
        finally:
            await session.close()  # rolls back whatever was not committed

    async def _run(self, scope: Scope, body: bytes, send: Send, session: AsyncSession, *, client: str, key: str,
                   request_hash: str) -> None:
        """Run the route on `session`; commit (with a 2xx answer stored) before the response leaves."""
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        start: Message | None = None
        chunks: list[bytes] = []
        commit_failed = False

        async def commit_then_send(message: Message) -> None:
            nonlocal start, commit_failed
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            answer = b"".join(chunks)
            status = int(start["status"])
            try:
                if 200 <= status < 300:  # only a success is kept for replay (contract §0)
                    content_type = dict(start.get("headers") or []).get(b"content-type", b"application/json")
                    await session.exec(_STORE.bindparams(  # type: ignore[call-overload]
                        c=client, k=key, h=request_hash, s=status, t=content_type.decode("latin-1"), b=answer))
                await session.commit()
            except Exception as exc:
                log.warning("Idempotency-Key answer not committed (%s): answered 503", type(exc).__name__)
                commit_failed = True
                await problem(503, "unavailable", "the change could not be committed; retry with the same key",
                              headers={"Retry-After": "1"})(scope, replay_receive, send)
                raise _CommitFailed from exc
            await send(start)
            await send({"type": "http.response.body", "body": answer, "more_body": False})

        scope.setdefault("state", {})[SESSION_STATE_KEY] = session
        try:
            await self.app(scope, replay_receive, commit_then_send)
        except Exception:
            if not commit_failed:  # the 503 is out; whatever the app makes of the exception, nothing more runs
                raise
        finally:
            scope["state"].pop(SESSION_STATE_KEY, None)

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
