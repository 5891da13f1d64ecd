"""Shared by the benchmarks: processes on loopback, wrk, memory readings."""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.live import LiveServer, free_port  # noqa: E402


def rss_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1))


def start_baseline(module):
    """Start `python -m bench.<module> PORT`; returns (process, port)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, '-m', f'bench.{module}', str(port)], cwd=ROOT)
    for _ in range(100):
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/hello', timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    return process, port


def start_appliance(**env):
    server = LiveServer(tempfile.mkdtemp(prefix='bench-'), **env)
    server.env.setdefault('LOG_LEVEL', 'WARNING')
    return server.start()


def wrk(url, seconds=10, connections=50, threads=2, headers=()):
    """Requests per second measured by wrk (loopback only, bounded in time)."""
    args = ['wrk', f'-t{threads}', f'-c{connections}', f'-d{seconds}s', '--latency']
    for header in headers:
        args += ['-H', header]
    output = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r'Requests/sec:\s+([\d.]+)', output).group(1))
    p99 = re.search(r'99%\s+([\d.]+)(\w+)', output)
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', output)
    return {'rps': rate, 'p99': p99.group(1) + p99.group(2) if p99 else '?',
            'non_2xx': int(errors.group(1)) if errors else 0}
