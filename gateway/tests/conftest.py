"""Integration fixtures: a fresh `gateway_test` database migrated with Alembic on the real PostgreSQL server (the
audit log), a real echo service under uvicorn on a free port standing in for the five services, and the gateway
driven in-process through httpx with its lifespan running."""

import asyncio
import base64
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fupin_kit.testing import generate_keypair, migrate, mint_token, recreate_database

COMPONENT = "gateway"
HERE = Path(__file__).resolve().parent
PG_PORT = os.environ.get("FUPIN_PG_PORT", "15432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
TEST_DB = f"{COMPONENT}_test"
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()
SERVICES = ("registry", "finance", "microcredit", "education", "medical")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def echo_app() -> FastAPI:
    """A stand-in service: answers every path with what it received (method, path, query, headers, body)."""
    app = FastAPI(title="echo")
    app.state.ready = True

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready" if app.state.ready else "not ready"},
                            status_code=200 if app.state.ready else 503)

    @app.get("/registry/households/{household_id}", tags=["households"])
    async def household(household_id: str, request: Request) -> dict[str, Any]:
        return await _echo(request)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def everything(path: str, request: Request) -> JSONResponse:
        # `X-Echo-Audit-Hospital` asks the echo to answer as medical does, naming a hospital for the audit
        hospital = request.headers.get("x-echo-audit-hospital")
        if delay := request.query_params.get("echo_sleep"):  # a slow route, for the upstream timeouts
            await asyncio.sleep(float(delay))
        return JSONResponse(await _echo(request), headers={"Fupin-Audit-Hospital": hospital} if hospital else None)

    async def _echo(request: Request) -> dict[str, Any]:
        return {"method": request.method, "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode(), "query": request.url.query,
                "headers": dict(request.headers), "body": (await request.body()).decode()}

    return app


class EchoServer:
    def __init__(self) -> None:
        self.app = echo_app()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the echo service did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url() -> str:
    asyncio.run(recreate_database(SERVER_DSN, TEST_DB))
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{TEST_DB}"
    migrate(HERE.parent / "alembic.ini", "GATEWAY_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    (folder / "jwt_private.pem").write_text(PRIVATE_KEY)
    (folder / "jwt_public.pem").write_text(PUBLIC_KEY)
    return folder / "jwt_private.pem", folder / "jwt_public.pem"


@pytest.fixture
def settings_for(database_url: str, key_files: tuple[Path, Path], echo: EchoServer) -> Callable[..., Any]:
    """Gateway settings pointing at the test database and the echo service; keyword arguments override."""
    from gateway.config import Settings

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"profile": "dev", "database_url": database_url,
                                  "jwt_private_key_file": key_files[0], "jwt_public_key_file": key_files[1],
                                  "audit_flush_seconds": 0.05, **{f"{s}_url": echo.url for s in SERVICES}}
        return Settings(**{**values, **overrides})

    return build


@asynccontextmanager
async def running_gateway(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    from gateway.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            http.app = app  # type: ignore[attr-defined]  (tests reach the audit writer through it)
            yield http


@pytest.fixture
def gateway_with(settings_for: Callable[..., Any]) -> Callable[..., Any]:
    """`async with gateway_with(rate_limits=...) as http:` a gateway built with overridden settings."""
    return lambda **overrides: running_gateway(settings_for(**overrides))


@pytest.fixture
async def gateway(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running_gateway(settings_for()) as http:
        yield http


def bearer(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None, **kwargs: Any) -> dict[str, str]:
    """Authorization header for a token signed with the gateway's test key (as if issued by it)."""
    return {"Authorization": f"Bearer {mint_token(PRIVATE_KEY, client_id, scopes, bank_code=bank_code, **kwargs)}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
