"""A small async client of the registry through the gateway, shared by the CLI, the demo loader and the benchmark."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

DEV_CLIENT_ID = "gov-portal"
DEV_CLIENT_SECRET = "gov-portal-dev-secret"  # refused by the gateway outside the dev profile
Progress = Callable[[dict[str, Any]], Awaitable[None] | None]


async def fetch_token(http: httpx.AsyncClient, *, client_id: str = DEV_CLIENT_ID,
                      client_secret: str = DEV_CLIENT_SECRET, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    if scope:
        form["scope"] = scope
    answer = await http.post("/oauth/token", data=form)
    if answer.status_code != 200:
        raise RuntimeError(f"the gateway refused the token request: {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["access_token"])


async def request_honouring_rate_limit(http: httpx.AsyncClient, method: str, path: str, *, attempts: int = 30,
                                       **kwargs: Any) -> httpx.Response:
    """A request that waits out the gateway's `429 rate_limited` for as long as its `Retry-After` says, as any
    well-behaved client does (a bulk loader on a fast machine outruns its client's token bucket)."""
    for _ in range(attempts - 1):
        answer = await http.request(method, path, **kwargs)
        if answer.status_code != 429:
            return answer
        await asyncio.sleep(min(float(answer.headers.get("Retry-After", "1")), 10.0))
    return await http.request(method, path, **kwargs)


class RegistryClient:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def connect(cls, http: httpx.AsyncClient, *, token: str | None = None,
                      **credentials: str) -> "RegistryClient":
        return cls(http, token or await fetch_token(http, **credentials))

    async def call(self, method: str, path: str, *, ok: Iterable[int] = (200, 201, 202),
                   **kwargs: Any) -> httpx.Response:
        answer = await request_honouring_rate_limit(self.http, method, path, headers=self.headers, **kwargs)
        if answer.status_code not in tuple(ok):
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer

    async def put_divisions(self, divisions: Iterable[dict[str, Any]]) -> None:
        """PUT in the given order (parents first), one level at a time concurrently."""
        by_level: dict[str, list[dict[str, Any]]] = {}
        for d in divisions:
            by_level.setdefault(d["level"], []).append(d)
        for level in ("city", "county", "town", "village"):
            await asyncio.gather(*(self.call("PUT", f"/registry/divisions/{d['code']}",
                                             json={k: v for k, v in d.items() if k != "code"})
                                   for d in by_level.get(level, [])))

    async def upload(self, path: Path) -> dict[str, Any]:
        with path.open("rb") as f:
            answer = await self.call("POST", "/registry/imports", files={"file": (path.name, f.read())}, ok=(202,))
        return dict(answer.json())

    async def wait_import(self, import_id: str, *, on_progress: Progress | None = None,
                          interval: float = 0.5) -> dict[str, Any]:
        while True:
            job = dict((await self.call("GET", f"/registry/imports/{import_id}",
                                        params={"errors_limit": 100})).json())
            if on_progress is not None:
                result = on_progress(job)
                if asyncio.iscoroutine(result):
                    await result
            if job["state"] in ("done", "failed"):
                return job
            await asyncio.sleep(interval)
