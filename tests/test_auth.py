"""Authentication: tokens, refresh rotation, logout revocation, lockout, roles."""
from appliance import db
from appliance.clock import FakeClock
from appliance.models import Log
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


ATTACKER, DESK = '10.0.0.66', '10.0.0.5'


def login(client, username, password, address):
    return client.post('/api/token/', {'username': username, 'password': password}, remote_addr=address)


def test_failures_slow_the_failing_pair_with_a_growing_wait(client, ctx, admin):
    for _ in range(3):   # typing mistakes cost nothing
        assert login(client, 'admin', 'mauvais', ATTACKER).status == 401
    waits = []
    for _ in range(4):
        slowed = login(client, 'admin', PASSWORD, ATTACKER)   # even the right password waits
        assert slowed.status == 429 and slowed.json['detail']
        waits.append(int(slowed.headers['Retry-After']))
        ctx.clock.advance(waits[-1])
        assert login(client, 'admin', 'mauvais', ATTACKER).status == 401
    assert waits == [5, 10, 20, 40]
    ctx.clock.advance(80)
    assert login(client, 'admin', PASSWORD, ATTACKER).status == 200   # the wait ends; success resets
    for _ in range(3):
        assert login(client, 'admin', 'mauvais', ATTACKER).status == 401


def test_an_attack_on_admin_does_not_lock_the_librarian_at_the_desk_out(client, ctx, admin):
    for _ in range(12):
        login(client, 'admin', 'devine', ATTACKER)
        ctx.clock.advance(1)
    assert login(client, 'admin', PASSWORD, ATTACKER).status == 429
    assert login(client, 'admin', PASSWORD, DESK).status == 200
    assert login(client, 'ADMIN ', 'devine', ATTACKER).status == 429   # the same username, typed otherwise


def test_one_address_trying_many_usernames_meets_a_ceiling(client, ctx, staff):
    for n in range(20):
        assert login(client, f'nom{n}', 'devine', ATTACKER).status == 401
    ceiling = login(client, 'bibliothecaire', PASSWORD, ATTACKER)
    assert ceiling.status == 429 and int(ceiling.headers['Retry-After']) > 800
    assert login(client, 'bibliothecaire', PASSWORD, DESK).status == 200
    ctx.clock.advance(901)
    assert login(client, 'bibliothecaire', PASSWORD, ATTACKER).status == 200


def test_failed_logins_keep_no_typed_secret_in_the_audit_log(client, staff):
    typed = 'Secret-Tape-Dans-Le-Mauvais-Champ'
    assert login(client, typed, 'autre chose', ATTACKER).status == 401
    assert login(client, 'bibliothecaire', typed, ATTACKER).status == 401
    with db.database.connection_context():
        entries = list(Log.select().where(Log.action == 'echec_connexion').order_by(Log.id))
    assert len(entries) == 2
    for entry in entries:
        stored = entry.details + entry.metadata + entry.operateur + entry.utilisateur_nom
        assert typed.lower() not in stored.lower() and 'autre chose' not in stored
        assert entry.ip_address == ATTACKER
    assert entries[0].metadata_dict == {'identifiant_inconnu': True} and 'inconnu' in entries[0].details
    assert entries[1].metadata_dict == {'username': 'bibliothecaire'} and 'bibliothecaire' in entries[1].details


def test_changing_password_is_throttled_too(client, ctx, staff):
    token = login(client, 'bibliothecaire', PASSWORD, DESK).json['access']
    change = {'old_password': 'pas-le-bon-mot', 'new_password': 'Un-nouveau-mot-de-passe-7'}
    for _ in range(3):
        answer = client.post('/api/auth/change-password/', change, token=token, remote_addr=DESK)
        assert answer.status == 400 and list(answer.json['errors']) == ['old_password']
    slowed = client.post('/api/auth/change-password/', {**change, 'old_password': PASSWORD}, token=token,
                         remote_addr=DESK)
    assert slowed.status == 429 and int(slowed.headers['Retry-After']) == 5
    ctx.clock.advance(5)
    done = client.post('/api/auth/change-password/', {**change, 'old_password': PASSWORD}, token=token,
                       remote_addr=DESK)
    assert done.status == 204


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
