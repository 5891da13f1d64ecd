"""Helpers shared by the tests: databases on both engines, an in-process WSGI client, factories.

The whole suite runs on SQLite by default and on PostgreSQL when DATABASE_URL points at it; each
user of the database (the in-process tests, each live server) gets its own PostgreSQL schema.
"""
import io
import json
import os
import sys
from urllib.parse import quote, urlencode, urlsplit

import bcrypt

from appliance import db
from appliance.clock import FakeClock
from appliance.config import Config
from appliance.context import Context
from appliance.models import AuthSession, Charte, Compte, Log, Poste, Session, Site, State, Utilisateur, default_site_id
from appliance.server import create_app

PASSWORD = 'Un-mot-de-passe-solide-42'
# Four rounds instead of twelve: the hash format is the same, the tests are fast.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()


def postgres_url():
    url = os.environ.get('DATABASE_URL', '')
    return url if url.startswith(('postgres://', 'postgresql://')) else None


def database_url(name, directory):
    """A fresh database for `name`: a SQLite file in `directory`, or a PostgreSQL schema."""
    base = postgres_url()
    if base is None:
        return 'sqlite:///' + os.path.join(str(directory), f'{name}.db')
    _pg_execute(base, f'DROP SCHEMA IF EXISTS {name} CASCADE', f'CREATE SCHEMA {name}')
    separator = '&' if '?' in base else '?'
    return f'{base}{separator}options={quote(f"-csearch_path={name}")}'


def drop_schema(name):
    base = postgres_url()
    if base is not None:
        _pg_execute(base, f'DROP SCHEMA IF EXISTS {name} CASCADE')


def _pg_execute(url, *statements):
    import psycopg
    with psycopg.connect(url.split('?')[0], autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def bind_and_migrate(url):
    db.bind(url)
    db.migrate()


def empty_database():
    with db.database.connection_context():
        with db.writing():
            for model in (Log, Session, AuthSession, Utilisateur, Poste, Compte, State):
                model.delete().execute()
            Charte.delete().execute()
            Site.delete().where(Site.id != default_site_id()).execute()


def make_config(data_dir, **env):
    values = {'DATA_DIR': str(data_dir), 'SECRET_KEY': 'test-secret-key-' + 'x' * 32}
    values.update({k: str(v) for k, v in env.items()})
    return Config.load(environ=values, cwd=str(data_dir))


def make_context(data_dir, **env):
    return Context(make_config(data_dir, **env), clock=FakeClock())


def make_app(ctx):
    return create_app(ctx)


def make_compte(username, role='staff', **fields):
    with db.database.connection_context():
        return Compte.create(username=username, role=role, password_hash=PASSWORD_HASH, **fields)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        return f'<Response {self.status} {self.body[:200]!r}>'


class Client:
    """Calls the WSGI application in-process, as bottle's own tests do."""

    def __init__(self, app):
        self.app = app

    def request(self, method, path, json_body=None, *, token=None, headers=None, body=None,
                content_type=None, remote_addr='127.0.0.1', query=None):
        if json_body is not None:
            body = json.dumps(json_body).encode('utf-8')
            content_type = content_type or 'application/json'
        body = body or b''
        parts = urlsplit(path)
        query_string = parts.query or (urlencode(query) if query else '')
        environ = {
            'REQUEST_METHOD': method, 'PATH_INFO': parts.path, 'QUERY_STRING': query_string,
            'SERVER_NAME': 'testserver', 'SERVER_PORT': '80', 'HTTP_HOST': 'testserver',
            'REMOTE_ADDR': remote_addr, 'SERVER_PROTOCOL': 'HTTP/1.1',
            'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(body), 'wsgi.errors': sys.stderr,
            'wsgi.multithread': False, 'wsgi.multiprocess': False, 'wsgi.run_once': False,
            'wsgi.version': (1, 0), 'CONTENT_LENGTH': str(len(body)),
        }
        if content_type:
            environ['CONTENT_TYPE'] = content_type
        if token:
            environ['HTTP_AUTHORIZATION'] = f'Bearer {token}'
        for name, value in (headers or {}).items():
            key = name.upper().replace('-', '_')
            environ[key if key in ('CONTENT_TYPE', 'CONTENT_LENGTH') else f'HTTP_{key}'] = value
        captured = {}

        def start_response(status, response_headers, exc_info=None):
            captured['status'] = int(status.split()[0])
            captured['headers'] = dict(response_headers)

        chunks = self.app(environ, start_response)
        try:
            data = b''.join(chunks)
        finally:
            if hasattr(chunks, 'close'):
                chunks.close()
        return Response(captured['status'], captured['headers'], data)

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request('POST', path, json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request('PUT', path, json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request('PATCH', path, json_body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def login(self, username, password=PASSWORD):
        response = self.post('/api/token/', {'username': username, 'password': password})
        assert response.status == 200, response
        return response.json['access']

    # -- factories through the API (what staff would do) -----------------------------------

    def make_poste(self, token, nom='Poste 1', ip='192.168.1.11', **fields):
        response = self.post('/api/postes/', {'nom': nom, 'ip_address': ip, **fields}, token=token)
        assert response.status == 201, response
        return response.json

    def make_visitor(self, token, nom='Martin', prenom='Alice', **fields):
        data = {'nom': nom, 'prenom': prenom, 'email': f'{prenom.lower()}@example.org',
                'consentement_rgpd': True, 'doublon_confirme': True, **fields}   # namesakes allowed
        response = self.post('/api/utilisateurs/', data, token=token)
        assert response.status == 201, response
        return response.json

    def make_session(self, token, visitor_id, poste_id=None, duree=3600):
        response = self.post('/api/sessions/', {'utilisateur': visitor_id, 'poste': poste_id,
                                                'duree_initiale': duree}, token=token)
        assert response.status == 201, response
        return response.json

    def kiosk_validate(self, kiosk_token, code):
        return self.post('/api/sessions/validate-code/', {'code': code},
                         headers={'X-Poste-Token': kiosk_token})


def log_actions(**filters):
    with db.database.connection_context():
        query = Log.select().order_by(Log.id)
        for name, value in filters.items():
            query = query.where(getattr(Log, name) == value)
        return [entry.action for entry in query]


def fill(template, world):
    """A route or body template ("/api/postes/{p}/") with the ids of `world` put in; a template
    that is exactly one placeholder of digits becomes a number."""
    if isinstance(template, str):
        text = template.format(**world)
        return int(text) if template.startswith('{') and text.isdigit() else text
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    return template
