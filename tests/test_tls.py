"""HTTPS on the library's network (docs/install.md): `poste-public tls init/show`, a server that
speaks HTTPS and WSS only on its port, verified by real clients against the box's own authority."""
import json
import os
import queue
import socket
import ssl
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import websocket

from appliance import tls
from appliance.kiosk.config import ConfigError, load_config
from appliance.kiosk.connection import Connection
from tests.browser import expect
from tests.live import kiosk

ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(('POSTGRES_', 'DB_', 'DATABASE_URL', 'TLS_', 'SECRET_KEY'))}   # SQLite in DATA_DIR


def cli(data_dir, *args, **env):
    return subprocess.run([sys.executable, '-m', 'appliance', *args], cwd=str(data_dir), capture_output=True,
                          text=True, timeout=60, env={**ENV, 'DATA_DIR': str(data_dir), **env})


def tls_files(data_dir):
    folder = data_dir / 'tls'
    return {name: str(folder / name) for name in ('ca.pem', 'ca.key', 'server.pem', 'server.key')}


@pytest.fixture
def box(tmp_path):
    """A box after `poste-public tls init`: its DATA_DIR, what the command printed, the files."""
    data_dir = tmp_path / 'box'
    done = cli(tmp_path, 'tls', 'init', '--name', 'poste-public.mediatheque.local', '--ip', '192.168.1.10',
               DATA_DIR=str(data_dir))
    assert done.returncode == 0, done.stderr
    return SimpleNamespace(dir=data_dir, output=done.stdout, files=tls_files(data_dir))


@pytest.fixture
def https(box, live_server):
    files = box.files
    return live_server(TLS_CERT=files['server.pem'], TLS_KEY=files['server.key'], HEADER_TIMEOUT=2,
                       ca_file=files['ca.pem'])


def test_tls_init_writes_an_authority_and_a_server_certificate(box):
    files = box.files
    assert stat.S_IMODE(os.stat(box.dir / 'tls').st_mode) == 0o700
    assert stat.S_IMODE(os.stat(files['ca.key']).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(files['server.key']).st_mode) == 0o600
    fingerprint = tls.fingerprint(files['ca.pem'])
    assert len(fingerprint.split(':')) == 32
    assert f'empreinte SHA-256 : {fingerprint}' in box.output
    assert f'TLS_CERT={files["server.pem"]}' in box.output and f'TLS_KEY={files["server.key"]}' in box.output
    names = tls.subject_names(files['server.pem'])
    assert {'poste-public.mediatheque.local', '192.168.1.10', '127.0.0.1', 'localhost'} <= set(names)
    # The chain verifies with OpenSSL itself, name constraints included.
    context = ssl.create_default_context(cafile=files['ca.pem'])
    assert context.cert_store_stats()['x509_ca'] == 1
    verified = subprocess.run(['openssl', 'verify', '-CAfile', files['ca.pem'], files['server.pem']],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_tls_init_again_keeps_the_authority_and_show_tells_the_expiry(box, tmp_path):
    fingerprint = tls.fingerprint(box.files['ca.pem'])
    again = cli(tmp_path, 'tls', 'init', '--ip', '10.1.2.3', DATA_DIR=str(box.dir))
    assert again.returncode == 0, again.stderr
    assert 'Autorité existante gardée' in again.stdout and tls.fingerprint(box.files['ca.pem']) == fingerprint
    assert '10.1.2.3' in tls.subject_names(box.files['server.pem'])
    # A public name the authority was not made for is refused: it may certify private names only.
    outside = cli(tmp_path, 'tls', 'init', '--name', 'www.example.com', DATA_DIR=str(box.dir))
    assert outside.returncode == 1 and '--new-authority' in outside.stderr
    assert len(outside.stderr.strip().splitlines()) == 1
    shown = cli(tmp_path, 'tls', 'show', DATA_DIR=str(box.dir))
    assert shown.returncode == 0, shown.stderr
    assert fingerprint in shown.stdout
    expires = tls.expiry(box.files['server.pem'])
    assert f'{expires:%d/%m/%Y}' in shown.stdout and 'non activé' in shown.stdout


def test_tls_settings_come_in_pairs(tmp_path, box):
    files = box.files
    alone = cli(tmp_path, 'migrate', TLS_CERT=files['server.pem'])
    assert alone.returncode == 1
    assert alone.stderr.strip() == ('poste-public: configuration error: TLS_KEY: must be set together with '
                                    'TLS_CERT (the server certificate and its private key, PEM files)')
    mismatched = cli(tmp_path, 'serve', '--port', '1', TLS_CERT=files['server.pem'], TLS_KEY=files['ca.key'])
    assert mismatched.returncode == 1 and 'TLS_CERT, TLS_KEY' in mismatched.stderr
    assert 'Traceback' not in mismatched.stderr
    # The settings may be written first: `tls init` then makes the very files they name.
    later = tmp_path / 'plus-tard'
    named = {'TLS_CERT': str(later / 'tls' / 'server.pem'), 'TLS_KEY': str(later / 'tls' / 'server.key')}
    missing = cli(tmp_path, 'serve', '--port', '1', DATA_DIR=str(later), **named)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert missing.stderr.startswith('poste-public: configuration error: TLS_CERT, TLS_KEY: cannot use')
    assert not os.path.exists(later / 'poste_public.db')     # refused before anything was touched
    assert cli(tmp_path, 'tls', 'init', DATA_DIR=str(later), **named).returncode == 0
    assert os.path.exists(named['TLS_CERT']) and os.path.exists(named['TLS_KEY'])


def test_https_and_wss_verified_against_the_local_authority(https):
    status, health = https.request('GET', '/api/health/')      # urllib, verifying the certificate
    assert status == 200 and health['status'] == 'ok'
    assert health['certificate'] == 'ok' and health['certificate_expires']
    poste = https.make_poste()
    ws, sync = kiosk(https, poste, sslopt={'context': https.ssl_context()})
    assert sync['action'] == 'sync' and sync['statut'] == 'disponible'
    ws.close()
    # Without the authority, a client refuses the box: the certificate is not a public one.
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(https.ws_url('/ws/staff/'), timeout=5)


def test_the_tk_kiosk_link_trusts_only_the_given_authority(https, tmp_path):
    poste = https.make_poste()
    env = {'KIOSK_SERVER': https.base_url, 'KIOSK_POSTE': poste['ip_address'], 'KIOSK_TOKEN': poste['kiosk_token']}
    config = load_config(env=env, overrides={'ca': https.ca_file})
    assert config.ws_url.startswith('wss://')
    events = queue.Queue()
    link = Connection(config.ws_url, config.headers, events, sslopt=config.sslopt)
    link.start()
    try:
        assert events.get(timeout=10) == ('connected',)
        kind, message = events.get(timeout=10)
        assert kind == 'message' and message['action'] == 'sync'
    finally:
        link.stop()
    # Another authority (a second box's): the same link refuses the server.
    other = tmp_path / 'other'
    assert cli(tmp_path, 'tls', 'init', DATA_DIR=str(other)).returncode == 0
    stranger = load_config(env=env, overrides={'ca': tls_files(other)['ca.pem']})
    events = queue.Queue()
    link = Connection(stranger.ws_url, stranger.headers, events, sslopt=stranger.sslopt)
    link.start()
    try:
        assert events.get(timeout=10) == ('disconnected', None)
    finally:
        link.stop()
    # --ca is for https:// only, and must be a certificate.
    with pytest.raises(ConfigError, match='https://'):
        load_config(env={**env, 'KIOSK_SERVER': 'http://127.0.0.1:8000'}, overrides={'ca': https.ca_file})
    not_pem = tmp_path / 'x.pem'
    not_pem.write_text('bonjour')
    with pytest.raises(ConfigError, match="n'est pas un certificat PEM"):
        load_config(env=env, overrides={'ca': str(not_pem)})


def raw_exchange(port, data, wait=8):
    with socket.create_connection(('127.0.0.1', port), timeout=wait) as s:
        if data:
            s.sendall(data)
        received = b''
        try:
            while chunk := s.recv(4096):
                received += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return received


def test_plain_http_on_the_tls_port_is_refused_without_a_traceback(https):
    answer = raw_exchange(https.port, b'GET /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    assert answer.startswith(b'HTTP/1.1 400 ')
    assert json.loads(answer.split(b'\r\n\r\n', 1)[1])['detail'].startswith('Ce port parle HTTPS')
    assert b'"status"' not in answer        # nothing of the API was served in clear
    # A client that opens the connection and never says anything is let go too.
    with socket.create_connection(('127.0.0.1', https.port), timeout=10) as idle:
        assert idle.recv(100) == b''
    assert https.request('GET', '/api/health/')[0] == 200
    output = https.output()
    assert 'Traceback' not in output and 'SSLError' not in output and 'HTTP_REQUEST' not in output


def test_a_certificate_near_its_end_is_reported(tmp_path, live_server, browser):
    # An authority and a certificate made 800 days ago: the certificate (825 days) has 25 left.
    made = datetime.now(timezone.utc) - timedelta(days=800)
    box = tmp_path / 'old'
    issued = tls.init(str(box), now=made)
    assert timedelta(days=24) < issued.expires - datetime.utcnow() < timedelta(days=26)
    files = tls_files(box)
    server = live_server(TLS_CERT=files['server.pem'], TLS_KEY=files['server.key'], ca_file=files['ca.pem'])
    status, health = server.request('GET', '/api/health/')
    assert status == 200 and health['certificate'] == 'expires_soon'
    assert f'{issued.expires:%d/%m/%Y}' in health['warnings'][0] and 'tls init' in health['warnings'][0]
    assert 'the HTTPS certificate expires on' in server.output()   # the job's warning, at start and nightly
    # And on the dashboard's backups page, for the administrator.
    server.api('POST', '/api/comptes/', {'username': 'chef', 'password': 'Accueil-Mediatheque-2026',
                                         'role': 'admin'}, expect=201)
    context = browser.new_context(locale='fr-FR', ignore_https_errors=True)
    try:
        page = context.new_page()
        page.goto(server.base_url + '/')
        page.fill('input[name=username]', 'chef')
        page.fill('input[name=password]', 'Accueil-Mediatheque-2026')
        page.click('form button[type=submit]')
        page.click('nav a[href="#/sauvegardes"]')
        expect(page.locator('[data-notice=health]')).to_contain_text(
            f'Le certificat HTTPS du boîtier expire le {issued.expires:%d/%m/%Y}')
    finally:
        context.close()


def loads_cryptography(pid):
    """Whether the process mapped cryptography's compiled core (the bulk of its memory)."""
    with open(f'/proc/{pid}/maps') as f:
        return '/cryptography/hazmat/bindings/' in f.read()


def test_cryptography_is_loaded_only_when_tls_is_on(live, https):
    assert not loads_cryptography(live.process.pid)
    assert loads_cryptography(https.process.pid)
    assert 'certificate' not in live.request('GET', '/api/health/')[1]


def test_the_handshake_has_a_deadline(https):
    with socket.create_connection(('127.0.0.1', https.port), timeout=30) as s:
        s.sendall(b'\x16\x03\x01')      # the first bytes of a TLS hello, then nothing
        assert s.recv(100) == b''        # cut by the server (HEADER_TIMEOUT=2), not by our timeout
