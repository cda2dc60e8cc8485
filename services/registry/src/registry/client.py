"""A small async client of the registry through the gateway, shared by the CLI, the demo loader and the benchmark."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from fupin_kit import gateway_client
from fupin_kit.gateway_client import GatewayClient, bounded

DEV_CLIENT_ID = "gov-portal"
DEV_CLIENT_SECRET = "gov-portal-dev-secret"  # refused by the gateway outside the dev profile
Progress = Callable[[dict[str, Any]], Awaitable[None] | None]


async def fetch_token(http: httpx.AsyncClient, *, client_id: str = DEV_CLIENT_ID,
                      client_secret: str = DEV_CLIENT_SECRET, scope: str | None = None) -> str:
    return await gateway_client.fetch_token(http, client_id=client_id, client_secret=client_secret, scope=scope)


class RegistryClient(GatewayClient):
    @classmethod
    async def connect(cls, http: httpx.AsyncClient, *, token: str | None = None,  # type: ignore[override]
                      client_id: str = DEV_CLIENT_ID, client_secret: str = DEV_CLIENT_SECRET,
                      scope: str | None = None) -> "RegistryClient":
        return cls(http, token or await fetch_token(http, client_id=client_id, client_secret=client_secret,
                                                    scope=scope))

    async def put_divisions(self, divisions: Iterable[dict[str, Any]]) -> None:
        """PUT in the given order (parents first), one level at a time concurrently."""
        by_level: dict[str, list[dict[str, Any]]] = {}
        for d in divisions:
            by_level.setdefault(d["level"], []).append(d)
        for level in ("city", "county", "town", "village"):
            await bounded(self.call("PUT", f"/registry/divisions/{d['code']}",
                                             json={k: v for k, v in d.items() if k != "code"})
                                   for d in by_level.get(level, []))

    async def upload(self, path: Path) -> dict[str, Any]:
        # A fixed multipart boundary: a retry after a lost connection sends the very same bytes under the same
        # Idempotency-Key, so the gateway answers with the first attempt's import instead of a conflict.
        boundary = uuid.uuid4().hex
        with path.open("rb") as f:
            answer = await self.call("POST", "/registry/imports", files={"file": (path.name, f.read())}, ok=(202,),
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
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
