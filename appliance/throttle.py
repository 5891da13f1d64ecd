"""Failure counting for brute-force protection (logins, access codes). In memory: one process."""
import math
from collections import deque


class Throttle:
    """More than `limit` failures for one key within `window` seconds lock it for `lockout` seconds."""

    def __init__(self, limit, window, lockout, clock, max_keys=10000):
        self.limit, self.window, self.lockout = limit, window, lockout
        self.clock = clock
        self.max_keys = max_keys
        self._failures = {}   # key -> deque of monotonic times
        self._locked = {}     # key -> monotonic time the lock ends

    def retry_after(self, key):
        """Seconds until `key` may try again; 0 when it is not locked."""
        until = self._locked.get(key)
        if until is None:
            return 0
        left = until - self.clock.monotonic()
        if left <= 0:
            del self._locked[key]
            return 0
        return math.ceil(left)

    def failure(self, key):
        now = self.clock.monotonic()
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            self._locked[key] = now + self.lockout
            times.clear()
        if len(self._failures) > self.max_keys:
            self._prune(now)

    def reset(self, key):
        self._failures.pop(key, None)
        self._locked.pop(key, None)

    def _prune(self, now):
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self.window]:
            del self._failures[key]
        for key in [k for k, until in self._locked.items() if until <= now]:
            del self._locked[key]
