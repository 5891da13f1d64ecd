"""Postes over REST: creation and its kiosk token, uniqueness, addresses, status rules (docs/api.md)."""
import pytest

from tests.support import log_actions

FIELDS = {'id', 'nom', 'ip_address', 'mac_address', 'statut', 'emplacement', 'derniere_connexion', 'en_ligne',
          'session_active', 'created_at', 'updated_at', 'adresse_kiosque', 'site'}


def running_session(client, token, poste):
    """A visitor with a session started on `poste` by its kiosk; returns the session."""
    visitor = client.make_visitor(token, nom='Occupant', prenom='Olga', email='olga@example.org')
    session = client.make_session(token, visitor['id'], poste['id'], duree=1800)
    started = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert started.status == 200, started
    return started.json['session']


# -- creation -------------------------------------------------------------------------------------

def test_create_answers_the_poste_and_its_token_once(client, admin_token):
    response = client.post('/api/postes/', {'nom': 'Poste A', 'ip_address': '192.168.1.20',
                                            'mac_address': 'aa-bb-cc-dd-ee-01', 'emplacement': 'Salle 1'},
                           token=admin_token)
    assert response.status == 201, response
    poste = response.json
    assert set(poste) == FIELDS | {'kiosk_token'}
    assert poste['nom'] == 'Poste A' and poste['ip_address'] == '192.168.1.20'
    assert poste['mac_address'] == 'AA:BB:CC:DD:EE:01' and poste['emplacement'] == 'Salle 1'
    assert poste['statut'] == 'disponible' and poste['en_ligne'] is False
    assert poste['derniere_connexion'] is None and poste['session_active'] is None
    assert poste['created_at'] == '2026-01-05T09:00:00+00:00'
    assert isinstance(poste['kiosk_token'], str) and len(poste['kiosk_token']) >= 32
    # Never again: not in the detail, not in the list.
    detail = client.get(f'/api/postes/{poste["id"]}/', token=admin_token)
    assert detail.status == 200 and set(detail.json) == FIELDS
    assert poste['kiosk_token'] not in detail.body.decode()
    listing = client.get('/api/postes/', token=admin_token)
    assert poste['kiosk_token'] not in listing.body.decode()
    assert 'kiosk_token' not in listing.json['results'][0]
    assert log_actions(action='creation_poste', poste=poste['id']) == ['creation_poste']


def test_kiosk_tokens_differ_and_identify_their_poste(client, admin_token):
    one = client.make_poste(admin_token, nom='Un', ip='10.0.0.1')
    two = client.make_poste(admin_token, nom='Deux', ip='10.0.0.2')
    assert one['kiosk_token'] != two['kiosk_token']
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], two['id'])
    wrong = client.kiosk_validate(one['kiosk_token'], session['code_acces'])
    assert wrong.status == 403 and wrong.json['valid'] is False
    right = client.kiosk_validate(two['kiosk_token'], session['code_acces'])
    assert right.status == 200 and right.json['session']['poste'] == two['id']


def test_create_is_admin_only(client, staff_token):
    response = client.post('/api/postes/', {'nom': 'X', 'ip_address': '10.0.0.9'}, token=staff_token)
    assert response.status == 403 and response.json['detail']
    assert client.post('/api/postes/', {'nom': 'X', 'ip_address': '10.0.0.9'}).status == 401
    assert log_actions(action='creation_poste') == []


def test_create_in_maintenance(client, admin_token):
    poste = client.make_poste(admin_token, statut='maintenance')
    assert poste['statut'] == 'maintenance'


@pytest.mark.parametrize('data, fields', [
    ({}, {'nom', 'ip_address'}),
    ({'nom': '', 'ip_address': '10.0.0.1'}, {'nom'}),
    ({'nom': 'x' * 101, 'ip_address': '10.0.0.1'}, {'nom'}),
    ({'nom': 'P', 'ip_address': '300.1.1.1'}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': 'poste.local'}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': '192.168.001.011'}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': ['10.0.0.1']}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': None}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': 'fe80::1%' + 'x' * 60}, {'ip_address'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'mac_address': 'zz:bb:cc:dd:ee:ff'}, {'mac_address'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'mac_address': 'aa:bb:cc:dd:ee'}, {'mac_address'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'mac_address': 'aa:bb:cc:dd:ee:ff:00'}, {'mac_address'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'mac_address': 112233445566}, {'mac_address'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'statut': 'occupe'}, {'statut'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'statut': 'cassé'}, {'statut'}),
    ({'nom': 'P', 'ip_address': '10.0.0.1', 'emplacement': 'x' * 201}, {'emplacement'}),
])
def test_create_validation_is_per_field(client, admin_token, data, fields):
    response = client.post('/api/postes/', data, token=admin_token)
    assert response.status == 400, response
    assert set(response.json['errors']) == fields
    assert client.get('/api/postes/', token=admin_token).json['count'] == 0


@pytest.mark.parametrize('raw', ['aa:bb:cc:dd:ee:ff', 'AA-BB-CC-DD-EE-FF', 'aabb.ccdd.eeff', 'AaBbCcDdEeFf',
                                 ' aa:bb:cc:dd:ee:ff '])
def test_mac_address_is_normalised(client, admin_token, raw):
    poste = client.make_poste(admin_token, mac_address=raw)
    assert poste['mac_address'] == 'AA:BB:CC:DD:EE:FF'
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json['mac_address'] == 'AA:BB:CC:DD:EE:FF'


def test_mac_address_is_optional(client, admin_token):
    one = client.make_poste(admin_token, nom='Un', ip='10.0.0.1')
    two = client.make_poste(admin_token, nom='Deux', ip='10.0.0.2', mac_address=None)
    assert one['mac_address'] is None and two['mac_address'] is None   # several postes without MAC


def test_ip_address_is_normalised(client, admin_token):
    poste = client.make_poste(admin_token, ip='2001:DB8:0:0::0001')
    assert poste['ip_address'] == '2001:db8::1'


def test_unique_fields_each_get_their_error(client, admin_token):
    client.make_poste(admin_token, nom='Poste 1', ip='192.168.1.11', mac_address='AA:BB:CC:DD:EE:FF')
    cases = [
        ({'nom': 'Poste 1', 'ip_address': '192.168.1.12'}, {'nom'}),
        ({'nom': 'Poste 2', 'ip_address': '192.168.1.11'}, {'ip_address'}),
        ({'nom': 'Poste 2', 'ip_address': '192.168.1.12', 'mac_address': 'aa-bb-cc-dd-ee-ff'}, {'mac_address'}),
        ({'nom': 'Poste 1', 'ip_address': '192.168.1.11', 'mac_address': 'aabbccddeeff'},
         {'nom', 'ip_address', 'mac_address'}),
    ]
    for data, fields in cases:
        response = client.post('/api/postes/', data, token=admin_token)
        assert response.status == 400, (data, response)
        assert set(response.json['errors']) == fields, data
    assert client.get('/api/postes/', token=admin_token).json['count'] == 1
    assert log_actions(action='creation_poste') == ['creation_poste']


def test_unique_ipv6_in_another_spelling(client, admin_token):
    client.make_poste(admin_token, nom='V6', ip='fd00::10')
    response = client.post('/api/postes/', {'nom': 'V6 bis', 'ip_address': 'FD00:0:0:0:0:0:0:10'}, token=admin_token)
    assert response.status == 400 and set(response.json['errors']) == {'ip_address'}


# -- reading ------------------------------------------------------------------------------------

def test_list_and_filter_by_statut(client, admin_token, staff_token):
    client.make_poste(admin_token, nom='B', ip='10.0.0.2')
    client.make_poste(admin_token, nom='A', ip='10.0.0.1', statut='maintenance')
    everything = client.get('/api/postes/', token=staff_token)
    assert everything.status == 200
    assert [p['nom'] for p in everything.json['results']] == ['A', 'B']
    maintenance = client.get('/api/postes/?statut=maintenance', token=staff_token).json
    assert maintenance['count'] == 1 and maintenance['results'][0]['nom'] == 'A'
    bad = client.get('/api/postes/?statut=cass%C3%A9', token=staff_token)
    assert bad.status == 400 and 'statut' in bad.json['errors']


def test_session_active_is_shown(client, ctx, admin_token):
    poste = client.make_poste(admin_token)
    session = running_session(client, admin_token, poste)
    ctx.clock.advance(100)
    shown = client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json
    assert shown['statut'] == 'occupe'
    assert shown['session_active'] == {'id': session['id'], 'code_acces': session['code_acces'],
                                       'temps_restant': 1700, 'utilisateur_nom': 'Olga Occupant', 'statut': 'active'}


def test_unknown_poste_is_404(client, admin_token):
    for path in ('/api/postes/4242/', '/api/postes/x/', '/api/postes/-1/', '/api/postes/1e3/',
                 '/api/postes/9223372036854775808/'):
        response = client.get(path, token=admin_token)
        assert response.status == 404, path
        assert response.json['detail'] == 'Poste introuvable.'
    assert client.patch('/api/postes/4242/', {'nom': 'x'}, token=admin_token).status == 404
    assert client.delete('/api/postes/4242/', token=admin_token).status == 404
    assert client.put('/api/postes/4242/status/', {'statut': 'maintenance'}, token=admin_token).status == 404
    assert client.post('/api/postes/4242/token/', token=admin_token).status == 404


# -- modification -------------------------------------------------------------------------------

def test_patch_changes_given_fields_and_logs_them(client, ctx, admin_token):
    poste = client.make_poste(admin_token, mac_address='aa:bb:cc:dd:ee:ff')
    ctx.clock.advance(60)
    response = client.patch(f'/api/postes/{poste["id"]}/', {'emplacement': 'Étage', 'mac_address': '11-22-33-44-55-66'},
                            token=admin_token)
    assert response.status == 200, response
    assert response.json['emplacement'] == 'Étage' and response.json['mac_address'] == '11:22:33:44:55:66'
    assert response.json['nom'] == poste['nom'] and response.json['ip_address'] == poste['ip_address']
    assert response.json['updated_at'] == '2026-01-05T09:01:00+00:00'
    assert 'kiosk_token' not in response.json
    entries = client.get(f'/api/logs/?action=modification_poste&poste={poste["id"]}', token=admin_token).json
    assert entries['count'] == 1
    assert 'emplacement' in entries['results'][0]['details'] and 'mac_address' in entries['results'][0]['details']
    # Nothing changed: nothing logged.
    client.patch(f'/api/postes/{poste["id"]}/', {'emplacement': 'Étage'}, token=admin_token)
    assert log_actions(action='modification_poste') == ['modification_poste']


def test_patch_clears_mac_address(client, admin_token):
    poste = client.make_poste(admin_token, mac_address='aa:bb:cc:dd:ee:ff')
    response = client.patch(f'/api/postes/{poste["id"]}/', {'mac_address': None}, token=admin_token)
    assert response.status == 200 and response.json['mac_address'] is None


def test_put_replaces_and_needs_required_fields(client, admin_token):
    poste = client.make_poste(admin_token)
    missing = client.put(f'/api/postes/{poste["id"]}/', {'emplacement': 'x'}, token=admin_token)
    assert missing.status == 400 and set(missing.json['errors']) == {'nom', 'ip_address'}
    response = client.put(f'/api/postes/{poste["id"]}/', {'nom': 'Renommé', 'ip_address': '10.1.1.1',
                                                          'emplacement': 'Accueil'}, token=admin_token)
    assert response.status == 200
    assert (response.json['nom'], response.json['ip_address'], response.json['emplacement']) == \
        ('Renommé', '10.1.1.1', 'Accueil')


def test_update_uniqueness_ignores_itself(client, admin_token):
    one = client.make_poste(admin_token, nom='Un', ip='10.0.0.1', mac_address='aa:bb:cc:dd:ee:01')
    two = client.make_poste(admin_token, nom='Deux', ip='10.0.0.2')
    same = client.put(f'/api/postes/{one["id"]}/', {'nom': 'Un', 'ip_address': '10.0.0.1',
                                                    'mac_address': 'AA:BB:CC:DD:EE:01'}, token=admin_token)
    assert same.status == 200
    clash = client.patch(f'/api/postes/{two["id"]}/', {'nom': 'Un', 'ip_address': '10.0.0.1',
                                                       'mac_address': 'aabbccddee01'}, token=admin_token)
    assert clash.status == 400 and set(clash.json['errors']) == {'nom', 'ip_address', 'mac_address'}
    assert client.get(f'/api/postes/{two["id"]}/', token=admin_token).json['nom'] == 'Deux'


def test_patch_statut_goes_through_the_status_rules(client, admin_token):
    poste = client.make_poste(admin_token)
    response = client.patch(f'/api/postes/{poste["id"]}/', {'statut': 'maintenance'}, token=admin_token)
    assert response.status == 200 and response.json['statut'] == 'maintenance'
    assert log_actions(action='changement_statut_poste') == ['changement_statut_poste']
    occupe = client.patch(f'/api/postes/{poste["id"]}/', {'statut': 'occupe'}, token=admin_token)
    assert occupe.status == 400 and 'statut' in occupe.json['errors']


def test_put_echoing_the_current_occupe_statut_is_accepted(client, admin_token):
    """A client that GETs a busy poste, edits it and PUTs it back sends statut "occupe" unchanged."""
    poste = client.make_poste(admin_token)
    running_session(client, admin_token, poste)
    current = client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json
    response = client.put(f'/api/postes/{poste["id"]}/', {**current, 'emplacement': 'Fond de salle'},
                          token=admin_token)
    assert response.status == 200, response
    assert response.json['emplacement'] == 'Fond de salle' and response.json['statut'] == 'occupe'
    assert response.json['session_active'] is not None


def test_patch_statut_conflict_changes_nothing(client, admin_token):
    poste = client.make_poste(admin_token)
    running_session(client, admin_token, poste)
    response = client.patch(f'/api/postes/{poste["id"]}/', {'emplacement': 'Ailleurs', 'statut': 'maintenance'},
                            token=admin_token)
    assert response.status == 409
    after = client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json
    assert after['emplacement'] == '' and after['statut'] == 'occupe'
    assert log_actions(action='modification_poste') == []


def test_modify_and_delete_are_admin_only(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    assert client.patch(f'/api/postes/{poste["id"]}/', {'nom': 'x'}, token=staff_token).status == 403
    assert client.put(f'/api/postes/{poste["id"]}/', {'nom': 'x', 'ip_address': '1.2.3.4'},
                      token=staff_token).status == 403
    assert client.delete(f'/api/postes/{poste["id"]}/', token=staff_token).status == 403
    assert client.post(f'/api/postes/{poste["id"]}/token/', token=staff_token).status == 403
    assert client.get(f'/api/postes/{poste["id"]}/', token=staff_token).json['nom'] == 'Poste 1'


# -- deletion ----------------------------------------------------------------------------------

def test_delete_poste(client, admin_token):
    poste = client.make_poste(admin_token, nom='Éphémère')
    response = client.delete(f'/api/postes/{poste["id"]}/', token=admin_token)
    assert response.status == 204 and response.body == b''
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).status == 404
    entries = client.get(f'/api/logs/?poste={poste["id"]}', token=admin_token).json['results']
    assert [e['action'] for e in entries] == ['suppression_poste', 'creation_poste']
    assert {e['poste_nom'] for e in entries} == {'Éphémère'}
    # Its name and address are free again; its kiosk token is dead.
    again = client.make_poste(admin_token, nom='Éphémère', ip=poste['ip_address'])
    assert again['kiosk_token'] != poste['kiosk_token']
    assert again['id'] != poste['id']   # ids are never reused: the log names rows by id
    assert client.kiosk_validate(poste['kiosk_token'], 'ABCDEF').status == 403


def test_delete_with_running_session_is_409(client, admin_token):
    poste = client.make_poste(admin_token)
    session = running_session(client, admin_token, poste)
    response = client.delete(f'/api/postes/{poste["id"]}/', token=admin_token)
    assert response.status == 409 and 'session' in response.json['detail']
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).status == 200
    assert log_actions(action='suppression_poste') == []
    client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=admin_token)
    assert client.delete(f'/api/postes/{poste["id"]}/', token=admin_token).status == 204


def test_delete_cancels_codes_waiting_for_it(client, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    assert client.delete(f'/api/postes/{poste["id"]}/', token=admin_token).status == 204
    ended = client.get(f'/api/sessions/{session["id"]}/', token=admin_token).json
    assert ended['statut'] == 'terminee' and ended['raison_fin'] == 'poste_supprime'
    assert ended['poste'] is None
    # The visitor may get a new code.
    client.make_session(admin_token, visitor['id'])


# -- status -------------------------------------------------------------------------------------

@pytest.mark.parametrize('statut', ['maintenance', 'hors_ligne', 'disponible'])
def test_staff_sets_status(client, admin_token, staff_token, statut):
    poste = client.make_poste(admin_token, statut='maintenance' if statut == 'disponible' else 'disponible')
    before = poste['statut']
    response = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': statut}, token=staff_token)
    assert response.status == 200, response
    assert response.json['statut'] == statut and response.json['id'] == poste['id']
    assert client.get(f'/api/postes/{poste["id"]}/', token=staff_token).json['statut'] == statut
    entry = client.get('/api/logs/?action=changement_statut_poste', token=staff_token).json['results'][0]
    assert entry['metadata'] == {'ancien': before, 'nouveau': statut}
    assert entry['operateur'] == 'bibliothecaire' and entry['poste'] == poste['id']


def test_occupe_is_the_systems_alone(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    response = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'occupe'}, token=staff_token)
    assert response.status == 400
    assert list(response.json['errors']) == ['statut']
    assert client.get(f'/api/postes/{poste["id"]}/', token=staff_token).json['statut'] == 'disponible'
    assert log_actions(action='changement_statut_poste') == []


@pytest.mark.parametrize('data', [{}, {'statut': 'cassé'}, {'statut': None}, {'statut': 3},
                                  {'statut': 'maintenance', 'force': 'yes'}])
def test_status_validation(client, admin_token, data):
    poste = client.make_poste(admin_token)
    response = client.put(f'/api/postes/{poste["id"]}/status/', data, token=admin_token)
    assert response.status == 400, response
    assert response.json['errors']


def test_status_needs_staff(client, admin_token):
    poste = client.make_poste(admin_token)
    response = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance'})
    assert response.status == 401
    kiosk = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance'},
                       headers={'X-Poste-Token': poste['kiosk_token']})
    assert kiosk.status == 401


def test_maintenance_with_active_session_is_409(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    session = running_session(client, admin_token, poste)
    response = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance'}, token=staff_token)
    assert response.status == 409
    assert '"force": true' in response.json['detail']
    assert response.json['session'] == session['id']
    assert client.get(f'/api/sessions/{session["id"]}/', token=staff_token).json['statut'] == 'active'
    assert client.get(f'/api/postes/{poste["id"]}/', token=staff_token).json['statut'] == 'occupe'
    explicit = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance', 'force': False},
                          token=staff_token)
    assert explicit.status == 409
    assert log_actions(action='changement_statut_poste') == []


def test_force_terminates_the_session_first(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    session = running_session(client, admin_token, poste)
    response = client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance', 'force': True},
                          token=staff_token)
    assert response.status == 200, response
    assert response.json['statut'] == 'maintenance' and response.json['session_active'] is None
    ended = client.get(f'/api/sessions/{session["id"]}/', token=staff_token).json
    assert ended['statut'] == 'terminee' and ended['raison_fin'] == 'maintenance'
    assert ended['temps_restant'] == 0
    actions = log_actions(poste=poste['id'])
    assert actions[-2:] == ['fermeture', 'changement_statut_poste']
    entry = client.get('/api/logs/?action=changement_statut_poste', token=staff_token).json['results'][0]
    assert entry['metadata'] == {'ancien': 'disponible', 'nouveau': 'maintenance'}
    # The visitor's code no longer opens this poste.
    again = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert again.status == 404 and again.json['valid'] is False


def test_maintenance_poste_refuses_new_sessions(client, admin_token, staff_token):
    poste = client.make_poste(admin_token)
    client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance'}, token=staff_token)
    visitor = client.make_visitor(staff_token)
    response = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'poste': poste['id'],
                                              'duree_initiale': 600}, token=staff_token)
    assert response.status == 409 and 'maintenance' in response.json['detail']


# -- kiosk token --------------------------------------------------------------------------------

def test_new_token_invalidates_the_old(client, admin_token):
    poste = client.make_poste(admin_token)
    old = poste['kiosk_token']
    response = client.post(f'/api/postes/{poste["id"]}/token/', token=admin_token)
    assert response.status == 200, response
    new = response.json['kiosk_token']
    assert response.json['id'] == poste['id'] and new != old and len(new) >= 32
    visitor = client.make_visitor(admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    refused = client.kiosk_validate(old, session['code_acces'])
    assert refused.status == 403 and refused.json == {'valid': False, 'detail': 'Jeton de poste invalide.'}
    assert client.kiosk_validate(new, session['code_acces']).status == 200
    assert log_actions(action='jeton_poste', poste=poste['id']) == ['jeton_poste']
    assert new not in client.get(f'/api/postes/{poste["id"]}/', token=admin_token).body.decode()
    # The audit log never holds a token.
    assert new not in client.get('/api/logs/', token=admin_token).body.decode()
    assert old not in client.get('/api/logs/', token=admin_token).body.decode()


def test_deletion_racing_a_code_validation(client, admin_token):
    import gevent
    for i in range(5):
        poste = client.make_poste(admin_token, nom=f'Course {i}', ip=f'10.0.1.{i + 1}')
        visitor = client.make_visitor(admin_token, nom=f'Course{i}', email=f'course{i}@example.org')
        session = client.make_session(admin_token, visitor['id'], poste['id'])
        jobs = [gevent.spawn(client.kiosk_validate, poste['kiosk_token'], session['code_acces']),
                gevent.spawn(client.delete, f'/api/postes/{poste["id"]}/', token=admin_token)]
        gevent.joinall(jobs, raise_error=True)
        validated, deleted = jobs[0].value, jobs[1].value
        assert validated.status < 500 and deleted.status < 500, (validated, deleted)
        after = client.get(f'/api/sessions/{session["id"]}/', token=admin_token).json
        if deleted.status == 204:
            assert after['statut'] != 'active', after
        else:
            assert deleted.status == 409 and after['statut'] == 'active' and after['poste'] == poste['id']


def test_listing_follows_every_change(client, ctx, admin_token):
    """The list answers what was last written: renamed visitor, renamed poste, status, deletion."""
    poste = client.make_poste(admin_token)
    session = running_session(client, admin_token, poste)
    listing = client.get('/api/postes/', token=admin_token).json['results']
    assert listing[0]['session_active']['utilisateur_nom'] == 'Olga Occupant'
    client.patch(f'/api/utilisateurs/{session["utilisateur"]}/', {'prenom': 'Olympe'}, token=admin_token)
    client.patch(f'/api/postes/{poste["id"]}/', {'nom': 'Poste renommé'}, token=admin_token)
    ctx.clock.advance(30)
    listing = client.get('/api/postes/', token=admin_token).json['results']
    assert listing[0]['nom'] == 'Poste renommé'
    assert listing[0]['session_active']['utilisateur_nom'] == 'Olympe Occupant'
    assert listing[0]['session_active']['temps_restant'] == 1770
    client.post(f'/api/sessions/{session["id"]}/add-time/', {'seconds': 600}, token=admin_token)
    assert client.get('/api/postes/', token=admin_token).json['results'][0]['session_active'][
        'temps_restant'] == 2370
    client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'hors_ligne', 'force': True}, token=admin_token)
    listing = client.get('/api/postes/', token=admin_token).json['results']
    assert listing[0]['statut'] == 'hors_ligne' and listing[0]['session_active'] is None
    assert client.get('/api/postes/?statut=hors_ligne', token=admin_token).json['count'] == 1
    assert client.get('/api/postes/?statut=occupe', token=admin_token).json['count'] == 0
    client.delete(f'/api/postes/{poste["id"]}/', token=admin_token)
    assert client.get('/api/postes/', token=admin_token).json['count'] == 0


def test_list_is_paginated(client, admin_token):
    for i in range(3):
        client.make_poste(admin_token, nom=f'P{i}', ip=f'10.0.2.{i + 1}')
    first = client.get('/api/postes/?page_size=2', token=admin_token).json
    assert first['count'] == 3 and [p['nom'] for p in first['results']] == ['P0', 'P1']
    assert first['previous'] is None and first['next'] == 'http://testserver/api/postes/?page_size=2&page=2'
    second = client.get('/api/postes/?page_size=2&page=2', token=admin_token).json
    assert [p['nom'] for p in second['results']] == ['P2'] and second['next'] is None
    assert second['previous'] == 'http://testserver/api/postes/?page_size=2&page=1'
    assert client.get('/api/postes/?page_size=2&page=3', token=admin_token).status == 404
    assert client.get('/api/postes/?page=x', token=admin_token).status == 400
    assert len(client.get('/api/postes/?page_size=500', token=admin_token).json['results']) == 3
