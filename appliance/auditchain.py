"""The audit log as a hash chain: each entry's `empreinte` is the SHA-256 of the previous entry's
`empreinte` and of the entry's own content, in a canonical serialisation. Changing, deleting or
reordering a stored entry breaks the chain from that entry on, and `verify()` finds it.

- Appending: audit.record() writes entries at the very end of their write transaction (a
  before_commit callback), where `append()` reads the chain's head and inserts them. On PostgreSQL
  several processes append to the same log: a transaction-scoped advisory lock (CHAIN_LOCK, released
  at commit or rollback) serialises the appends across processes, so each entry is chained to the
  one committed just before it. Taking it last, just before commit, keeps it held for a moment only
  and never before a row lock of the same transaction (no lock-order deadlock). SQLite serves one
  process, whose write lock (db.writing) already orders the appends.
- Purging: the oldest entries may go (LOG_RETENTION_DAYS); the `empreinte` of the last entry deleted
  is kept in State as the anchor (ANCHOR_KEY), the predecessor of the first entry kept, so the rest
  of the chain still verifies. The first entry of a new log has an empty predecessor.
- Verifying: entries are read in id order, in batches, yielding to the event loop between batches,
  so that a long verification (a million entries) does not stall kiosks and staff.
"""
import hashlib
import json
import time
from datetime import datetime, timezone

import gevent

from appliance import db
from appliance.models import Log, State

CHAIN_LOCK = 0x6a6f75726e616c   # any number, the same in every process ("journal")
ANCHOR_KEY = 'journal:ancre'
RESULT_KEY = 'journal:verification'
BATCH = 500           # entries read in one query
SLICE_SECONDS = 0.005  # hashing time after which the event loop gets its turn

# The content of an entry, in the order it is serialised (the id included: entries cannot be swapped).
CONTENT = ('id', 'action', 'operateur', 'utilisateur', 'utilisateur_nom', 'session', 'poste',
           'poste_nom', 'details', 'metadata', 'ip_address', 'site', 'created_at')
CONTENT_FIELDS = [getattr(Log, name) for name in CONTENT]


def _moment(value):
    """A stored datetime in one form whatever the engine: naive UTC, ISO 8601, microseconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec='microseconds')


def canonical(values):
    """The bytes hashed for one entry: a JSON array of CONTENT's values, compact, UTF-8."""
    values = list(values)
    values[-1] = _moment(values[-1]) if values[-1] is not None else None
    return json.dumps(values, ensure_ascii=False, separators=(',', ':')).encode('utf-8')


def link(previous, values):
    """The `empreinte` of an entry whose predecessor's is `previous` ('' for the first)."""
    return hashlib.sha256(previous.encode('ascii') + b'\n' + canonical(values)).hexdigest()


def anchor():
    row = State.get_or_none(State.key == ANCHOR_KEY)
    return row.value if row else ''


def set_anchor(value):
    State.insert(key=ANCHOR_KEY, value=value).on_conflict(
        conflict_target=[State.key], update={State.value: value}).execute()


def lock():
    """Inside a write transaction: hold the chain until it ends (PostgreSQL; see above)."""
    if not db.is_sqlite():
        db.database.execute_sql('SELECT pg_advisory_xact_lock(%s)', (CHAIN_LOCK,))


def head():
    """The `empreinte` the next entry follows (call with the lock held)."""
    last = Log.select(Log.empreinte).order_by(Log.id.desc()).limit(1).first()
    return last.empreinte if last is not None else anchor()


def append(rows):
    """Inside a write transaction: insert `rows` (dicts of Log fields without id or empreinte) at
    the end of the chain, in order; returns the Log entries."""
    lock()
    previous = head()
    entries = []
    for fields in rows:
        entry = Log.create(**fields, empreinte='')
        entry.empreinte = previous = link(previous, [getattr(entry, name) for name in CONTENT])
        entry.save(only=[Log.empreinte])
        entries.append(entry)
    return entries


def let_others_run():
    """Between two slices: let the event loop poll sockets and timers. (gevent.sleep(0) would
    only run greenlets already scheduled: a kiosk's message or a timer would wait for the end.)"""
    gevent.idle()


def verify(batch=BATCH, pause=let_others_run, slice_seconds=SLICE_SECONDS):
    """Check the whole chain. {'ok': True, 'entrees': N} or {'ok': False, 'premiere_alteree': id}.

    Entries written while it runs are checked too when they are in the last batch, or left for
    the next run: the result is about the log as it was when it started. Rows are read raw (the
    driver's values, without peewee's conversions: parsing a million dates is most of the cost),
    and the event loop gets its turn after every batch and whenever a slice of SLICE_SECONDS is
    spent hashing."""
    with db.database.connection_context():
        last = Log.select(Log.id).order_by(Log.id.desc()).limit(1).scalar() or 0
        previous = anchor()
    count, after = 0, 0
    columns = CONTENT_FIELDS + [Log.empreinte]
    while after < last:
        query = (Log.select(*columns).where((Log.id > after) & (Log.id <= last)).order_by(Log.id)
                 .limit(batch))
        with db.database.connection_context():
            rows = db.database.execute(query).fetchall()
        if not rows:
            break
        started = time.monotonic()
        for n, row in enumerate(rows, 1):
            expected = link(previous, row[:-1])
            if row[-1] != expected:
                return {'ok': False, 'premiere_alteree': row[0]}
            previous = row[-1]
            if not n % 50 and time.monotonic() - started >= slice_seconds:
                pause()
                started = time.monotonic()
        count += len(rows)
        after = rows[-1][0]
        pause()   # let kiosks and staff be served between batches
    return {'ok': True, 'entrees': count}


def store_result(result, now):
    """Keep the last verification's result (for /api/health/, /metrics and the dashboard)."""
    value = json.dumps({**result, 'verifie_le': now.isoformat()})
    with db.writing():
        State.insert(key=RESULT_KEY, value=value).on_conflict(
            conflict_target=[State.key], update={State.value: value}).execute()


def last_result():
    row = State.get_or_none(State.key == RESULT_KEY)
    if row is None:
        return None
    try:
        return json.loads(row.value)
    except ValueError:
        return None
