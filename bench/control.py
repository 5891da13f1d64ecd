"""Live control at scale: one message to every connected kiosk (POST /api/postes/message/ with
postes null), and how long until the last kiosk has it; a time request answered at once.

python -m bench.control [--kiosks 200] [--rounds 5]
Loopback only; every phase is bounded in time.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402

from bench.common import start_appliance  # noqa: E402


def connect_all(server, postes):
    sockets = [None] * len(postes)

    def connect(i):
        poste = postes[i]
        ws = websocket.create_connection(
            server.ws_url(f'/ws/poste/{poste["ip_address"]}/?token={poste["kiosk_token"]}'), timeout=30)
        json.loads(ws.recv())   # sync
        sockets[i] = ws

    for start in range(0, len(postes), 100):
        gevent.joinall([gevent.spawn(connect, i) for i in range(start, min(start + 100, len(postes)))])
    return sockets


def wait_message(ws, text, deadline):
    while time.monotonic() < deadline:
        ws.settimeout(max(0.01, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message.get('action') == 'message' and message.get('message') == text:
            return time.monotonic()
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--kiosks', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    server = start_appliance(HEARTBEAT_TIMEOUT=300)
    try:
        postes = [server.make_poste(f'Poste {n:04d}', f'10.{n // 250}.{n % 250}.1') for n in range(args.kiosks)]
        sockets = connect_all(server, postes)
        last, answers = [], []
        for round_ in range(args.rounds):
            text = f'Message {round_}'
            began = time.monotonic()
            jobs = [gevent.spawn(wait_message, ws, text, began + 10) for ws in sockets]
            gevent.sleep(0)
            sent = server.api('POST', '/api/postes/message/', {'message': text, 'postes': None})
            answers.append(time.monotonic() - began)
            gevent.joinall(jobs, timeout=12)
            arrived = [job.value for job in jobs if job.value is not None]
            assert len(arrived) == len(sockets) == len(sent['envoye']), (len(arrived), len(sent['envoye']))
            last.append(max(arrived) - began)
        print(f'{args.kiosks} kiosks, one message to all: answer {statistics.median(answers) * 1000:.0f} ms, '
              f'last kiosk reached {statistics.median(last) * 1000:.0f} ms (median of {args.rounds}; '
              f'worst {max(last) * 1000:.0f} ms)')
        for ws in sockets:
            ws.close()
    finally:
        server.stop()


if __name__ == '__main__':
    main()
