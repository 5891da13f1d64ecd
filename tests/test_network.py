"""Several `serve` processes on one PostgreSQL database are one system (docs/reseau.md): a change
made through one reaches the kiosks and staff feeds of the others within a second; each warning
and each end happens once, on time, even after the process that started the session is killed;
a code is validated once; the nightly jobs run once. SQLite stays one process."""
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest

from tests import support
from tests.live import close_code, free_port, kiosk, nothing_within, recv_action, recv_event, recv_json, ws_connect

postgresql_only = pytest.mark.skipif(support.postgres_url() is None,
                                     reason='several processes need PostgreSQL (DATABASE_URL)')


@pytest.fixture
def pair(live_server):
    """Two processes on one database."""
    first = live_server()
    return first, live_server(share=first)


def staff_feed(server):
    ws = ws_connect(server.ws_url(f'/ws/staff/?token={server.admin_token()}'))
    assert recv_json(ws)['event'] == 'hello'
    return ws


@postgresql_only
def test_a_change_through_one_process_reaches_the_other_within_a_second(pair):
    a, b = pair
    poste = a.make_poste()
    session = a.make_session(poste['id'], duree=1800)
    ws, sync = kiosk(b, poste)                       # the kiosk is connected to B
    feed = staff_feed(b)                             # and so is a desk
    began = time.monotonic()
    a.start_session(session, poste)
    assert recv_action(ws, 'session_started', timeout=1)['session']['id'] == session['id']
    a.api('POST', f'/api/sessions/{session["id"]}/add-time/', {'minutes': 5}, expect=200)
    assert recv_action(ws, 'add_time', timeout=1)['seconds'] == 300
    assert recv_event(feed, 'session', timeout=1)['session']['id'] == session['id']
    assert time.monotonic() - began < 3
    # B's own view (its room in memory) follows too.
    shown = b.api('GET', f'/api/postes/{poste["id"]}/')
    assert shown['statut'] == 'occupe' and shown['session_active']['id'] == session['id']
    a.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
    assert recv_action(ws, 'close_session', timeout=1)['raison'] == 'fermeture_staff'
    assert b.api('GET', f'/api/postes/{poste["id"]}/')['statut'] == 'disponible'
    assert b.request('GET', '/api/health/')[1]['relay'] == 'ok'


@postgresql_only
def test_a_logout_on_one_process_is_refused_by_the_other(pair):
    a, b = pair
    status, login = a.request('POST', '/api/token/', {'username': 'admin', 'password': a.admin_password()})
    access, refresh = login['access'], login['refresh']
    assert b.request('GET', '/api/auth/me/', token=access)[0] == 200    # B remembers this login now
    feed = ws_connect(b.ws_url(f'/ws/staff/?token={access}'))          # and a desk is on B's feed
    assert recv_json(feed)['event'] == 'hello'
    assert a.request('POST', '/api/auth/logout/', {'refresh': refresh}, token=access)[0] == 204
    assert close_code(feed, timeout=1) == 4401
    deadline = time.monotonic() + 1
    while b.request('GET', '/api/auth/me/', token=access)[0] != 401:
        assert time.monotonic() < deadline, 'B still accepts a token revoked through A'
        time.sleep(0.05)


@postgresql_only
@pytest.mark.slow
def test_warnings_and_the_end_happen_once_whoever_started_the_session(live_server):
    settings = {'WARNING_TIMES': '58,55'}            # warned 2 and 5 s after the start, ended at 60 s
    a = live_server(**settings)
    b = live_server(share=a, **settings)
    c = live_server(share=a, **settings)
    poste = a.make_poste()
    session = a.make_session(poste['id'], duree=60)
    ws, _ = kiosk(c, poste)
    a.start_session(session, poste)
    started = time.monotonic()
    recv_action(ws, 'session_started', timeout=1)
    assert a.kill() == -9                            # the process that started it dies
    heard = []
    while not heard or heard[-1][1]['action'] != 'close_session':
        message = recv_json(ws, timeout=65)
        if message['action'] != 'sync':
            heard.append((time.monotonic() - started, message))
    assert [m['action'] for _, m in heard] == ['warning', 'warning', 'close_session'], heard
    (t58, w58), (t55, w55), (tend, end) = heard
    assert w58['seuil'] == 58 and abs(t58 - 2) <= 1 and w55['seuil'] == 55 and abs(t55 - 5) <= 1
    assert end['raison'] == 'expiration' and abs(tend - 60) <= 1
    assert nothing_within(ws, 1.5)                   # nothing said twice
    logs = b.api('GET', f'/api/logs/?session={session["id"]}&page_size=200')['results']
    assert sorted(e['action'] for e in logs if e['action'] in ('avertissement', 'expiration')) == \
        ['avertissement', 'avertissement', 'expiration']


@postgresql_only
def test_a_code_raced_by_postes_on_two_processes_is_validated_once(pair):
    a, b = pair
    postes = [a.make_poste('Poste A', '10.0.0.21'), a.make_poste('Poste B', '10.0.0.22')]
    for round_ in range(5):
        session = a.make_session(None, duree=600, nom=f'Course{round_}')   # a code for any poste
        results = [None, None]
        barrier = threading.Barrier(2)

        def validate(i, server):
            barrier.wait()
            results[i] = server.request('POST', '/api/sessions/validate-code/', {'code': session['code_acces']},
                                        headers={'X-Poste-Token': postes[i]['kiosk_token']})[0]
        threads = [threading.Thread(target=validate, args=(i, s)) for i, s in enumerate((a, b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # The loser hears the code is taken: ended (404), bound to the other poste (403) or in use (409).
        assert sorted(results) in ([200, 403], [200, 404], [200, 409]), results
        started = [e for e in a.api('GET', f'/api/logs/?session={session["id"]}')['results']
                   if e['action'] == 'demarrage_session']
        assert len(started) == 1
        a.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)


@postgresql_only
def test_the_nightly_jobs_run_once_for_the_network(live_server):
    a = live_server()
    a.api('GET', '/api/health/')
    assert a.stop() == 0
    yesterday = (datetime.utcnow() - timedelta(days=2)).isoformat()
    a.execute_sql("DELETE FROM state WHERE key = 'daily:purge'")
    a.execute_sql("INSERT INTO state (key, value) VALUES ('daily:purge', ?)", (yesterday,))
    a.start()
    b = live_server(share=a)
    c = live_server(share=a)
    deadline = time.monotonic() + 25                 # the scheduler looks every 10 s
    while not a.api('GET', '/api/logs/?action=purge')['count']:
        assert time.monotonic() < deadline, 'the purge never ran'
        time.sleep(0.5)
    time.sleep(11)                                   # one more look by every process
    assert a.api('GET', '/api/logs/?action=purge')['count'] == 1
    assert all(server.process.poll() is None for server in (a, b, c))


@postgresql_only
def test_a_lost_listening_connection_comes_back_and_catches_up(pair):
    a, b = pair
    poste = a.make_poste()
    ws, _ = kiosk(b, poste)
    session = a.make_session(poste['id'], duree=1800)
    # Cut B's listening connection from the database side; meanwhile A starts the session.
    a.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE application_name = 'poste-public-relay' AND pid <> pg_backend_pid()")
    a.start_session(session, poste)
    # B reads everything again once it listens again: its kiosk hears the session it missed.
    deadline = time.monotonic() + 15
    while True:
        message = recv_json(ws, timeout=max(0.1, deadline - time.monotonic()))
        if message['action'] in ('sync', 'session_started') and message.get('session'):
            break
    assert message['session']['id'] == session['id']
    # And it hears what comes next at once again.
    a.api('POST', f'/api/sessions/{session["id"]}/add-time/', {'minutes': 5}, expect=200)
    assert recv_action(ws, 'add_time', timeout=2)['seconds'] == 300
    assert 'listening again' in b.output()


def test_a_second_serve_on_the_same_data_or_sqlite_file_stops_with_one_line(live, tmp_path):
    env = {**live.environment(), 'PYTHONUNBUFFERED': '1'}
    same_folder = subprocess.run(
        [sys.executable, '-m', 'appliance', 'serve', '--host', '127.0.0.1', '--port', str(free_port())],
        cwd=live.data_dir, env=env, capture_output=True, text=True, timeout=60)
    assert same_folder.returncode == 1
    lines = same_folder.stderr.strip().splitlines()
    assert len(lines) == 1 and 'another poste-public serve' in lines[0] and str(live.process.pid) in lines[0]
    if live.database_url.startswith('sqlite'):
        other = tmp_path / 'autre'
        other.mkdir()
        same_file = subprocess.run(
            [sys.executable, '-m', 'appliance', 'serve', '--host', '127.0.0.1', '--port', str(free_port())],
            cwd=str(other), env={**env, 'DATA_DIR': str(other)}, capture_output=True, text=True, timeout=60)
        assert same_file.returncode == 1
        lines = same_file.stderr.strip().splitlines()
        assert len(lines) == 1 and 'SQLite serves one process' in lines[0]
    assert live.request('GET', '/api/health/')[0] == 200   # the first one is unharmed
    assert not os.path.exists(os.path.join(live.data_dir, 'autre'))


@postgresql_only
def test_a_box_that_loses_its_database_says_so_and_comes_back(live_server):
    """The link to a network's central database is cut, then restored: requests get a clear 503
    meanwhile (never a 500), health says what is down, and everything works again after."""
    import psycopg
    base = support.postgres_url().split('?')[0]
    name = f'pp_cut_{os.getpid()}'
    admin_url = base.rsplit('/', 1)[0] + '/postgres'

    def sql(*statements):
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    sql(f'DROP DATABASE IF EXISTS {name}', f'CREATE DATABASE {name}')
    try:
        server = live_server(DATABASE_URL=base.rsplit('/', 1)[0] + f'/{name}')
        poste = server.make_poste()
        token = server.admin_token()
        sql(f'ALTER DATABASE {name} ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        status, body = server.request('GET', f'/api/postes/{poste["id"]}/', token=token)
        assert status == 503 and body['detail'].startswith('Base de données injoignable')
        status, health = server.request('GET', '/api/health/')
        assert status == 503 and health['database'] == 'down'
        sql(f'ALTER DATABASE {name} ALLOW_CONNECTIONS true')
        deadline = time.monotonic() + 20
        while server.request('GET', '/api/health/')[0] != 200:
            assert time.monotonic() < deadline, server.request('GET', '/api/health/')
            time.sleep(0.5)
        assert server.request('GET', f'/api/postes/{poste["id"]}/', token=token)[0] == 200
        assert 'Traceback' not in server.output()
    finally:
        sql(f'ALTER DATABASE {name} ALLOW_CONNECTIONS true',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            f'DROP DATABASE IF EXISTS {name}')
