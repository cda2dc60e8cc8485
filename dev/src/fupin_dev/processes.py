"""Background processes tracked by pid files: start detached, check, stop, read their logs."""

import os
import shlex
import subprocess
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import psutil


class StackError(Exception):
    """A step of `fupin-dev up` failed; `detail` is shown below the message (usually a log tail)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def read_pid(pidfile: Path, marker: str) -> int | None:
    """The pid in `pidfile` if that process is alive and its command line contains `marker`."""
    try:
        pid = int(pidfile.read_text().strip())
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or marker not in " ".join(proc.cmdline()):
            return None
    except (OSError, ValueError, psutil.Error):
        return None
    return pid


def spawn(cmd: Sequence[str], *, log: Path, pidfile: Path, env: dict[str, str], cwd: Path) -> int:
    """Start `cmd` in its own session (it outlives the CLI), output appended to `log`, pid to `pidfile`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n=== {datetime.now().isoformat(timespec='seconds')} {shlex.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def terminate(targets: Sequence[tuple[Path, str]], timeout: float) -> list[int]:
    """SIGTERM every live (pidfile, marker) target, SIGKILL what is left after `timeout` s; returns the pids."""
    procs: list[psutil.Process] = []
    for pidfile, marker in targets:
        if (pid := read_pid(pidfile, marker)) is not None:
            try:
                proc = psutil.Process(pid)
                proc.terminate()
                procs.append(proc)
            except psutil.NoSuchProcess:
                pass
        pidfile.unlink(missing_ok=True)
    _, survivors = psutil.wait_procs(procs, timeout=timeout)
    for proc in survivors:
        proc.kill()
    psutil.wait_procs(survivors, timeout=5)
    return [p.pid for p in procs]


def tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"({path} does not exist)"
    with path.open(errors="replace") as f:
        return "".join(deque(f, maxlen=lines))
