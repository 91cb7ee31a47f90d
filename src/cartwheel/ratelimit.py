"""Per-store token buckets. In-process: with several API processes each enforces the limit
on its own share of traffic (documented in docs/operations.md)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cartwheel.exceptions import RateLimited


@dataclass(frozen=True, slots=True)
class Quota:
    """What a successful :meth:`RateLimiter.check` leaves: the bucket size and the whole
    requests still available right now (for ``X-RateLimit-*`` response headers)."""

    limit: int
    remaining: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        default_rate: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.default_rate = default_rate
        self.burst = burst
        self._clock = clock
        self._wall_clock = wall_clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, store_id: int, rate: float | None = None) -> Quota:
        """Take one token for ``store_id`` or raise :class:`RateLimited`."""
        rate = rate or self.default_rate
        capacity = float(self.burst or max(1, math.ceil(rate)))
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(store_id)
            if bucket is None:
                bucket = self._buckets[store_id] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Quota(int(capacity), int(bucket.tokens))
            wait = (1.0 - bucket.tokens) / rate
        retry_after = max(1, math.ceil(wait))
        raise RateLimited(
            limit=int(capacity),
            retry_after=retry_after,
            reset=int(self._wall_clock() + retry_after),
        )
