"""Gateway baseline (a script, not a test): requests/s, p50 and p99 against a running gateway.

    python bench/gateway_baseline.py                           # GET /healthz and GET /registry/readyz
    python bench/gateway_baseline.py -n 5000 -c 50 \\
        --auth-path /registry/divisions/610723 --direct http://127.0.0.1:8101

`--auth-path` adds token-authenticated reads (a token is fetched first with the demo client credentials);
`--direct` measures the same authenticated paths on a service without the gateway, for comparison.
No target yet: the figures are the baseline recorded in the README.
"""

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


@dataclass
class Result:
    label: str
    seconds: float
    latencies: list[float]
    failures: int

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
        p50 = statistics.median(ordered) if ordered else float("nan")
        rate = len(self.latencies) / self.seconds if self.seconds else 0.0
        return (f"{self.label:<58} {rate:>9.0f} {p50 * 1000:>9.2f} {p99 * 1000:>9.2f} "
                f"{self.failures:>7}")


async def measure(client: httpx.AsyncClient, label: str, url: str, headers: dict[str, str], requests: int,
                  concurrency: int) -> Result:
    latencies: list[float] = []
    failures = 0
    remaining = iter(range(requests))

    async def worker() -> None:
        nonlocal failures
        for _ in remaining:
            started = time.perf_counter()
            try:
                answer = await client.get(url, headers=headers)
                ok = answer.status_code < 400
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok

    for _ in range(min(concurrency, 10)):  # warm the connection pool
        await client.get(url, headers=headers)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(label, time.perf_counter() - started, latencies, failures)


async def fetch_token(client: httpx.AsyncClient, gateway: str, client_id: str, secret: str) -> str:
    answer = await client.post(f"{gateway}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


async def run(args: argparse.Namespace) -> None:
    gateway = args.gateway.rstrip("/")
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        targets = [(f"gateway GET {p}", f"{gateway}{p}", {}) for p in args.path]
        if args.auth_path:
            bearer = {"Authorization": f"Bearer {await fetch_token(client, gateway, args.client_id, args.secret)}"}
            targets += [(f"gateway GET {p} (token)", f"{gateway}{p}", bearer) for p in args.auth_path]
            if args.direct:
                targets += [(f"direct  GET {p} (token)", f"{args.direct.rstrip('/')}{p}", bearer)
                            for p in args.auth_path]
        print(f"{args.requests} requests per target, concurrency {args.concurrency}")
        print(f"{'target':<58} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
        for label, url, headers in targets:
            result = await measure(client, label, url, headers, args.requests, args.concurrency)
            print(result.line(), flush=True)


async def check_reachable(gateway: str) -> None:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(f"{gateway}/healthz")
    except httpx.HTTPError as exc:
        raise SystemExit(f"the gateway does not answer at {gateway} ({exc!r}); start it with `make up`") from exc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("--path", action="append", help="unauthenticated path (default /healthz, /registry/readyz)")
    parser.add_argument("--auth-path", action="append", default=[], help="token-authenticated path to read")
    parser.add_argument("--direct", help="a service's base URL: also read the --auth-path routes there")
    parser.add_argument("--client-id", default="gov-portal")
    parser.add_argument("--secret", default="gov-portal-dev-secret")
    args = parser.parse_args()
    args.path = args.path or ["/healthz", "/registry/readyz"]
    asyncio.run(check_reachable(args.gateway.rstrip("/")))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
