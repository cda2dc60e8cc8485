"""Giving the C allocator's free pages back to the system after a burst (a bulk import, a monthly run, scrypt's
16 MiB buffers): glibc keeps what such a burst freed for the next allocation, and a component's RSS stays that much
higher long after (issue 14 target 7). `MALLOC_ARENA_MAX` and the fixed mmap/trim thresholds that dev and deploy/k8s
set keep most of it from piling up; this returns the rest at the moments a component knows it is done."""

import ctypes
import ctypes.util
import gc
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


# CPython's young-generation threshold is 700 allocations. A service with 64 requests in flight keeps thousands of
# objects alive across awaits, so at 700 the collector ran every few requests and promoted those objects, and the
# older generations' collections then walked the whole heap of the app (FastAPI's routes and models, SQLAlchemy's
# mappers, pydantic's validators): in a profile of the registry's household read, about a third of the request
# path's throughput and most of its p99 (bench: 2,950 -> 4,400 reads/s, p99 115-160 -> 40-65 ms).
YOUNG_THRESHOLD = 10_000
_tuned = False


def tune_collector() -> None:
    """Called once a component has started (its modules imported, its app and pools built): what exists now lives
    as long as the process, so it is moved out of the collector's sight (`gc.freeze()`, the pattern the gc docs
    give for pre-fork servers, used here for the same reason: those objects are never garbage), and the young
    generation is collected every `YOUNG_THRESHOLD` allocations instead of 700. Reference counting still frees
    almost everything at once; the collector is for cycles, which a request rarely leaves. Once per process: a test
    process starts many apps, and what its tests left behind is no app's start-up state."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
