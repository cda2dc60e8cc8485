"""Repository layout, component table and the environment every component runs with."""

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFAULT_KAFKA_PORT = 9092
DEFAULT_KAFKA = f"127.0.0.1:{DEFAULT_KAFKA_PORT}"
# a component whose folder does not exist (yet) is skipped by `up`; its database is created all the same
SERVICES = ("registry", "finance", "microcredit", "education", "medical", "assistance", "welfare", "dashboard")
DATABASES = ("gateway", *SERVICES)
SERVICE_PORTS = {"registry": 8101, "finance": 8102, "microcredit": 8103, "education": 8104, "medical": 8105,
                 "assistance": 8106, "welfare": 8107, "dashboard": 8108}


@cache
def root() -> Path:
    """The repository root: $FUPIN_ROOT, else the checkout this package is installed from, else cwd or a parent."""
    if env := os.environ.get("FUPIN_ROOT"):
        return Path(env).resolve()
    candidates = [Path(__file__).resolve().parents[3], Path.cwd(), *Path.cwd().parents]
    for path in candidates:
        if (path / "dev" / "kafka" / "pom.xml").is_file():
            return path
    raise RuntimeError("cannot find the Fupin repository root (set FUPIN_ROOT)")


def run_dir() -> Path:
    """The run folder (pids, logs, keys, data): `$FUPIN_RUN_DIR` for a second, isolated instance, else `.run`."""
    if env := os.environ.get("FUPIN_RUN_DIR"):
        return Path(env).resolve()
    return root() / ".run"


def logs_dir() -> Path:
    return run_dir() / "logs"


def pids_dir() -> Path:
    return run_dir() / "pids"


def keys_dir() -> Path:
    return run_dir() / "keys"


def traces_dir() -> Path:
    """Where the components started by the runner write their spans (`<component>.jsonl`, `fupin-dev trace`)."""
    return run_dir() / "traces"


# The dev stack's gov-portal client is the demo loaders' (about 2,300 calls in `make up`) and every e2e run's, several
# at once on one machine; at the gateway's default 50/s `make up` spent most of a minute waiting for its bucket. Banks
# and hospitals keep the default, as every client of a deployment does unless its clients file says otherwise.
DEV_RATE_LIMITS = {"gov-portal": {"per_second": 500, "burst": 1000}}


def gateway_env() -> dict[str, str]:
    """The dev gateway's own settings: `DEV_RATE_LIMITS`, unless `FUPIN_RATE_LIMITS` is set already."""
    return {} if "FUPIN_RATE_LIMITS" in os.environ else {"FUPIN_RATE_LIMITS": json.dumps(DEV_RATE_LIMITS)}


def trace_env() -> dict[str, str]:
    """Tracing of the components the runner starts: spans to `traces_dir()` (fupin_kit.telemetry), unless
    `FUPIN_TRACE_DIR` is set already (empty: no traces); an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is passed
    on as it is."""
    folder = os.environ.get("FUPIN_TRACE_DIR")
    return {"FUPIN_TRACE_DIR": str(traces_dir()) if folder is None else folder}


def cache_dir() -> Path:
    return root() / ".cache"


def pg_port() -> int:
    return int(os.environ.get("FUPIN_PG_PORT", "15432"))


def gateway_port() -> int:
    return int(os.environ.get("FUPIN_GATEWAY_PORT", "8000"))


def kafka_port() -> int:
    """The local broker's port (`FUPIN_KAFKA_PORT`, 9092); its controller listens on the next port."""
    return int(os.environ.get("FUPIN_KAFKA_PORT", str(DEFAULT_KAFKA_PORT)))


def local_kafka_bootstrap() -> str:
    return f"127.0.0.1:{kafka_port()}"


def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", local_kafka_bootstrap())


def local_kafka() -> bool:
    """True when the local broker is ours to run (KAFKA_BOOTSTRAP_SERVERS unset or our local address)."""
    return kafka_bootstrap() == local_kafka_bootstrap()


def service_port(name: str) -> int:
    """`SERVICE_PORTS[name]`, shifted by `FUPIN_SERVICE_PORT_BASE` (e.g. 18100: registry on 18101) when set."""
    if base := os.environ.get("FUPIN_SERVICE_PORT_BASE"):
        return int(base) + SERVICE_PORTS[name] - 8100
    return SERVICE_PORTS[name]


def selected(name: str) -> bool:
    """`FUPIN_COMPONENTS` (comma-separated names) limits which components run; unset: all of them."""
    wanted = os.environ.get("FUPIN_COMPONENTS", "").strip()
    return not wanted or name in {w.strip() for w in wanted.split(",")}


def demo_enabled() -> bool:
    """`FUPIN_DEMO=0` starts the stack without the demo data (the fault suite's own instance)."""
    return os.environ.get("FUPIN_DEMO", "1") != "0"


def external_postgres() -> bool:
    return os.environ.get("FUPIN_EXTERNAL_POSTGRES") == "1"


@dataclass(frozen=True)
class Component:
    name: str
    folder: Path
    module: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return logs_dir() / f"{self.name}.log"

    @property
    def pidfile(self) -> Path:
        return pids_dir() / f"{self.name}.pid"

    def exists(self) -> bool:
        return self.folder.is_dir() and selected(self.name)


def gateway() -> Component:
    return Component("gateway", root() / "gateway", "gateway.main", gateway_port())


def services() -> list[Component]:
    return [Component(s, root() / "services" / s, f"{s}.main", service_port(s)) for s in SERVICES]


def components() -> list[Component]:
    """Every component in migration order (gateway first), whether or not its folder exists yet."""
    return [gateway(), *services()]


def component_env() -> dict[str, str]:
    """The variables every component (and every test or benchmark) needs; see docs/conventions.md."""
    keys = keys_dir()
    env = {
        "FUPIN_PROFILE": "dev",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
        "FUPIN_JWT_PUBLIC_KEY_FILE": str(keys / "jwt_public.pem"),
        "FUPIN_JWT_PRIVATE_KEY_FILE": str(keys / "jwt_private.pem"),
        "FUPIN_GATEWAY_URL": gateway().url,
    }
    pseudonym = keys / "pseudonym.key"
    if pseudonym.is_file():
        env["FUPIN_PSEUDONYM_KEY"] = pseudonym.read_text().strip()
    for db in DATABASES:
        var = f"{db.upper()}_DATABASE_URL"
        env[var] = os.environ.get(var, f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port()}/{db}")
    for svc in services():
        var = f"FUPIN_{svc.name.upper()}_URL"
        env[var] = os.environ.get(var, svc.url)
    return env
