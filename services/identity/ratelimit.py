"""An in-memory token bucket per key. Logins (logins.py) keep three kinds, per username and
client address, per address and per username, and spend a token per failed attempt only.

Per process: with N identity replicas a guesser gets up to N times the budget, which still
stops password guessing without a shared store."""

import math
import time


class RateLimiter:
    def __init__(self, capacity=5, refill_per_second=5 / 60, max_keys=100_000, clock=time.monotonic):
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._buckets = {}  # key -> (tokens, updated_at); absent = full
        self._max_keys = max_keys
        self._clock = clock

    def retry_after(self, key):
        """0 when an attempt may proceed, else whole seconds until one may."""
        tokens = self._tokens(key, self._clock())
        if tokens >= 1:
            return 0
        return max(1, math.ceil((1 - tokens) / self.refill_per_second))

    def hit(self, key):
        """Spend one token (a failed attempt)."""
        now = self._clock()
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._forget_full(now)
        self._buckets[key] = (self._tokens(key, now) - 1, now)

    def _tokens(self, key, now):
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - updated) * self.refill_per_second)

    def _forget_full(self, now):
        """Drop buckets that have refilled (they behave like absent ones); under a flood of
        distinct keys, drop the oldest half."""
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.capacity]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            for key in list(self._buckets)[: self._max_keys // 2]:
                del self._buckets[key]
