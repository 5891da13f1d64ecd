"""Privacy and legal requests, black-box: a real `poste-public serve`, real sockets, the real
command line (docs/rgpd.md). Both engines."""
import base64
import hashlib
import json
import subprocess
import sys
import urllib.request

from tests.live import kiosk, recv_action

PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC')


def command(server, *args):
    """Run `poste-public ARGS` on the server's data (what the administrator types on the box)."""
    return subprocess.run([sys.executable, '-m', 'appliance', *args], env=server.environment(),
                          cwd=server.data_dir, capture_output=True, text=True, timeout=60)


def visitor(server, **fields):
    return server.api('POST', '/api/utilisateurs/', {
        'nom': 'Durand', 'prenom': 'Claire', 'telephone': '0600000000', 'consentement_rgpd': True,
        'doublon_confirme': True, **fields}, expect=201)


def raw_get(server, path):
    req = urllib.request.Request(server.base_url + path, headers={'Authorization': f'Bearer {server.admin_token()}'})
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_an_edited_audit_row_is_found_by_the_api_and_the_command(live):
    target = visitor(live)
    assert live.api('GET', '/api/logs/verification/', expect=200)['ok'] is True
    ok = command(live, 'verify-log')
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)['ok'] is True
    entry = live.api('GET', f'/api/logs/?action=creation_utilisateur&utilisateur={target["id"]}')['results'][0]
    live.execute_sql("UPDATE log SET details = 'Rien.' WHERE id = ?", (entry['id'],))
    found = live.api('GET', '/api/logs/verification/', expect=200)
    assert found == {'ok': False, 'premiere_alteree': entry['id']}
    broken = command(live, 'verify-log')
    assert broken.returncode == 1
    assert json.loads(broken.stdout) == {'ok': False, 'premiere_alteree': entry['id']}
    status, health = live.request('GET', '/api/health/')
    assert status == 503 and health['journal'] == 'altere'


def test_anonymised_on_request_and_by_the_nightly_rule_with_its_export(live):
    poste = live.make_poste()
    alice = visitor(live, nom='Martin', prenom='Alice', date_naissance='1990-05-04')
    bob = visitor(live, nom='Petit', prenom='Bob')
    req = urllib.request.Request(f'{live.base_url}/api/utilisateurs/{bob["id"]}/photo/', method='POST',
                                 data=b'--x\r\nContent-Disposition: form-data; name="photo"; filename="p.png"\r\n'
                                      b'Content-Type: image/png\r\n\r\n' + PNG + b'\r\n--x--\r\n',
                                 headers={'Authorization': f'Bearer {live.admin_token()}',
                                          'Content-Type': 'multipart/form-data; boundary=x'})
    assert urllib.request.urlopen(req, timeout=10).status == 200
    session = live.api('POST', '/api/sessions/', {'utilisateur': alice['id'], 'poste': poste['id'],
                                                  'duree_initiale': 3600}, expect=201)
    live.start_session(session, poste)
    status, refused = live.request('POST', f'/api/utilisateurs/{alice["id"]}/anonymiser/', token=live.admin_token())
    assert status == 409 and 'session' in refused['detail']
    status, headers, body = raw_get(live, f'/api/utilisateurs/{alice["id"]}/export/')
    export = json.loads(body)
    assert status == 200 and 'attachment' in headers['content-disposition']
    assert export['utilisateur']['date_naissance'] == '1990-05-04'
    assert [s['id'] for s in export['sessions']] == [session['id']]
    assert 'demarrage_session' in [e['action'] for e in export['journal']]
    live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
    done = live.api('POST', f'/api/utilisateurs/{alice["id"]}/anonymiser/', expect=200)
    assert done['nom'] == 'Anonyme' and done['date_naissance'] is None
    # The nightly rule: Bob registered 400 days ago and never came back (dates moved back).
    live.stop()
    live.execute_sql("UPDATE utilisateur SET created_at = '2020-01-01 00:00:00' WHERE id = ?", (bob['id'],))
    purge = command(live, 'purge')
    assert purge.returncode == 0, purge.stderr
    assert 'Visiteurs : 1 anonymisé(s)' in purge.stdout
    live.start()
    shown = live.api('GET', f'/api/utilisateurs/{bob["id"]}/', expect=200)
    assert shown['nom'] == 'Anonyme' and shown['photo'] is None and shown['anonymise_le']
    actions = [e['action'] for e in live.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('anonymisation_utilisateur') == 2 and 'export_donnees' in actions and 'purge' in actions
    assert live.api('GET', '/api/logs/verification/')['ok'] is True


def test_a_requisition_csv_whose_hash_matches_and_whose_request_is_audited(live):
    poste = live.make_poste()
    session = live.make_session(poste['id'])
    live.start_session(session, poste)
    status, headers, body = raw_get(live, '/api/requisitions/?motif=PV%2042&debut=2020-01-01&fin=2100-01-01')
    assert status == 200 and headers['content-type'] == 'text/csv; charset=utf-8'
    assert headers['x-content-sha256'] == hashlib.sha256(body).hexdigest()
    text = body.decode('utf-8')
    assert text.startswith('\ufeffsession;poste;adresse_ip;') and ';Claire Durand;' in text
    entry = live.api('GET', '/api/logs/?action=requisition')['results'][0]
    assert entry['metadata']['motif'] == 'PV 42' and entry['metadata']['lignes'] == 1
    status, error = live.request('GET', '/api/requisitions/?debut=2020-01-01&fin=2100-01-01', token=live.admin_token())
    assert status == 400 and 'motif' in error['errors']


def test_the_charter_is_required_once_then_remembered_at_the_kiosk(live):
    live.api('PUT', '/api/charte/', {'texte': 'Je respecte le matériel.'}, expect=200)
    poste = live.make_poste()
    session = live.make_session(poste['id'])
    ws, _ = kiosk(live, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    required = recv_action(ws, 'charter_required')
    assert required['charte'] == {'version': 1, 'texte': 'Je respecte le matériel.'}
    ws.send(json.dumps({'type': 'accept_charter', 'code': session['code_acces'], 'version': 1}))
    started = recv_action(ws, 'session_started')
    assert started['session']['id'] == session['id']
    live.api('POST', f'/api/sessions/{session["id"]}/terminate/', {}, expect=200)
    recv_action(ws, 'close_session')
    again = live.api('POST', '/api/sessions/', {'utilisateur': session['utilisateur'], 'poste': poste['id'],
                                                'duree_initiale': 600}, expect=201)
    ws.send(json.dumps({'type': 'validate_code', 'code': again['code_acces']}))
    assert recv_action(ws, 'session_started')['session']['id'] == again['id']   # remembered
    ws.send(json.dumps({'type': 'accept_charter', 'code': again['code_acces']}))
    assert recv_action(ws, 'error')['detail']
    ws.close()
    actions = [e['action'] for e in live.api('GET', '/api/logs/?page_size=200')['results']]
    assert actions.count('acceptation_charte') == 1 and 'modification_charte' in actions


def test_a_twelve_year_old_is_refused_without_parental_authorisation(live):
    child = visitor(live, nom='Petit', prenom='Léo', date_naissance='2014-09-01')
    status, body = live.request('POST', '/api/sessions/', {'utilisateur': child['id'], 'duree_initiale': 600},
                                token=live.admin_token())
    assert status == 409 and 'autorisation parentale' in body['detail']
    live.api('PATCH', f'/api/utilisateurs/{child["id"]}/', {'autorisation_parentale': True}, expect=200)
    live.api('POST', '/api/sessions/', {'utilisateur': child['id'], 'duree_initiale': 600}, expect=201)
