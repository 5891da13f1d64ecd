"""Sessions over REST: codes, validation by kiosks and staff, time, ending (docs/api.md)."""
import pytest

from appliance.protocol import CODE_ALPHABET
from tests.support import log_actions


@pytest.fixture
def desk_setup(client, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    return poste, visitor


def test_create_session_gives_a_waiting_code(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=1800)
    assert len(session['code_acces']) == 6
    assert set(session['code_acces']) <= set(CODE_ALPHABET)
    assert session['statut'] == 'en_attente'
    assert session['temps_restant'] == 1800
    assert session['utilisateur_nom'] == 'Alice Martin'
    assert session['poste_nom'] == 'Poste 1'
    assert session['operateur'] == 'admin'
    assert log_actions(action='generation_code') == ['generation_code']


def test_duree_minutes_is_accepted(client, admin_token, desk_setup):
    _, visitor = desk_setup
    response = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_minutes': 45},
                           token=admin_token)
    assert response.status == 201
    assert response.json['duree_initiale'] == 2700 and response.json['poste'] is None


@pytest.mark.parametrize('body, field', [
    ({'duree_initiale': 59}, 'duree_initiale'),
    ({'duree_initiale': 86401}, 'duree_initiale'),
    ({'duree_initiale': 'longtemps'}, 'duree_initiale'),
    ({}, 'duree_initiale'),
    ({'duree_initiale': 600, 'utilisateur': 999999}, 'utilisateur'),
    ({'duree_initiale': 600, 'poste': 999999}, 'poste'),
])
def test_create_session_validation(client, admin_token, desk_setup, body, field):
    _, visitor = desk_setup
    response = client.post('/api/sessions/', {'utilisateur': visitor['id'], **body}, token=admin_token)
    assert response.status == 400
    assert field in response.json['errors']


def test_one_open_session_per_visitor(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    client.make_session(admin_token, visitor['id'])
    again = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 600},
                        token=admin_token)
    assert again.status == 409
    assert 'visiteur' in again.json['detail']


def test_poste_in_maintenance_or_occupied_is_409(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    other = client.make_visitor(admin_token, nom='Petit', prenom='Jean')
    client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'maintenance'}, token=admin_token)
    response = client.post('/api/sessions/', {'utilisateur': visitor['id'], 'poste': poste['id'],
                                              'duree_initiale': 600}, token=admin_token)
    assert response.status == 409 and 'maintenance' in response.json['detail']
    client.put(f'/api/postes/{poste["id"]}/status/', {'statut': 'disponible'}, token=admin_token)
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    assert client.kiosk_validate(poste['kiosk_token'], session['code_acces']).status == 200
    busy = client.post('/api/sessions/', {'utilisateur': other['id'], 'poste': poste['id'],
                                          'duree_initiale': 600}, token=admin_token)
    assert busy.status == 409 and 'occupé' in busy.json['detail']


def test_kiosk_validates_code_and_poste_becomes_occupied(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=3600)
    response = client.kiosk_validate(poste['kiosk_token'], session['code_acces'].lower())
    assert response.status == 200
    body = response.json
    assert body['valid'] is True and body['temps_restant'] == 3600
    assert body['session']['statut'] == 'active' and body['session']['poste'] == poste['id']
    shown = client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json
    assert shown['statut'] == 'occupe'
    assert shown['session_active'] == {'id': session['id'], 'code_acces': session['code_acces'],
                                       'temps_restant': 3600, 'utilisateur_nom': 'Alice Martin', 'statut': 'active'}
    ctx.clock.advance(100.4)
    live = client.get(f'/api/sessions/{session["id"]}/', token=admin_token).json
    assert live['temps_restant'] == 3500  # computed at the moment of the answer
    visitor_now = client.get(f'/api/utilisateurs/{visitor["id"]}/', token=admin_token).json
    assert visitor_now['nombre_sessions_total'] == 1 and visitor_now['derniere_session']
    assert 'demarrage_session' in log_actions()


def test_same_code_again_resumes_with_current_time(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=600)
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    ctx.clock.advance(60)
    again = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert again.status == 200 and again.json['temps_restant'] == 540
    assert log_actions(action='demarrage_session') == ['demarrage_session']


def test_code_for_any_poste_starts_where_typed(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], None)
    response = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert response.status == 200 and response.json['session']['poste'] == poste['id']


def test_code_bound_to_another_poste_is_403(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    other = client.make_poste(admin_token, nom='Poste 2', ip='192.168.1.12')
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    response = client.kiosk_validate(other['kiosk_token'], session['code_acces'])
    assert response.status == 403
    assert response.json['valid'] is False and response.json['detail']


def test_unknown_code_is_404_and_logged(client, admin_token, desk_setup):
    poste, _ = desk_setup
    response = client.kiosk_validate(poste['kiosk_token'], 'ZZZZZZ')
    assert response.status == 404
    assert response.json == {'valid': False, 'detail': 'Code inconnu ou expiré.'}
    assert log_actions(action='echec_code') == ['echec_code']


def test_wrong_codes_are_rate_limited_per_poste(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    for _ in range(10):
        assert client.kiosk_validate(poste['kiosk_token'], 'AAAAAA').status == 404
    limited = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert limited.status == 429
    assert limited.json['valid'] is False and int(limited.headers['Retry-After']) > 0


def test_validate_code_needs_a_proof(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    anonymous = client.post('/api/sessions/validate-code/', {'code': session['code_acces']})
    assert anonymous.status == 401
    forged = client.post('/api/sessions/validate-code/', {'code': session['code_acces']},
                         headers={'X-Poste-Token': 'pas-un-jeton'})
    assert forged.status == 403
    missing = client.post('/api/sessions/validate-code/', {}, headers={'X-Poste-Token': poste['kiosk_token']})
    assert missing.status == 400 and 'code' in missing.json['errors']


def test_staff_validates_with_poste(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], None)
    no_poste = client.post('/api/sessions/validate-code/', {'code': session['code_acces']}, token=admin_token)
    assert no_poste.status == 400 and 'poste' in no_poste.json['errors']
    response = client.post('/api/sessions/validate-code/',
                           {'code_acces': session['code_acces'], 'poste': poste['id']}, token=admin_token)
    assert response.status == 200 and response.json['session']['statut'] == 'active'


def test_ip_mode_accepts_the_poste_address(tmp_path, bound_database):
    from tests import support
    support.empty_database()
    ctx = support.make_context(tmp_path, KIOSK_AUTH='ip')
    client = support.Client(support.make_app(ctx))
    support.make_compte('admin', role='admin')
    token = client.login('admin')
    poste = client.make_poste(token, ip='10.1.2.3')
    visitor = client.make_visitor(token)
    session = client.make_session(token, visitor['id'], poste['id'])
    stranger = client.post('/api/sessions/validate-code/', {'code': session['code_acces']},
                           remote_addr='10.9.9.9')
    assert stranger.status == 403
    response = client.post('/api/sessions/validate-code/', {'code': session['code_acces']},
                           remote_addr='10.1.2.3')
    assert response.status == 200 and response.json['session']['poste'] == poste['id']
    support.empty_database()


def test_add_time(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=600)
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    ctx.clock.advance(100)
    response = client.post(f'/api/sessions/{session["id"]}/add-time/', {'minutes': 15}, token=admin_token)
    assert response.status == 200
    assert response.json['temps_ajoute'] == 900 and response.json['temps_restant'] == 1400
    seconds = client.post(f'/api/sessions/{session["id"]}/add-time/', {'seconds': 60}, token=admin_token)
    assert seconds.json['temps_restant'] == 1460
    assert log_actions(action='ajout_temps') == ['ajout_temps', 'ajout_temps']


@pytest.mark.parametrize('body', [{'seconds': 59}, {'seconds': 14401}, {'minutes': 0}, {},
                                  {'seconds': 'beaucoup'}, {'seconds': True}])
def test_add_time_bounds(client, admin_token, desk_setup, body):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    response = client.post(f'/api/sessions/{session["id"]}/add-time/', body, token=admin_token)
    assert response.status == 400 and response.json['errors']


def test_terminate_frees_poste_and_ended_session_refuses_changes(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    ctx.clock.advance(30)
    response = client.post(f'/api/sessions/{session["id"]}/terminate/', {'raison': 'Fermeture de la salle'},
                           token=admin_token)
    assert response.status == 200
    ended = response.json
    assert ended['statut'] == 'terminee' and ended['raison_fin'] == 'fermeture_staff'
    assert ended['temps_restant'] == 0 and ended['fin_session']
    assert 'Fermeture de la salle' in ended['notes']
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json['statut'] == 'disponible'
    again = client.post(f'/api/sessions/{session["id"]}/terminate/', {}, token=admin_token)
    assert again.status == 409
    more = client.post(f'/api/sessions/{session["id"]}/add-time/', {'minutes': 5}, token=admin_token)
    assert more.status == 409
    code = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert code.status == 404
    # The visitor may now get a new session.
    assert client.post('/api/sessions/', {'utilisateur': visitor['id'], 'duree_initiale': 600},
                       token=admin_token).status == 201


def test_session_expires_at_its_deadline(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'], duree=120)
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    ctx.clock.advance(119)
    assert ctx.desk.expire_due() == []
    ctx.clock.advance(5)
    ended = ctx.desk.expire_due()
    assert [s.id for s in ended] == [session['id']]
    shown = client.get(f'/api/sessions/{session["id"]}/', token=admin_token).json
    assert shown['statut'] == 'expiree' and shown['raison_fin'] == 'expiration'
    # The session is billed to its deadline, not to the late sweep.
    assert shown['fin_session'].startswith('2026-01-05T09:02:00')
    assert client.get(f'/api/postes/{poste["id"]}/', token=admin_token).json['statut'] == 'disponible'
    assert 'expiration' in log_actions()


def test_waiting_code_expires(client, ctx, admin_token, desk_setup):
    poste, visitor = desk_setup
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    ctx.clock.advance(ctx.config.pending_code_ttl + 1)
    response = client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    assert response.status == 404
    token = client.login('admin')  # the first access token has expired meanwhile
    shown = client.get(f'/api/sessions/{session["id"]}/', token=token).json
    assert shown['statut'] == 'expiree' and shown['raison_fin'] == 'code_expire'


def test_list_filters(client, admin_token, desk_setup):
    poste, visitor = desk_setup
    other = client.make_visitor(admin_token, nom='Petit', prenom='Jean')
    first = client.make_session(admin_token, visitor['id'], poste['id'])
    client.make_session(admin_token, other['id'])
    client.kiosk_validate(poste['kiosk_token'], first['code_acces'])
    active = client.get('/api/sessions/?statut=active', token=admin_token).json
    assert [s['id'] for s in active['results']] == [first['id']]
    by_visitor = client.get(f'/api/sessions/?utilisateur={other["id"]}', token=admin_token).json
    assert by_visitor['count'] == 1 and by_visitor['results'][0]['utilisateur'] == other['id']
    by_poste = client.get(f'/api/sessions/?poste={poste["id"]}', token=admin_token).json
    assert by_poste['count'] == 1
    assert client.get('/api/sessions/?statut=fini', token=admin_token).status == 400
    assert client.get('/api/sessions/?poste=abc', token=admin_token).status == 400


def test_concurrent_validation_one_winner(client, admin_token, desk_setup):
    """Several postes race for one code: exactly one wins."""
    import gevent
    poste, visitor = desk_setup
    others = [client.make_poste(admin_token, nom=f'Poste {n + 2}', ip=f'192.168.1.{20 + n}') for n in range(5)]
    session = client.make_session(admin_token, visitor['id'], None)
    jobs = [gevent.spawn(client.kiosk_validate, p['kiosk_token'], session['code_acces'])
            for p in [poste] + others]
    gevent.joinall(jobs)
    statuses = sorted(job.value.status for job in jobs)
    assert statuses.count(200) == 1
    assert all(s in (403, 409) for s in statuses if s != 200)
    occupied = [p for p in client.get('/api/postes/', token=admin_token).json['results']
                if p['statut'] == 'occupe']
    assert len(occupied) == 1
