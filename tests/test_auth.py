"""Authentication: tokens, refresh rotation, logout revocation, lockout, roles."""
from appliance.clock import FakeClock
from tests.support import PASSWORD, log_actions


def test_token_pair_and_me(client, admin):
    response = client.post('/api/token/', {'username': 'admin', 'password': PASSWORD})
    assert response.status == 200
    tokens = response.json
    assert set(tokens) == {'access', 'refresh'}
    me = client.get('/api/auth/me/', token=tokens['access'])
    assert me.status == 200
    assert me.json['username'] == 'admin' and me.json['role'] == 'admin'
    assert 'password' not in me.json and 'password_hash' not in me.json


def test_login_returns_user(client, staff):
    response = client.post('/api/auth/login/', {'username': 'bibliothecaire', 'password': PASSWORD})
    assert response.status == 200
    assert response.json['user'] == {'id': staff.id, 'username': 'bibliothecaire', 'email': '',
                                     'role': 'staff'}
    assert log_actions(action='connexion_staff') == ['connexion_staff']


def test_wrong_password_is_401_and_logged(client, staff):
    response = client.post('/api/token/', {'username': 'bibliothecaire', 'password': 'mauvais'})
    assert response.status == 401
    assert response.json['detail'] == 'Identifiants invalides.'
    assert log_actions(action='echec_connexion') == ['echec_connexion']


def test_unknown_user_answers_like_wrong_password(client, staff):
    response = client.post('/api/token/', {'username': 'personne', 'password': PASSWORD})
    assert response.status == 401
    assert response.json['detail'] == 'Identifiants invalides.'


def test_missing_fields_are_400_per_field(client):
    response = client.post('/api/token/', {})
    assert response.status == 400
    assert set(response.json['errors']) == {'username', 'password'}


def test_lockout_after_repeated_failures(client, staff):
    for _ in range(5):
        assert client.post('/api/token/', {'username': 'bibliothecaire', 'password': 'x'}).status == 401
    locked = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD})
    assert locked.status == 429
    assert int(locked.headers['Retry-After']) > 0
    # Another account from the same address still works.
    from tests.support import make_compte
    make_compte('autre')
    assert client.post('/api/token/', {'username': 'autre', 'password': PASSWORD}).status == 200


def test_lockout_ends(client, ctx, staff):
    for _ in range(5):
        client.post('/api/token/', {'username': 'bibliothecaire', 'password': 'x'})
    ctx.clock.advance(901)
    assert client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).status == 200


def test_refresh_rotates_and_old_refresh_is_revoked(client, staff):
    tokens = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json
    first = client.post('/api/token/refresh/', {'refresh': tokens['refresh']})
    assert first.status == 200
    assert first.json['refresh'] != tokens['refresh']
    assert client.get('/api/auth/me/', token=first.json['access']).status == 200
    replay = client.post('/api/token/refresh/', {'refresh': tokens['refresh']})
    assert replay.status == 401
    # A replayed refresh token ends that whole login (it was probably stolen).
    assert client.get('/api/auth/me/', token=first.json['access']).status == 401


def test_access_token_cannot_refresh(client, staff):
    tokens = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json
    assert client.post('/api/token/refresh/', {'refresh': tokens['access']}).status == 401


def test_verify(client, staff):
    tokens = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json
    assert client.post('/api/token/verify/', {'token': tokens['access']}).json == {}
    assert client.post('/api/token/verify/', {'token': tokens['refresh']}).status == 200
    bad = client.post('/api/token/verify/', {'token': 'abc.def.ghi'})
    assert bad.status == 401 and 'detail' in bad.json


def test_access_token_expires(client, ctx, staff):
    token = client.login('bibliothecaire')
    ctx.clock.advance(ctx.config.access_token_lifetime + 1)
    response = client.get('/api/auth/me/', token=token)
    assert response.status == 401
    assert response.json['detail'] == 'Jeton expiré.'


def test_forged_token_is_401(client, staff):
    import jwt
    forged = jwt.encode({'type': 'access', 'sub': str(staff.id), 'sid': 'x', 'jti': 'y', 'exp': 2 ** 40},
                        'not-our-secret-but-long-enough-for-hs256', algorithm='HS256')
    assert client.get('/api/auth/me/', token=forged).status == 401
    none_alg = jwt.encode({'type': 'access', 'sub': str(staff.id), 'sid': 'x', 'jti': 'y', 'exp': 2 ** 40},
                          None, algorithm='none')
    assert client.get('/api/auth/me/', token=none_alg).status == 401


def test_logout_revokes_access_and_refresh(client, staff):
    tokens = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json
    response = client.post('/api/auth/logout/', {'refresh': tokens['refresh']}, token=tokens['access'])
    assert response.status == 204
    assert client.get('/api/auth/me/', token=tokens['access']).status == 401
    assert client.post('/api/token/refresh/', {'refresh': tokens['refresh']}).status == 401


def test_logout_needs_own_refresh_token(client, staff, admin):
    mine = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json
    theirs = client.post('/api/token/', {'username': 'admin', 'password': PASSWORD}).json
    response = client.post('/api/auth/logout/', {'refresh': theirs['refresh']}, token=mine['access'])
    assert response.status == 401
    assert client.get('/api/auth/me/', token=theirs['access']).status == 200


def test_missing_and_malformed_authorization(client):
    assert client.get('/api/postes/').status == 401
    assert client.get('/api/postes/', headers={'Authorization': 'Token abc'}).status == 401
    assert client.get('/api/postes/', headers={'Authorization': 'Bearer ' + 'a' * 5000}).status == 401


def test_change_password(client, staff):
    token = client.login('bibliothecaire')
    weak = client.post('/api/auth/change-password/', {'old_password': PASSWORD, 'new_password': '123'},
                       token=token)
    assert weak.status == 400 and 'password' in weak.json['errors']
    wrong = client.post('/api/auth/change-password/',
                        {'old_password': 'faux', 'new_password': 'Nouveau-secret-2026'}, token=token)
    assert wrong.status == 400 and 'old_password' in wrong.json['errors']
    ok = client.post('/api/auth/change-password/',
                     {'old_password': PASSWORD, 'new_password': 'Nouveau-secret-2026'}, token=token)
    assert ok.status == 204
    assert client.get('/api/auth/me/', token=token).status == 401   # every login ends
    assert client.post('/api/token/', {'username': 'bibliothecaire',
                                       'password': 'Nouveau-secret-2026'}).status == 200


def test_fake_clock_is_used_by_tokens():
    assert FakeClock().now().year == 2026
