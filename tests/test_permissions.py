"""Who may do what (docs/api.md): anonymous, kiosk, staff and admin on every route."""
import pytest

from tests import support
from tests.support import PASSWORD, fill, log_actions

STAFF, ADMIN = 'staff', 'admin'

# (method, path, body, who may): {p}, {u}, {s}, {c} are a poste, a visitor, a session and an account.
ROUTES = [
    ('GET', '/api/auth/me/', None, STAFF),
    ('GET', '/api/utilisateurs/', None, STAFF),
    ('POST', '/api/utilisateurs/', {'nom': 'N', 'prenom': 'P', 'email': 'n@example.org',
                                    'consentement_rgpd': True}, STAFF),
    ('GET', '/api/utilisateurs/{u}/', None, STAFF),
    ('PUT', '/api/utilisateurs/{u}/', {'nom': 'N', 'prenom': 'P', 'email': 'n@example.org',
                                       'consentement_rgpd': True}, STAFF),
    ('PATCH', '/api/utilisateurs/{u}/', {'notes': 'x'}, STAFF),
    ('GET', '/api/utilisateurs/{u}/photo/', None, STAFF),
    ('DELETE', '/api/utilisateurs/{u}/photo/', None, STAFF),
    ('DELETE', '/api/utilisateurs/{u}/', None, ADMIN),
    ('GET', '/api/postes/', None, STAFF),
    ('GET', '/api/postes/{p}/', None, STAFF),
    ('PUT', '/api/postes/{p}/status/', {'statut': 'maintenance'}, STAFF),
    ('POST', '/api/postes/', {'nom': 'Nouveau', 'ip_address': '10.7.7.7'}, ADMIN),
    ('PUT', '/api/postes/{p}/', {'nom': 'Renommé', 'ip_address': '10.7.7.8'}, ADMIN),
    ('PATCH', '/api/postes/{p}/', {'emplacement': 'x'}, ADMIN),
    ('DELETE', '/api/postes/{p}/', None, ADMIN),
    ('POST', '/api/postes/{p}/token/', None, ADMIN),
    ('GET', '/api/sessions/', None, STAFF),
    ('POST', '/api/sessions/', {'utilisateur': '{u2}', 'duree_initiale': 600}, STAFF),
    ('GET', '/api/sessions/{s}/', None, STAFF),
    ('POST', '/api/sessions/{s}/add-time/', {'seconds': 600}, STAFF),
    ('POST', '/api/sessions/{s}/terminate/', {}, STAFF),
    ('GET', '/api/logs/', None, STAFF),
    ('GET', '/api/logs/{l}/', None, STAFF),
    ('GET', '/api/comptes/', None, ADMIN),
    ('POST', '/api/comptes/', {'username': 'neuf', 'role': 'staff', 'password': 'Un-autre-secret-99'}, ADMIN),
    ('GET', '/api/comptes/{c}/', None, ADMIN),
    ('PATCH', '/api/comptes/{c}/', {'email': 'x@example.org'}, ADMIN),
    ('DELETE', '/api/comptes/{c}/', None, ADMIN),
]
IDS = [f'{m} {p}' for m, p, _, _ in ROUTES]


@pytest.fixture
def world(client, admin, staff, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    other = client.make_visitor(admin_token, nom='Autre', prenom='Bob')
    session = client.make_session(admin_token, visitor['id'], poste['id'])
    compte = support.make_compte('cible')
    log_id = client.get('/api/logs/', token=admin_token).json['results'][0]['id']
    return {'p': poste['id'], 'u': visitor['id'], 'u2': other['id'], 's': session['id'], 'c': compte.id,
            'l': log_id, 'kiosk_token': poste['kiosk_token']}



def call(client, world, route, **kw):
    method, path, body, _ = route
    return client.request(method, fill(path, world), fill(body, world), **kw)


@pytest.mark.parametrize('route', ROUTES, ids=IDS)
def test_anonymous_and_kiosks_are_401(client, world, route):
    before = len(log_actions())
    response = call(client, world, route)
    assert response.status == 401, response
    assert response.json['detail']
    # A kiosk's poste token is no staff credential, in its own header or as a bearer token.
    assert call(client, world, route, headers={'X-Poste-Token': world['kiosk_token']}).status == 401
    assert call(client, world, route, token=world['kiosk_token']).status == 401
    assert len(log_actions()) == before


@pytest.mark.parametrize('route', ROUTES, ids=IDS)
def test_staff(client, world, staff_token, route):
    before = len(log_actions())
    response = call(client, world, route, token=staff_token)
    if route[3] == ADMIN:
        assert response.status == 403, response
        assert response.json['detail'] == 'Action réservée aux administrateurs.'
        assert len(log_actions()) == before
    else:
        assert response.status not in (401, 403), response
        assert response.status < 500


@pytest.mark.parametrize('route', ROUTES, ids=IDS)
def test_admin(client, world, route):
    token = client.login('admin')
    response = call(client, world, route, token=token)
    assert response.status not in (401, 403), response
    assert response.status < 500


@pytest.mark.parametrize('method, path', [('DELETE', '/api/utilisateurs/999999/'), ('PATCH', '/api/postes/999999/'),
                                          ('GET', '/api/comptes/999999/'), ('POST', '/api/postes/999999/token/')])
def test_staff_learn_nothing_about_admin_routes(client, staff_token, method, path):
    """The role is checked before the lookup: an unknown id is 403 too, not 404."""
    response = client.request(method, path, {} if method == 'PATCH' else None, token=staff_token)
    assert response.status == 403


@pytest.mark.parametrize('method, path, body', [
    ('POST', '/api/token/', {'username': 'admin', 'password': PASSWORD}),
    ('POST', '/api/auth/login/', {'username': 'admin', 'password': PASSWORD}),
    ('GET', '/api/openapi.json', None),
    ('GET', '/api/docs/', None),
])
def test_public_routes_need_no_token(client, admin, method, path, body):
    response = client.request(method, path, body)
    assert response.status == 200, response


def test_health_needs_no_token(client):
    response = client.get('/api/health/')
    assert response.status in (200, 503)
    assert response.json['database'] == 'ok'


def test_validate_code_who(client, world, staff_token, admin_token):
    code = client.get(f'/api/sessions/{world["s"]}/', token=admin_token).json['code_acces']
    anonymous = client.post('/api/sessions/validate-code/', {'code': code})
    assert anonymous.status == 401 and anonymous.json['valid'] is False
    forged = client.post('/api/sessions/validate-code/', {'code': code}, headers={'X-Poste-Token': 'x' * 43})
    assert forged.status == 403 and forged.json['valid'] is False
    other = client.make_poste(admin_token, nom='Autre poste', ip='10.0.0.99')
    wrong_poste = client.kiosk_validate(other['kiosk_token'], code)
    assert wrong_poste.status == 403
    staff = client.post('/api/sessions/validate-code/', {'code': code, 'poste': world['p']}, token=staff_token)
    assert staff.status == 200 and staff.json['valid'] is True
    assert staff.json['session']['poste'] == world['p']
    assert log_actions(action='demarrage_session') == ['demarrage_session']


def test_validate_code_by_address_under_kiosk_auth_ip(tmp_path, client, world, admin_token):
    ip_client = support.Client(support.make_app(support.make_context(tmp_path / 'ip', KIOSK_AUTH='ip')))
    code = client.get(f'/api/sessions/{world["s"]}/', token=admin_token).json['code_acces']
    stranger = ip_client.post('/api/sessions/validate-code/', {'code': code}, remote_addr='10.66.66.66')
    assert stranger.status == 403 and stranger.json['valid'] is False
    # make_poste's default address is 192.168.1.11.
    ok = ip_client.post('/api/sessions/validate-code/', {'code': code}, remote_addr='192.168.1.11')
    assert ok.status == 200 and ok.json['session']['statut'] == 'active'
    # The address is no staff credential.
    assert ip_client.get('/api/utilisateurs/', remote_addr='192.168.1.11').status == 401


def test_deactivated_account_loses_access(client, world, admin_token):
    token = client.login('cible')
    assert client.get('/api/postes/', token=token).status == 200
    client.patch(f'/api/comptes/{world["c"]}/', {'is_active': False}, token=admin_token)
    assert client.get('/api/postes/', token=token).status == 401
