"""REST throughput of the main routes against a bare bottle-on-gevent "hello", and idle RSS.

python -m bench.rest [--seconds 10] [--connections 50]
Loopback only; each wrk run is bounded in time.
"""
import argparse
import time

from bench.common import rss_kb, start_appliance, start_baseline, wrk


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=int, default=10)
    parser.add_argument('--connections', type=int, default=50)
    args = parser.parse_args()

    baseline, port = start_baseline('hello_server')
    server = start_appliance()
    try:
        time.sleep(2)
        idle_rss = rss_kb(server.process.pid)
        for n in range(20):
            server.make_poste(f'Poste {n + 1:02d}', f'10.0.1.{n + 1}')
        auth = f'Authorization: Bearer {server.admin_token()}'
        hello = wrk(f'http://127.0.0.1:{port}/hello', args.seconds, args.connections)
        postes = wrk(f'{server.base_url}/api/postes/', args.seconds, args.connections, headers=[auth])
        health = wrk(f'{server.base_url}/api/health/', args.seconds, args.connections)
        loaded_rss = rss_kb(server.process.pid)
    finally:
        server.stop()
        baseline.terminate()
        baseline.wait()

    print(f'{"route":<36}{"req/s":>10}{"ratio":>8}{"p99":>10}{"non-2xx":>9}')
    for name, result in (('bare bottle+gevent GET /hello', hello),
                         ('GET /api/postes/ (20 postes, JWT)', postes),
                         ('GET /api/health/', health)):
        print(f'{name:<36}{result["rps"]:>10.0f}{result["rps"] / hello["rps"]:>8.2f}'
              f'{result["p99"]:>10}{result["non_2xx"]:>9}')
    print(f'idle RSS: {idle_rss / 1024:.1f} MB; after the load: {loaded_rss / 1024:.1f} MB')


if __name__ == '__main__':
    main()
