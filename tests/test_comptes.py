"""Staff accounts over REST, admin only: creation, weak passwords, the last admin, deactivation (docs/api.md)."""
import pytest

from appliance.models import default_site_id
from tests.support import PASSWORD, log_actions, make_compte

NEW_PASSWORD = 'Lecture-du-soir-2026'
FIELDS = {'id', 'username', 'email', 'role', 'is_active', 'last_login', 'site', 'site_nom'}


def test_list_and_detail(client, admin, staff, admin_token):
    response = client.get('/api/comptes/', token=admin_token)
    assert response.status == 200
    page = response.json
    assert page['count'] == 2 and page['next'] is None and page['previous'] is None
    assert [c['username'] for c in page['results']] == ['admin', 'bibliothecaire']
    for compte in page['results']:
        assert set(compte) == FIELDS
    assert page['results'][0]['last_login'] == '2026-01-05T09:00:00+00:00'   # admin_token logged in
    assert page['results'][1]['last_login'] is None
    assert b'password' not in response.body and b'$2b$' not in response.body
    detail = client.get(f'/api/comptes/{staff.id}/', token=admin_token)
    assert detail.status == 200
    assert detail.json == {'id': staff.id, 'username': 'bibliothecaire', 'email': '', 'role': 'staff',
                           'is_active': True, 'last_login': None, 'site': default_site_id(),
                           'site_nom': 'Site principal'}
    missing = client.get('/api/comptes/99999/', token=admin_token)
    assert missing.status == 404 and missing.json['detail'] == 'Compte introuvable.'


def test_staff_and_anonymous_are_refused(client, admin, staff, staff_token):
    for method, path in (('GET', '/api/comptes/'), ('POST', '/api/comptes/'), ('GET', f'/api/comptes/{admin.id}/'),
                         ('PATCH', f'/api/comptes/{admin.id}/'), ('DELETE', f'/api/comptes/{admin.id}/')):
        data = {'role': 'staff'} if method in ('POST', 'PATCH') else None
        refused = client.request(method, path, data, token=staff_token)
        assert refused.status == 403, (method, path)
        assert refused.json['detail'] == 'Action réservée aux administrateurs.'
        assert client.request(method, path, data).status == 401, (method, path)
    # Not even about oneself.
    assert client.patch(f'/api/comptes/{staff.id}/', {'role': 'admin'}, token=staff_token).status == 403
    assert client.get(f'/api/comptes/{admin.id}/', token=client.login('admin')).json['role'] == 'admin'
    assert log_actions(action='modification_compte') == []


def test_create_account_that_can_log_in(client, admin_token):
    response = client.post('/api/comptes/', {'username': 'nouvelle', 'email': 'Nouvelle@Example.org',
                                             'role': 'staff', 'password': NEW_PASSWORD}, token=admin_token)
    assert response.status == 201, response
    compte = response.json
    assert set(compte) == FIELDS
    assert compte['username'] == 'nouvelle' and compte['email'] == 'nouvelle@example.org'
    assert compte['role'] == 'staff' and compte['is_active'] is True and compte['last_login'] is None
    assert NEW_PASSWORD.encode() not in response.body
    login = client.post('/api/auth/login/', {'username': 'nouvelle', 'password': NEW_PASSWORD})
    assert login.status == 200 and login.json['user']['role'] == 'staff'
    assert log_actions(action='creation_compte') == ['creation_compte']
    entries = client.get('/api/logs/?action=creation_compte', token=admin_token)
    assert entries.json['results'][0]['operateur'] == 'admin'
    assert NEW_PASSWORD.encode() not in entries.body


def test_create_inactive_account_cannot_log_in(client, admin_token):
    response = client.post('/api/comptes/', {'username': 'dormant', 'role': 'staff', 'is_active': False,
                                             'password': NEW_PASSWORD}, token=admin_token)
    assert response.status == 201 and response.json['is_active'] is False
    assert client.post('/api/token/', {'username': 'dormant', 'password': NEW_PASSWORD}).status == 401


@pytest.mark.parametrize('password', ['court', '12345678901234', 'motdepasse123', 'aaaaaaaaaaaaaa',
                                      'xx-nouvelle-xx-2026', 'é' * 40])
def test_weak_password_is_400(client, admin_token, password):
    response = client.post('/api/comptes/', {'username': 'nouvelle', 'role': 'staff', 'password': password},
                           token=admin_token)
    assert response.status == 400, response
    assert list(response.json['errors']) == ['password']
    assert response.json['detail'] == 'Mot de passe trop faible.'
    assert log_actions(action='creation_compte') == []


@pytest.mark.parametrize('data, fields', [
    ({}, {'username', 'role', 'password'}),
    ({'username': 'ok', 'role': 'superadmin', 'password': NEW_PASSWORD}, {'role'}),
    ({'username': 'ok', 'role': 'staff', 'password': NEW_PASSWORD, 'email': 'pas un mail'}, {'email'}),
    ({'username': 'avec espace', 'role': 'staff', 'password': NEW_PASSWORD}, {'username'}),
    ({'username': 'x' * 151, 'role': 'staff', 'password': NEW_PASSWORD}, {'username'}),
    ({'username': 'ok', 'role': 'staff', 'password': 1234567890123}, {'password'}),
    ({'username': 'ok', 'role': 'staff', 'password': NEW_PASSWORD, 'is_active': 'oui'}, {'is_active'}),
])
def test_create_validation(client, admin_token, data, fields):
    response = client.post('/api/comptes/', data, token=admin_token)
    assert response.status == 400, response
    assert set(response.json['errors']) == fields


def test_duplicate_username_is_400(client, staff, admin_token):
    response = client.post('/api/comptes/', {'username': 'bibliothecaire', 'role': 'staff',
                                             'password': NEW_PASSWORD}, token=admin_token)
    assert response.status == 400 and list(response.json['errors']) == ['username']


def test_put_is_405(client, staff, admin_token):
    response = client.put(f'/api/comptes/{staff.id}/', {'username': 'x', 'role': 'staff', 'password': NEW_PASSWORD},
                          token=admin_token)
    assert response.status == 405
    assert response.json['detail']
    assert 'PATCH' in response.headers['Allow'] and 'PUT' not in response.headers['Allow']


def test_patch_email_and_role(client, staff, admin_token):
    response = client.patch(f'/api/comptes/{staff.id}/', {'email': 'B@Example.org', 'role': 'admin'},
                            token=admin_token)
    assert response.status == 200, response
    assert response.json['email'] == 'b@example.org' and response.json['role'] == 'admin'
    # The role is read on every request: the promoted account is admin at once.
    token = client.login('bibliothecaire')
    assert client.get('/api/comptes/', token=token).status == 200
    assert log_actions(action='modification_compte') == ['modification_compte']


def test_promotion_applies_to_existing_tokens(client, staff, staff_token, admin_token):
    assert client.get('/api/comptes/', token=staff_token).status == 403
    client.patch(f'/api/comptes/{staff.id}/', {'role': 'admin'}, token=admin_token)
    assert client.get('/api/comptes/', token=staff_token).status == 200
    client.patch(f'/api/comptes/{staff.id}/', {'role': 'staff'}, token=admin_token)
    assert client.get('/api/comptes/', token=staff_token).status == 403


def test_patch_password_revokes_tokens(client, staff, staff_token, admin_token):
    weak = client.patch(f'/api/comptes/{staff.id}/', {'password': 'faible'}, token=admin_token)
    assert weak.status == 400 and 'password' in weak.json['errors']
    assert client.get('/api/auth/me/', token=staff_token).status == 200
    response = client.patch(f'/api/comptes/{staff.id}/', {'password': NEW_PASSWORD}, token=admin_token)
    assert response.status == 200 and 'password' not in response.json
    assert client.get('/api/auth/me/', token=staff_token).status == 401
    assert client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).status == 401
    assert client.post('/api/token/', {'username': 'bibliothecaire', 'password': NEW_PASSWORD}).status == 200
    entries = client.get('/api/logs/?action=modification_compte', token=admin_token)
    assert 'mot de passe' in entries.json['results'][0]['details']
    assert NEW_PASSWORD.encode() not in entries.body


@pytest.mark.parametrize('data, field', [({'role': 'root'}, 'role'), ({'is_active': 'non'}, 'is_active'),
                                         ({'email': 'x'}, 'email'), ({'password': None}, 'password')])
def test_patch_validation(client, staff, admin_token, data, field):
    response = client.patch(f'/api/comptes/{staff.id}/', data, token=admin_token)
    assert response.status == 400 and list(response.json['errors']) == [field]


def test_deactivation_revokes_tokens(client, staff, staff_token, admin_token):
    refresh = client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).json['refresh']
    response = client.patch(f'/api/comptes/{staff.id}/', {'is_active': False}, token=admin_token)
    assert response.status == 200 and response.json['is_active'] is False
    assert client.get('/api/utilisateurs/', token=staff_token).status == 401
    assert client.post('/api/token/refresh/', {'refresh': refresh}).status == 401
    assert client.post('/api/token/', {'username': 'bibliothecaire', 'password': PASSWORD}).status == 401
    # Reactivated: old tokens stay dead, a new login works.
    client.patch(f'/api/comptes/{staff.id}/', {'is_active': True}, token=admin_token)
    assert client.get('/api/utilisateurs/', token=staff_token).status == 401
    assert client.get('/api/utilisateurs/', token=client.login('bibliothecaire')).status == 200


def test_last_active_admin_is_protected(client, admin, admin_token):
    for data in ({'role': 'staff'}, {'is_active': False}, {'role': 'staff', 'is_active': False}):
        response = client.patch(f'/api/comptes/{admin.id}/', data, token=admin_token)
        assert response.status == 409, data
        assert 'administrateur' in response.json['detail']
    deleted = client.delete(f'/api/comptes/{admin.id}/', token=admin_token)
    assert deleted.status == 409
    shown = client.get(f'/api/comptes/{admin.id}/', token=admin_token).json
    assert shown['role'] == 'admin' and shown['is_active'] is True
    assert log_actions(action='modification_compte') == [] and log_actions(action='suppression_compte') == []
    # Changing something else about the last admin is fine.
    ok = client.patch(f'/api/comptes/{admin.id}/', {'email': 'chef@example.org', 'role': 'admin',
                                                   'is_active': True}, token=admin_token)
    assert ok.status == 200 and ok.json['email'] == 'chef@example.org'


def test_an_inactive_admin_does_not_count(client, admin, admin_token):
    make_compte('ancien', role='admin', is_active=False)
    assert client.patch(f'/api/comptes/{admin.id}/', {'role': 'staff'}, token=admin_token).status == 409
    assert client.delete(f'/api/comptes/{admin.id}/', token=admin_token).status == 409


def test_with_another_admin_one_may_step_down(client, admin, admin_token):
    other = make_compte('adjointe', role='admin')
    response = client.patch(f'/api/comptes/{admin.id}/', {'role': 'staff'}, token=admin_token)
    assert response.status == 200 and response.json['role'] == 'staff'
    assert client.get('/api/comptes/', token=admin_token).status == 403   # now staff
    # ...and now the other is the last one.
    other_token = client.login('adjointe')
    assert client.patch(f'/api/comptes/{other.id}/', {'is_active': False}, token=other_token).status == 409


def test_delete_account(client, admin_token):
    gone = make_compte('partante')
    token = client.login('partante')
    visitor = client.make_visitor(token)
    assert visitor['created_by'] == gone.id
    response = client.delete(f'/api/comptes/{gone.id}/', token=admin_token)
    assert response.status == 204 and response.body == b''
    assert client.get(f'/api/comptes/{gone.id}/', token=admin_token).status == 404
    assert client.get('/api/auth/me/', token=token).status == 401
    # What the account created stays, without its author.
    kept = client.get(f'/api/utilisateurs/{visitor["id"]}/', token=admin_token)
    assert kept.status == 200 and kept.json['created_by'] is None
    entries = client.get('/api/logs/?action=suppression_compte', token=admin_token).json['results']
    assert len(entries) == 1 and 'partante' in entries[0]['details'] and entries[0]['operateur'] == 'admin'
    # Its name in earlier entries survives.
    assert client.get('/api/logs/?action=creation_utilisateur', token=admin_token).json['results'][0][
        'operateur'] == 'partante'
    assert client.delete(f'/api/comptes/{gone.id}/', token=admin_token).status == 404


def test_admin_may_delete_another_admin_but_not_the_last(client, admin, admin_token):
    other = make_compte('adjointe', role='admin')
    assert client.delete(f'/api/comptes/{other.id}/', token=admin_token).status == 204
    assert client.delete(f'/api/comptes/{admin.id}/', token=admin_token).status == 409


def test_two_admins_deactivating_each_other_at_once_leave_one(client, admin, admin_token):
    """The last-admin check and the change are one step: concurrent requests cannot both pass it."""
    import gevent
    other = make_compte('adjointe', role='admin')
    other_token = client.login('adjointe')
    jobs = [gevent.spawn(client.patch, f'/api/comptes/{target}/', {'is_active': False}, token=token)
            for target, token in ((other.id, admin_token), (admin.id, other_token))]
    gevent.joinall(jobs, raise_error=True)
    statuses = sorted(job.value.status for job in jobs)
    # The loser gets 409, or 401 when the winner's change already revoked its token.
    assert statuses in ([200, 401], [200, 409]), [job.value for job in jobs]
    from appliance import db
    from appliance.models import Compte
    with db.database.connection_context():
        assert Compte.select().where(Compte.role == 'admin', Compte.is_active == True).count() == 1  # noqa: E712
