"""What the benchmark scripts read of local processes from /proc: their CPU time, the figure a busy machine skews far
less than a rate."""

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a local process so far (0 for one that is gone or not ours to read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
