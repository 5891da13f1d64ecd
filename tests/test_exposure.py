"""What the appliance gives away, and to whom: a kiosk hears nothing of the staff's notes or names,
the data folder is the service's alone, forged forwarding headers change no link, a weak secret is
refused at start."""
import json
import os
import stat
import subprocess
import sys

from tests import support
from tests.live import kiosk, recv_action

NOTE = 'Note du personnel : a oublié sa carte'
STAFF_ONLY = {'notes', 'operateur'}


def test_the_kiosk_never_receives_staff_notes_or_the_operator(live):
    poste = live.make_poste()
    visitor = live.api('POST', '/api/utilisateurs/', {'nom': 'Roux', 'prenom': 'Inès', 'telephone': '0611111111',
                                                      'consentement_rgpd': True}, expect=201)
    session = live.api('POST', '/api/sessions/', {'utilisateur': visitor['id'], 'poste': poste['id'],
                                                  'duree_initiale': 1800, 'notes': NOTE}, expect=201)
    assert session['notes'] == NOTE and session['operateur'] == 'admin'   # staff see both
    ws, sync = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    started = recv_action(ws, 'session_started')
    assert started['session']['id'] == session['id'] and not STAFF_ONLY & set(started['session'])
    again, sync = kiosk(live, poste)      # a kiosk that reconnects mid-session hears a sync
    assert sync['session']['id'] == session['id'] and not STAFF_ONLY & set(sync['session'])
    assert NOTE not in json.dumps(started) + json.dumps(sync)
    # Over REST, with the poste's token: the same view.
    other = live.make_poste('Poste 2', '10.0.0.12')
    second = live.make_session(other['id'], nom='Blanc', prenom='Léo')
    live.api('PATCH', f'/api/utilisateurs/{second["utilisateur"]}/', {'notes': NOTE}, expect=200)
    status, answer = live.request('POST', '/api/sessions/validate-code/', {'code': second['code_acces']},
                                  headers={'X-Poste-Token': other['kiosk_token']})
    assert status == 200 and answer['valid'] is True
    assert not STAFF_ONLY & set(answer['session']) and 'admin' not in json.dumps(answer)
    shown = live.api('GET', f'/api/sessions/{second["id"]}/')
    assert shown['operateur'] == 'admin'


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_folder_and_database_are_the_service_s_alone(live_server, tmp_path):
    data_dir = tmp_path / 'neuf' / 'donnees'
    server = live_server(DATA_DIR=str(data_dir))
    assert server.request('GET', '/api/health/')[0] == 200
    assert mode(data_dir) == 0o700
    for name in ('secret_key', 'initial_admin_password', 'scheduler.db'):
        assert mode(data_dir / name) == 0o600, name
    if server.database_url.startswith('sqlite'):
        database = server.database_url[len('sqlite:///'):]
        for path in (database, database + '-wal', database + '-shm'):
            assert mode(path) == 0o600, path


def test_a_short_secret_key_stops_the_start_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_', 'DATABASE_URL'))}
    env.update({'DATA_DIR': str(tmp_path), 'SECRET_KEY': 'trop-courte'})
    done = subprocess.run([sys.executable, '-m', 'appliance', 'serve', '--port', '1'], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ''
    assert done.stderr.strip() == ('poste-public: configuration error: SECRET_KEY: must be at least 32 characters, '
                                   'got 11 (or leave it unset: one is generated in DATA_DIR)')
    assert not os.path.exists(tmp_path / 'poste_public.db')


def test_forged_forwarding_headers_change_no_link_and_no_address(client, admin_token):
    client.make_poste(admin_token, nom='A', ip='10.0.0.1')
    client.make_poste(admin_token, nom='B', ip='10.0.0.2')
    forged = {'X-Forwarded-Host': 'piege.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '6.6.6.6'}
    page = client.get('/api/postes/?page_size=1', token=admin_token, headers=forged).json
    assert page['next'] == 'http://testserver/api/postes/?page_size=1&page=2'
    client.post('/api/token/', {'username': 'admin', 'password': 'mauvais'}, headers=forged,
                remote_addr='10.9.9.9')
    entries = client.get('/api/logs/?action=echec_connexion', token=admin_token).json['results']
    assert entries[0]['ip_address'] == '10.9.9.9'


def test_a_trusted_proxy_is_believed(bound_database, tmp_path):
    ctx = support.make_context(tmp_path, TRUSTED_PROXIES='10.0.0.254, 192.168.50.0/24')
    support.empty_database()
    client = support.Client(support.make_app(ctx))
    support.make_compte('admin', role='admin')
    token = client.login('admin')
    client.make_poste(token, nom='A', ip='10.0.0.1')
    client.make_poste(token, nom='B', ip='10.0.0.2')
    forwarded = {'X-Forwarded-Host': 'postes.mediatheque.fr', 'X-Forwarded-Proto': 'https',
                 'X-Forwarded-For': '6.6.6.6, 172.16.3.4'}
    page = client.get('/api/postes/?page_size=1', token=token, headers=forwarded, remote_addr='10.0.0.254').json
    assert page['next'] == 'https://postes.mediatheque.fr/api/postes/?page_size=1&page=2'
    client.post('/api/token/', {'username': 'admin', 'password': 'mauvais'}, headers=forwarded,
                remote_addr='192.168.50.7')
    entries = client.get('/api/logs/?action=echec_connexion', token=token).json['results']
    assert entries[0]['ip_address'] == '172.16.3.4'     # the last address no trusted proxy owns
    # Any other peer is still not believed.
    page = client.get('/api/postes/?page_size=1', token=token, headers=forwarded, remote_addr='10.0.0.9').json
    assert page['next'].startswith('http://testserver/')
    support.empty_database()
