"""A well-behaved client of the gateway for the project's own tools (importer CLI, demo loaders, benchmarks).

It does what a bank's or a county system's integration would do:
- every POST carries an `Idempotency-Key` (one per logical request, the same on each retry), so a retry never
  creates twice;
- a request that may safely be sent again (GET/HEAD/PUT/DELETE, or a POST with its key) is retried after a transport
  failure (connection refused or reset, a keep-alive connection the server closed as the request went out), with
  jittered back-off for up to `retry_seconds`;
- `429 rate_limited` is waited out for as long as its `Retry-After` says.
"""

import asyncio
import inspect
import random
import time
import uuid
from collections.abc import Awaitable, Iterable
from typing import Any

import httpx

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


async def send(http: httpx.AsyncClient, method: str, path: str, *, retry_seconds: float = 60.0,
               repeatable: bool = False, **kwargs: Any) -> httpx.Response:
    """One logical request: transport failures retried when the request is safe to repeat (or the caller says it is,
    as for a token request), 429 waited out."""
    method = method.upper()
    headers = dict(kwargs.pop("headers", None) or {})
    if method == "POST" and not repeatable and not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    repeatable = repeatable or method in SAFE_METHODS or any(k.lower() == "idempotency-key" for k in headers)
    deadline = time.monotonic() + retry_seconds
    delay = 0.2
    while True:
        try:
            answer = await http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError:
            if not repeatable or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 5.0)
            continue
        if answer.status_code != 429 or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(min(float(answer.headers.get("Retry-After", "1")), 10.0))


async def fetch_token(http: httpx.AsyncClient, *, client_id: str, client_secret: str,
                      scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    if scope:
        form["scope"] = scope
    answer = await send(http, "POST", "/oauth/token", data=form, repeatable=True)
    if answer.status_code != 200:
        raise RuntimeError(f"the gateway refused the token request: {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["access_token"])


class GatewayClient:
    """Bearer-authenticated calls through the gateway; `call` raises unless the status is one of `ok`."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def connect(cls, http: httpx.AsyncClient, *, client_id: str, client_secret: str,
                      token: str | None = None, scope: str | None = None) -> "GatewayClient":
        return cls(http, token or await fetch_token(http, client_id=client_id, client_secret=client_secret,
                                                    scope=scope))

    async def call(self, method: str, path: str, *, ok: Iterable[int] = (200, 201, 202),
                   **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        answer = await send(self.http, method, path, headers=headers, **kwargs)
        if answer.status_code not in tuple(ok):
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer


async def bounded(calls: Iterable[Awaitable[Any]], limit: int = 12) -> list[Any]:
    """Await `calls` with at most `limit` in flight; the first failure cancels the rest (none is left unawaited)."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[Any]) -> Any:
        async with gate:
            return await call

    pending = list(calls)
    tasks = [asyncio.ensure_future(one(c)) for c in pending]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in pending:  # the calls that never started: closed, not left to warn "never awaited"
            if inspect.iscoroutine(c):
                c.close()
        raise
