"""Backup and restore of a big database, and what requests feel while the backup runs.

python -m bench.backup [--logs 1000000] [--visitors 10000] [--engine sqlite|postgresql|both]

For each engine: a live appliance on loopback with `--logs` audit entries and `--visitors` visitors
(bulk inserts); two threads sending GET /api/health/ and GET /api/auth/me/ one after another for
5 s (baseline); one POST /api/backups/ alone ("backup"), then one while those threads keep going
("loaded", with their latencies); then the service is stopped and `poste-public restore --yes`
puts the archive back. Everything is bounded by the size asked for.
PostgreSQL is DATABASE_URL when it points at one, else postgresql://postgres@127.0.0.1:5432/test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

from tests import support
from tests.live import LiveServer
from tests.test_backup_live import fill

PG_DEFAULT = 'postgresql://postgres@127.0.0.1:5432/test'


def hammer(server, seconds=None, until=None):
    """Latencies (s) of requests sent one after another by two threads (GET /api/health/ and
    GET /api/auth/me/), for `seconds` or until the event `until` is set."""
    latencies, stop = [], until or threading.Event()
    token = server.admin_token()

    def loop(path):
        while not stop.is_set():
            start = time.monotonic()
            try:
                status, _ = server.request('GET', path, token=token)
            except OSError:   # a timeout counts as an error, with its latency
                status = None
            latencies.append((time.monotonic() - start, status))
    workers = [threading.Thread(target=loop, args=(path,)) for path in ('/api/health/', '/api/auth/me/')]
    for worker in workers:
        worker.start()
    if seconds:
        time.sleep(seconds)
        stop.set()
    return workers, latencies


def backup(server):
    """(seconds, archive) of one POST /api/backups/."""
    started = time.monotonic()
    request = urllib.request.Request(server.base_url + '/api/backups/', data=b'', method='POST',
                                     headers={'Authorization': f'Bearer {server.admin_token()}'})
    with urllib.request.urlopen(request, timeout=3600) as answer:
        assert answer.status == 201
        return time.monotonic() - started, json.loads(answer.read())


def summary(latencies):
    values = sorted(l for l, _ in latencies)
    return {'count': len(values), 'p50': statistics.median(values) * 1000,
            'p99': values[int(len(values) * 0.99)] * 1000, 'max': values[-1] * 1000,
            'errors': sum(1 for _, status in latencies if status != 200)}


def run(engine, logs, visitors):
    directory = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'bench-backup-{engine}-{os.getpid()}')
    os.makedirs(directory)
    server = LiveServer(directory)
    if engine == 'postgresql':
        base = support.postgres_url() or PG_DEFAULT
        support._pg_execute(base, 'DROP SCHEMA IF EXISTS benchbackup CASCADE', 'CREATE SCHEMA benchbackup')
        server.schema, server.database_url = 'benchbackup', f'{base}?options=-csearch_path%3Dbenchbackup'
    else:
        server.database_url = f'sqlite:///{directory}/bench.db'
    server.start()
    server.admin_token()
    server.stop()
    fill(server, logs=logs, visitors=visitors)
    server.start()
    try:
        workers, idle = hammer(server, seconds=5)
        for worker in workers:
            worker.join()
        alone, _ = backup(server)
        done = threading.Event()
        workers, busy = hammer(server, until=done)
        time.sleep(0.5)
        loaded, made = backup(server)
        done.set()
        for worker in workers:
            worker.join()
    finally:
        server.stop()
    path = os.path.join(directory, 'backups', made['name'])
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_'))}
    environment.update(server.environment())
    started = time.monotonic()
    restored = subprocess.run([sys.executable, '-m', 'appliance', 'restore', path, '--yes'], cwd=directory,
                              env=environment, capture_output=True, text=True, timeout=3600)
    restore_seconds = time.monotonic() - started
    assert restored.returncode == 0, restored.stderr
    if engine == 'postgresql':
        support._pg_execute(base, 'DROP SCHEMA IF EXISTS benchbackup CASCADE')
    subprocess.run(['rm', '-rf', directory])
    return {'engine': engine, 'alone': alone, 'loaded': loaded, 'restore': restore_seconds,
            'size': made['size'], 'idle': summary(idle), 'busy': summary(busy)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--logs', type=int, default=1_000_000)
    parser.add_argument('--visitors', type=int, default=10_000)
    parser.add_argument('--engine', choices=('sqlite', 'postgresql', 'both'), default='both')
    args = parser.parse_args()
    engines = ('sqlite', 'postgresql') if args.engine == 'both' else (args.engine,)
    results = [run(engine, args.logs, args.visitors) for engine in engines]

    print(f'\n{args.logs:,} audit entries, {args.visitors:,} visitors')
    print(f'{"engine":<12}{"archive":>10}{"backup":>9}{"loaded":>9}{"restore":>9}   {"requests":<10}'
          f'{"count":>7}{"errors":>7}{"p50 ms":>8}{"p99 ms":>8}{"max ms":>8}')
    for r in results:
        figures = (f'{r["engine"]:<12}{r["size"] / 1e6:>7.1f} MB{r["alone"]:>7.1f} s{r["loaded"]:>7.1f} s'
                   f'{r["restore"]:>7.1f} s', ' ' * 49)
        for line, (label, s) in zip(figures, (('idle', r['idle']), ('in backup', r['busy']))):
            print(f'{line}   {label:<10}{s["count"]:>7}{s["errors"]:>7}{s["p50"]:>8.1f}{s["p99"]:>8.1f}'
                  f'{s["max"]:>8.1f}')

if __name__ == '__main__':
    main()
