"""Registry bulk intake benchmark (issue 3): members imported per second end to end, next to a raw COPY.

End to end = upload through the gateway → every row validated and stored → every event of the import published
(the registry's outbox drained). Each household of the generated file is `registered`, so each one publishes a
`household-registered` event. Then the same rows are loaded with a plain PostgreSQL COPY into a scratch table in
the registry database, and both rates and their ratio are printed (issue 14 target 6: end to end >= 0.10x the raw
COPY), each with the machine's load average (1 min) when it was measured: on a shared machine the ratio is the
figure to compare between runs.

    REGISTRY_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:15432/registry \\
        .venv/bin/python bench/registry_import.py --members 100000
"""

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import typer

from registry.client import DEV_CLIENT_ID, DEV_CLIENT_SECRET, RegistryClient
from registry.imports.parsing import COLUMNS
from registry.synthetic import city_divisions, households, write_file


async def _outbox_drained(dsn: str, since_id: int, timeout: float) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE id > $1 AND sent_at IS NULL", since_id):
            if time.monotonic() > deadline:
                raise TimeoutError("the outbox did not drain in time")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def _raw_copy(dsn: str, path: Path) -> float:
    """Seconds to COPY the file's rows into a scratch table of text columns (dropped afterwards)."""
    conn = await asyncpg.connect(dsn)
    table = f"bench_copy_{os.getpid()}"
    try:
        await conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in COLUMNS)})")
        started = time.perf_counter()
        with path.open("rb") as source:
            await conn.copy_to_table(table, source=source, format="csv", header=True)
        return time.perf_counter() - started
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def registry_cpu() -> float | None:
    """CPU seconds of the stack's registry (.run/pids/registry.pid) with its reaped children (the checking process
    of an import), from /proc; None without a running registry of this checkout."""
    try:
        pid = (Path(__file__).resolve().parents[1] / ".run" / "pids" / "registry.pid").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


async def run(members: int, gateway: str, database_url: str, client_id: str, client_secret: str) -> None:
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-city.csv"
        rows = write_file(path, households(members, statuses={"registered": 1}))
        async with httpx.AsyncClient(base_url=gateway, timeout=300) as http:
            registry = await RegistryClient.connect(http, client_id=client_id, client_secret=client_secret)
            await registry.put_divisions([{"code": d.code, **d.body()} for d in city_divisions()])
            conn = await asyncpg.connect(dsn)
            since = await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
            await conn.close()
            load_start, cpu_start = load(), registry_cpu()
            started = time.perf_counter()
            accepted = await registry.upload(path)
            job = await registry.wait_import(accepted["import_id"], interval=0.2)
            stored = time.perf_counter() - started
            load_stored, cpu_stored = load(), registry_cpu()
            await _outbox_drained(dsn, since, timeout=1200)
            end_to_end = time.perf_counter() - started
            load_end = load()
        copy_seconds = await _raw_copy(dsn, path)
        load_copy = load()
    created = job["households_created"]
    e2e_rate, copy_rate = rows / end_to_end, rows / copy_seconds
    print(f"rows in file:                {rows} ({created} households, {job['error_count']} row errors)")
    print(f"import stored (202 → done):  {stored:8.2f} s  {rows / stored:10.0f} members/s  "
          f"({load_start} → {load_stored})")
    print(f"end to end (events sent):    {end_to_end:8.2f} s  {e2e_rate:10.0f} members/s  ({load_end})")
    print(f"raw COPY of the same rows:   {copy_seconds:8.2f} s  {copy_rate:10.0f} members/s  ({load_copy})")
    print(f"ratio end to end / COPY:     {e2e_rate / copy_rate:8.4f}x  (target >= 0.10x)")
    print(f"ratio stored / COPY:         {rows / stored / copy_rate:8.4f}x")
    cpu = None if cpu_start is None or cpu_stored is None else (cpu_stored - cpu_start) / rows * 1e6
    if cpu is not None:
        print(f"registry CPU (202 → done):   {cpu:8.1f} µs per member (with its checking process)")
    ratio = e2e_rate / copy_rate
    print("BENCH_JSON " + json.dumps({
        "figure": "bulk intake end to end (upload to events sent)", "value": round(e2e_rate, 1), "unit": "members/s",
        "reference": f"raw COPY {copy_rate:,.0f} rows/s", "ratio": round(ratio, 4), "target_text": ">= 0.10x COPY",
        "met": ratio >= 0.10, "members": rows, "row_errors": job["error_count"],
        "registry_cpu_us_per_member": None if cpu is None else round(cpu, 1),
        "load_average": [load_start.split()[-1], load_end.split()[-1]]}))
    if job["error_count"]:
        print("note: rows of refused households (e.g. a person already registered by an earlier run) count in the "
              "file's rows but were not stored")


def main(members: int = typer.Option(100_000, min=1),
         gateway: str = typer.Option("http://127.0.0.1:8000", envvar="FUPIN_GATEWAY_URL"),
         database_url: str = typer.Option(..., envvar="REGISTRY_DATABASE_URL"),
         client_id: str = typer.Option(DEV_CLIENT_ID), client_secret: str = typer.Option(DEV_CLIENT_SECRET)) -> None:
    asyncio.run(run(members, gateway, database_url, client_id, client_secret))


if __name__ == "__main__":
    typer.run(main)
