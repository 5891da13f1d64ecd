"""Exact counts of the audit log without counting a year of entries on every page.

The log only grows at its end; entries leave it only from its beginning (the purge) or all at once
(a restore). So the count of a filter is remembered for the entries up to a settled boundary (an
entry written more than SETTLED ago: on PostgreSQL a transaction still open may yet commit an id
below the newest ones, never below one that old), and each request counts only the entries after
it, through the primary key. The remembered part is thrown away when the log's first entry
changes (a purge) or the boundary entry is no longer the same (a restore), and counted again
when the part after the boundary has grown long. The answer stays exact.
"""
from collections import OrderedDict
from datetime import timedelta

import gevent
from peewee import fn

from appliance import db
from appliance.models import Log

SETTLED = timedelta(seconds=60)
RECOUNT_AFTER = 20000   # entries after the boundary worth moving it forward
REMEMBERED = 64         # filters remembered (least recently used forgotten first)


def count_off_the_loop(query):
    """query.count(), but a long count on SQLite (a year of entries, read from the disk in C) runs
    in one of gevent's worker threads on this greenlet's connection, so the loop keeps serving.
    PostgreSQL's driver already waits cooperatively."""
    if not db.is_sqlite():
        return query.count()
    sql, params = query.select(fn.COUNT(Log.id)).order_by().sql()
    connection = db.database.connection()
    return gevent.get_hub().threadpool.apply(lambda: connection.execute(sql, params).fetchone()[0])


class LogCounter:
    def __init__(self, now):
        self.now = now          # a function giving the current naive UTC time
        self.prefixes = OrderedDict()   # filter key -> (boundary id, its created_at, first id, count)

    def count(self, key, query):
        """The number of entries `query` (a Log select with its filters, unordered) matches."""
        first = Log.select(fn.MIN(Log.id)).scalar()
        if first is None:
            return 0
        known = self.prefixes.get(key)
        if known is not None:
            boundary, stamp, was_first, before = known
            if was_first == first and self._same_entry(boundary, stamp):
                after = query.where(Log.id > boundary).count()
                if after < RECOUNT_AFTER:
                    self.prefixes.move_to_end(key)
                    return before + after
            del self.prefixes[key]
        settled = (Log.select(Log.id, Log.created_at).where(Log.created_at < self.now() - SETTLED)
                   .order_by(Log.created_at.desc(), Log.id.desc()).first())
        if settled is None:
            return query.count()
        before = count_off_the_loop(query.where(Log.id <= settled.id))
        self.prefixes[key] = (settled.id, settled.created_at, first, before)
        while len(self.prefixes) > REMEMBERED:
            self.prefixes.popitem(last=False)
        return before + query.where(Log.id > settled.id).count()

    @staticmethod
    def _same_entry(boundary, stamp):
        row = Log.select(Log.created_at).where(Log.id == boundary).first()
        return row is not None and row.created_at == stamp

    def forget(self):
        self.prefixes.clear()


class PageCache:
    """Pages of the log already answered, kept while the log has the same first and last entry.

    The log only grows at its end and loses entries only from its beginning (purge) or all at once
    (restore, which writes its own entry): while its first and last ids are unchanged, a page is
    the same. One query checks that. On PostgreSQL a transaction may still commit an entry with an
    id below the last one; a page is therefore kept MAX_AGE seconds at most."""
    MAX_AGE = 2.0
    SIZE = 256

    def __init__(self, monotonic):
        self.monotonic = monotonic
        self.pages = OrderedDict()   # key -> (ends, time, text)

    @staticmethod
    def ends():
        cursor = Log._meta.database.execute_sql('SELECT (SELECT MIN(id) FROM log), (SELECT MAX(id) FROM log)')
        return tuple(cursor.fetchone())

    def get(self, key, ends):
        known = self.pages.get(key)
        if known is None:
            return None
        if known[0] != ends or self.monotonic() - known[1] > self.MAX_AGE:
            del self.pages[key]
            return None
        self.pages.move_to_end(key)
        return known[2]

    def put(self, key, ends, text):
        self.pages[key] = (ends, self.monotonic(), text)
        while len(self.pages) > self.SIZE:
            self.pages.popitem(last=False)

    def forget(self):
        self.pages.clear()
