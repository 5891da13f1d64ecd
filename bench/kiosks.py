"""Many kiosks over WebSocket: heartbeat round trips, memory per kiosk, lateness of warnings and
closes, next to a bare gevent-websocket echo server driven by the same load.

python -m bench.kiosks [--kiosks 1000] [--interval 5] [--duration 60] [--runs 1] [--no-echo]
python -m bench.kiosks --kiosks 1000,2000,5000 --runs 3
Loopback only; every phase is bounded in time; the script raises its own limit of open files (the
server it starts inherits it). Besides round trips and lateness it reports the server's worst
event-loop lag and garbage collection pause (read from /metrics) and its CPU use.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import urllib.request  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

from bench.common import rss_kb, start_appliance, start_baseline  # noqa: E402

WARNING_TIMES = (58, 55)   # with 60 s sessions: warnings 2 s and 5 s in, close at 60 s
METRICS_TOKEN = 'jeton-de-mesure-pour-le-banc-d-essai'


def raise_fd_limit(kiosks):
    """Each kiosk is a socket here and one in the server: the soft limit of open files goes up to
    what they need (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = kiosks * 2 + 1000
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def stalls(server):
    """(worst event-loop lag, worst GC pause, lag histogram {bound: count}) from /metrics."""
    request = urllib.request.Request(server.base_url + '/metrics',
                                     headers={'Authorization': f'Bearer {METRICS_TOKEN}'})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    lag = float(re.search(r'poste_public_event_loop_lag_worst_seconds ([\d.]+)', text).group(1))
    gc_worst = max(float(v) for v in re.findall(r'poste_public_gc_pause_worst_seconds\{[^}]*\} ([\d.]+)', text))
    buckets = [(float(bound) if bound != '+Inf' else float('inf'), int(count)) for bound, count in re.findall(
        r'poste_public_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)', text)]
    return lag, gc_worst, buckets


def phase_lag(before, after):
    """The worst lag of a phase, as the smallest histogram bound that holds every sample of it."""
    total = after[-1][1] - before[-1][1]
    for (bound, count_after), (_, count_before) in zip(after, before):
        if count_after - count_before == total:
            return bound
    return float('inf')


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float('nan')


def connect_all(urls):
    sockets = [None] * len(urls)

    def connect(i):
        sockets[i] = websocket.create_connection(urls[i], timeout=30)

    for start in range(0, len(urls), 100):   # in waves, as kiosks booting in a morning would
        gevent.joinall([gevent.spawn(connect, i) for i in range(start, min(start + 100, len(urls)))])
    return sockets


class Kiosk:
    """One simulated kiosk: heartbeats with a drifted countdown (so the server answers `sync`) and
    the times at which warnings and the close arrive."""

    def __init__(self, ws, code=None):
        self.ws, self.code = ws, code
        self.rtts, self.events = [], []
        self.sent_at = None
        self.started = None
        self.closed_early = False

    def reader(self, echo):
        while True:
            try:
                raw = self.ws.recv()
            except Exception:
                return
            now = time.time()
            if not raw:   # closed by the server
                self.closed_early = True
                return
            if echo:
                self.rtts.append(now - json.loads(raw)['t'])
                continue
            message = json.loads(raw)
            action = message.get('action')
            if action == 'sync' and self.sent_at is not None:
                self.rtts.append(now - self.sent_at)
                self.sent_at = None
            elif action == 'session_started':
                self.started = message['session']
            elif action in ('warning', 'close_session'):
                self.events.append((now, message))
                if action == 'close_session':
                    return

    def heartbeats(self, echo, interval, until):
        gevent.sleep(interval * (hash(id(self)) % 1000) / 1000)   # spread them like real kiosks
        while time.monotonic() < until:
            self.sent_at = time.time()
            payload = {'t': self.sent_at} if echo else {'type': 'heartbeat', 'temps_restant': 9999}
            if self.started is not None:
                payload['code'] = self.code   # as a real kiosk does, once its session runs
            try:
                self.ws.send(json.dumps(payload))
            except Exception:
                return
            gevent.sleep(interval)


def run_echo(count, interval, seconds):
    process, port = start_baseline('echo_server')
    try:
        before = rss_kb(process.pid)
        kiosks = [Kiosk(ws) for ws in connect_all([f'ws://127.0.0.1:{port}/'] * count)]
        gevent.sleep(2)
        per_kiosk = (rss_kb(process.pid) - before) * 1024 / count
        until = time.monotonic() + seconds
        readers = [gevent.spawn(k.reader, True) for k in kiosks]
        gevent.joinall([gevent.spawn(k.heartbeats, True, interval, until) for k in kiosks])
        gevent.sleep(1)
        gevent.killall(readers)
        rtts = [r for k in kiosks for r in k.rtts]
        return {'per_kiosk': per_kiosk, 'rtts': rtts}
    finally:
        process.terminate()
        process.wait()


def parse_time(value):
    return datetime.fromisoformat(value).astimezone(timezone.utc).timestamp()


def run_appliance(count, interval, duration, arrivals):
    server = start_appliance(WARNING_TIMES=','.join(map(str, WARNING_TIMES)), HEARTBEAT_TIMEOUT=120,
                             METRICS_TOKEN=METRICS_TOKEN)
    try:
        postes = [server.make_poste(f'Poste {n:04d}', f'10.{n // 250}.{n % 250}.1') for n in range(count)]
        codes = [server.make_session(p['id'], duree=duration, nom=f'Bench{n}')['code_acces']
                 for n, p in enumerate(postes)]
        gevent.sleep(2)
        idle_rss = rss_kb(server.process.pid)
        urls = [server.ws_url(f'/ws/poste/{p["ip_address"]}/?token={p["kiosk_token"]}') for p in postes]
        # First connection of the day: it also writes each poste's `connexion_poste` entry and
        # grows SQLite's page cache, memory the allocator keeps afterwards.
        first = connect_all(urls)
        for ws in first:
            ws.recv()   # the first sync
        gevent.sleep(2)
        first_wave = (rss_kb(server.process.pid) - idle_rss) * 1024 / count
        for ws in first:
            ws.close()
        gevent.sleep(3)
        disconnected = rss_kb(server.process.pid)
        # Then what a connected kiosk itself holds: the same kiosks reconnecting.
        kiosks = [Kiosk(ws, code) for ws, code in zip(connect_all(urls), codes)]
        for kiosk in kiosks:
            json.loads(kiosk.ws.recv())
        gevent.sleep(2)
        per_kiosk = (rss_kb(server.process.pid) - disconnected) * 1024 / count
        readers = [gevent.spawn(k.reader, False) for k in kiosks]
        lag_before, gc_before, buckets_before = stalls(server)   # connecting (not measured below)
        cpu_before, cpu_started = cpu_seconds(server.process.pid), time.monotonic()
        # Visitors sit down over `arrivals` seconds (all at the same instant is no library's morning).
        for n, kiosk in enumerate(kiosks):
            gevent.spawn_later(arrivals * n / count, kiosk.ws.send,
                               json.dumps({'type': 'validate_code', 'code': kiosk.code}))
        until = time.monotonic() + arrivals + duration + 5
        beats = [gevent.spawn(k.heartbeats, False, interval, until - 5) for k in kiosks]
        gevent.joinall(readers, timeout=arrivals + duration + 20)
        gevent.killall(beats + readers)
        cpu = (cpu_seconds(server.process.pid) - cpu_before) / (time.monotonic() - cpu_started)
        lag, gc_worst, buckets_after = stalls(server)
        lag = phase_lag(buckets_before, buckets_after)
        lateness = {'warning': [], 'close_session': []}
        missing = 0
        for kiosk in kiosks:
            if kiosk.started is None:
                missing += 1
                continue
            start = parse_time(kiosk.started['debut_session'])
            for received, message in kiosk.events:
                due = start + duration - message.get('seuil', 0) if message['action'] == 'warning' \
                    else start + duration
                lateness[message['action']].append(received - due)
        loaded_rss = rss_kb(server.process.pid)
        return {'per_kiosk': per_kiosk, 'first_wave': first_wave, 'rtts': [r for k in kiosks for r in k.rtts],
                'lateness': lateness, 'idle_rss': idle_rss, 'loaded_rss': loaded_rss,
                'missing': missing, 'closes': len(lateness['close_session']),
                'lag': lag, 'gc': gc_worst, 'lag_connecting': lag_before, 'gc_connecting': gc_before, 'cpu': cpu}
    finally:
        server.stop()


def report(count, args, echo, ours):
    ms = lambda s: f'{s * 1000:.1f} ms'  # noqa: E731
    print(f'{count} kiosks, one heartbeat every {args.interval:g} s; '
          f'sessions of {max(60, args.duration)} s starting over {args.arrivals:g} s')
    print(f'{"":<34}{"echo server":>14}{"Poste Public":>14}')
    for label, p in (('heartbeat round trip p50', 50), ('heartbeat round trip p99', 99)):
        print(f'{label:<34}{ms(percentile(echo["rtts"], p)) if echo else "-":>14}{ms(percentile(ours["rtts"], p)):>14}')
    if echo:
        print(f'{"memory per connected kiosk":<34}{echo["per_kiosk"] / 1024:>11.1f} KB{ours["per_kiosk"] / 1024:>11.1f} KB')
    print(f'{"  (first connection of the day)":<34}{"":>14}{ours["first_wave"] / 1024:>11.1f} KB')
    print(f'{"round trips measured":<34}{len(echo["rtts"]) if echo else "-":>14}{len(ours["rtts"]):>14}')
    for kind in ('warning', 'close_session'):
        values = ours['lateness'][kind]
        worst = max(values) if values else float('nan')
        print(f'{kind + " lateness (worst / median)":<34}{"":>14}'
              f'{ms(worst) + " / " + ms(statistics.median(values) if values else float("nan")):>24}')
    print(f'sessions closed: {ours["closes"]} of {count} (not started: {ours["missing"]}); '
          f'appliance RSS {ours["idle_rss"] / 1024:.1f} MB idle with {count} postes, '
          f'{ours["loaded_rss"] / 1024:.1f} MB at the end')
    print(f'server: worst event-loop lag <= {ms(ours["lag"])} (while connecting: {ms(ours["lag_connecting"])}), '
          f'worst GC pause {ms(ours["gc"])} (while connecting: {ms(ours["gc_connecting"])}), '
          f'CPU {ours["cpu"] * 100:.0f} % of a core', flush=True)
    return {'p99': percentile(ours['rtts'], 99), 'p50': percentile(ours['rtts'], 50),
            'echo_p99': percentile(echo['rtts'], 99) if echo else float('nan'),
            'warning': max(ours['lateness']['warning'] or [float('nan')]),
            'close': max(ours['lateness']['close_session'] or [float('nan')]),
            'lag': ours['lag'], 'gc': ours['gc'], 'cpu': ours['cpu'], 'rss': ours['loaded_rss'] / 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--kiosks', default='1000', help='a number, or several separated by commas')
    parser.add_argument('--interval', type=float, default=5)
    parser.add_argument('--duration', type=int, default=60, help='session length, at least 60 s')
    parser.add_argument('--arrivals', type=float, default=20, help='seconds over which sessions start')
    parser.add_argument('--runs', type=int, default=1)
    parser.add_argument('--no-echo', action='store_true', help='skip the echo server baseline')
    args = parser.parse_args()
    counts = [int(n) for n in args.kiosks.split(',')]
    limit = raise_fd_limit(max(counts))
    print(f'open files allowed: {limit}')
    summary = {}
    for count in counts:
        for run in range(args.runs):
            echo = None if args.no_echo else run_echo(count, args.interval, args.duration)
            ours = run_appliance(count, args.interval, max(60, args.duration), args.arrivals)
            summary.setdefault(count, []).append(report(count, args, echo, ours))
    if args.runs > 1 or len(counts) > 1:
        print('summary, min / median / max over the runs (ms unless stated):')
        for count, runs in summary.items():
            line = [f'{count} kiosks:']
            for key in ('echo_p99', 'p99', 'warning', 'close', 'lag', 'gc'):
                values = [r[key] * 1000 for r in runs]
                line.append(f'{key} {min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f}')
            line.append(f'cpu {statistics.median([r["cpu"] for r in runs]) * 100:.0f}%')
            line.append(f'rss {max(r["rss"] for r in runs):.1f} MB')
            print('  '.join(line))


if __name__ == '__main__':
    main()
