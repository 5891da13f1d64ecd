"""The library closes with 1,000 sessions running: how late the closing notice and the end of each
session reach the kiosks.

python -m bench.closing [--kiosks 1000] [--notice 10] [--lead 20]
Every session runs on a connected kiosk; then the hours are set so that the library closes `lead`
seconds later (which caps every running session at the closing), with the notice `notice` seconds
before. Each kiosk notes when `closing` and `close_session` arrive. Loopback only, bounded in time.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import gevent  # noqa: E402

from bench.common import rss_kb, start_appliance  # noqa: E402
from bench.kiosks import connect_all, percentile  # noqa: E402

DAYS = ('lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche')


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def listen(ws, heard):
    """Every message's arrival time by action, until close_session (or the socket ends)."""
    while True:
        try:
            message = json.loads(ws.recv())
        except Exception:
            return
        heard.setdefault(message.get('action'), time.time())
        if message.get('action') == 'close_session':
            return


def run(count, notice, lead):
    server = start_appliance(TIME_ZONE='UTC', HEARTBEAT_TIMEOUT=300)
    try:
        postes = [server.make_poste(f'Poste {n:04d}', f'10.{n // 250}.{n % 250}.1') for n in range(count)]
        codes = [server.make_session(p['id'], duree=4 * 3600, nom=f'Bench{n}')['code_acces']
                 for n, p in enumerate(postes)]
        urls = [server.ws_url(f'/ws/poste/{p["ip_address"]}/?token={p["kiosk_token"]}') for p in postes]
        sockets = connect_all(urls)
        for ws in sockets:
            ws.recv()   # sync
        for ws, code in zip(sockets, codes):
            ws.send(json.dumps({'type': 'validate_code', 'code': code}))
        for ws in sockets:
            while json.loads(ws.recv()).get('action') != 'session_started':
                pass
        heard = [{} for _ in sockets]
        readers = [gevent.spawn(listen, ws, h) for ws, h in zip(sockets, heard)]
        now = utcnow()
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
        if (midnight - now).total_seconds() < lead + 10:
            gevent.sleep((midnight - now).total_seconds() + 1)
            now = utcnow()
        closing = (now + timedelta(seconds=lead)).replace(microsecond=0)
        started = time.monotonic()
        server.api('PUT', '/api/horaires/', {'semaine': {DAYS[closing.weekday()]: [['00:00', f'{closing:%H:%M:%S}']]},
                                             'avertissement_fermeture': notice}, expect=200)
        capping = time.monotonic() - started
        gevent.joinall(readers, timeout=lead + 30)
        gevent.killall(readers)
        closing_epoch = closing.replace(tzinfo=timezone.utc).timestamp()
        notices = [h['closing'] - (closing_epoch - notice) for h in heard if 'closing' in h]
        closes = [h['close_session'] - closing_epoch for h in heard if 'close_session' in h]
        ended = server.api('GET', '/api/sessions/?statut=terminee&page_size=1')['count']
        raisons = {s['raison_fin'] for s in server.api('GET', '/api/sessions/?page_size=200')['results']}
        return {'notices': notices, 'closes': closes, 'capping': capping, 'ended': ended, 'raisons': raisons,
                'rss': rss_kb(server.process.pid)}
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--kiosks', type=int, default=1000)
    parser.add_argument('--notice', type=int, default=10)
    parser.add_argument('--lead', type=int, default=20)
    args = parser.parse_args()
    result = run(args.kiosks, args.notice, args.lead)
    ms = lambda s: f'{s * 1000:.1f} ms'  # noqa: E731
    print(f'{args.kiosks} sessions running on connected kiosks; the library closes {args.lead} s after '
          f'the hours are set, notice {args.notice} s before')
    print(f'setting the hours (caps {args.kiosks} sessions): {ms(result["capping"])}')
    for label, values in (('closing notice', result['notices']), ('close_session', result['closes'])):
        if values:
            print(f'{label + " lateness":<28} worst {ms(max(values))}, p99 {ms(percentile(values, 99))}, '
                  f'median {ms(statistics.median(values))}  ({len(values)} of {args.kiosks} kiosks)')
        else:
            print(f'{label}: none received')
    print(f'sessions ended: {result["ended"]} (raisons: {", ".join(sorted(result["raisons"]))}); '
          f'appliance RSS {result["rss"] / 1024:.1f} MB')


if __name__ == '__main__':
    main()
