"""The gateway and the five services: migrations, uvicorn processes, readiness and the demo data."""

import asyncio
import importlib
import importlib.util
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import httpx

from . import config
from .config import Component
from .processes import StackError, read_pid, spawn, tail, terminate

BIN = Path(sys.executable).parent  # the virtualenv's bin: alembic and uvicorn live next to our interpreter
# each `<module>.load(gateway_url)` runs once, in this order (the registry's demo city first)
DEMO_MODULES = ("registry.demo", "assistance.demo", "welfare.demo", "dashboard.demo")


def _tool(name: str) -> str:
    path = BIN / name
    if not path.is_file():
        raise StackError(f"{path} is missing: run `make venv` (it installs every package of the repository)")
    return str(path)


def marker(c: Component) -> str:
    return f"{c.module}:app"


def pid(c: Component) -> int | None:
    return read_pid(c.pidfile, marker(c))


def migrate(c: Component, env: dict[str, str]) -> None:
    """`alembic upgrade head` in the component's folder (if it has an alembic.ini); output to its log."""
    if not (c.folder / "alembic.ini").is_file():
        return
    c.log.parent.mkdir(parents=True, exist_ok=True)
    with c.log.open("a") as out:
        out.write(f"\n=== alembic upgrade head ({c.name})\n")
        out.flush()
        result = subprocess.run(
            [_tool("alembic"), "-c", "alembic.ini", "upgrade", "head"],
            cwd=c.folder,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        failure = _failure([c], "migrations failed")
        if "Can't locate revision" in tail(c.log):
            failure = StackError(str(failure), f"{failure.detail}\n{UNKNOWN_REVISION.format(name=c.name)}")
        raise failure


UNKNOWN_REVISION = """The {name} database is at a migration revision this checkout does not have: a migration file was
deleted after it was applied, or the database was migrated by a newer commit. Check out a commit that has it and run
`alembic downgrade` to a revision both share, or start afresh: `make down`, remove .run/pgdata, `make up` (which
loads the demo data again)."""


# glibc's allocator keeps memory a component no longer uses: every thread that allocates gets its own arena (up to 8
# per core), and once a large buffer (a Kafka batch, a COPY) is freed it raises its mmap threshold and serves the
# next ones from the heap, which then cannot shrink. Two arenas and a fixed 128 KiB threshold keep RSS near what is
# live after a burst (issue 14 target 7: <= 150 MB; the registry after a 100,000-member import: 145 MB instead of
# 172 MB); deploy/k8s sets the same.
MEMORY_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def start(c: Component, env: dict[str, str]) -> int | None:
    """Start uvicorn for `c` unless it already runs; returns the new pid, None if it was kept."""
    if pid(c) is not None:
        return None
    # Keep-alive longer than any client's idle pool expiry (httpx and aiohttp drop theirs after 5 s, uvicorn's own
    # default is also 5 s): the client always closes an idle connection first, so no request meets one closing.
    cmd = [_tool("uvicorn"), marker(c), "--host", "127.0.0.1", "--port", str(c.port), "--no-access-log",
           "--timeout-keep-alive", "75"]
    # spans to .run/traces/<component>.jsonl (`fupin-dev trace`); not in `fupin-dev env`, so tests stay untraced
    own = config.gateway_env() if c.name == "gateway" else {}
    return spawn(cmd, log=c.log, pidfile=c.pidfile, env={**env, **config.trace_env(), **MEMORY_ENV, **own},
                 cwd=c.folder)


async def readyz(client: httpx.AsyncClient, c: Component) -> int | None:  # plain http on 127.0.0.1: verify=False
    """The status code of `GET /readyz`, None when nothing answers."""
    try:
        return (await client.get(f"{c.url}/readyz")).status_code
    except httpx.HTTPError:
        return None


async def wait_ready(cs: list[Component], timeout: float = 120) -> None:
    """Until every component's /readyz is 200; fails fast when one of them exits."""
    deadline = time.monotonic() + timeout
    pending = list(cs)
    async with httpx.AsyncClient(timeout=3, verify=False) as client:
        while pending:
            codes = await asyncio.gather(*(readyz(client, c) for c in pending))
            if dead := [c for c in pending if pid(c) is None]:
                raise _failure(dead, "exited")
            pending = [c for c, code in zip(pending, codes, strict=True) if code != 200]
            if pending and time.monotonic() > deadline:
                raise _failure(pending, f"not ready after {timeout:.0f} s")
            if pending:
                await asyncio.sleep(0.5)


def _failure(cs: list[Component], what: str) -> StackError:
    detail = "\n".join(f"--- last 40 lines of {c.log}:\n{tail(c.log)}" for c in cs)
    return StackError(f"{', '.join(c.name for c in cs)} {what}", detail)


async def readyz_codes(cs: list[Component]) -> dict[str, int | None]:
    async with httpx.AsyncClient(timeout=3, verify=False) as client:
        codes = await asyncio.gather(*(readyz(client, c) for c in cs))
    return {c.name: code for c, code in zip(cs, codes, strict=True)}


def stop(cs: list[Component]) -> list[int]:
    return terminate([(c.pidfile, marker(c)) for c in cs], timeout=15)


def _demo_modules() -> list[str]:
    """The demo loaders present in this checkout, in loading order (the registry's first: the others need it)."""
    found = []
    for module in DEMO_MODULES:
        try:
            if importlib.util.find_spec(module) is not None:
                found.append(module)
        except ImportError:
            continue
    return found


def _marker(module: str) -> Path:
    return config.run_dir() / ("demo-loaded" if module == DEMO_MODULES[0] else f"demo-loaded.{module}")


def demo_pending() -> bool:
    """True when a present demo loader has not run yet (never with `FUPIN_DEMO=0`)."""
    return config.demo_enabled() and any(not _marker(m).exists() for m in _demo_modules())


def load_demo(gateway_url: str, env: dict[str, str]) -> bool:
    """Run each `<service>.demo.load(gateway_url)` once (marker files in `.run/`); False if nothing to do."""
    pending = [m for m in _demo_modules() if not _marker(m).exists()]
    if not pending:
        return False
    os.environ.update(env)  # the packages may read their settings on import
    for name in pending:
        try:
            module = importlib.import_module(name)
            started = time.monotonic()
            asyncio.run(module.load(gateway_url))
            print(f"demo data {name}: {time.monotonic() - started:.1f} s", flush=True)
        except Exception as exc:
            raise StackError(f"loading the demo data ({name}) failed: {exc!r}", traceback.format_exc()) from exc
        _marker(name).touch()
    return True
