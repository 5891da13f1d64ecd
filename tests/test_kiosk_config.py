"""Kiosk configuration (file + environment), the admin secret's hash, the kept session, the backoff,
and the command line's error paths (in a subprocess: the kiosk is never gevent-patched)."""
import os
import subprocess
import sys

import pytest

from appliance.kiosk.admin import (
    LOCKOUT_SECONDS, MAX_FAILURES, AdminGate, BadHash, hash_secret, parse_hash, verify_secret)
from appliance.kiosk.config import ConfigError, default_state_file, load_config
from appliance.kiosk.connection import BACKOFF_MAX, backoff
from appliance.kiosk.store import SessionStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HASH = hash_secret('maintenance-42')


def write(path, text):
    path.write_text(text, encoding='utf-8')
    return str(path)


def test_file_values_and_environment_overrides(tmp_path):
    path = write(tmp_path / 'kiosk.ini', '[kiosk]\nserver = http://192.168.1.10:8000/\n'
                 'poste = 192.168.1.21\ntoken = from-file\nlibrary_name = Médiathèque du Port\n'
                 'end_command = loginctl terminate-session "$XDG_SESSION_ID" %%\n'
                 'admin_secret_hash = {}\nfullscreen = non\n'.format(HASH))
    config = load_config(path, env={'KIOSK_TOKEN': 'from-env'}, platform='linux')
    assert config.server == 'http://192.168.1.10:8000'
    assert config.ws_url == 'ws://192.168.1.10:8000/ws/poste/192.168.1.21/'
    assert config.headers == {'X-Poste-Token': 'from-env'}
    assert config.library_name == 'Médiathèque du Port'
    assert config.end_command == 'loginctl terminate-session "$XDG_SESSION_ID" %%'   # no interpolation
    assert config.admin_secret_hash == HASH
    assert config.fullscreen is False
    assert 'from-env' not in repr(config) and HASH not in repr(config)


def test_environment_alone_is_enough_and_defaults_apply(tmp_path):
    env = {'KIOSK_SERVER': 'https://pp.example.org', 'KIOSK_POSTE': 'fe80::1',
           'XDG_CONFIG_HOME': str(tmp_path), 'XDG_STATE_HOME': str(tmp_path / 'state')}
    config = load_config(env=env, platform='linux')
    assert config.ws_url == 'wss://pp.example.org/ws/poste/fe80%3A%3A1/'
    assert config.headers == {}                       # KIOSK_AUTH=ip servers need no token
    assert config.fullscreen is True and config.library_name == 'Bibliothèque'
    assert config.state_file == str(tmp_path / 'state' / 'poste-public' / 'kiosk-session.json')


def test_the_users_file_is_found_by_default(tmp_path):
    os.makedirs(tmp_path / 'poste-public')
    write(tmp_path / 'poste-public' / 'kiosk.ini', '[kiosk]\nserver = http://10.0.0.1:8000\n'
          'poste = 10.0.0.2\n')
    config = load_config(env={'XDG_CONFIG_HOME': str(tmp_path)}, platform='linux')
    assert config.poste == '10.0.0.2'


def test_windows_default_paths():
    env = {'LOCALAPPDATA': r'C:\Users\public\AppData\Local'}
    assert default_state_file(env, 'win32').startswith(r'C:\Users\public\AppData\Local')


@pytest.mark.parametrize('body, words', [
    ('[kiosk]\nposte = 10.0.0.2\n', 'server (KIOSK_SERVER)'),
    ('[kiosk]\nserver = 10.0.0.1:8000\nposte = 10.0.0.2\n', 'server (KIOSK_SERVER)'),
    ('[kiosk]\nserver = http://10.0.0.1\n', 'poste (KIOSK_POSTE)'),
    ('[kiosk]\nserver = http://10.0.0.1\nposte = a\nadmin_secret = hunter2hunter2\n', 'en clair'),
    ('[kiosk]\nserver = http://10.0.0.1\nposte = a\nadmin_secret_hash = hunter2\n', 'scrypt'),
    ('[kiosk]\nserver = http://10.0.0.1\nposte = a\nfullscreen = peut-être\n', 'fullscreen'),
    ('[kiosk]\nserver = http://10.0.0.1\nposte = a\nserveur = x\n', 'clé inconnue serveur'),
    ('[kiosk]\nserver = http://10.0.0.1\nposte = a\nhome_page = catalogue\n', 'home_page (KIOSK_HOME_PAGE)'),
    ('[autre]\nserver = http://10.0.0.1\n', 'pas de section [kiosk]'),
    ('server = http://10.0.0.1\n', 'lecture impossible'),
])
def test_bad_configuration_is_one_clear_line(tmp_path, body, words):
    path = write(tmp_path / 'kiosk.ini', body)
    with pytest.raises(ConfigError) as error:
        load_config(path, env={}, platform='linux')
    assert words in str(error.value) and '\n' not in str(error.value)


def test_a_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match='introuvable'):
        load_config(str(tmp_path / 'absent.ini'), env={}, platform='linux')


def test_secret_hash_round_trip_and_salt():
    assert verify_secret('maintenance-42', HASH)
    assert not verify_secret('maintenance-43', HASH)
    assert hash_secret('maintenance-42') != HASH                 # salted
    assert 'maintenance-42' not in HASH


@pytest.mark.parametrize('text', [
    'plain', 'scrypt$16384$8$1$c2FsdA==', 'scrypt$x$8$1$c2FsdA==$ZGlnZXN0ZGlnZXN0ZGlnZXN0',
    'scrypt$1000$8$1$c2FsdA==$ZGlnZXN0ZGlnZXN0ZGlnZXN0',         # N not a power of two
    'scrypt$1048576$8$1$c2FsdA==$ZGlnZXN0ZGlnZXN0ZGlnZXN0',      # 1 GiB of memory
    'scrypt$16384$8$1$!!!$ZGlnZXN0ZGlnZXN0ZGlnZXN0'])
def test_malformed_hashes_are_refused(text):
    with pytest.raises(BadHash):
        parse_hash(text)


class Clock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now


def test_admin_gate_locks_out_after_repeated_failures():
    clock = Clock()
    gate = AdminGate(HASH, clock)
    assert gate.enabled
    for _ in range(MAX_FAILURES):
        assert not gate.try_secret('wrong')
    assert gate.seconds_locked() == LOCKOUT_SECONDS
    assert not gate.try_secret('maintenance-42')                 # even the right one, for now
    clock.now += LOCKOUT_SECONDS
    assert gate.try_secret('maintenance-42')


def test_admin_gate_without_hash_never_opens():
    gate = AdminGate('', Clock())
    assert not gate.enabled and not gate.try_secret('')


def test_session_store_round_trip_and_bad_files(tmp_path):
    store = SessionStore(str(tmp_path / 'deep' / 'session.json'))
    assert store.load() is None
    store.save('ABC234', 1_800_000_000.5)
    assert store.load() == ('ABC234', 1_800_000_000.5)
    store.forget()
    assert store.load() is None
    store.forget()                                               # twice: no error
    for body in ('{"code": "ABC234"', '[]', '{"code": 5, "deadline": 1}', '{"code": "A"}'):
        with open(store.path, 'w') as f:
            f.write(body)
        assert store.load() is None


def test_backoff_doubles_up_to_a_cap_with_jitter():
    assert [backoff(n, rand=lambda: 0.5) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(50, rand=lambda: 0.5) == BACKOFF_MAX
    assert backoff(1, rand=lambda: 0.0) == pytest.approx(0.8)
    assert backoff(1, rand=lambda: 1.0) == pytest.approx(1.2)


def run_cli(*args, stdin='', env=None):
    return subprocess.run([sys.executable, '-m', 'appliance', 'kiosk', *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **(env or {})))


def test_cli_hash_secret_reads_stdin():
    done = run_cli('hash-secret', stdin='maintenance-42\n')
    assert done.returncode == 0, done.stderr
    assert verify_secret('maintenance-42', done.stdout.strip())


def test_cli_hash_secret_refuses_a_short_secret():
    done = run_cli('hash-secret', stdin='court\n')
    assert done.returncode == 1 and 'au moins 8' in done.stderr and not done.stdout


def test_cli_configuration_error_is_one_line(tmp_path):
    done = run_cli('--config', str(tmp_path / 'absent.ini'))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        'poste-public kiosk: fichier de configuration introuvable : {}'.format(tmp_path / 'absent.ini')]


def test_cli_without_a_display_is_one_line(tmp_path):
    path = write(tmp_path / 'kiosk.ini', '[kiosk]\nserver = http://127.0.0.1:9\nposte = a\n'
                 'state_file = {}\n'.format(tmp_path / 's.json'))
    env = {k: v for k, v in os.environ.items() if k != 'DISPLAY'}
    done = subprocess.run([sys.executable, '-m', 'appliance', 'kiosk', '--config', path], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("poste-public kiosk: impossible d'ouvrir l'écran")
    assert 'Traceback' not in done.stderr
