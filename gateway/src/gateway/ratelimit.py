"""In-process token buckets, one per key (a client id, or a caller's IP): one client's burst never slows another."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.clients import RateLimit

MAX_IDLE_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, default: RateLimit, overrides: dict[str, RateLimit] | None = None,
                 clock: Callable[[], float] = time.monotonic, prefixes: dict[str, RateLimit] | None = None) -> None:
        self.default = default
        self.overrides = dict(overrides or {})
        self.prefixes = dict(prefixes or {})  # a limit for every key starting with the prefix
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def limit_for(self, key: str) -> RateLimit:
        if key in self.overrides:
            return self.overrides[key]
        return next((limit for prefix, limit in self.prefixes.items() if key.startswith(prefix)), self.default)

    def blocked(self, key: str) -> int:
        """Without spending: 0 when `key` has a token left, else the whole seconds until it has one."""
        limit = self.limit_for(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0
        tokens = min(float(limit.burst), bucket.tokens + (self._clock() - bucket.updated) * limit.per_second)
        return 0 if tokens >= 1.0 else max(1, math.ceil((1.0 - tokens) / limit.per_second))

    def take(self, key: str) -> int:
        """Spend one token of `key`'s bucket: 0 when allowed, else the whole seconds to wait (>= 1)."""
        limit = self.limit_for(key)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_IDLE_BUCKETS:
                self._forget_full_buckets(now)
            bucket = self._buckets[key] = _Bucket(float(limit.burst), now)
        bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.updated) * limit.per_second)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / limit.per_second))

    def _forget_full_buckets(self, now: float) -> None:
        """A bucket that has refilled completely carries no state worth keeping (bounded memory for IP keys)."""
        for key, bucket in list(self._buckets.items()):
            limit = self.limit_for(key)
            if bucket.tokens + (now - bucket.updated) * limit.per_second >= limit.burst:
                del self._buckets[key]
