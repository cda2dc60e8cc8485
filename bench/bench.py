"""`make bench` (issue 14): the figures of the request path, measured with wrk against the running stack, in one table.

    .venv/bin/python bench/bench.py                      # every figure, 8 s of load each
    .venv/bin/python bench/bench.py --duration 5 --only hello --only household_direct
    .venv/bin/python bench/bench.py --gateway http://127.0.0.1:8000   # an already running gateway instead

In one run it starts the reference (a bare FastAPI `{"status":"ok"}` app under uvicorn, bench/hello.py) and a
gateway of this checkout on its own port with the per-client rate limit raised (the stack's gateway keeps its 50/s,
which other engineers' tests share; tokens come from the stack's gateway, same keys). The load generator is wrk
(`-t1`, Lua in bench/wrk.lua for bodies, headers and the figures). Each figure is a ratio to another figure of the
same run, so that the noise of a shared machine cancels.

The event-path figures (finance payments, household consumers) are measured by their own scripts in bench/, run by
`script_rows`, which reads their `BENCH_JSON {...}` lines; `--quick` gives them smaller bursts.

The table is built by the functions decorated with `@figure`, in order: to add a figure, write one function that
takes the `Bench` and returns its rows (it may read what earlier figures measured in `bench.loads`).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fixtures  # bench/ is a folder of scripts, not a package
from procstat import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
RUN_DIR = ROOT / ".run"
RSS_LIMIT_MB = 150.0


@dataclass
class Load:
    """One wrk run: answers counted by status, socket errors, latency percentiles (ms)."""

    requests: int
    seconds: float
    statuses: dict[str, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float
    sample: str | None = None
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU time per request of the processes watched

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("2"))

    @property
    def failed(self) -> int:
        return self.requests - self.ok + self.socket_errors

    @property
    def rate(self) -> float:
        """Successful answers per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def describe(self, unit: str = "req/s") -> str:
        text = f"{self.rate:,.0f} {unit}, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"
        if self.cpu_ms:
            text += "; CPU/req " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in self.cpu_ms.items())
        return text + (f", {self.failed} failed" if self.failed else "")


@dataclass
class Row:
    figure: str
    value: str
    reference: str = "-"
    ratio: float | None = None
    target: str = "-"
    met: bool | None = None


@dataclass
class Bench:
    args: argparse.Namespace
    env: dict[str, str]
    gateway: str
    stack_gateway: str = "http://127.0.0.1:8000"
    tokens: dict[str, str] = field(default_factory=dict)
    fixture: fixtures.Fixture | None = None
    ids_file: Path | None = None
    loads: dict[str, Load] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # extra processes whose RSS is reported (the bench gateway)

    def wrk(self, name: str, url: str, *, connections: int, mode: str = "get", token: str | None = None,
            extra_env: dict[str, str] | None = None, watch: tuple[str, ...] = ()) -> Load:
        env = {**os.environ, "BENCH_MODE": mode, **(extra_env or {})}
        if token:
            env["BENCH_TOKEN"] = token
        if self.ids_file:
            env["BENCH_IDS_FILE"] = str(self.ids_file)
        base = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s", "-s", str(BENCH_DIR / "wrk.lua")]
        if self.args.warmup > 0:
            subprocess.run([*base, f"-d{self.args.warmup}s", url], env={**env, "BENCH_RUN": uuid.uuid4().hex[:12]},
                           capture_output=True, check=False)
        pids = {who: pid for who in watch if (pid := self.pid_of(who)) is not None}
        before = {who: cpu_seconds(pid) for who, pid in pids.items()}
        out = subprocess.run([*base, f"-d{self.args.duration}s", url], env={**env, "BENCH_RUN": uuid.uuid4().hex[:12]},
                             capture_output=True, text=True, check=False)
        spent = {who: cpu_seconds(pid) - before[who] for who, pid in pids.items()}
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if line is None:
            raise SystemExit(f"wrk {name} gave no figures:\n{out.stdout}\n{out.stderr}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        load = Load(requests=raw["requests"], seconds=raw["duration_us"] / 1e6, statuses=raw["statuses"],
                    socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
                    p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000, sample=raw["sample"])
        if load.requests:
            load.cpu_ms = {who: seconds * 1000 / load.requests for who, seconds in spent.items()}
        self.loads[name] = load
        print(f"  {name:<24} {load.describe()}  statuses {load.statuses}"
              + (f"  first failure: {load.sample[:160]}" if load.sample else ""), file=sys.stderr, flush=True)
        return load


    def pid_of(self, who: str) -> int | None:
        """A watched process: "gateway" is the gateway measured, "hello" the reference, else a stack component."""
        if who == "gateway" and "gateway (bench instance)" in self.pids:
            return self.pids["gateway (bench instance)"]
        return self.pids.get(who) or stack_pids().get(who)


FIGURES: list[Callable[[Bench], list[Row]]] = []


def figure(fn: Callable[[Bench], list[Row]]) -> Callable[[Bench], list[Row]]:
    FIGURES.append(fn)
    return fn


def ratio_row(figure_name: str, load: Load, reference_name: str, reference: Load, *, minimum: float | None,
              p99_max_ms: float | None = None, all_ok: bool = False, unit: str = "req/s") -> Row:
    ratio = load.rate / reference.rate if reference.rate else 0.0
    target, met = "-", None
    if minimum is not None:
        parts = [f">= {minimum:g}x {reference_name}"]
        met = ratio >= minimum
        if p99_max_ms is not None:
            parts.append(f"p99 <= {p99_max_ms:g} ms")
            met = met and load.p99_ms <= p99_max_ms
        if all_ok:
            parts.append("all 2xx")
            met = met and load.failed == 0
        target = ", ".join(parts)
    return Row(figure_name, load.describe(unit), f"{reference_name} {reference.rate:,.0f}/s", ratio, target, met)


def _hello(b: Bench) -> Load:
    return b.loads["hello"]


@figure
def hello(b: Bench) -> list[Row]:
    load = b.wrk("hello", f"{b.args.hello_url}/hello", connections=64, watch=("hello",))
    return [Row("bare FastAPI hello (reference), c64", load.describe())]


@figure
def household_direct(b: Bench) -> list[Row]:
    assert b.fixture
    url = f"{b.env['FUPIN_REGISTRY_URL']}/registry/households/{b.fixture.household_ids[0]}"
    load = b.wrk("household_direct", url, connections=64, token=b.tokens["gov"], watch=("registry",))
    return [ratio_row("GET /registry/households/{id} direct, c64", load, "hello", _hello(b), minimum=0.25)]


@figure
def household_gateway(b: Bench) -> list[Row]:
    assert b.fixture
    url = f"{b.gateway}/registry/households/{b.fixture.household_ids[0]}"
    load = b.wrk("household_gateway", url, connections=64, token=b.tokens["gov"], watch=("gateway", "registry"))
    return [ratio_row("same through the gateway, c64", load, "direct", b.loads["household_direct"], minimum=0.60)]


@figure
def eligibility_direct(b: Bench) -> list[Row]:
    load = b.wrk("eligibility_direct", f"{b.env['FUPIN_MICROCREDIT_URL']}/microcredit/eligibility-checks",
                 connections=64, mode="eligibility", token=b.tokens["bank"], watch=("microcredit",))
    return [ratio_row("POST /microcredit/eligibility-checks direct, c64", load, "hello", _hello(b), minimum=None)]


@figure
def eligibility_gateway(b: Bench) -> list[Row]:
    load = b.wrk("eligibility_gateway", f"{b.gateway}/microcredit/eligibility-checks", connections=64,
                 mode="eligibility", token=b.tokens["bank"], watch=("gateway", "microcredit"))
    return [ratio_row("bank eligibility check through the gateway, c64", load, "hello", _hello(b), minimum=0.12,
                      p99_max_ms=50)]


@figure
def settlement_gateway(b: Bench) -> list[Row]:
    assert b.fixture
    load = b.wrk("settlement_gateway", f"{b.gateway}/medical/settlements", connections=16, mode="settlement",
                 token=b.tokens["his"], extra_env={"BENCH_HOSPITAL": b.fixture.hospital,
                                                    "BENCH_DISCHARGED_ON": b.args.discharged_on},
                 watch=("gateway", "medical"))
    return [ratio_row("HIS settlement through the gateway, c16", load, "hello", _hello(b), minimum=0.04,
                      p99_max_ms=100, all_ok=True, unit="settlements/s")]


def script_rows(b: Bench, script: str, *arguments: str) -> list[Row]:
    """An event-path figure measured by its own script (it prints `BENCH_JSON {figure, value, unit, target, met}`)."""
    if b.args.quick:
        arguments = (*arguments, *SCRIPT_QUICK.get(script, ()))
    command = [sys.executable, str(BENCH_DIR / script), *arguments]
    print(f"  {script} {' '.join(arguments)}", file=sys.stderr, flush=True)
    out = subprocess.run(command, env={**os.environ, **b.env, "FUPIN_GATEWAY_URL": b.stack_gateway},
                         capture_output=True, text=True, check=False, cwd=ROOT)
    found = [json.loads(line.removeprefix("BENCH_JSON ")) for line in out.stdout.splitlines()
             if line.startswith("BENCH_JSON ")]
    if not found:
        return [Row(f"{script} (no figure: exit {out.returncode})", _last_line(out.stderr or out.stdout), met=False)]
    rows = []
    for raw in found:
        target = raw.get("target")
        label = raw.get("target_text") or (f">= {target:,g} {raw.get('unit', '')}".strip() if target else "-")
        value = f"{raw['value']:,} {raw.get('unit', '')}".strip()
        if raw.get("load_average"):
            value += f" (load {raw['load_average'][0]} -> {raw['load_average'][-1]})"
        reference = raw.get("reference", "-")
        rows.append(Row(raw["figure"], value, reference, raw.get("ratio"), label, raw.get("met")))
    if out.returncode != 0:
        rows.append(Row(f"{script} exit status {out.returncode}", _last_line(out.stderr), met=False))
    return rows


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else "-"


# smaller event bursts for `--quick`
SCRIPT_QUICK = {"finance_payments.py": ("--events", "1000"), "household_consumers.py": ("--households", "2000"),
                "registry_import.py": ("--members", "20000"), "outbox_relay.py": ("--events", "5000"),
                "registration_latency.py": ("--registrations", "20"), "import_read_models.py": ("--members", "20000")}


@figure
def finance_payments(b: Bench) -> list[Row]:
    return script_rows(b, "finance_payments.py")


@figure
def registry_import(b: Bench) -> list[Row]:
    return script_rows(b, "registry_import.py")


@figure
def outbox_relay(b: Bench) -> list[Row]:
    return script_rows(b, "outbox_relay.py")


@figure
def household_consumers(b: Bench) -> list[Row]:
    return script_rows(b, "household_consumers.py")


@figure
def import_read_models(b: Bench) -> list[Row]:
    return script_rows(b, "import_read_models.py")


@figure
def registration_latency(b: Bench) -> list[Row]:
    return script_rows(b, "registration_latency.py")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stack_pids() -> dict[str, int]:
    """The stack's Python components (gateway and services) from the dev runner's pid files."""
    found = {}
    for pidfile in sorted((RUN_DIR / "pids").glob("*.pid")):
        if pidfile.stem in ("kafka", "postgres"):
            continue
        try:
            found[pidfile.stem] = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return found


@figure
def rss(b: Bench) -> list[Row]:
    rows = []
    for name, pid in {**stack_pids(), **b.pids}.items():
        if name == "hello":
            continue
        mb = rss_mb(pid)
        if mb is not None:
            rows.append(Row(f"RSS {name} after the load", f"{mb:.0f} MB", target=f"<= {RSS_LIMIT_MB:g} MB",
                            met=mb <= RSS_LIMIT_MB))
    return rows


def print_table(rows: list[Row]) -> None:
    header = ("figure", "value", "reference", "ratio", "target", "met")
    cells = [header] + [(r.figure, r.value, r.reference, "-" if r.ratio is None else f"{r.ratio:.3f}x", r.target,
                         "-" if r.met is None else ("yes" if r.met else "NO")) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    for i, line in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def fupin_env() -> dict[str, str]:
    from fupin_dev.config import component_env

    env = component_env()
    for service, port in (("registry", 8101), ("finance", 8102), ("microcredit", 8103), ("education", 8104),
                          ("medical", 8105)):
        env.setdefault(f"FUPIN_{service.upper()}_URL", f"http://127.0.0.1:{port}")
    return env


def wait_http(url: str, process: subprocess.Popen[bytes] | None, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} not ready at {url} after {timeout:.0f} s")


@contextmanager
def serve(cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path, ready_url: str, what: str
          ) -> Iterator[subprocess.Popen[bytes]]:
    try:
        httpx.get(ready_url, timeout=2)
        raise SystemExit(f"something already answers at {ready_url}: {what} needs that port (see --help for ports)")
    except httpx.HTTPError:
        pass
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(ready_url, process, what, timeout=180)  # a busy machine starts a gateway slowly
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def fetch_token(stack_gateway: str, client_id: str, secret: str) -> str:
    for _ in range(20):
        answer = httpx.post(f"{stack_gateway}/oauth/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        if answer.status_code == 429:
            time.sleep(float(answer.headers.get("retry-after", "1")))
            continue
        if answer.status_code != 200:
            raise SystemExit(f"no token for {client_id}: {answer.status_code} {answer.text[:200]}")
        return str(answer.json()["access_token"])
    raise SystemExit(f"no token for {client_id}: rate limited")


def run(args: argparse.Namespace) -> list[Row]:
    from fupin_dev import config

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    env = fupin_env()
    stack_gateway = args.stack_gateway or env.get("FUPIN_GATEWAY_URL", "http://127.0.0.1:8000")
    wait_http(f"{stack_gateway}/healthz", None, "the stack's gateway (run `make up`)", timeout=10)
    python_bin = Path(sys.executable).parent
    child_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    selected = [f for f in FIGURES if not args.only or f.__name__ in args.only]
    rows: list[Row] = []
    with serve([str(python_bin / "uvicorn"), "--app-dir", str(BENCH_DIR), "hello:app", "--host", "127.0.0.1",
                "--port", str(args.hello_port), "--no-access-log"], env=child_env, cwd=BENCH_DIR,
               log=RUN_DIR / "logs" / "bench-hello.log", ready_url=f"http://127.0.0.1:{args.hello_port}/hello",
               what="the reference app") as hello_process:
        args.hello_url = f"http://127.0.0.1:{args.hello_port}"
        # the stack's gateway with its tracing (the dev runner's), without rate limits: wrk is one client
        gateway_env = {**child_env, **config.trace_env(), "FUPIN_RATE_LIMIT_PER_SECOND": "1000000",
                       "FUPIN_RATE_LIMIT_BURST": "1000000", "FUPIN_RATE_LIMITS": "{}",
                       "FUPIN_GATEWAY_PORT": str(args.gateway_port)}
        with _gateway(args, gateway_env) as (gateway, gateway_pid):
            bench = Bench(args=args, env=env, gateway=gateway, stack_gateway=stack_gateway)
            bench.pids["hello"] = hello_process.pid
            if gateway_pid:
                bench.pids["gateway (bench instance)"] = gateway_pid
            for name, (client_id, secret) in {"gov": ("gov-portal", "gov-portal-dev-secret"),
                                              "bank": ("bank-demo", "bank-demo-dev-secret"),
                                              "his": ("his-demo", "his-demo-dev-secret")}.items():
                bench.tokens[name] = fetch_token(stack_gateway, client_id, secret)
            bearer = {k: {"Authorization": f"Bearer {v}"} for k, v in bench.tokens.items()}
            bench.fixture = fixtures.ensure(gateway, bearer, RUN_DIR / "bench" / "fixture.json", args.households)
            with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids:
                ids.write("\n".join(bench.fixture.id_numbers) + "\n")
            bench.ids_file = Path(ids.name)
            try:
                for fn in selected:
                    rows += fn(bench)
            finally:
                bench.ids_file.unlink(missing_ok=True)
            if args.json:
                Path(args.json).write_text(json.dumps({"loads": {k: asdict(v) for k, v in bench.loads.items()},
                                                       "rows": [asdict(r) for r in rows]}, indent=1))
    return rows


@contextmanager
def _gateway(args: argparse.Namespace, env: dict[str, str]) -> Iterator[tuple[str, int | None]]:
    if args.gateway:
        yield args.gateway.rstrip("/"), None
        return
    python_bin = Path(sys.executable).parent
    with serve([str(python_bin / "uvicorn"), "gateway.main:app", "--host", "127.0.0.1", "--port",
                str(args.gateway_port), "--no-access-log"], env=env, cwd=ROOT / "gateway",
               log=RUN_DIR / "logs" / "bench-gateway.log", ready_url=f"http://127.0.0.1:{args.gateway_port}/healthz",
               what="the bench gateway") as process:
        yield f"http://127.0.0.1:{args.gateway_port}", process.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per figure")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each figure")
    parser.add_argument("--only", action="append", default=[], help="figure function name (repeatable)")
    parser.add_argument("--gateway", help="measure this running gateway instead of starting one")
    parser.add_argument("--stack-gateway", help="the stack's gateway (tokens); default $FUPIN_GATEWAY_URL")
    parser.add_argument("--gateway-port", type=int, default=8090)
    parser.add_argument("--hello-port", type=int, default=8190)
    parser.add_argument("--households", type=int, default=64, help="registered-poor households of the fixture")
    parser.add_argument("--discharged-on", default="2020-06-30")
    parser.add_argument("--quick", action="store_true", help="smaller event bursts for the event-path figures")
    parser.add_argument("--json", help="also write the loads and rows to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = run(args)
    print_table(rows)
    print(f"({time.perf_counter() - started:.0f} s; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
