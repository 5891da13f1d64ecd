"""The access log, off the request path.

Writing one line per request from inside the request (formatting, the handlers' lock, a write to
the journal's pipe or a file) costs each response a system call, and a connection whose next
request is already buffered was served again and again while others waited. Here a request only
appends four values to a bounded queue; one greenlet writes the lines a moment later, in order,
yielding between batches. When the queue is full (the log cannot keep up), the oldest waiting
lines are dropped and counted: a line saying how many is written with the next batch.
"""
import logging
from collections import deque

import gevent

request_log = logging.getLogger('appliance.requests')

FLUSH_INTERVAL = 0.25   # seconds a line may wait
BATCH = 200             # lines written between two yields
MAX_PENDING = 50000     # lines kept waiting at most


class AccessLog:
    def __init__(self, logger=request_log, max_pending=MAX_PENDING, interval=FLUSH_INTERVAL):
        self.logger = logger
        self.interval = interval
        self.pending = deque()
        self.max_pending = max_pending
        self.dropped = 0
        self._writer = None

    def add(self, method, path, status, elapsed_ms):
        """One request done: keep its line for the writer (no I/O here)."""
        if len(self.pending) >= self.max_pending:
            self.pending.popleft()
            self.dropped += 1
        self.pending.append((method, path, status, elapsed_ms))
        if self._writer is None:
            self._writer = gevent.spawn_later(self.interval, self._write)

    def _write(self):
        try:
            self.flush()
        finally:
            self._writer = None
            if self.pending:   # arrived while the last batch was written
                self._writer = gevent.spawn_later(self.interval, self._write)

    def flush(self, yielding=True):
        """Write every waiting line (the writer greenlet does; tests and shutdown may too)."""
        info, pending = self.logger.info, self.pending
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            self.logger.warning('%d request line(s) dropped: the log could not keep up', dropped)
        written = 0
        while pending:
            method, path, status, elapsed = pending.popleft()
            info('%s %s %s %.1fms', method, path, status, elapsed)
            written += 1
            if yielding and written % BATCH == 0:
                gevent.sleep(0)


ACCESS_LOG = AccessLog()
