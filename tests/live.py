"""A real `poste-public serve` in a subprocess on a free port, for black-box and WebSocket tests."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests import support

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


ADMIN_PASSWORD = 'Essais-Poste-Public-2026!'   # the admin's password once tests changed the first one


class LiveServer:
    _count = 0

    def __init__(self, data_dir, share=None, python=None, ca_file=None, **env):
        """A server with its own database, or, with `share`, another process on the database of
        the server `share` (PostgreSQL: several processes, one system). `python`: the interpreter
        to run it with (another virtual environment); `ca_file`: the authority to trust when the
        settings include TLS_CERT (HTTPS and WSS)."""
        LiveServer._count += 1
        self.python = python or sys.executable
        self.ca_file = ca_file
        self.data_dir = str(data_dir)
        self.env = {k: str(v) for k, v in env.items()}
        self.port = None
        self.process = None
        if share is None:
            self.schema = f'live{os.getpid()}_{LiveServer._count}'
            self.database_url = support.database_url(self.schema, self.data_dir)
        else:
            self.schema, self.database_url = share.schema, share.database_url
            self.env.setdefault('SECRET_KEY', share.secret_key())   # one network, one secret
        self.first = share or self   # the server whose first start wrote the admin's password
        self.output_path = os.path.join(self.data_dir, 'server.log')
        self._admin_token = None
        self.changed_admin_password = None   # set once the first admin password was changed

    @property
    def tls(self):
        return 'TLS_CERT' in self.env

    @property
    def base_url(self):
        return f'{"https" if self.tls else "http"}://127.0.0.1:{self.port}'

    def ws_url(self, path):
        return f'{"wss" if self.tls else "ws"}://127.0.0.1:{self.port}{path}'

    def ssl_context(self):
        import ssl
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_'))}
        env.update({'DATA_DIR': self.data_dir, 'DATABASE_URL': self.database_url,
                    'PYTHONUNBUFFERED': '1'})
        env.update(self.env)
        return env

    def start(self, timeout=20):
        self.port = self.port or free_port()
        self._output = open(self.output_path, 'ab')
        self.process = subprocess.Popen(
            [self.python, '-m', 'appliance', 'serve', '--host', '127.0.0.1', '--port', str(self.port)],
            cwd=self.data_dir, env=self.environment(), stdout=self._output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'server exited with {self.process.returncode}:\n{self.output()}')
            try:
                status, _ = self.request('GET', '/api/health/')
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f'server did not become healthy:\n{self.output()}')

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop the server; returns its exit status."""
        if self.process is None:
            return None
        try:
            if self.process.poll() is None:
                self.process.send_signal(sig)
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._output.close()

    def kill(self):
        return self.stop(signal.SIGKILL)

    def output(self):
        with open(self.output_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def request(self, method, path, body=None, token=None, headers=None):
        """(status, parsed JSON body or raw bytes)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        if token:
            req.add_header('Authorization', f'Bearer {token}')
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self.ssl_context()) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw.decode('utf-8')) if raw else None
        except ValueError:
            return status, raw

    def execute_sql(self, sql, params=()):
        """Change the stored data behind the server's back (it must be stopped): to simulate time
        that passed while the box was off."""
        if self.database_url.startswith('sqlite'):
            import sqlite3
            with sqlite3.connect(self.database_url[len('sqlite:///'):]) as conn:
                conn.execute(sql, params)
        else:
            import psycopg
            with psycopg.connect(self.database_url.split('?')[0], autocommit=True) as conn:
                conn.execute(f'SET search_path TO {self.schema}')
                conn.execute(sql.replace('?', '%s'), params)

    def secret_key(self):
        if 'SECRET_KEY' in self.env:
            return self.env['SECRET_KEY']
        with open(os.path.join(self.data_dir, 'secret_key')) as f:
            return f.read().strip()

    def initial_password(self):
        with open(os.path.join(self.first.data_dir, 'initial_admin_password')) as f:
            return f.read().strip()

    def admin_password(self):
        """The admin's password, changed from the first one if it was not yet (the API refuses
        everything else to an account that still has it)."""
        first = self.first
        if first.changed_admin_password is None:
            initial = self.initial_password()
            status, body = self.request('POST', '/api/token/', {'username': 'admin', 'password': initial})
            assert status == 200, body
            status, body = self.request('POST', '/api/auth/change-password/',
                                        {'old_password': initial, 'new_password': ADMIN_PASSWORD},
                                        token=body['access'])
            assert status == 204, body
            first.changed_admin_password = ADMIN_PASSWORD
        return first.changed_admin_password

    def admin_token(self):
        if self._admin_token is None:
            status, body = self.request('POST', '/api/token/',
                                        {'username': 'admin', 'password': self.admin_password()})
            assert status == 200, body
            self._admin_token = body['access']
        return self._admin_token

    def api(self, method, path, body=None, expect=None):
        """An admin request; asserts the status when `expect` is given."""
        status, data = self.request(method, path, body, token=self.admin_token())
        if expect is not None:
            assert status == expect, (status, data)
        return data

    def make_poste(self, nom='Poste 1', ip='10.0.0.11'):
        return self.api('POST', '/api/postes/', {'nom': nom, 'ip_address': ip}, expect=201)

    def make_session(self, poste_id=None, duree=3600, nom='Durand', prenom='Claire'):
        visitor = self.api('POST', '/api/utilisateurs/', {
            'nom': nom, 'prenom': prenom, 'telephone': '0600000000', 'consentement_rgpd': True,
            'doublon_confirme': True},   # each call is another visitor, namesakes or not
            expect=201)
        return self.api('POST', '/api/sessions/', {'utilisateur': visitor['id'], 'poste': poste_id,
                                                   'duree_initiale': duree}, expect=201)

    def start_session(self, session, poste):
        """Staff start `session` (as created) on `poste`, as the desk does for a visitor whose
        kiosk is not connected; returns the session as started."""
        return self.api('POST', '/api/sessions/validate-code/',
                        {'code': session['code_acces'], 'poste': poste['id']}, expect=200)['session']


# -- WebSocket helpers (websocket-client) ----------------------------------------------------

def ws_connect(url, timeout=5, **kw):
    import websocket
    return websocket.create_connection(url, timeout=timeout, **kw)


def kiosk(server, poste, token=None, timeout=5, **kw):
    """A kiosk connection for `poste` (a poste JSON with its kiosk_token); its first message read."""
    ws = ws_connect(server.ws_url(f'/ws/poste/{poste["ip_address"]}/?token={token or poste["kiosk_token"]}'),
                    timeout=timeout, **kw)
    first = recv_json(ws, timeout)
    assert first['action'] == 'sync', first
    return ws, first


def recv_json(ws, timeout=5):
    ws.settimeout(timeout)
    return json.loads(ws.recv())


def recv_first(ws, wanted, timeout=5, skippable=lambda message: True):
    """The next message for which `wanted(message)` is true; those before it must be skippable."""
    deadline = time.monotonic() + timeout
    while True:
        message = recv_json(ws, max(0.01, deadline - time.monotonic()))
        if wanted(message):
            return message
        assert skippable(message), message


def recv_action(ws, action, timeout=5):
    """A kiosk's next message with this action, skipping `sync` messages that may come first."""
    return recv_first(ws, lambda m: m.get('action') == action, timeout,
                      skippable=lambda m: m.get('action') == 'sync')


def recv_event(ws, event, timeout=5):
    """A staff feed's next message of this event, whatever comes before it."""
    return recv_first(ws, lambda m: m.get('event') == event, timeout)


def nothing_within(ws, seconds):
    """True when no message arrives within `seconds`."""
    import websocket
    ws.settimeout(seconds)
    try:
        ws.recv()
    except websocket.WebSocketTimeoutException:
        return True
    return False


class RunningKiosk:
    """A session running on a connected kiosk: the server, the poste (with its kiosk token), the
    session as created, the kiosk's WebSocket and the session_started message it heard."""

    def __init__(self, server, poste, session, ws, started):
        self.server, self.poste, self.session, self.ws, self.started = server, poste, session, ws, started

    def send(self, message):
        self.ws.send(json.dumps(message))


def start_running_session(server, duree=1800, poste=None):
    """Create a poste (unless given) and a session, connect its kiosk and type the code there."""
    poste = poste or server.make_poste()
    session = server.make_session(poste['id'], duree=duree)
    ws, _ = kiosk(server, poste)
    ws.send(json.dumps({'type': 'validate_code', 'code': session['code_acces']}))
    started = recv_action(ws, 'session_started')
    return RunningKiosk(server, poste, session, ws, started)


def close_code(ws, timeout=5):
    """The code of the close frame the server sends."""
    import struct
    import websocket
    ws.settimeout(timeout)
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            return None
        except ConnectionResetError:
            return 'reset'
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack('!H', data[:2])[0] if len(data) >= 2 else None
