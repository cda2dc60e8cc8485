"""Giving the C allocator's free pages back to the system after a burst (a bulk import, a monthly run, scrypt's
16 MiB buffers): glibc keeps what such a burst freed for the next allocation, and a component's RSS stays that much
higher long after (issue 14 target 7). `MALLOC_ARENA_MAX` and the fixed mmap/trim thresholds that dev and deploy/k8s
set keep most of it from piling up; this returns the rest at the moments a component knows it is done."""

import ctypes
import ctypes.util
from collections.abc import Callable


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


_MALLOC_TRIM = _load_malloc_trim()


def release_memory() -> None:
    """glibc's `malloc_trim(0)`: every arena's free pages back to the system. Nothing where the C library lacks it."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
