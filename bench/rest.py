"""REST throughput of the main routes against a bare bottle-on-gevent "hello", idle RSS, big tables
(a year of audit log, a town's visitors) and writes per second, on SQLite or PostgreSQL.

python -m bench.rest [--seconds 10] [--connections 50] [--runs 3] [--engine sqlite|postgresql]
                     [--logs 1000000] [--visitors 100000] [--write-seconds 5] [--clients 10]
Loopback only; each wrk run and each write phase is bounded in time. Every ratio is taken against
the hello of the same run; three runs give min / median / max. The server writes its access log
(LOG_LEVEL=INFO) as it would in production, and its own p99 per route is read from that log.
"""
import argparse
import os
import re
import statistics
import time
import urllib.request

from bench import bigtables
from bench.common import rss_kb, start_appliance, start_baseline, wrk

METRICS_TOKEN = 'jeton-de-mesure-pour-le-banc-d-essai'
PG_DEFAULT = 'postgresql://postgres@127.0.0.1:5432/test'


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def scrape(server):
    request = urllib.request.Request(server.base_url + '/metrics',
                                     headers={'Authorization': f'Bearer {METRICS_TOKEN}'})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()

    def value(pattern):
        found = re.search(pattern + r' ([\d.eE+-]+)', text)
        return float(found.group(1)) if found else float('nan')
    return {'lag': value('poste_public_event_loop_lag_worst_seconds'),
            'gc': max(value(f'poste_public_gc_pause_worst_seconds{{generation="{g}"}}') for g in '012')}


class ServerLog:
    """The server's own request durations, read from its access log between two marks."""

    def __init__(self, server):
        self.path, self.offset = server.output_path, 0

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def p99(self, route):
        time.sleep(0.5)   # the access log is written a moment after each request
        with open(self.path, 'rb') as f:
            f.seek(self.offset)
            text = f.read().decode('utf-8', 'replace')
        values = sorted(float(m) for m in re.findall(rf' GET {re.escape(route)} 200 ([\d.]+)ms', text))
        return values[int(len(values) * 0.99)] if values else float('nan')


def to_ms(p99):
    number, unit = re.match(r'([\d.]+)(\w+)', p99).groups()
    return float(number) * {'us': 0.001, 'ms': 1, 's': 1000, 'm': 60000}[unit]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=int, default=10)
    parser.add_argument('--connections', type=int, default=50)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--engine', choices=('sqlite', 'postgresql'), default='sqlite')
    parser.add_argument('--logs', type=int, default=1000000)
    parser.add_argument('--visitors', type=int, default=100000)
    parser.add_argument('--write-seconds', type=int, default=5)
    parser.add_argument('--clients', type=int, default=10)
    args = parser.parse_args()
    if args.engine == 'postgresql':
        os.environ['DATABASE_URL'] = os.environ.get('DATABASE_URL') or PG_DEFAULT
    else:
        os.environ.pop('DATABASE_URL', None)

    baseline, port = start_baseline('hello_server')
    server = start_appliance(METRICS_TOKEN=METRICS_TOKEN, LOG_LEVEL='INFO')
    rows, lags = {}, []
    try:
        time.sleep(2)
        idle_rss = rss_kb(server.process.pid)
        for n in range(20):
            server.make_poste(f'Poste {n + 1:03d}', f'10.0.1.{n + 1}')
        server.stop()
        started = time.monotonic()
        writers = bigtables.seed(server, args.logs, args.visitors,
                                 writers=args.runs * 2 * 1500 * args.write_seconds)
        seeded = time.monotonic() - started
        server.start()
        log = ServerLog(server)
        auth = f'Authorization: Bearer {server.admin_token()}'
        routes = [('GET /api/postes/ (20 postes, JWT)', '/api/postes/', ''),
                  ('GET /api/health/', '/api/health/', ''),
                  (f'GET /api/logs/ ({args.logs:,} entries)', '/api/logs/', ''),
                  ('GET /api/logs/?action=fermeture', '/api/logs/', '?action=fermeture'),
                  (f'search "lefevre" ({args.visitors:,} visitors)', '/api/utilisateurs/', '?search=lefevre'),
                  ('search "eloise.dupont1"', '/api/utilisateurs/', '?search=eloise.dupont1'),
                  ('GET /api/sessions/?statut=active', '/api/sessions/', '?statut=active')]

        def measure(name, url, route, headers=(auth,)):
            cpu = cpu_seconds(server.process.pid)
            log.mark()
            result = wrk(url, args.seconds, args.connections, headers=list(headers))
            result['cpu'] = (cpu_seconds(server.process.pid) - cpu) / args.seconds
            result['server_p99'] = log.p99(route) if route else float('nan')
            rows.setdefault(name, []).append(result)
            return result

        for run in range(args.runs):
            hello = wrk(f'http://127.0.0.1:{port}/hello', args.seconds, args.connections)
            rows.setdefault('bare bottle+gevent GET /hello', []).append({**hello, 'ratio': 1.0})
            for name, route, query in routes:
                result = measure(name, f'{server.base_url}{route}{query}', route)
                result['ratio'] = result['rps'] / hello['rps']
            lags.append(scrape(server))
        for n in range(20, 200):
            server.make_poste(f'Poste {n + 1:03d}', f'10.0.{2 + n // 200}.{n % 200 + 1}')
        for run in range(args.runs):
            hello = wrk(f'http://127.0.0.1:{port}/hello', args.seconds, args.connections)
            result = measure('GET /api/postes/ (200 postes, JWT)', f'{server.base_url}/api/postes/', '/api/postes/')
            result['ratio'] = result['rps'] / hello['rps']
        write_runs = []
        per_run = len(writers) // args.runs
        for run in range(args.runs):
            write_runs.append(bigtables.writes(server, server.admin_token(),
                                               writers[run * per_run:(run + 1) * per_run],
                                               seconds=args.write_seconds, clients=args.clients))
            lags.append(scrape(server))
        loaded_rss = rss_kb(server.process.pid)
    finally:
        server.stop()
        baseline.terminate()
        baseline.wait()
        if args.engine == 'postgresql':
            from tests import support
            support.drop_schema(server.schema)   # a million rows need not outlive the run

    spread = lambda values, fmt: ' / '.join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))  # noqa: E731
    print(f'engine: {args.engine}; {args.runs} runs, min / median / max; '
          f'{args.logs:,} log entries and {args.visitors:,} visitors seeded in {seeded:.0f} s')
    print(f'{"route":<44}{"req/s":>22}{"ratio to hello":>22}{"wrk p99 ms":>22}{"server p99 ms":>22}{"CPU":>8}')
    for name, results in rows.items():
        print(f'{name:<44}{spread([r["rps"] for r in results], "{:.0f}"):>22}'
              f'{spread([r["ratio"] for r in results], "{:.3f}"):>22}'
              f'{spread([to_ms(r["p99"]) if r["p99"] != "?" else float("nan") for r in results], "{:.1f}"):>22}'
              f'{spread([r.get("server_p99", float("nan")) for r in results], "{:.1f}"):>22}'
              f'{statistics.median([r.get("cpu", float("nan")) for r in results]) * 100:>7.0f}%'
              + (f'  non-2xx {sum(r["non_2xx"] for r in results)}' if any(r['non_2xx'] for r in results) else ''))
    for kind, label in (('create', 'session creations/s'), ('cycle', 'validate+terminate cycles/s')):
        print(f'{label:<44}{spread([w[kind]["rate"] for w in write_runs], "{:.0f}"):>22}'
              f'{"p99 ms " + spread([w[kind]["p99"] * 1000 for w in write_runs], "{:.1f}"):>44}'
              f'{"worst ms " + spread([w[kind]["worst"] * 1000 for w in write_runs], "{:.0f}"):>30}')
    worst_lags = ', '.join(f'{lag["lag"] * 1000:.1f} ms' for lag in lags)
    print(f'worst event-loop lag after each phase: {worst_lags} '
          f'(cumulative); worst GC pause {max(lag["gc"] for lag in lags) * 1000:.1f} ms')
    print(f'idle RSS: {idle_rss / 1024:.1f} MB; after the load: {loaded_rss / 1024:.1f} MB')


if __name__ == '__main__':
    main()
