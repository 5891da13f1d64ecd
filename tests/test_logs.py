"""The audit log over REST: read-only, filters, bad filter values, names that outlive what they name (docs/api.md)."""
import pytest

from appliance import db
from appliance.models import Log
from tests.support import log_actions

FIELDS = {'id', 'action', 'operateur', 'utilisateur', 'utilisateur_nom', 'session', 'poste', 'poste_nom',
          'details', 'metadata', 'ip_address', 'created_at', 'site'}


def logs(client, token, **query):
    response = client.get('/api/logs/', query=query, token=token)
    assert response.status == 200, response
    return response.json


@pytest.fixture
def history(client, ctx, admin_token):
    """Entries on three days: a poste and a visitor on the 5th, a session on the 6th, its end on the 7th."""
    poste = client.make_poste(admin_token, nom='Poste Histoire', ip='10.9.9.9')
    visitor = client.make_visitor(admin_token, nom='Hugo', prenom='Victor')
    ctx.clock.advance(86400)
    token = client.login('admin')
    session = client.make_session(token, visitor['id'], poste['id'])
    client.kiosk_validate(poste['kiosk_token'], session['code_acces'])
    ctx.clock.advance(86400)
    token = client.login('admin')
    client.post(f'/api/sessions/{session["id"]}/terminate/', {'raison': 'Fermeture'}, token=token)
    return {'poste': poste, 'visitor': visitor, 'session': session, 'token': token}


def test_entry_shape_and_order(client, history):
    token = history['token']
    page = logs(client, token)
    entries = page['results']
    assert page['count'] == len(entries) == len(log_actions())
    for entry in entries:
        assert set(entry) == FIELDS
        assert isinstance(entry['metadata'], dict)
        assert entry['created_at'].endswith('+00:00')
    stamps = [e['created_at'] for e in entries]
    assert stamps == sorted(stamps, reverse=True)          # newest first
    ids_same_time = [e['id'] for e in entries if e['created_at'] == stamps[0]]
    assert ids_same_time == sorted(ids_same_time, reverse=True)
    start = next(e for e in entries if e['action'] == 'demarrage_session')
    assert start['utilisateur'] == history['visitor']['id'] and start['utilisateur_nom'] == 'Victor Hugo'
    assert start['poste'] == history['poste']['id'] and start['poste_nom'] == 'Poste Histoire'
    assert start['session'] == history['session']['id']
    assert start['created_at'] == '2026-01-06T09:00:00+00:00'
    assert start['operateur'] == ''   # started by the kiosk
    code = next(e for e in entries if e['action'] == 'generation_code')
    assert code['operateur'] == 'admin' and code['metadata']['code'] == history['session']['code_acces']
    detail = client.get(f'/api/logs/{start["id"]}/', token=token)
    assert detail.status == 200 and detail.json == start


def test_filters(client, history):
    token, visitor, poste, session = history['token'], history['visitor'], history['poste'], history['session']
    by_action = logs(client, token, action='fermeture')
    assert by_action['count'] == 1 and by_action['results'][0]['metadata'] == {'raison': 'fermeture_staff'}
    by_session = logs(client, token, session=session['id'])
    assert [e['action'] for e in by_session['results']] == ['fermeture', 'demarrage_session', 'generation_code']
    by_visitor = logs(client, token, utilisateur=visitor['id'])
    assert [e['action'] for e in by_visitor['results']] == ['fermeture', 'demarrage_session', 'generation_code',
                                                            'creation_utilisateur']
    by_poste = logs(client, token, poste=poste['id'])
    assert {e['action'] for e in by_poste['results']} == {'creation_poste', 'generation_code',
                                                          'demarrage_session', 'fermeture'}
    both = logs(client, token, poste=poste['id'], action='creation_poste')
    assert both['count'] == 1
    nothing = logs(client, token, utilisateur=visitor['id'], action='creation_poste')
    assert nothing == {'count': 0, 'next': None, 'previous': None, 'results': []}
    assert logs(client, token, utilisateur=999999)['count'] == 0


def test_date_filters(client, history):
    token = history['token']

    def actions(**query):
        return {e['action'] for e in logs(client, token, **query)['results'] if e['action'] != 'connexion_staff'}

    assert actions(date_max='2026-01-05') == {'creation_poste', 'creation_utilisateur'}   # the whole day
    assert actions(date_min='2026-01-06', date_max='2026-01-06') == {'generation_code', 'demarrage_session'}
    assert actions(date_min='2026-01-07') == {'fermeture'}
    # Times with an offset are converted to UTC: 10:00+01:00 is 09:00Z, the moment of the entries.
    assert actions(date_min='2026-01-07T10:00:00+01:00') == {'fermeture'}
    assert actions(date_min='2026-01-07T10:00:01+01:00') == set()
    assert actions(date_max='2026-01-05T08:59:59Z') == set()
    assert actions(date_max='2026-01-05T09:00:00') == {'creation_poste', 'creation_utilisateur'}
    assert actions(date_min='2026-01-07', date_max='2026-01-05') == set()


@pytest.mark.parametrize('name, value', [
    ('action', 'piratage'), ('action', 'FERMETURE'),
    ('utilisateur', 'abc'), ('utilisateur', '1.5'), ('utilisateur', '0'), ('utilisateur', '-3'),
    ('utilisateur', '9' * 30), ('poste', 'x'), ('session', '1e3'),
    ('date_min', 'hier'), ('date_min', '2026-13-01'), ('date_max', '05/01/2026'), ('date_max', '2026-01-05T25:00'),
    ('date_min', '2026-01-05T10:00:00+25:00'), ('date_min', '0001-01-01T00:00:00+01:00'),
    ('date_max', '9999-12-31T23:59:59-01:00'), ('date_min', ' '),
])
def test_bad_filter_values_are_400(client, admin_token, name, value):
    response = client.get('/api/logs/', query={name: value}, token=admin_token)
    assert response.status == 400, response
    assert list(response.json['errors']) == [name]
    assert response.json['detail']


@pytest.mark.parametrize('method', ['POST', 'PUT', 'PATCH', 'DELETE'])
def test_logs_are_read_only(client, admin_token, method):
    client.make_visitor(admin_token)
    entry = logs(client, admin_token)['results'][0]
    for path in ('/api/logs/', f'/api/logs/{entry["id"]}/'):
        response = client.request(method, path, {'action': 'purge'}, token=admin_token)
        assert response.status == 405, (method, path)
        assert response.json['detail'] == 'Méthode non autorisée.'
        assert 'GET' in response.headers['Allow'] and method not in response.headers['Allow']
    assert client.get(f'/api/logs/{entry["id"]}/', token=admin_token).json == entry


def test_logs_need_staff(client, staff_token, admin_token):
    client.make_visitor(admin_token)
    assert client.get('/api/logs/').status == 401
    assert client.get('/api/logs/', token=staff_token).status == 200
    entry = logs(client, staff_token)['results'][0]
    assert client.get(f'/api/logs/{entry["id"]}/').status == 401


def test_unknown_entry_is_404(client, admin_token):
    for raw in ('123456', 'abc', '0', '-1', '1' * 40):
        response = client.get(f'/api/logs/{raw}/', token=admin_token)
        assert response.status == 404, raw
        assert response.json['detail'] == 'Entrée du journal introuvable.'


def test_names_survive_deletion(client, history):
    token, visitor, poste, session = history['token'], history['visitor'], history['poste'], history['session']
    before = {e['id']: e for e in logs(client, token, session=session['id'])['results']}
    assert client.delete(f'/api/utilisateurs/{visitor["id"]}/', token=token).status == 204
    assert client.delete(f'/api/postes/{poste["id"]}/', token=token).status == 204
    after = {e['id']: e for e in logs(client, token, session=session['id'])['results']}
    assert after == before
    for entry in after.values():
        assert entry['utilisateur'] == visitor['id'] and entry['utilisateur_nom'] == 'Victor Hugo'
        assert entry['poste'] == poste['id'] and entry['poste_nom'] == 'Poste Histoire'
    deletions = logs(client, token, action='suppression_poste')['results']
    assert deletions[0]['poste_nom'] == 'Poste Histoire'
    assert logs(client, token, utilisateur=visitor['id'])['count'] == 5


def test_a_new_visitor_does_not_inherit_a_deleted_ones_history(client, admin_token):
    gone = client.make_visitor(admin_token, nom='Ancien', prenom='Albert')
    client.delete(f'/api/utilisateurs/{gone["id"]}/', token=admin_token)
    new = client.make_visitor(admin_token, nom='Nouveau', prenom='Nina', email='nina@example.org')
    entries = logs(client, admin_token, utilisateur=new['id'])['results']
    assert [e['utilisateur_nom'] for e in entries] == ['Nina Nouveau']


# -- pagination (on the log, the longest list) ---------------------------------------------------

@pytest.fixture
def many(ctx):
    """250 entries, one second apart (id 1 oldest)."""
    from datetime import timedelta
    start = ctx.clock.now()
    with db.database.connection_context():
        with db.writing():
            Log.insert_many([{'action': 'echec_code', 'details': f'n{i}', 'metadata': '{}',
                              'created_at': start + timedelta(seconds=i)} for i in range(250)]).execute()
    return 250


def test_default_page(client, admin_token, many):
    # admin_token's login adds one entry.
    page = logs(client, admin_token)
    assert page['count'] == many + 1
    assert len(page['results']) == 50
    assert page['previous'] is None
    assert page['next'] == 'http://testserver/api/logs/?page=2'


def test_page_size_is_capped_at_200(client, admin_token, many):
    page = logs(client, admin_token, page_size=1000)
    assert len(page['results']) == 200 and page['count'] == many + 1
    assert page['next'] is not None
    second = client.get(page['next'].replace('http://testserver', ''), token=admin_token).json
    assert len(second['results']) == many + 1 - 200 and second['next'] is None


def test_pages_follow_each_other(client, admin_token, many):
    seen, number, path = [], 1, '/api/logs/?action=echec_code&page_size=100'
    while path:
        response = client.get(path, token=admin_token)
        assert response.status == 200
        page = response.json
        assert page['count'] == many
        if number == 1:
            assert page['previous'] is None
        else:
            assert f'page={number - 1}' in page['previous'] and 'action=echec_code' in page['previous']
        seen += [e['details'] for e in page['results']]
        path = page['next'] and page['next'].replace('http://testserver', '')
        number += 1
    assert number == 4
    assert seen == [f'n{i}' for i in reversed(range(250))]


def test_previous_link(client, admin_token, many):
    third = logs(client, admin_token, page=3, page_size=100, action='echec_code')
    assert third['next'] is None and len(third['results']) == 50
    assert third['previous'].startswith('http://testserver/api/logs/?')
    assert 'page=2' in third['previous'] and 'page_size=100' in third['previous']
    assert 'action=echec_code' in third['previous']


@pytest.mark.parametrize('query, status', [
    ({'page': 99}, 404), ({'page': 2}, 404),
    ({'page': 0}, 400), ({'page': -1}, 400), ({'page': 'deux'}, 400), ({'page': '1.0'}, 400),
    ({'page': '9' * 5000}, 404), ({'page_size': 0}, 400), ({'page_size': 'x'}, 400),
    ({'page_size': -5}, 400), ({'page': 10 ** 30}, 404),
])
def test_bad_or_out_of_range_pages(client, admin_token, query, status):
    response = client.get('/api/logs/', query={'action': 'purge', **query}, token=admin_token)
    assert response.status == status, response
    assert response.json['detail']
    if status == 400:
        assert set(response.json['errors']) == set(query)


def test_first_page_of_an_empty_list_is_200(client, admin_token):
    page = logs(client, admin_token, action='purge')
    assert page == {'count': 0, 'next': None, 'previous': None, 'results': []}
