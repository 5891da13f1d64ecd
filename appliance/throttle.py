"""Failure counting for brute-force protection (logins, passwords, access codes). In memory: one
process."""
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


class Backoff:
    """A growing wait after repeated failures for one key: the first `free` failures cost nothing
    (typing mistakes), then each failure doubles the wait before the next try, from `first` up to
    `longest` seconds. A key is forgotten `forget_after` seconds after its last failure, or on
    success. Unlike a lockout, nobody can be shut out for long by someone else's failures: keys are
    chosen so that they are the failing party's own (a username *and* a source address)."""

    def __init__(self, clock, free=3, first=5, longest=900, forget_after=3600, max_keys=10000):
        self.clock = clock
        self.free, self.first, self.longest = free, first, longest
        self.forget_after, self.max_keys = forget_after, max_keys
        self._keys = {}   # key -> (failures, monotonic time of the last one)

    def wait(self, failures):
        """Seconds to wait after `failures` failures in a row."""
        if failures < self.free:
            return 0
        return min(self.longest, self.first * 2 ** min(failures - self.free, 20))

    def retry_after(self, key):
        """Seconds until `key` may try again; 0 when it may try now."""
        entry = self._keys.get(key)
        if entry is None:
            return 0
        failures, last = entry
        elapsed = self.clock.monotonic() - last
        if elapsed >= self.forget_after:
            del self._keys[key]
            return 0
        return max(0, math.ceil(self.wait(failures) - elapsed))

    def failure(self, key):
        now = self.clock.monotonic()
        failures, last = self._keys.get(key, (0, now))
        if now - last >= self.forget_after:
            failures = 0
        self._keys[key] = (failures + 1, now)
        if len(self._keys) > self.max_keys:
            for old in [k for k, (_, t) in self._keys.items() if now - t >= self.forget_after]:
                del self._keys[old]
            if len(self._keys) > self.max_keys:   # a flood of fresh keys: keep the newest half
                for old in sorted(self._keys, key=lambda k: self._keys[k][1])[:len(self._keys) // 2]:
                    del self._keys[old]

    def reset(self, key):
        self._keys.pop(key, None)
