"""Health, the OpenAPI document and Swagger UI served by the appliance itself (docs/api.md)."""
import re

import pytest

from appliance import __version__

METHODS = {'get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'}
ASSETS = ('/api/docs/static/swagger-ui.css', '/api/docs/static/swagger-ui-bundle.js', '/api/docs/init.js')


# -- health -----------------------------------------------------------------------------------------

def test_health_names_what_is_down(client):
    """In-process there is no scheduler running: the answer says so (the live test below sees 200)."""
    response = client.get('/api/health/')
    assert response.status == 503
    assert response.headers['Content-Type'].startswith('application/json')
    body = response.json
    assert body['status'] == 'degraded' and body['database'] == 'ok'
    assert body['scheduler'] != 'ok' and 'scheduler' in body['detail']
    assert body['version'] == __version__


# -- OpenAPI ----------------------------------------------------------------------------------------

@pytest.fixture
def spec(client):
    response = client.get('/api/openapi.json')
    assert response.status == 200
    assert response.headers['Content-Type'].startswith('application/json')
    return response.json


def served_operations(app):
    """(method, OpenAPI path) of every API route the application answers (assets aside)."""
    result = set()
    for route in app.routes:
        if not route.rule.startswith('/api/') or route.method == 'OPTIONS' or route.rule.startswith('/api/docs/'):
            continue
        result.add((route.method.lower(), re.sub(r'<[^>]+>', '{id}', route.rule)))
    return result


def test_every_route_is_documented(client, spec):
    documented = {(method, path) for path, item in spec['paths'].items() for method in item if method in METHODS}
    served = served_operations(client.app)
    assert served - documented == set()
    assert documented - served == {('get', '/api/docs/')}   # served by the catch-all docs route
    assert len(served) > 40


def test_contract_paths_are_listed(spec):
    for path in ('/api/token/', '/api/token/refresh/', '/api/token/verify/', '/api/auth/login/', '/api/auth/logout/',
                 '/api/auth/me/', '/api/utilisateurs/', '/api/utilisateurs/{id}/', '/api/utilisateurs/{id}/photo/',
                 '/api/postes/', '/api/postes/{id}/', '/api/postes/{id}/status/', '/api/postes/{id}/token/',
                 '/api/sessions/', '/api/sessions/{id}/', '/api/sessions/validate-code/',
                 '/api/sessions/{id}/add-time/', '/api/sessions/{id}/terminate/', '/api/logs/', '/api/logs/{id}/',
                 '/api/comptes/', '/api/comptes/{id}/', '/api/health/'):
        assert path in spec['paths'], path
    assert set(spec['paths']['/api/comptes/{id}/']) == {'get', 'patch', 'delete'}
    assert set(spec['paths']['/api/logs/']) == {'get'}


def resolve(spec, ref):
    assert ref.startswith('#/'), ref
    node = spec
    for part in ref[2:].split('/'):
        node = node[part]
    return node


def walk(node, visit):
    visit(node)
    if isinstance(node, dict):
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


def test_document_is_well_formed_openapi_3(spec):
    assert re.fullmatch(r'3\.\d+\.\d+', spec['openapi'])
    assert spec['info']['title'] and spec['info']['version'] == __version__
    schemes = spec['components']['securitySchemes']
    assert schemes['bearer'] == {'type': 'http', 'scheme': 'bearer', 'bearerFormat': 'JWT'}
    assert schemes['posteToken']['in'] == 'header' and schemes['posteToken']['name'] == 'X-Poste-Token'
    for path, item in spec['paths'].items():
        assert path.startswith('/api/')
        template_params = set(re.findall(r'{(\w+)}', path))
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op['responses'], (path, method)
            for status, answer in op['responses'].items():
                assert re.fullmatch(r'[1-5]\d\d|default', status) and answer['description'], (path, method, status)
            params = op.get('parameters', [])
            declared = {p['name'] for p in params if p['in'] == 'path'}
            assert declared == template_params, (path, method)
            assert all(p['required'] is True for p in params if p['in'] == 'path')
            names = [(p['name'], p['in']) for p in params]
            assert len(names) == len(set(names)), (path, method)
            for requirement in op.get('security', []):
                assert set(requirement) <= set(schemes), (path, method)
            if 'requestBody' in op:
                assert op['requestBody']['content']['application/json']['schema']['type'] == 'object'

    def check(node):
        if not isinstance(node, dict):
            return
        if '$ref' in node:
            resolve(spec, node['$ref'])
        if node.get('type') == 'object' and 'required' in node:
            required = node['required']
            assert isinstance(required, list) and required, node       # OpenAPI 3.0: non-empty
            assert len(set(required)) == len(required)
            assert set(required) <= set(node.get('properties', {})), node
        if 'enum' in node:
            assert node['enum'] and len(set(map(str, node['enum']))) == len(node['enum'])
    walk(spec, check)


def test_document_passes_the_reference_validator(spec):
    validator = pytest.importorskip('openapi_spec_validator')
    validator.validate(spec)


def test_document_reflects_the_rules(spec):
    staff_only = spec['paths']['/api/utilisateurs/']['get']
    assert staff_only['security'] == [{'bearer': []}]
    assert spec['paths']['/api/health/']['get']['security'] == []
    assert {'posteToken': []} in spec['paths']['/api/sessions/validate-code/']['post']['security']
    create = spec['paths']['/api/utilisateurs/']['post']['requestBody']['content']['application/json']['schema']
    assert set(create['required']) == {'nom', 'prenom', 'consentement_rgpd'}
    assert create['properties']['type_piece_identite']['enum'] == ['cni', 'passeport', 'titre_sejour', 'permis',
                                                                    'autre']
    comptes = spec['paths']['/api/comptes/']['post']['requestBody']['content']['application/json']['schema']
    assert comptes['properties']['password']['writeOnly'] is True
    listing = {p['name']: p for p in spec['paths']['/api/logs/']['get']['parameters']}
    assert 'maximum' not in listing['page_size']['schema'] and '200 au plus' in listing['page_size']['description']
    assert spec['components']['schemas']['Error']['required'] == ['detail']


# -- Swagger UI -------------------------------------------------------------------------------------

def test_docs_page_is_local_html(client):
    response = client.get('/api/docs/')
    assert response.status == 200
    assert response.headers['Content-Type'].startswith('text/html')
    html = response.body.decode('utf-8')
    assert 'id="swagger-ui"' in html
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert set(links) == set(ASSETS)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)   # no CDN: the LAN has no internet


@pytest.mark.parametrize('path, kind, marker', [
    ('/api/docs/static/swagger-ui.css', 'text/css', b'.swagger-ui'),
    ('/api/docs/static/swagger-ui-bundle.js', 'javascript', b'SwaggerUIBundle'),
    ('/api/docs/init.js', 'javascript', b'/api/openapi.json'),
])
def test_docs_assets_load(client, path, kind, marker):
    response = client.get(path)
    assert response.status == 200, response
    assert kind in response.headers['Content-Type']
    assert marker in response.body
    assert b'//unpkg.com' not in response.body and b'cdn.jsdelivr' not in response.body


@pytest.mark.parametrize('path', ['/api/docs/static/nothing.js', '/api/docs/static/..%2F..%2Fsetup.cfg',
                                  '/api/docs/static/%2Fetc%2Fpasswd', '/api/docs/static/..'])
def test_docs_static_serves_nothing_else(client, path):
    response = client.get(path)
    assert response.status in (403, 404), response
    assert response.json['detail']


# -- black box: one real server, one real browser ---------------------------------------------------

def test_live_health_and_docs_in_a_browser(live):
    status, body = live.request('GET', '/api/health/')
    assert status == 200
    expected = {'status': 'ok', 'database': 'ok', 'scheduler': 'ok', 'backup': 'none',  # a new box
                'version': __version__}
    expected['journal'] = 'none'   # the audit log not yet verified (docs/rgpd.md)
    if not live.database_url.startswith('sqlite'):
        expected['relay'] = 'ok'   # on PostgreSQL the process hears the others (docs/reseau.md)
    assert body == expected
    status, spec = live.request('GET', '/api/openapi.json')
    assert status == 200 and spec['openapi'].startswith('3.')
    for path in ASSETS:
        assert live.request('GET', path)[0] == 200, path

    sync_api = pytest.importorskip('playwright.sync_api')
    operations = sum(len(item) for item in spec['paths'].values())
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=[
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run'])
        try:
            page = browser.new_page()
            outside, failed, errors = [], [], []
            page.on('request', lambda r: r.url.startswith(live.base_url) or r.url.startswith('data:')
                    or outside.append(r.url))
            page.on('requestfailed', lambda r: failed.append(r.url))
            page.on('response', lambda r: r.status >= 400 and errors.append(f'{r.status} {r.url}'))
            # The browser's own /favicon.ico request (not the page's) is a 404: there is none.
            page.on('console', lambda m: m.type == 'error' and 'favicon.ico' not in str(m.location)
                    and errors.append(m.text))
            page.goto(live.base_url + '/api/docs/')
            page.wait_for_selector('.swagger-ui .opblock', timeout=15000)
            assert page.locator('.swagger-ui .opblock').count() == operations
            assert 'Poste Public' in page.locator('.swagger-ui .info .title').inner_text()
            assert outside == [] and failed == [] and errors == []
        finally:
            browser.close()
