"""Big tables and writes for bench.rest: a year of audit log, a town's visitors, and staff writing
at once. Rows are inserted behind the server's back while it is stopped (as a restore would), then
the server is started again on them."""
import json
import random
import statistics
import time
import unicodedata
from datetime import datetime, timedelta
from http.client import HTTPConnection
from urllib.parse import urlsplit

import gevent

NOMS = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau',
        'Simon', 'Laurent', 'Lefèvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier',
        'Morel', 'Girard', 'André', 'Lefebvre', 'Mercier', 'Dupont', 'Lambert', 'Bonnet', 'François', 'Martinez',
        'Legrand', 'Garnier', 'Faure', 'Rousseau', 'Blanc', 'Guérin', 'Muller', 'Henry', 'Roussel', 'Nicolas',
        'Perrin', 'Morin', 'Mathieu', 'Clément', 'Gauthier', 'Dumont', 'Lopez', 'Fontaine', 'Chevalier', 'Robin']
PRENOMS = ['Éloïse', 'Zoé', 'Chloé', 'Léa', 'Inès', 'Jérôme', 'Hélène', 'Noé', 'Loïc', 'Maël', 'Anaïs', 'Gaël',
           'Camille', 'Lucas', 'Hugo', 'Louise', 'Emma', 'Jade', 'Arthur', 'Jules', 'Léon', 'Ambre', 'Rose',
           'Théo', 'Clément', 'Céline', 'Agnès', 'Benoît', 'Françoise', 'Joël']
ACTIONS = ['connexion_poste', 'deconnexion_poste', 'generation_code', 'demarrage_session', 'avertissement',
           'fermeture', 'expiration', 'ajout_temps', 'connexion_staff', 'echec_code']


def _normalise(text):
    decomposed = unicodedata.normalize('NFKD', text.casefold())
    return ''.join(c for c in decomposed if not unicodedata.combining(c)).replace('œ', 'oe').replace('æ', 'ae')


def _connect(server):
    """(connection, placeholder) on the server's database, as LiveServer.execute_sql does."""
    if server.database_url.startswith('sqlite'):
        import sqlite3
        return sqlite3.connect(server.database_url[len('sqlite:///'):]), '?'
    import psycopg
    conn = psycopg.connect(server.database_url.split('?')[0])
    conn.execute(f'SET search_path TO {server.schema}')
    return conn, '%s'


def seed(server, logs, visitors, writers=0, batch=20000):
    """Insert `logs` audit entries over the last year, `visitors` visitors, then `writers` more for
    the write bench (server stopped). Returns the ids of the latter."""
    conn, mark = _connect(server)
    rng = random.Random(17)
    now = datetime.utcnow() - timedelta(hours=1)
    start = now - timedelta(days=365)
    step = (now - start) / max(logs, 1)
    cur = conn.cursor()
    sql = ('INSERT INTO log (action, operateur, utilisateur, utilisateur_nom, session, poste, poste_nom, '
           'details, metadata, ip_address, created_at) VALUES (' + ', '.join([mark] * 11) + ')')
    rows = []
    for n in range(logs):
        rows.append((rng.choice(ACTIONS), 'système', rng.randint(1, 100000), 'Claire Durand', n // 3 + 1,
                     rng.randint(1, 200), f'Poste {rng.randint(1, 200):03d}', 'Entrée de charge.', '{}',
                     '10.0.0.1', start + step * n))
        if len(rows) == batch:
            cur.executemany(sql, rows)
            rows = []
    if rows:
        cur.executemany(sql, rows)
    sql = ('INSERT INTO utilisateur (nom, prenom, email, telephone, adresse, piece_identite_verifiee, '
           'numero_piece_identite, consentement_rgpd, is_guest, notes, nombre_sessions_total, created_at, '
           'updated_at, recherche) VALUES (' + ', '.join([mark] * 14) + ')')
    rows = []
    for n in range(visitors + writers):
        nom, prenom = rng.choice(NOMS), rng.choice(PRENOMS)
        email = f'{_normalise(prenom)}.{_normalise(nom)}{n}@exemple.fr'.replace(' ', '')
        telephone = f'06{rng.randint(0, 99999999):08d}'
        recherche = ' '.join(_normalise(v) for v in (nom, prenom, email, telephone))
        rows.append((nom, prenom, email, telephone, '', False, '', True, False, '', 0, now, now, recherche))
        if len(rows) == batch:
            cur.executemany(sql, rows)
            rows = []
    if rows:
        cur.executemany(sql, rows)
    conn.commit()
    cur = conn.cursor()
    cur.execute(f'SELECT id FROM utilisateur ORDER BY id DESC LIMIT {int(writers)}')
    ids = [row[0] for row in cur.fetchall()]
    for table in ('log', 'utilisateur', 'poste_session'):
        cur.execute(f'ANALYZE {table}')   # these tables only: others' schemas may share the server
    conn.commit()
    conn.close()
    return ids


class Client:
    """One keep-alive HTTP/1.1 connection of a member of staff."""

    def __init__(self, base_url, token):
        parts = urlsplit(base_url)
        self.conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = {'Authorization': f'Bearer {token}', 'Content-Type': 'application/json'}

    def post(self, path, body):
        self.conn.request('POST', path, json.dumps(body), self.headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None


_write_runs = 0   # each run of writes() makes postes of its own


def writes(server, token, visitors, seconds=10, clients=10):
    """Session creations and validate+terminate cycles per second by `clients` members of staff at
    once, each on a poste and visitors of its own (ids in `visitors`, half for each kind); p99 of
    each request."""
    half = len(visitors) // 2
    global _write_runs
    _write_runs += 1
    postes = [server.request('POST', '/api/postes/', {'nom': f'Écriture {_write_runs}-{n}',
                                                      'ip_address': f'10.77.{_write_runs}.{n + 1}'},
                             token=token)[1]['id'] for n in range(clients)]
    results = {}

    def run(kind, visitors):
        latencies, done = [], [0]
        until = time.monotonic() + seconds
        pools = [visitors[i::clients] for i in range(clients)]

        def member(i):
            client = Client(server.base_url, token)
            mine = pools[i]
            while time.monotonic() < until and mine:
                visitor = mine.pop()
                t = time.perf_counter()
                status, session = client.post('/api/sessions/', {'utilisateur': visitor, 'duree_initiale': 3600,
                                                                 **({'poste': postes[i]} if kind == 'cycle' else {})})
                latencies.append(time.perf_counter() - t)
                assert status == 201, session
                if kind == 'cycle':
                    t = time.perf_counter()
                    status, body = client.post('/api/sessions/validate-code/',
                                               {'code': session['code_acces'], 'poste': postes[i]})
                    latencies.append(time.perf_counter() - t)
                    assert status == 200, body
                    t = time.perf_counter()
                    status, body = client.post(f'/api/sessions/{session["id"]}/terminate/', {})
                    latencies.append(time.perf_counter() - t)
                    assert status == 200, body
                done[0] += 1
        started = time.monotonic()
        gevent.joinall([gevent.spawn(member, i) for i in range(clients)])
        elapsed = time.monotonic() - started
        latencies.sort()
        return {'rate': done[0] / elapsed, 'p99': latencies[int(len(latencies) * 0.99)] if latencies else 0,
                'worst': latencies[-1] if latencies else 0, 'done': done[0]}

    results['create'] = run('create', visitors[:half])
    results['cycle'] = run('cycle', visitors[half:])
    return results


def median_of(values):
    return statistics.median(values) if values else float('nan')
