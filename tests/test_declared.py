"""Routes that declare themselves (appliance/api/declared.py): every route says who may call it,
the plugin enforces it in a fixed order, and the declarations tell the truth."""
import json

import bottle
import pytest

from appliance import db
from appliance.api.declared import ADMIN, AUTH, KIOSK, METRICS, PUBLIC, STAFF, Declaration, Declared, Row
from appliance.api.http import json_api
from appliance.api.validation import Text
from appliance.audit import ACTIONS
from appliance.models import Log, Poste
from tests import support
from tests.support import log_actions

MIB = 1024 * 1024


# -- every route declares itself --------------------------------------------------------------------

def test_every_route_declares_who_may_call_it_and_a_summary(client):
    checked = set()
    for route in client.app.routes:
        d = Declaration(route)
        where = f'{route.method} {route.rule}'
        assert d.auth in AUTH, where
        assert isinstance(d.summary, str) and d.summary.strip(), where
        assert set(d.wildcards) == set(d.names), where
        assert d.problem(route.callback) is None, where
        checked.add((route.method, route.rule))
    assert ('GET', '/metrics') in checked and ('POST', '/api/sessions/validate-code/') in checked
    assert sum(rule.startswith('/api/') for _, rule in checked) > 40


def test_the_rules_of_the_contract_are_what_routes_declare(client):
    """A few routes whose caller the contract names, read from their declarations."""
    auth = {(route.method, route.rule): Declaration(route).auth for route in client.app.routes}
    assert auth['POST', '/api/sessions/validate-code/'] == KIOSK
    assert auth['POST', '/api/token/'] == PUBLIC and auth['GET', '/api/health/'] == PUBLIC
    assert auth['DELETE', '/api/utilisateurs/<uid:re:[0-9]+>/'] == ADMIN
    assert auth['PATCH', '/api/postes/<poste_id:re:[0-9]+>/status/'] == STAFF
    assert auth['GET', '/metrics'] == METRICS


def small_app(ctx, **declaration):
    """An application with the real plugins and one route declared as given."""
    app = bottle.Bottle()
    app.install(json_api)
    app.install(Declared(ctx))
    app.route('/api/essai/', 'POST', lambda: {}, **declaration)
    return app


@pytest.mark.parametrize('declaration, complaint', [
    ({}, 'auth must be one of'),
    ({'summary': 'Essai'}, 'auth must be one of'),
    ({'auth': 'everybody', 'summary': 'Essai'}, 'auth must be one of'),
    ({'auth': PUBLIC}, 'no summary'),
    ({'auth': STAFF, 'summary': 'Essai', 'status': 202}, 'status must be one of'),
])
def test_a_route_without_a_proper_declaration_does_not_start(ctx, declaration, complaint):
    app = small_app(ctx, **declaration)
    with pytest.raises(bottle.RouteError, match=complaint) as error:
        app.routes[0].prepare()
    assert 'POST /api/essai/' in str(error.value)


def test_create_app_refuses_to_start_with_an_undeclared_route(ctx, monkeypatch):
    from appliance.api import system
    original = system.routes

    def routes_and_one_more(app, context):
        original(app, context)
        app.get('/api/oubliee/', callback=lambda: {})

    monkeypatch.setattr(system, 'routes', routes_and_one_more)
    with pytest.raises(bottle.RouteError, match='GET /api/oubliee/: auth must be one of'):
        support.make_app(ctx)


def test_a_handler_takes_what_its_declaration_gives(ctx):
    def route(rule, handler, **declaration):
        app = bottle.Bottle()
        app.install(Declared(ctx))
        app.route(rule, 'POST', handler, summary='Essai', **declaration)
        return app.routes[0]

    with pytest.raises(bottle.RouteError, match='the handler takes compte'):
        route('/x/', lambda compte: None, auth=PUBLIC).prepare()      # nobody to give
    with pytest.raises(bottle.RouteError, match='the handler takes nothing: the wildcards first'):
        route('/x/<x_id>/', lambda: None, auth=PUBLIC, wildcards={'x_id': Row(Poste, 'Introuvable.')}).prepare()
    with pytest.raises(bottle.RouteError, match='must take the body it declares as `data`'):
        route('/x/', lambda compte: None, auth=STAFF, body={'a': Text()}).prepare()
    with pytest.raises(bottle.RouteError, match='must declare each wildcard of the rule: x_id'):
        route('/x/<x_id>/', lambda x: None, auth=STAFF).prepare()
    with pytest.raises(bottle.RouteError, match='the handler takes kiosk'):
        route('/x/', lambda kiosk: None, auth=STAFF).prepare()
    route('/x/<x_id>/', lambda x, compte, data: None, auth=STAFF, body={'a': Text()},
          wildcards={'x_id': Row(Poste, 'Introuvable.')}).prepare()


# -- what the handler gets, and when ----------------------------------------------------------------

def test_the_handler_gets_the_caller_the_kiosk_and_the_clean_body(client, admin_token, staff_token):
    """validate-code is the one route that takes a kiosk or a member of staff: the audit log names
    the member of staff, never the kiosk; the code arrives stripped of its spaces."""
    poste = client.make_poste(admin_token)
    other = client.make_poste(admin_token, nom='Poste 2', ip='192.168.1.12')
    visitor = client.make_visitor(admin_token)
    first = client.make_session(admin_token, visitor['id'], poste['id'])
    by_kiosk = client.post('/api/sessions/validate-code/', {'code': f'  {first["code_acces"]} '},
                           headers={'X-Poste-Token': poste['kiosk_token']})
    assert by_kiosk.status == 200 and by_kiosk.json['session']['poste'] == poste['id']
    second = client.make_session(admin_token, client.make_visitor(admin_token, prenom='Bob')['id'])
    by_staff = client.post('/api/sessions/validate-code/', {'code': second['code_acces'], 'poste': other['id']},
                           token=staff_token)
    assert by_staff.status == 200 and by_staff.json['session']['poste'] == other['id']
    with db.database.connection_context():
        started = Log.select().where(Log.action == 'demarrage_session').order_by(Log.id)
        assert [(entry.poste, entry.operateur) for entry in started] == [(poste['id'], ''),
                                                                          (other['id'], 'bibliothecaire')]


@pytest.fixture
def world(client, admin, staff, admin_token):
    poste = client.make_poste(admin_token)
    return {'poste': poste, 'staff_token': client.login('bibliothecaire'), 'admin_token': admin_token}


def send(client, method, path, data, content_type='application/json', **kw):
    return client.request(method, path, body=data, content_type=content_type, **kw)


# (what is sent, what comes back) on PATCH /api/postes/<id>/, an admin route with a body.
BAD_BODIES = [
    (b'{"nom": ', 'application/json', 400),
    (b'{"nom": "x"}', 'text/plain', 415),
    (json.dumps({'emplacement': 'x' * MIB}).encode(), 'application/json', 413),
    (b'{"ip_address": "pas une adresse"}', 'application/json', 400),
]


@pytest.mark.parametrize('data, content_type, status', BAD_BODIES, ids=['malformed', 'type', 'size', 'invalid'])
def test_who_comes_before_the_id_which_comes_before_the_body(client, world, data, content_type, status):
    known, unknown = f'/api/postes/{world["poste"]["id"]}/', '/api/postes/999999/'
    before = log_actions()
    for path in (known, unknown):
        assert send(client, 'PATCH', path, data, content_type).status == 401
        refused = send(client, 'PATCH', path, data, content_type, token=world['staff_token'])
        assert refused.status == 403 and refused.json['detail'] == 'Action réservée aux administrateurs.'
    missing = send(client, 'PATCH', unknown, data, content_type, token=world['admin_token'])
    assert missing.status == 404 and missing.json['detail'] == 'Poste introuvable.'
    assert send(client, 'PATCH', known, data, content_type, token=world['admin_token']).status == status
    assert log_actions() == before        # the handler never ran


def test_a_kiosk_is_identified_before_its_body_is_read(client, world):
    for headers, status in (({}, 401), ({'X-Poste-Token': 'x' * 43}, 403)):
        response = send(client, 'POST', '/api/sessions/validate-code/', b'{"code": ', headers=headers)
        assert response.status == status and response.json['valid'] is False, response
    response = send(client, 'POST', '/api/sessions/validate-code/', b'{"code": ',
                    headers={'X-Poste-Token': world['poste']['kiosk_token']})
    assert response.status == 400 and response.json['detail'] == 'JSON invalide.'


def test_patch_takes_part_of_a_body_put_the_whole(client, world):
    path = f'/api/postes/{world["poste"]["id"]}/'
    whole = client.put(path, {'emplacement': 'Étage'}, token=world['admin_token'])
    assert whole.status == 400 and set(whole.json['errors']) == {'nom', 'ip_address'}
    part = client.patch(path, {'emplacement': 'Étage'}, token=world['admin_token'])
    assert part.status == 200 and part.json['emplacement'] == 'Étage' and part.json['nom'] == 'Poste 1'
    # The status route declares that its PATCH takes the whole body, like PUT.
    status = client.patch(path + 'status/', {'force': True}, token=world['staff_token'])
    assert status.status == 400 and list(status.json['errors']) == ['statut']


def test_declared_success_statuses(client, world):
    token = world['admin_token']
    created = client.post('/api/postes/', {'nom': 'Neuf', 'ip_address': '10.9.9.9'}, token=token)
    assert created.status == 201 and created.json['nom'] == 'Neuf'
    deleted = client.delete(f'/api/postes/{created.json["id"]}/', token=token)
    assert deleted.status == 204 and deleted.body == b''
    assert client.get(f'/api/postes/{created.json["id"]}/', token=token).status == 404
    refused = client.post('/api/postes/', {'nom': 'Neuf'}, token=token)
    assert refused.status == 400 and 'ip_address' in refused.json['errors']   # no 201 on an error


# -- the declared query parameters are the ones routes read -----------------------------------------

FREE_TEXT = {'search', 'motif'}   # a search term (a requisition's reference) refuses nothing


def list_routes(app):
    return [(route.rule, Declaration(route)) for route in app.routes
            if route.method == 'GET' and route.rule.startswith('/api/') and not route.rule.count('<')]


def test_declared_query_parameters_are_read_and_undeclared_ones_are_not(client, world):
    """Each route is sent each parameter any route declares, with a value no parameter takes: the
    routes that refuse it by name are exactly those that declare it (free text aside)."""
    routes = list_routes(client.app)
    names = {query.name for _, d in routes for query in d.query}
    assert {'page', 'page_size', 'statut', 'poste', 'utilisateur', 'session', 'action', 'date_min',
            'date_max', 'search'} <= names
    for rule, d in routes:
        declared_names = {query.name for query in d.query}
        for name in names - FREE_TEXT:
            response = client.get(rule, query={name: 'x!'}, token=world['admin_token'])
            refused = response.status == 400 and name in response.json.get('errors', {})
            assert refused == (name in declared_names), (rule, name, response)


def test_the_document_states_the_declared_parameters(client):
    spec = client.get('/api/openapi.json').json
    logs = {p['name']: p for p in spec['paths']['/api/logs/']['get']['parameters']}
    assert logs['action']['schema']['enum'] == list(ACTIONS)
    assert logs['session']['schema']['type'] == 'integer'
    assert {'page', 'page_size', 'date_min', 'date_max', 'utilisateur', 'poste'} <= set(logs)
    stats = {p['name']: p for p in spec['paths']['/api/stats/']['get']['parameters']}
    assert set(stats) == {'date_min', 'date_max', 'site'} and {'format': 'date'} in stats['date_min']['schema']['anyOf']
    search = spec['paths']['/api/utilisateurs/']['get']['parameters']
    assert [p['name'] for p in search] == ['search', 'page', 'page_size']
    backup = spec['paths']['/api/backups/{id}/']['get']['parameters'][0]
    assert backup['schema']['type'] == 'string' and backup['schema']['pattern'].startswith('^poste-public-')
    poste = spec['paths']['/api/postes/{id}/']
    assert poste['get']['parameters'][0]['schema']['type'] == 'integer'
    assert 'required' in poste['put']['requestBody']['content']['application/json']['schema']
    assert 'required' not in poste['patch']['requestBody']['content']['application/json']['schema']
    assert poste['put']['requestBody']['required'] is True and poste['patch']['requestBody']['required'] is False
    assert poste['delete']['responses'].get('204') and '200' not in poste['delete']['responses']
    assert spec['paths']['/api/sessions/']['post']['responses'].get('201')
    assert '/api/docs/init.js' not in spec['paths'] and '/metrics' not in spec['paths']
