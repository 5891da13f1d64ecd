"""Facts across processes: how long a staff action takes to reach kiosks connected to another
`serve` process on the same PostgreSQL database, next to kiosks connected to the process that
acted, measured in the same run.

DATABASE_URL=postgresql://… python -m bench.network [--kiosks 500] [--actions 300] [--runs 3]
Two processes, `--kiosks` kiosks on each, every one with a running session; staff add time to
sessions through process A, one at a time, alternating between a kiosk on A and a kiosk on B. The
latency is from the moment the request is sent to the moment the kiosk reads its `add_time`.
Loopback only; every phase is bounded in time.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import websocket  # noqa: E402

from tests import support  # noqa: E402
from tests.live import LiveServer  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float('nan')


class Kiosk:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=60)
        json.loads(self.ws.recv())   # sync
        self.added = gevent.event.Event()
        self.received_at = None

    def read(self):
        while True:
            try:
                message = json.loads(self.ws.recv())
            except Exception:
                return
            if message.get('action') == 'add_time':
                self.received_at = time.monotonic()
                self.added.set()


def heartbeats(kiosks, until):
    while time.monotonic() < until:
        for kiosk in kiosks:
            try:
                kiosk.ws.send('{"type":"heartbeat"}')
            except Exception:
                pass
        gevent.sleep(5)


def run(count, actions):
    a = LiveServer(tempfile.mkdtemp(prefix='bench-net-a-'), HEARTBEAT_TIMEOUT=300, LOG_LEVEL='WARNING').start()
    b = LiveServer(tempfile.mkdtemp(prefix='bench-net-b-'), share=a, HEARTBEAT_TIMEOUT=300,
                   LOG_LEVEL='WARNING').start()
    try:
        postes, sessions = [], []
        for n in range(2 * count):
            poste = a.make_poste(f'Poste {n:04d}', f'10.{n // 250}.{n % 250}.1')
            session = a.make_session(poste['id'], duree=3 * 3600, nom=f'Bench{n}')
            a.api('POST', '/api/sessions/validate-code/', {'code': session['code_acces'], 'poste': poste['id']},
                  expect=200)
            postes.append(poste)
            sessions.append(session)
        kiosks = []
        for n, poste in enumerate(postes):   # the first half on A, the other on B
            server = a if n < count else b
            kiosks.append(Kiosk(server.ws_url(f'/ws/poste/{poste["ip_address"]}/?token={poste["kiosk_token"]}')))
        readers = [gevent.spawn(k.read) for k in kiosks]
        beat = gevent.spawn(heartbeats, kiosks, time.monotonic() + 3600)
        gevent.sleep(2)
        token = a.admin_token()
        latency = {'same': [], 'other': []}
        for i in range(actions):
            n = (i // 2) % count + (count if i % 2 else 0)
            kiosk = kiosks[n]
            kiosk.added.clear()
            sent = time.monotonic()
            status, _ = a.request('POST', f'/api/sessions/{sessions[n]["id"]}/add-time/', {'seconds': 60},
                                  token=token)
            assert status == 200, status
            if kiosk.added.wait(5):
                latency['other' if n >= count else 'same'].append(kiosk.received_at - sent)
        beat.kill()
        gevent.killall(readers)
        return latency
    finally:
        b.stop()
        a.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--kiosks', type=int, default=500, help='kiosks on each process')
    parser.add_argument('--actions', type=int, default=300)
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    if support.postgres_url() is None:
        sys.exit('bench.network needs DATABASE_URL=postgresql://…')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    ms = lambda s: f'{s * 1000:.1f} ms'  # noqa: E731
    rows = []
    for run_number in range(args.runs):
        latency = run(args.kiosks, args.actions)
        row = {where: (percentile(v, 50), percentile(v, 99), len(v)) for where, v in latency.items()}
        rows.append(row)
        print(f'run {run_number + 1}: same process p50 {ms(row["same"][0])} p99 {ms(row["same"][1])} '
              f'({row["same"][2]}); other process p50 {ms(row["other"][0])} p99 {ms(row["other"][1])} '
              f'({row["other"][2]})', flush=True)
    print(f'\n2 processes, {args.kiosks} kiosks on each, {args.actions} add-time actions per run; '
          f'min / median / max of {args.runs} runs')
    for where, label in (('same', 'kiosk on the acting process'), ('other', 'kiosk on the other process')):
        for index, name in ((0, 'p50'), (1, 'p99')):
            values = [row[where][index] for row in rows]
            print(f'{label + " " + name:<36}{ms(min(values)):>10} {ms(statistics.median(values)):>10} '
                  f'{ms(max(values)):>10}')


if __name__ == '__main__':
    main()
