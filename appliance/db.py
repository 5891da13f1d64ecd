"""The database: declared unbound here, bound once at start to SQLite or PostgreSQL.

SQLite under gevent: SQLite's busy wait sleeps in C and freezes every
greenlet, so all writes of this process go through `writing()`, which holds one process-wide lock
around the transaction. Never do network I/O inside it.
"""
import os
import threading
import time
from contextlib import contextmanager

from peewee import DatabaseProxy, InterfaceError, OperationalError
from playhouse import db_url
from playhouse.pool import MaxConnectionsExceeded
from playhouse.migrations import Runner

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')

# synchronous=FULL: an SD card losing power must not lose a committed session or log entry.
SQLITE_PRAGMAS = {
    'journal_mode': 'wal',
    'foreign_keys': 1,
    'busy_timeout': 5000,
    'synchronous': 'full',
}

database = DatabaseProxy()
_write_lock = threading.RLock()  # gevent's lock once patched: it yields instead of blocking


class DatabaseUnavailable(Exception):
    pass


# What the database raises when it cannot serve right now (out of reach, every connection busy):
# the caller may try again, nothing was changed.
UNAVAILABLE = (OperationalError, InterfaceError, MaxConnectionsExceeded)


def first_line(exc):
    """An exception in one line, for a log that must not fill with tracebacks during an outage."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def bind(url):
    """Create the real database for `url` (pooled) and bind the proxy to it."""
    scheme, rest = url.split(':', 1)
    # Greenlets wait for a free connection (up to `timeout` seconds). SQLite gains nothing from
    # more: writes are serialised and each connection keeps its own page cache.
    kwargs = {'max_connections': 32, 'stale_timeout': 300, 'timeout': 10}
    if scheme == 'sqlite':
        path = url[len('sqlite:///'):]
        if path and path != ':memory:':
            create_private_file(path)
        kwargs['pragmas'] = SQLITE_PRAGMAS
        kwargs['check_same_thread'] = False   # its COMMIT runs in a worker thread (commit_off_the_loop)
        scheme = 'sqlite+pool'
    elif scheme in ('postgres', 'postgresql', 'postgresext'):
        scheme = 'postgresql+pool'
        kwargs['prefer_psycopg3'] = True
    real = db_url.connect(f'{scheme}:{rest}', **kwargs)
    if scheme == 'sqlite+pool':
        commit_off_the_loop(real)
    database.initialize(real)
    return real


def commit_off_the_loop(real):
    """SQLite's COMMIT writes the WAL and waits for the disk (synchronous=FULL), and now and then
    checkpoints the WAL into the database file: all in C, with every greenlet stopped meanwhile
    (an SD card or a busy disk takes tens of milliseconds, sometimes far more). Here it runs in
    gevent's pool of worker threads: the greenlet that commits waits, still holding the write lock,
    and every other greenlet (kiosks, readers) runs on. Nothing else uses that connection then."""
    import gevent
    import peewee
    wrapper = getattr(peewee, '__exception_wrapper__')

    def commit():
        if real.is_closed():
            raise InterfaceError('Cannot commit, database connection not open.')
        connection = real.connection()
        with wrapper:
            gevent.get_hub().threadpool.apply(connection.execute, ('COMMIT',))
    real.commit = commit


def create_private_file(path):
    """Create a SQLite file (and its folder) readable by this account only, unless it exists: SQLite
    gives its -wal and -shm files the database file's mode, and would create it 0644 itself."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def is_sqlite():
    return database.obj is not None and 'sqlite' in type(database.obj).__name__.lower()


def locked(query, of, skip=False):
    """`query` with its rows of model `of` locked until the transaction ends (FOR UPDATE), on
    PostgreSQL, where several processes may change the same rows: the rows read are the latest
    committed, and nobody else changes them meanwhile. With `skip`, rows another process holds
    are left out instead of waited for (SKIP LOCKED). SQLite serves one process, whose writes the
    write lock already orders: the query is unchanged."""
    return query if is_sqlite() else query.for_update(of=of, skip_locked=skip)


_local = threading.local()  # per greenlet once patched


@contextmanager
def writing():
    """One write transaction at a time in this process (see the module docstring).

    Callbacks registered with on_commit() inside it run once the outermost block has committed,
    so nobody is told of a change that was rolled back; those registered with before_commit() run
    last inside the transaction, so what they write commits or rolls back with it.
    """
    # The connection first, the lock second: a greenlet that took the lock and then waited for a
    # pooled connection, while every connection was held by greenlets waiting for the lock, would
    # stall every write until the pool's time-out (hundreds of kiosks connecting at once did).
    if database.is_closed():
        database.connect()
    with _write_lock:
        outermost = not getattr(_local, 'depth', 0)
        if outermost:
            _local.callbacks, _local.before, _local.scratch = [], [], {}
        _local.depth = getattr(_local, 'depth', 0) + 1
        try:
            with database.atomic():
                yield
                if outermost:
                    for callback in _local.before:
                        callback()
        except BaseException:
            if outermost:
                _local.callbacks, _local.before = [], []
            raise
        finally:
            _local.depth -= 1
    if outermost:
        callbacks, _local.callbacks, _local.before = _local.callbacks, [], []
        for callback in callbacks:
            callback()


@contextmanager
def on_demand():
    """Like database.connection_context(), but the connection is taken at the first query only:
    a kiosk message that needs no query (most heartbeats) costs none. For a greenlet's own unit of
    work, not inside another connection context."""
    try:
        yield
    finally:
        if not database.is_closed() and not database._state.ctx:   # ctx: an enclosing context
            database.close()


def in_transaction():
    return bool(getattr(_local, 'depth', 0))


def before_commit(callback):
    """Run `callback` at the end of the current write transaction, inside it (there must be one)."""
    _local.before.append(callback)


def scratch():
    """A dict that lives as long as the current write transaction (there must be one)."""
    return _local.scratch


def on_commit(callback):
    """Run `callback` after the current write transaction commits, or now if there is none."""
    if in_transaction():
        _local.callbacks.append(callback)
    else:
        callback()


def migrate():
    """Apply pending migrations; returns the names applied (empty when up to date)."""
    with database.connection_context():
        return Runner(database.obj, MIGRATIONS_DIR).up()


def schema_version():
    """The number of the newest applied migration (0 on an empty database)."""
    with database.connection_context():
        applied = Runner(database.obj, MIGRATIONS_DIR).applied()
    return max((int(name.split('_', 1)[0]) for name in applied), default=0)


def ping():
    """True when the database answers a trivial query."""
    try:
        with database.connection_context():
            database.execute_sql('SELECT 1').fetchone()
        return True
    except Exception:  # any driver error means "down" to a health check
        return False


def wait_until_available(timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        if ping():
            return
        if time.monotonic() >= deadline:
            raise DatabaseUnavailable(f'database did not answer within {timeout:g} s')
        time.sleep(interval)

