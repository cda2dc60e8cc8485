"""The fault suite's own stack: a second, isolated instance of the dev runner (its own run folder, PostgreSQL,
Kafka, services and gateway on other ports, no demo data), so that stopping its database or pausing its broker never
touches the shared stack others are testing against."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RUN_DIR = ROOT / ".run" / "faults"
SERVICES = ("registry", "finance", "microcredit", "education", "medical")
ISOLATED = {
    "FUPIN_RUN_DIR": str(RUN_DIR),
    "FUPIN_PG_PORT": os.environ.get("FUPIN_FAULTS_PG_PORT", "15442"),
    "FUPIN_KAFKA_PORT": os.environ.get("FUPIN_FAULTS_KAFKA_PORT", "19092"),
    "FUPIN_GATEWAY_PORT": os.environ.get("FUPIN_FAULTS_GATEWAY_PORT", "18000"),
    "FUPIN_SERVICE_PORT_BASE": os.environ.get("FUPIN_FAULTS_SERVICE_PORT_BASE", "18100"),
    "FUPIN_COMPONENTS": ",".join(("gateway", *SERVICES)),
    "FUPIN_DEMO": "0",
    "FUPIN_FAULT_DIR": str(RUN_DIR / "inject"),
}
# what `eval "$(fupin-dev env)"` exported for the shared stack must not leak into the isolated one
LEAKING = ("KAFKA_BOOTSTRAP_SERVERS", "FUPIN_EXTERNAL_POSTGRES", "FUPIN_JWT_PUBLIC_KEY_FILE",
           "FUPIN_JWT_PRIVATE_KEY_FILE", "FUPIN_PSEUDONYM_KEY", "FUPIN_CONSUMER_GROUP", "FUPIN_GATEWAY_URL")


@dataclass
class FaultRow:
    fault: str
    requests: int
    attempts: int
    expected: int
    found: int
    lost: int
    doubled: int
    notes: str = ""


@dataclass
class Report:
    rows: list[FaultRow] = field(default_factory=list)

    def table(self) -> str:
        head = ("fault", "requests sent (attempts)", "effects expected", "found", "lost", "doubled")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            lines.append(f"| {r.fault} | {r.requests} ({r.attempts}) | {r.expected} | {r.found} | {r.lost} | "
                         f"{r.doubled} |")
        return "\n".join(lines)


REPORT = Report()


def _isolated_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in LEAKING and not k.endswith("_DATABASE_URL")
           and not (k.startswith("FUPIN_") and k.endswith("_URL"))}
    return {**env, **ISOLATED}


def _runner(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "fupin-dev"), *args], env=_isolated_env(), cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout)


@pytest.fixture(scope="session")
def isolated_stack() -> Iterator[dict[str, str]]:
    """Start the isolated instance from scratch; stop it (and only it) afterwards."""
    _runner("down", timeout=120)  # a previous run's leftovers, if any
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    started = _runner("up", timeout=300)
    if started.returncode != 0:
        _runner("down", timeout=180)  # what did start (its database, broker, some services) must not outlive the run
        pytest.fail(f"the isolated stack did not start:\n{started.stdout[-4000:]}\n{started.stderr[-2000:]}")
    # the fault helpers below use the runner's modules in this process, on the isolated instance
    saved = {k: os.environ.get(k) for k in (*ISOLATED, *LEAKING)}
    os.environ.clear()
    os.environ.update(_isolated_env())
    from fupin_dev import config

    os.environ.update(config.component_env())
    try:
        yield dict(os.environ)
    finally:
        stopped = _runner("down", timeout=180)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT.rows:
        terminalreporter.write_line("")
        terminalreporter.write_line("Fault suite (isolated stack; every effect must be found exactly once):")
        for line in REPORT.table().splitlines():
            terminalreporter.write_line(line)
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        (RUN_DIR / "fault-table.md").write_text(REPORT.table() + "\n")
