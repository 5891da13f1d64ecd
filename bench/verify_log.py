"""Verifying the audit log's hash chain on a big log, and what requests feel meanwhile.

python -m bench.verify_log [--logs 1000000] [--engine sqlite|postgresql|both]

For each engine: a live appliance on loopback with `--logs` audit entries (bulk inserts behind the
stopped server's back, then chained here with the appliance's own function); two threads sending
GET /api/health/ and GET /api/auth/me/ one after another for 5 s (baseline), then while one
GET /api/logs/verification/ runs (its time, and those requests' latencies: the event loop must not
stall more than 50 ms). Then `poste-public verify-log` on the same data, timed.
PostgreSQL is DATABASE_URL when it points at one, else postgresql://postgres@127.0.0.1:5432/test.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

from appliance.auditchain import CONTENT, link
from bench.backup import PG_DEFAULT, hammer, summary
from tests import support
from tests.live import LiveServer
from tests.test_backup_live import fill

BATCH = 20_000

# The event loop's own view, in a process of its own (gevent patched first, as in `serve`): a
# greenlet asks for 5 ms sleeps while the verification runs; the longest gap is the longest stall.
LOOP_LAG = """
from gevent import monkey; monkey.patch_all()
import json, sys, time, gevent
from appliance import auditchain, db
db.bind(sys.argv[1])
db.ping()   # a warm connection in the pool, as in a serving process
gaps, running = [], True
def ticker():
    last = time.monotonic()
    while running:
        gevent.sleep(0.005)
        now = time.monotonic()
        gaps.append(now - last - 0.005)
        last = now
probe = gevent.spawn(ticker)
gevent.sleep(5)   # the machine's own noise first: the same ticker with nothing else to do
gaps.sort()
idle = {'max_ms': gaps[-1] * 1000, 'p99_ms': gaps[int(len(gaps) * 0.99)] * 1000, 'ticks': len(gaps)}
gaps = []
started = time.monotonic()
result = auditchain.verify()
seconds = time.monotonic() - started
running = False
probe.join()
gaps.sort()
print(json.dumps({'result': result, 'seconds': seconds, 'max_ms': gaps[-1] * 1000,
                  'p99_ms': gaps[int(len(gaps) * 0.99)] * 1000, 'ticks': len(gaps), 'idle': idle}))
"""


def connect(server):
    if server.database_url.startswith('sqlite'):
        import sqlite3
        return sqlite3.connect(server.database_url[len('sqlite:///'):]), '?'
    import psycopg
    conn = psycopg.connect(server.database_url.split('?')[0])
    conn.execute(f'SET search_path TO {server.schema}')
    return conn, '%s'


def seal(server):
    """Chain every entry (as the appliance would have), oldest first; returns how many."""
    conn, p = connect(server)
    previous, after, count = '', 0, 0
    columns = ', '.join(CONTENT)
    while True:
        rows = conn.execute(f'SELECT {columns} FROM log WHERE id > {p} ORDER BY id LIMIT {BATCH}', (after,)).fetchall()
        if not rows:
            break
        updates = []
        for row in rows:
            previous = link(previous, row)
            updates.append((previous, row[0]))
        cursor = conn.cursor()
        cursor.executemany(f'UPDATE log SET empreinte = {p} WHERE id = {p}', updates)
        conn.commit()
        after, count = rows[-1][0], count + len(rows)
    conn.close()
    return count


def verification(server):
    started = time.monotonic()
    request = urllib.request.Request(server.base_url + '/api/logs/verification/',
                                     headers={'Authorization': f'Bearer {server.admin_token()}'})
    with urllib.request.urlopen(request, timeout=3600) as answer:
        result = json.loads(answer.read())
    return time.monotonic() - started, result


def run(engine, logs):
    directory = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'bench-verify-{engine}-{os.getpid()}')
    os.makedirs(directory)
    server = LiveServer(directory)
    if engine == 'postgresql':
        base = support.postgres_url() or PG_DEFAULT
        support._pg_execute(base, 'DROP SCHEMA IF EXISTS benchverify CASCADE', 'CREATE SCHEMA benchverify')
        server.schema, server.database_url = 'benchverify', f'{base}?options=-csearch_path%3Dbenchverify'
    else:
        server.database_url = f'sqlite:///{directory}/bench.db'
    server.start()
    server.admin_token()
    server.stop()
    fill(server, logs=logs)
    started = time.monotonic()
    entries = seal(server)
    seal_seconds = time.monotonic() - started
    server.start()
    try:
        workers, idle = hammer(server, seconds=5)
        for worker in workers:
            worker.join()
        alone, result = verification(server)
        assert result['ok'], result
        done = threading.Event()
        workers, busy = hammer(server, until=done)
        time.sleep(0.5)
        loaded, result = verification(server)
        done.set()
        for worker in workers:
            worker.join()
        assert result['ok'], result
    finally:
        server.stop()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_'))}
    environment.update(server.environment())
    started = time.monotonic()
    command = subprocess.run([sys.executable, '-m', 'appliance', 'verify-log'], cwd=directory, env=environment,
                             capture_output=True, text=True, timeout=3600)
    command_seconds = time.monotonic() - started
    assert command.returncode == 0, command.stderr
    probe = subprocess.run([sys.executable, '-c', LOOP_LAG, server.database_url], cwd=directory, env=environment,
                           capture_output=True, text=True, timeout=3600)
    assert probe.returncode == 0, probe.stderr
    lag = json.loads(probe.stdout)
    assert lag['result']['ok'], lag
    if engine == 'postgresql':
        support._pg_execute(base, 'DROP SCHEMA IF EXISTS benchverify CASCADE')
    subprocess.run(['rm', '-rf', directory])
    return {'engine': engine, 'entries': entries, 'seal': seal_seconds, 'alone': alone, 'loaded': loaded,
            'command': command_seconds, 'idle': summary(idle), 'busy': summary(busy), 'lag': lag}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--logs', type=int, default=1_000_000)
    parser.add_argument('--engine', choices=('sqlite', 'postgresql', 'both'), default='sqlite')
    args = parser.parse_args()
    engines = ('sqlite', 'postgresql') if args.engine == 'both' else (args.engine,)
    results = [run(engine, args.logs) for engine in engines]
    print(f'\nverifying the audit chain, {args.logs:,} entries inserted')
    print(f'{"engine":<12}{"entries":>10}{"API":>9}{"loaded":>9}{"CLI":>9}   {"requests":<12}'
          f'{"count":>7}{"errors":>7}{"p50 ms":>8}{"p99 ms":>8}{"max ms":>8}')
    for r in results:
        figures = (f'{r["engine"]:<12}{r["entries"]:>10,}{r["alone"]:>7.1f} s{r["loaded"]:>7.1f} s'
                   f'{r["command"]:>7.1f} s', ' ' * 49)
        for line, (label, s) in zip(figures, (('idle', r['idle']), ('in verify', r['busy']))):
            print(f'{line}   {label:<12}{s["count"]:>7}{s["errors"]:>7}{s["p50"]:>8.1f}{s["p99"]:>8.1f}'
                  f'{s["max"]:>8.1f}')
    print('\nthe event loop during one verification (a greenlet sleeping 5 ms at a time, in-process)')
    print(f'{"engine":<12}{"":<10}{"seconds":>9}{"ticks":>8}{"p99 gap ms":>12}{"max gap ms":>12}')
    for r in results:
        lag, idle = r['lag'], r['lag']['idle']
        print(f'{r["engine"]:<12}{"idle":<10}{5:>9.1f}{idle["ticks"]:>8}{idle["p99_ms"]:>12.1f}{idle["max_ms"]:>12.1f}')
        print(f'{"":<12}{"verifying":<10}{lag["seconds"]:>9.1f}{lag["ticks"]:>8}{lag["p99_ms"]:>12.1f}'
              f'{lag["max_ms"]:>12.1f}')


if __name__ == '__main__':
    main()
