"""A backup taken by a running appliance: requests keep being answered, and the archive is one point
in time even though rows are written while it is taken. `fill()` is also used by bench/backup.py."""
import io
import json
import tarfile
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.live import LiveServer

# The engine-specific part of bulk inserts: a series of numbers, a timestamp i seconds into 2025,
# false, true, and the modulo operator (doubled for psycopg, which reads % as a placeholder).
SERIES = {
    'sqlite': ('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) ',
               ' FROM n', "datetime('2025-01-01', '+' || i || ' seconds')", '0', '1', '%'),
    'postgresql': ('', ' FROM generate_series(1, {count}) AS n(i)',
                   "TIMESTAMP '2025-01-01' + i * INTERVAL '1 second'", 'false', 'true', '%%'),
}


def fill(server, logs=0, visitors=0):
    """Bulk-insert `visitors` visitors and `logs` audit entries behind a stopped server's back."""
    engine = 'sqlite' if server.database_url.startswith('sqlite') else 'postgresql'
    prefix, source, moment, false, true, mod = SERIES[engine]
    if visitors:
        server.execute_sql(
            prefix.format(count=visitors) +
            'INSERT INTO utilisateur (nom, prenom, email, telephone, date_naissance, adresse, '
            'type_piece_identite, piece_identite_verifiee, numero_piece_identite, consentement_rgpd, '
            'date_consentement, photo, is_guest, notes, nombre_sessions_total, derniere_session, '
            'created_at, updated_at) '
            f"SELECT 'Nom ' || i, 'Prénom', 'visiteur' || i || '@example.org', '', NULL, "
            f"'1 rue des Livres', 'cni', {true}, 'X' || i, {true}, {moment}, NULL, {false}, '', i {mod} 50, "
            f'{moment}, {moment}, {moment}' + source.format(count=visitors))
    if logs:
        server.execute_sql(
            prefix.format(count=logs) +
            'INSERT INTO log (action, operateur, utilisateur, utilisateur_nom, session, poste, poste_nom, '
            'details, metadata, ip_address, created_at) '
            f"SELECT 'demarrage_session', 'bibliothecaire', i {mod} 10000 + 1, 'Prénom Nom ' || (i {mod} 10000), "
            f"i, i {mod} 20 + 1, 'Poste ' || (i {mod} 20 + 1), 'Session démarrée sur le poste.', "
            f"'{{\"duree\": 3600}}', '192.168.1.' || (i {mod} 200), {moment}" + source.format(count=logs))


class Hammer:
    """Threads (greenlets here) sending one request after another; each records (start, end, status)."""

    def __init__(self, server, requests):
        self.server, self.requests = server, requests
        self.results, self.stop = [], threading.Event()
        self.threads = [threading.Thread(target=self.loop, args=(r,)) for r in requests]

    def loop(self, request):
        n = 0
        while not self.stop.is_set():
            n += 1
            method, path, body = request(n)
            start = time.monotonic()
            status, _ = self.server.request(method, path, body, token=self.server.admin_token())
            self.results.append((start, time.monotonic(), status, path))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@pytest.fixture
def server(tmp_path):
    server = LiveServer(tmp_path)
    server.start()
    server.admin_token()
    server.stop()
    fill(server, logs=150_000, visitors=2000)
    server.start()
    yield server
    server.stop()


def test_requests_are_answered_while_a_backup_runs_and_the_archive_is_one_moment(server):
    status, health = server.request('GET', '/api/health/')
    assert status == 200 and health['backup'] == 'none'      # a new box is healthy on day one
    reads = [lambda n: ('GET', '/api/health/', None), lambda n: ('GET', '/api/auth/me/', None),
             lambda n: ('GET', '/api/postes/', None)]
    writes = [lambda n: ('POST', '/api/postes/', {'nom': f'Poste {n}', 'ip_address': f'10.1.{n // 250}.{n % 250}'})]
    with Hammer(server, reads + writes) as hammer:
        time.sleep(0.3)
        began = time.monotonic()
        status, made = server.request('POST', '/api/backups/', token=server.admin_token())
        ended = time.monotonic()
        time.sleep(0.3)
    assert status == 201, made
    during = sorted(r for r in hammer.results if began <= r[0] and r[1] <= ended)
    assert all(r[2] in (200, 201) for r in hammer.results), {r[2] for r in hammer.results}
    # Requests kept being answered, all along: no request waited for the backup to finish.
    assert len(during) >= 20, (len(during), ended - began)
    ends = [began] + sorted(r[1] for r in during) + [ended]
    longest_gap = max(b - a for a, b in zip(ends, ends[1:]))
    slowest = max(r[1] - r[0] for r in hammer.results if r[0] < ended and r[1] > began)
    assert longest_gap < (ended - began) / 2 and slowest < (ended - began) / 2, (longest_gap, slowest, ended - began)
    created_during = [r for r in during if r[3] == '/api/postes/' and r[2] == 201]
    assert created_during

    # One point in time: every poste in the archive has its creation entry, and no entry lacks its poste,
    # though postes were created while the tables were read one after the other.
    status, raw = server.request('GET', f'/api/backups/{made["name"]}/', token=server.admin_token())
    assert status == 200
    with tarfile.open(fileobj=io.BytesIO(raw), mode='r:gz') as tar:
        content = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = json.loads(content['manifest.json'])
    action = [c for c, _ in manifest['tables']['log']['columns']].index('action')
    creations = sum(1 for name in content if name.startswith('data/log/')
                    for line in content[name].splitlines() if json.loads(line)[action] == 'creation_poste')
    assert manifest['tables']['log']['rows'] > 150_000
    assert manifest['tables']['poste']['rows'] == creations > 0
    status, health = server.request('GET', '/api/health/')
    assert status == 200 and health['backup'] == 'ok'


def test_a_stale_backup_makes_health_say_so(live_server):
    server = live_server()
    assert server.request('POST', '/api/backups/', token=server.admin_token())[0] == 201
    assert server.request('GET', '/api/health/')[1]['backup'] == 'ok'
    # The last success 27 hours ago (health reads it from the database at each call).
    server.execute_sql("UPDATE state SET value = ? WHERE key = 'backup:last_success'",
                       ((datetime.now(timezone.utc) - timedelta(hours=27)).replace(tzinfo=None).isoformat(),))
    status, health = server.request('GET', '/api/health/')
    assert status == 503 and health['backup'] == 'stale' and 'backup' in health['detail']
