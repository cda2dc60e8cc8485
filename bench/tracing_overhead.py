"""Cost of tracing on the request path (issue 13 item 5): process CPU per request of a kit app's hello route, driven
in-process through the ASGI interface (no sockets, no load generator: the figure holds on a busy machine).

    .venv/bin/python bench/tracing_overhead.py            # every mode, 5000 requests each

Modes (each in its own interpreter, since the tracer provider is per process):
  off        no exporter configured: what every component runs without OTLP or a dev trace folder
  unsampled  tracing on, the sampler drops every root (OTEL_TRACES_SAMPLER_ARG=0)
  sampled    tracing on, every request recorded and written as JSON lines (dev's setting)
  fastapi    sampled, with FastAPI's own OpenTelemetry instead of the kit's lean server span
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time

MODES = ("off", "unsampled", "sampled", "fastapi")


def measure(mode: str, n: int) -> float:
    from fastapi import FastAPI

    from fupin_kit import telemetry
    from fupin_kit.app import install_platform

    if mode == "fastapi":
        app = FastAPI(telemetry={"operation_spans": False, "logs": False, "metrics": False})  # type: ignore[call-arg]
        telemetry._asgi_instrumented = True  # the lean span steps aside
    else:
        app = FastAPI(**telemetry.fastapi_options())

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"status": "ok"}

    async def readiness() -> dict[str, bool]:
        return {"database": True}

    install_platform(app, component="bench", readiness=readiness)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/hello", "raw_path": b"/hello", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench"), (b"user-agent", b"bench")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    async def run() -> float:
        for _ in range(500):
            await app(dict(scope), receive, send)
        started = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        telemetry.shutdown()  # the exporter's work counts
        return (time.process_time() - started) / n

    return asyncio.run(run())


def main() -> None:
    n = int(os.environ.get("BENCH_REQUESTS", "5000"))
    if len(sys.argv) > 1:
        print(f"{measure(sys.argv[1], n) * 1e6:.0f}")
        return
    with tempfile.TemporaryDirectory() as folder:
        figures = {}
        for mode in MODES:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FUPIN_TRACE"))}
            if mode != "off":
                env["FUPIN_TRACE_DIR"] = folder
            if mode == "unsampled":
                env |= {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
            out = subprocess.run([sys.executable, __file__, mode], env=env, capture_output=True, text=True, check=True)
            figures[mode] = float(out.stdout.strip().splitlines()[-1])
    base = figures["off"]
    print("| mode | CPU µs/request | vs off |\n|---|---|---|")
    for mode, cost in figures.items():
        print(f"| {mode} | {cost:.0f} | +{cost - base:.0f} |")
    print(f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
