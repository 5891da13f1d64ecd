"""One consistent read of the live database, taken while the service keeps running.

It runs in gevent's thread pool on a connection of its own, never the application's pool:
- SQLite: one read transaction in WAL mode sees a single point in time and blocks no writer; rows
  come in batches packed as JSON by SQLite itself;
- PostgreSQL: one REPEATABLE READ, READ ONLY transaction, rows streamed by a server-side cursor.
`source()` is called on the event loop and says how to connect; `open_snapshot()` in the worker.
"""
import json
import re
import sqlite3

# Rows per fetch. Small on purpose: rows alive while the garbage collector runs get promoted to the
# old generation, and its full collections (which hold the GIL, so the event loop waits) came every
# few seconds at 2,000 rows a batch, 30-40 ms each; at 200, the longest wait of the loop is ~10 ms.
BATCH = 200


def source(database):
    """(engine, connection parameters) of the bound peewee database."""
    if 'sqlite' in type(database).__name__.lower():
        return 'sqlite', {'path': database.database}
    params = dict(database.connect_params)
    if database.database.startswith('postgresql://'):
        params['conninfo'] = database.database
    else:
        params['dbname'] = database.database
    return 'postgresql', params


def open_snapshot(engine, params):
    return SqliteSnapshot(**params) if engine == 'sqlite' else PostgresSnapshot(params)


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


def _version(names):
    numbers = [int(m.group()) for m in (re.match(r'\d+', n) for n in names) if m]
    return max(numbers, default=0)


class Snapshot:
    def schema_version(self):
        """The newest migration applied, as seen by this snapshot (0: not migrated)."""
        return _version(name for (name,) in self._query('SELECT name FROM schema_migration'))

    def count(self, table):
        return self._query(f'SELECT COUNT(*) FROM {_quote(table)}')[0][0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SqliteSnapshot(Snapshot):
    engine = 'sqlite'

    def __init__(self, path):
        # The database is in WAL mode (db.SQLITE_PRAGMAS): this reader blocks nobody.
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        self.conn.execute('BEGIN')
        self.conn.execute('SELECT COUNT(*) FROM sqlite_master').fetchone()  # the snapshot starts here

    def _query(self, sql):
        return self.conn.execute(sql).fetchall()

    def rows(self, table, column_names):
        # Each batch comes as one JSON text built by SQLite (keys after the last batch's): Python's
        # sqlite3 lets go of the GIL for every row it steps and waits to get it back each time; with
        # the event loop busy serving requests, that made a backup five times slower.
        cols = ', '.join(_quote(c) for c in column_names)
        key = _quote(column_names[0])
        batch = f'SELECT {cols} FROM {_quote(table)} {{}} ORDER BY {key} LIMIT {BATCH}'
        sql = f'SELECT json_group_array(json_array({cols})), max({key}), count(*) FROM ({{}})'
        last, where = (), ''
        while True:
            packed, last_key, count = self.conn.execute(sql.format(batch.format(where)), last).fetchone()
            if not count:
                return
            yield from json.loads(packed)
            last, where = (last_key,), f'WHERE {key} > ?'

    def close(self):
        self.conn.close()


class PostgresSnapshot(Snapshot):
    engine = 'postgresql'

    def __init__(self, params):
        import psycopg
        self.conn = psycopg.connect(**params)
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.conn.read_only = True
        self.conn.execute('SELECT 1')   # the snapshot starts with the transaction's first query
        self._cursors = 0

    def _query(self, sql):
        return self.conn.execute(sql).fetchall()

    def rows(self, table, column_names):
        self._cursors += 1
        with self.conn.cursor(name=f'backup_{self._cursors}') as cursor:
            cursor.itersize = BATCH
            cols = ', '.join(_quote(c) for c in column_names)
            cursor.execute(f'SELECT {cols} FROM {_quote(table)} ORDER BY {_quote(column_names[0])}')
            yield from cursor

    def close(self):
        self.conn.rollback()
        self.conn.close()
