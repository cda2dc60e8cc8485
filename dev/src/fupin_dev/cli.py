"""`fupin-dev`: run the whole Fupin stack locally (see docs/conventions.md and contract §0)."""

import asyncio
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import components, config, kafka, keys, postgres, traces
from .processes import StackError, tail

app = typer.Typer(help="Local runner for Fupin: PostgreSQL, Kafka, the five services and the gateway.",
                  no_args_is_help=True, add_completion=False)  # fmt: skip
console = Console(soft_wrap=True)

DEMO_CLIENTS = (
    ("gov-portal", "gov-portal-dev-secret",
     "registry:read registry:write finance:read finance:write education:read education:write "
     "microcredit:read microcredit:write medical:read medical:write"),
    ("bank-demo", "bank-demo-dev-secret", "microcredit:eligibility microcredit:loans"),
    ("bank-other", "bank-other-dev-secret", "microcredit:eligibility microcredit:loans"),
    ("his-demo", "his-demo-dev-secret", "medical:settle"),
    ("auditor", "auditor-dev-secret", "registry:read finance:read education:read microcredit:read medical:read"),
)  # fmt: skip
# Contract §9 demo officials (gateway.officials.demo): they log in to the war map at the gateway's `/`.
DEMO_OFFICIALS = (
    ("city-admin", "city-admin-dev-password", "operator", "610700 汉中市(演示)"),
    ("county-viewer", "county-viewer-dev-password", "viewer", "610723 洋县"),
    ("village-viewer", "village-viewer-dev-password", "viewer", "610723101201 洋县1镇1村"),
)  # fmt: skip


def _pgdata() -> Path:
    return config.run_dir() / "pgdata"


def _present() -> list[config.Component]:
    return [c for c in config.components() if c.exists()]


def _infrastructure_up() -> bool:
    pg_ok = config.external_postgres() or postgres.running(_pgdata())
    kafka_ok = not config.local_kafka() or kafka.pid() is not None
    return pg_ok and kafka_ok


def _everything_ready() -> bool:
    keys_ok = (config.keys_dir() / "pseudonym.key").is_file()
    present = _present()
    if not (keys_ok and _infrastructure_up() and all(components.pid(c) for c in present)):
        return False
    codes = asyncio.run(components.readyz_codes(present))
    return all(code == 200 for code in codes.values()) and not components.demo_pending()


@app.command()
def up() -> None:
    """Start everything that is not running yet; returns when every component is ready."""
    if _everything_ready():
        _summary()
        return
    started = time.monotonic()
    try:
        _up()
    except StackError as exc:
        console.print(f"[bold red]fupin-dev up failed:[/] {exc}")
        if exc.detail:
            console.print(exc.detail, markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"[green]up in {time.monotonic() - started:.1f} s[/]")
    _summary()


def _up() -> None:
    for folder in (config.logs_dir(), config.pids_dir()):
        folder.mkdir(parents=True, exist_ok=True)
    keys.ensure_keys(config.keys_dir())
    env = config.component_env()

    # The broker's JVM boots while PostgreSQL starts and the migrations run: only the topics wait for it.
    bootstrap = config.kafka_bootstrap()
    with console.status("Kafka: starting (the first run downloads it with Maven)"):
        broker_pid = kafka.pid()
        if config.local_kafka() and (started := kafka.start()) is not None:
            version, broker_pid = started
            console.print(f"Kafka {version}: started (pid {broker_pid})")

    if config.external_postgres():
        console.print("PostgreSQL: external (FUPIN_EXTERNAL_POSTGRES=1)")
    else:
        with console.status("PostgreSQL: starting"):
            if postgres.start(_pgdata(), config.logs_dir() / "postgres.log", config.pg_port()):
                console.print(f"PostgreSQL: started on 127.0.0.1:{config.pg_port()}")
            created = postgres.create_databases(config.pg_port(), config.DATABASES)
        if created:
            console.print(f"PostgreSQL: created databases {' '.join(created)}")

    present = _present()
    mark = time.monotonic()
    with console.status("migrations"), ThreadPoolExecutor(max_workers=4) as pool:
        # one database per component: their migrations are independent
        list(pool.map(lambda c: components.migrate(c, env), present))
    mark = _phase("migrations", mark)

    with console.status("Kafka: waiting for the broker"):
        asyncio.run(kafka.wait_ready(bootstrap, broker_pid=broker_pid if config.local_kafka() else None))
        if created_topics := asyncio.run(kafka.ensure_topics(bootstrap)):
            console.print(f"Kafka: created {len(created_topics)} topics")
    mark = _phase("Kafka ready, topics", mark)
    for c in present:
        if (pid := components.start(c, env)) is not None:
            console.print(f"{c.name}: started on {c.url} (pid {pid})")
    with console.status("waiting for /readyz"):
        services = [c for c in present if c.name != "gateway"]
        asyncio.run(components.wait_ready(services))
        asyncio.run(components.wait_ready([c for c in present if c.name == "gateway"]))
    mark = _phase("components ready", mark)

    if components.demo_pending():
        with console.status("loading the demo data"):
            components.load_demo(config.gateway().url, env)
        console.print("demo data loaded")
        _phase("demo data", mark)


def _phase(name: str, since: float) -> float:
    """Print how long a phase of `up` took (CI's time budget is spent here); returns now."""
    now = time.monotonic()
    console.print(f"[dim]{name}: {now - since:.1f} s[/]")
    return now


def _summary() -> None:
    _status_table()
    console.print(f"\nGateway: [bold]{config.gateway().url}[/]")
    clients = Table(title="Demo clients (dev profile only)", title_justify="left")
    for column in ("client_id", "secret", "scopes"):
        clients.add_column(column, overflow="fold")
    for row in DEMO_CLIENTS:
        clients.add_row(*row)
    console.print(clients)
    officials = Table(title=f"Demo officials (dev profile only): the war map at {config.gateway().url}/",
                      title_justify="left")
    for column in ("username", "password", "role", "division"):
        officials.add_column(column, overflow="fold")
    for official in DEMO_OFFICIALS:
        officials.add_row(*official)
    console.print(officials)


@app.command()
def down() -> None:
    """Stop the components, then Kafka, then PostgreSQL. Data is kept."""
    if stopped := components.stop(config.components()):
        console.print(f"components: stopped {len(stopped)}")
    if kafka.stop():
        console.print("Kafka: stopped")
    if not config.external_postgres() and postgres.initialized(_pgdata()) and postgres.stop(_pgdata()):
        console.print("PostgreSQL: stopped")
    console.print("[green]down[/]")


def _status_table() -> None:
    table = Table(title="Fupin stack", title_justify="left")
    for column in ("component", "state", "pid", "address"):
        table.add_column(column)
    if config.external_postgres():
        table.add_row("postgres", "external", "", "")
    else:
        pg_state = "[green]running[/]" if postgres.running(_pgdata()) else "[red]stopped[/]"
        table.add_row("postgres", pg_state, "", f"127.0.0.1:{config.pg_port()}")
    if config.local_kafka():
        kafka_pid = kafka.pid()
        kafka_state = "[green]running[/]" if kafka_pid else "[red]stopped[/]"
        table.add_row("kafka", kafka_state, str(kafka_pid or ""), config.kafka_bootstrap())
    else:
        table.add_row("kafka", "external", "", config.kafka_bootstrap())
    present = _present()
    codes = asyncio.run(components.readyz_codes(present))
    for c in config.components():
        if not c.exists():
            table.add_row(c.name, "[dim]absent[/]", "", "")
            continue
        pid = components.pid(c)
        code = codes[c.name]
        if pid is None:
            state = "[red]stopped[/]"
        elif code == 200:
            state = "[green]ready[/]"
        else:
            state = f"[yellow]not ready ({code or 'no answer'})[/]"
        table.add_row(c.name, state, str(pid or ""), c.url)
    console.print(table)


@app.command()
def status() -> None:
    """Show what is running."""
    _status_table()


@app.command()
def logs(
    name: Annotated[str | None, typer.Argument(help="postgres, kafka, gateway or a service; all when omitted")] = None,
    lines: Annotated[int, typer.Option("--lines", "-n")] = 40,
) -> None:
    """Print the tail of one component's log, or of every log."""
    paths = [config.logs_dir() / f"{name}.log"] if name else sorted(config.logs_dir().glob("*.log"))
    if not paths:
        console.print(f"no logs in {config.logs_dir()}")
    for path in paths:
        console.rule(str(path))
        console.print(tail(path, lines), markup=False, highlight=False, end="")


@app.command()
def env() -> None:
    """Print the components' environment as `export` lines: eval "$(fupin-dev env)"."""
    keys.ensure_keys(config.keys_dir())
    for key, value in config.component_env().items():
        print(f"export {key}={shlex.quote(value)}")


@app.command()
def trace(
    request_id: Annotated[str, typer.Argument(help="the X-Request-Id of a call through the gateway (or a trace id)")],
    databases: Annotated[bool, typer.Option("--db/--no-db", help="show the database queries")] = True,
    wait: Annotated[float, typer.Option(help="seconds to wait for the spans (written about a second later)")] = 2.0,
) -> None:
    """Print the trace of one request as a tree across the components (spans in .run/traces/, see
    fupin_kit.telemetry): the gateway, the service, its outbox relay and each consumer of its events."""
    found = traces.find_trace(config.traces_dir(), request_id, wait=wait, settle=0.5 if wait else 0.0)
    if not found:
        console.print(f"no trace of {request_id} in {config.traces_dir()} (components started by `fupin-dev up` "
                      "write their spans there; a component started before tracing existed needs a restart)")
        raise typer.Exit(1)
    for spans in found:
        console.rule(f"trace {spans[0]['trace_id']}: {len(spans)} spans, "
                     f"{', '.join(sorted(traces.components_of(spans)))}")
        for line in traces.render(spans, databases=databases):
            console.print(line, markup=False, highlight=False)
