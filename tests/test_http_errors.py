"""What bad input gets (docs/api.md): always a JSON body with "detail", never a 500."""
import json

import pytest

from tests import support
from tests.support import fill, log_actions
from tests.test_utilisateurs import multipart, png_bytes

MIB = 1024 * 1024

# Routes that take a JSON body, with a valid body (never hashing a password: that is slow).
JSON_ROUTES = [
    ('POST', '/api/utilisateurs/', {'nom': 'N', 'prenom': 'P', 'email': 'n@example.org', 'consentement_rgpd': True}),
    ('PATCH', '/api/utilisateurs/{u}/', {'notes': 'x'}),
    ('PUT', '/api/utilisateurs/{u}/', {'nom': 'N', 'prenom': 'P', 'email': 'n@example.org',
                                       'consentement_rgpd': True}),
    ('POST', '/api/postes/', {'nom': 'Neuf', 'ip_address': '10.5.5.5'}),
    ('PATCH', '/api/postes/{p}/', {'emplacement': 'x'}),
    ('PUT', '/api/postes/{p}/', {'nom': 'Neuf', 'ip_address': '10.5.5.5'}),
    ('PUT', '/api/postes/{p}/status/', {'statut': 'hors_ligne'}),
    ('POST', '/api/sessions/', {'utilisateur': '{u}', 'duree_initiale': 600}),
    ('POST', '/api/comptes/', {'username': 'neuf', 'role': 'staff', 'password': 'faible'}),
    ('PATCH', '/api/comptes/{c}/', {'email': 'x@example.org'}),
]
JSON_IDS = [f'{m} {p}' for m, p, _ in JSON_ROUTES]


@pytest.fixture
def world(client, admin, admin_token):
    poste = client.make_poste(admin_token)
    visitor = client.make_visitor(admin_token)
    compte = support.make_compte('cible')
    return {'p': poste['id'], 'u': visitor['id'], 'c': compte.id}



def assert_json_error(response, status):
    assert response.status == status, response
    assert response.headers['Content-Type'].startswith('application/json')
    body = response.json
    assert isinstance(body, dict) and isinstance(body['detail'], str) and body['detail']
    return body


def raw(client, method, path, data, content_type='application/json', token=None):
    return client.request(method, path, body=data, content_type=content_type, token=token)


# -- bodies ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('method, path, _', JSON_ROUTES, ids=JSON_IDS)
def test_malformed_json_is_400(client, world, admin_token, method, path, _):
    path = fill(path, world)
    before = log_actions()
    for data in (b'{"nom": ', b'{nom: 1}', b"{'a': 1}", b'{"a": 1,}', b'\xff\xfe{}', b'{"a": "\xe9"}', b'NaN]'):
        body = assert_json_error(raw(client, method, path, data, token=admin_token), 400)
        assert body['detail'] == 'JSON invalide.', data
    assert log_actions() == before


@pytest.mark.parametrize('method, path, _', JSON_ROUTES, ids=JSON_IDS)
def test_json_that_is_not_an_object_is_400(client, world, admin_token, method, path, _):
    path = fill(path, world)
    for data in (b'[]', b'[{"nom": "x"}]', b'"texte"', b'42', b'null', b'true'):
        body = assert_json_error(raw(client, method, path, data, token=admin_token), 400)
        assert body['detail'] == 'Le corps doit être un objet JSON.', data


@pytest.mark.parametrize('method, path, _', JSON_ROUTES, ids=JSON_IDS)
def test_deeply_nested_json_is_400(client, world, admin_token, method, path, _):
    data = b'{"a": ' + b'[' * 100000 + b']' * 100000 + b'}'
    assert len(data) < MIB
    assert_json_error(raw(client, method, fill(path, world), data, token=admin_token), 400)


@pytest.mark.parametrize('method, path, valid', JSON_ROUTES, ids=JSON_IDS)
def test_wrong_content_type_is_415(client, world, admin_token, method, path, valid):
    path, data = fill(path, world), json.dumps(fill(valid, world)).encode()
    for content_type in ('text/plain', 'application/x-www-form-urlencoded', 'application/xml',
                         'multipart/form-data; boundary=x', 'application/jsonp', None):
        body = assert_json_error(raw(client, method, path, data, content_type, token=admin_token), 415)
        assert 'application/json' in body['detail']


def test_content_type_parameters_and_case_are_accepted(client, admin_token):
    data = json.dumps({'nom': 'N', 'prenom': 'P', 'telephone': '01', 'consentement_rgpd': True}).encode()
    for content_type in ('application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8'):
        response = raw(client, 'POST', '/api/utilisateurs/', data, content_type, token=admin_token)
        assert response.status == 201, (content_type, response)


def test_empty_body_is_an_empty_object(client, world, admin_token):
    response = client.request('POST', '/api/utilisateurs/', token=admin_token)
    body = assert_json_error(response, 400)
    assert {'nom', 'prenom', 'consentement_rgpd'} <= set(body['errors'])


@pytest.mark.parametrize('method, path, _', JSON_ROUTES, ids=JSON_IDS)
def test_body_over_1_mib_is_413(client, world, admin_token, method, path, _):
    data = json.dumps({'notes': 'x' * MIB}).encode()
    body = assert_json_error(raw(client, method, fill(path, world), data, token=admin_token), 413)
    assert '1 Mio' in body['detail']


def test_body_of_1_mib_is_read(client, admin_token):
    prefix = b'{"nom": "N", "prenom": "P", "telephone": "01", "consentement_rgpd": true, "notes": "'
    data = prefix + b'x' * (MIB - len(prefix) - 2) + b'"}'
    assert len(data) == MIB
    body = assert_json_error(raw(client, 'POST', '/api/utilisateurs/', data, token=admin_token), 400)
    assert list(body['errors']) == ['notes']     # too long a note, but read and validated


def test_photo_limit_is_5_mib_not_1(client, world, admin_token):
    image = png_bytes()
    image = png_bytes(padding=2 * MIB)
    data, content_type = multipart({'photo': ('p.png', 'image/png', image)})
    response = raw(client, 'POST', f'/api/utilisateurs/{world["u"]}/photo/', data, content_type, token=admin_token)
    assert response.status == 200, response
    big = png_bytes(padding=6 * MIB)
    data, content_type = multipart({'photo': ('p.png', 'image/png', big)})
    response = raw(client, 'POST', f'/api/utilisateurs/{world["u"]}/photo/', data, content_type, token=admin_token)
    assert '5 Mio' in assert_json_error(response, 413)['detail']


WEIRD = [None, True, 0, -1, 2 ** 70, -2 ** 70, 1.5, 1e308, '', ' ', 'x' * 5000, '\x00', '\u202e\ud7ff', '\ud800',
         'a\udfffb', '1_0', '+1', ' 1 ', '\u0665',
         '<script>', "'; DROP TABLE poste; --", '%', [], [1], {}, {'a': 1}, '9' * 30, '2026-02-30', '::1%eth0']


@pytest.mark.parametrize('method, path, valid', JSON_ROUTES, ids=JSON_IDS)
def test_weird_values_in_every_field_are_never_a_500(client, world, admin_token, method, path, valid):
    from appliance.api import comptes, postes, sessions, utilisateurs
    schema = {'/api/utilisateurs/': utilisateurs.SCHEMA, '/api/postes/': postes.SCHEMA,
              '/api/sessions/': sessions.CREATE, '/api/comptes/': comptes.SCHEMA}
    fields = next(s for prefix, s in schema.items() if path.startswith(prefix))
    if path.endswith('/status/'):
        fields = postes.STATUS
    path, valid = fill(path, world), fill(valid, world)
    for name in list(fields) + ['inconnu']:
        for value in WEIRD:
            response = client.request(method, path, {**valid, name: value}, token=admin_token)
            assert response.status < 500, (name, value, response)
            assert response.json.get('detail') or response.status < 300, (name, value, response)


# -- paths and methods --------------------------------------------------------------------------

BAD_IDS = ['abc', '0', '-1', '1.5', '1e3', '0x10', '99999999', '9223372036854775807', '9223372036854775808',
           '1' * 40, '%20', '%00', '%C3%A9']
ID_ROUTES = [
    ('GET', '/api/utilisateurs/{}/'), ('PATCH', '/api/utilisateurs/{}/'), ('DELETE', '/api/utilisateurs/{}/'),
    ('GET', '/api/utilisateurs/{}/photo/'), ('DELETE', '/api/utilisateurs/{}/photo/'),
    ('GET', '/api/postes/{}/'), ('PUT', '/api/postes/{}/'), ('DELETE', '/api/postes/{}/'),
    ('PUT', '/api/postes/{}/status/'), ('POST', '/api/postes/{}/token/'),
    ('GET', '/api/sessions/{}/'), ('POST', '/api/sessions/{}/add-time/'), ('POST', '/api/sessions/{}/terminate/'),
    ('GET', '/api/logs/{}/'), ('GET', '/api/comptes/{}/'), ('PATCH', '/api/comptes/{}/'),
    ('DELETE', '/api/comptes/{}/'),
]


@pytest.mark.parametrize('method, template', ID_ROUTES, ids=[f'{m} {p}' for m, p in ID_ROUTES])
def test_non_numeric_or_huge_ids_are_404(client, admin, admin_token, method, template):
    for bad in BAD_IDS:
        body = {'statut': 'maintenance'} if 'status' in template else None
        response = client.request(method, template.format(bad), body, token=admin_token)
        assert_json_error(response, 404)


@pytest.mark.parametrize('method, path', [
    ('DELETE', '/api/postes/'), ('PUT', '/api/utilisateurs/'), ('PATCH', '/api/comptes/'),
    ('PUT', '/api/comptes/1/'), ('POST', '/api/health/'), ('DELETE', '/api/openapi.json'),
    ('GET', '/api/token/'), ('GET', '/api/sessions/1/add-time/'), ('GET', '/api/postes/1/token/'),
    ('DELETE', '/api/logs/'), ('POST', '/api/logs/1/'), ('POST', '/api/postes/1/'),
])
def test_wrong_method_is_405_json(client, admin_token, method, path):
    response = client.request(method, path, token=admin_token)
    body = assert_json_error(response, 405)
    assert body['detail'] == 'Méthode non autorisée.'
    assert method not in response.headers['Allow'].split(', ')


@pytest.mark.parametrize('method, path', [
    ('GET', '/api/nope/'), ('GET', '/api/postes'), ('POST', '/api/utilisateurs/1/avatar/'),
    ('GET', '/api/postes/1/status/extra/'), ('DELETE', '/nope'),
])
def test_unknown_route_is_404_json(client, admin_token, method, path):
    response = client.request(method, path, token=admin_token)
    body = assert_json_error(response, 404)
    assert body['detail'] == 'Introuvable.'


def test_unknown_route_is_json_not_html(client):
    for path in ('/api/nope/', '/nope', '/api/utilisateurs/1/photo/x/'):
        response = client.get(path)
        assert_json_error(response, 404)
        assert b'<html' not in response.body.lower()


def test_errors_carry_the_security_headers(client):
    response = client.get('/api/postes/')
    assert response.status == 401
    assert response.headers['X-Content-Type-Options'] == 'nosniff'


def test_ids_are_plain_ascii_digits(client, world, admin_token):
    """int() would also read " 7", "+7", "0_7" or Arabic-Indic digits as 7: such paths name nothing."""
    for kind, uid in (('postes', world['p']), ('utilisateurs', world['u']), ('comptes', world['c'])):
        assert client.get(f'/api/{kind}/{uid}/', token=admin_token).status == 200
        arabic = ''.join(chr(0x660 + int(d)) for d in str(uid)).encode('utf-8').decode('latin-1')
        for variant in (f' {uid}', f'{uid} ', f'+{uid}', f'0_{uid}', arabic):
            response = client.get(f'/api/{kind}/{variant}/', token=admin_token)
            assert_json_error(response, 404)


def test_id_filters_are_plain_ascii_digits(client, world, admin_token):
    for variant in (f'+{world["u"]}', f'0_{world["u"]}'):
        response = client.get('/api/logs/', query={'utilisateur': variant}, token=admin_token)
        assert list(assert_json_error(response, 400)['errors']) == ['utilisateur']
    for variant in ('+1', '0_1'):
        response = client.get('/api/logs/', query={'page': variant}, token=admin_token)
        assert list(assert_json_error(response, 400)['errors']) == ['page']


def test_references_in_bodies_are_plain_ascii_digits(client, world, admin_token):
    response = client.post('/api/sessions/', {'utilisateur': f'0_{world["u"]}', 'duree_initiale': 600},
                           token=admin_token)
    assert list(assert_json_error(response, 400)['errors']) == ['utilisateur']
    ok = client.post('/api/sessions/', {'utilisateur': str(world['u']), 'duree_initiale': 600}, token=admin_token)
    assert ok.status == 201 and ok.json['utilisateur'] == world['u']


def test_a_refused_body_is_summed_up_in_french_with_the_fields_labels(client, admin_token):
    one = client.post('/api/postes/', {'nom': 'Poste 1', 'ip_address': 'pas une adresse'}, token=admin_token)
    assert one.status == 400
    assert one.json['detail'] == 'Adresse IP : Saisissez une adresse IPv4 ou IPv6 valide.'
    assert set(one.json['errors']) == {'ip_address'}   # the contract's field names stay the keys
    several = client.post('/api/utilisateurs/', {}, token=admin_token)
    assert several.status == 400
    assert several.json['detail'] == '3 champs à corriger : Nom, Prénom, Consentement RGPD.'
