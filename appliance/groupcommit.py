"""Group commit: the writes of several greenlets that arrive together, in one transaction.

With synchronous=FULL each commit waits for the disk. When hundreds of kiosks connect at once
(the morning, or after a network cut), each first connection writes its poste and a
`connexion_poste` entry: one commit each, one after the other under the write lock, while every
waiting greenlet holds a pooled connection. On a busy disk the last ones waited for the pool's
time-out. Here a caller hands its write to one writer greenlet and waits: the writer runs every
write queued meanwhile in one transaction, each in its own savepoint (a write that fails fails
alone, its caller gets the exception), and commits once. A caller holds no connection while it
waits: the connection it took for its reads (a kiosk's unit of work, a request) goes back to the
pool first, unless an enclosing connection context owns it. A caller already inside a transaction
runs its write there directly (waiting for the writer would wait for itself).
"""
import gevent
from gevent.event import AsyncResult

from appliance import db


class GroupCommit:
    def __init__(self, work):
        self.work = work        # work(*args) runs inside the shared transaction
        self.queue = []
        self.writer = None

    def __call__(self, *args):
        if getattr(db._local, 'depth', 0):
            return self.work(*args)
        release_connection()
        done = AsyncResult()
        self.queue.append((args, done))
        if self.writer is None:
            self.writer = gevent.spawn(self._write)
        return done.get()

    def _write(self):
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                outcomes = []
                try:
                    with db.database.connection_context(), db.writing():
                        for args, done in batch:
                            try:
                                with db.database.atomic():   # a savepoint per caller
                                    outcomes.append((done, True, self.work(*args)))
                            except Exception as exc:
                                outcomes.append((done, False, exc))
                except Exception as exc:   # the transaction itself failed: every caller hears it
                    outcomes = [(done, False, exc) for _, done in batch]
                for done, ok, value in outcomes:
                    if ok:
                        done.set(value)
                    else:
                        done.set_exception(value)
        finally:
            self.writer = None


def release_connection():
    """Give this greenlet's connection back to the pool when nothing else owns it: no transaction,
    no enclosing connection_context(). The next query takes one again."""
    database = db.database
    if not database.is_closed() and not database._state.ctx and not database.in_transaction():
        database.close()
