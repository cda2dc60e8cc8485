"""Microcredit eligibility checks through the gateway (a script, not a test): checks/s, p50 and p99.

    python bench/microcredit_eligibility.py                      # 2000 checks, concurrency 20
    python bench/microcredit_eligibility.py -n 5000 -c 50 --id-number 610723198001011231 --id-number ...
    python bench/microcredit_eligibility.py --direct http://127.0.0.1:8103   # also straight at the service

A bank token is fetched first (client credentials, `bank-demo` by default). Each check is
`POST /microcredit/eligibility-checks {id_number}`; the numbers are the `--id-number` values in turn (use IDs of the
demo data to exercise registered members) or, without any, valid generated numbers, which take the same path up to
the read-model look-up. The same load is then put on the gateway's bare `GET /healthz` as the baseline.
Answers other than 200 are counted per status (a `429` means the gateway's per-client rate limit was reached).
"""

import argparse
import asyncio
import datetime as dt
import itertools
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"


def resident_id(rng: random.Random) -> str:
    """A valid resident ID number (GB 11643, ISO 7064 MOD 11-2) of an adult born 1960-2000."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))
    body = f"610723{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


@dataclass
class Result:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000 if ordered else float("nan")
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else float("nan")
        ok = self.statuses.get("200", 0)
        rate = ok / self.seconds if self.seconds else 0.0
        others = " ".join(f"{status}x{count}" for status, count in sorted(self.statuses.items()) if status != "200")
        return f"{self.label:<46} {rate:>9.0f} {p50:>9.2f} {p99:>9.2f}  {others or '-'}"


Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def measure(client: httpx.AsyncClient, label: str, send: Send, requests: int, concurrency: int) -> Result:
    result = Result(label)
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            try:
                status = str((await send(client)).status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1

    for _ in range(min(concurrency, 10)):  # warm the connection pool (not measured)
        await send(client)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def eligibility_check(base: str, bearer: str, id_numbers: Iterator[str]) -> Send:
    url, headers = f"{base}/microcredit/eligibility-checks", {"Authorization": f"Bearer {bearer}"}
    return lambda client: client.post(url, json={"id_number": next(id_numbers)}, headers=headers)


def bare_get(url: str) -> Send:
    return lambda client: client.get(url)


async def fetch_token(client: httpx.AsyncClient, gateway: str, client_id: str, secret: str) -> str:
    answer = await client.post(f"{gateway}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    if answer.status_code != 200:
        raise SystemExit(f"no token for {client_id}: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["access_token"])


async def run(args: argparse.Namespace) -> None:
    gateway = args.gateway.rstrip("/")
    rng = random.Random(args.seed)
    pool = args.id_number or [resident_id(rng) for _ in range(1000)]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        try:
            bearer = await fetch_token(client, gateway, args.client_id, args.secret)
        except httpx.HTTPError as exc:
            raise SystemExit(f"the gateway does not answer at {gateway} ({exc!r}); start it with `make up`") from exc
        targets = [
            ("gateway POST /microcredit/eligibility-checks", eligibility_check(gateway, bearer, itertools.cycle(pool))),
            ("gateway GET /healthz (bare baseline)", bare_get(f"{gateway}/healthz"))]
        if args.direct:
            direct = args.direct.rstrip("/")
            targets.insert(1, ("direct  POST /microcredit/eligibility-checks",
                               eligibility_check(direct, bearer, itertools.cycle(pool))))
        print(f"{args.requests} requests per target, concurrency {args.concurrency}, {len(pool)} ID numbers")
        print(f"{'target':<46} {'checks/s':>9} {'p50 ms':>9} {'p99 ms':>9}  other answers")
        for label, send in targets:
            result = await measure(client, label, send, args.requests, args.concurrency)
            print(result.line(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default=os.environ.get("FUPIN_GATEWAY_URL", "http://127.0.0.1:8000"))
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("--id-number", action="append", default=[], help="ID number to check (repeatable)")
    parser.add_argument("--direct", help="the microcredit service's base URL: also measure it without the gateway")
    parser.add_argument("--client-id", default="bank-demo")
    parser.add_argument("--secret", default="bank-demo-dev-secret")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated ID numbers")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
