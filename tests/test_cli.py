"""The command line as an installer uses it (README, docs/configuration.md): exit codes and one
clear line."""
import os
import pathlib
import subprocess
import sys

from tests import support
from tests.live import LiveServer, free_port


def run(args, data_dir, env=None, cwd=None, input_text=None, timeout=60):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_'))}
    environment.update({'DATA_DIR': str(data_dir)})
    environment.update(env or {})
    return subprocess.run([sys.executable, '-m', 'appliance', *args], cwd=cwd or str(data_dir),
                          env=environment, capture_output=True, text=True, timeout=timeout,
                          input=input_text)


def db_env(tmp_path, name):
    return {'DATABASE_URL': support.database_url(name, tmp_path)}


def test_migrate_is_idempotent(tmp_path):
    env = db_env(tmp_path, f'cli{os.getpid()}a')
    first = run(['migrate'], tmp_path, env)
    assert first.returncode == 0, first.stderr
    assert '0001_initial' in first.stdout
    second = run(['migrate'], tmp_path, env)
    assert second.returncode == 0 and 'à jour' in second.stdout


def test_default_database_is_sqlite_in_data_dir(tmp_path):
    result = run(['migrate'], tmp_path / 'data', {'DATABASE_URL': ''}, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'data' / 'poste_public.db').exists()
    key = tmp_path / 'data' / 'secret_key'
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600


def test_createsuperuser_noinput_then_login(tmp_path):
    env = {**db_env(tmp_path, f'cli{os.getpid()}b'), 'SUPERUSER_PASSWORD': 'Tres-bon-secret-2026'}
    result = run(['createsuperuser', '--username', 'marie', '--email', 'marie@example.org', '--noinput'],
                 tmp_path, env)
    assert result.returncode == 0, result.stderr
    duplicate = run(['createsuperuser', '--username', 'marie', '--email', 'm@example.org', '--noinput'],
                    tmp_path, env)
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip().count('\n') == 0 and 'existe déjà' in duplicate.stderr
    weak = run(['createsuperuser', '--username', 'paul', '--noinput'], tmp_path,
               {**env, 'SUPERUSER_PASSWORD': '1234'})
    assert weak.returncode == 1 and 'Traceback' not in weak.stderr and '10 caractères' in weak.stderr
    missing = run(['createsuperuser', '--username', 'paul', '--noinput'], tmp_path,
                  {**env, 'SUPERUSER_PASSWORD': ''})
    assert missing.returncode == 1 and 'SUPERUSER_PASSWORD' in missing.stderr

    server = LiveServer(tmp_path, DATABASE_URL=env['DATABASE_URL']).start()
    try:
        status, body = server.request('POST', '/api/auth/login/',
                                      {'username': 'marie', 'password': 'Tres-bon-secret-2026'})
        assert status == 200 and body['user']['role'] == 'admin'
        # An account existed: no generated admin.
        assert not (tmp_path / 'initial_admin_password').exists()
    finally:
        server.stop()


def test_createsuperuser_prompts_twice(tmp_path):
    env = db_env(tmp_path, f'cli{os.getpid()}c')
    script = ('import sys, getpass\n'
              'answers = iter(sys.stdin.read().splitlines())\n'
              'getpass.getpass = lambda prompt="": next(answers)\n'
              'from appliance.__main__ import main\n'
              'sys.exit(main(["createsuperuser", "--username", "luc"]))\n')
    environment = {**os.environ, 'DATA_DIR': str(tmp_path), **env}
    differ = subprocess.run([sys.executable, '-c', script], input='Secret-tres-long-1\nAutre-chose-22\n',
                            env=environment, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert differ.returncode == 1 and 'differ' in differ.stderr
    same = subprocess.run([sys.executable, '-c', script], input='Secret-tres-long-1\nSecret-tres-long-1\n',
                          env=environment, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert same.returncode == 0, same.stderr


def test_first_start_keeps_the_admin_password_in_its_file_only(live):
    """The console (stdout and stderr: what the system journal records) names the file, never the
    password; the file is readable by the service's account only."""
    server = live
    password = server.initial_password()
    path = pathlib.Path(server.data_dir) / 'initial_admin_password'
    assert (path.stat().st_mode & 0o777) == 0o600
    output = server.output()
    assert password not in output
    assert f'Son mot de passe est dans {path}' in output
    status, login = server.request('POST', '/api/token/', {'username': 'admin', 'password': password})
    token = login['access']
    status, me = server.request('GET', '/api/auth/me/', token=token)
    assert me['must_change_password'] is True
    # Until it is changed, the API answers nothing else to that account.
    status, refused = server.request('GET', '/api/postes/', token=token)
    assert status == 403 and refused['must_change_password'] is True
    assert 'mot de passe initial' in refused['detail']
    status, _ = server.request('POST', '/api/auth/change-password/',
                               {'old_password': password, 'new_password': 'Nouveau-mot-2026!'}, token=token)
    assert status == 204
    status, login = server.request('POST', '/api/token/', {'username': 'admin', 'password': 'Nouveau-mot-2026!'})
    status, postes = server.request('GET', '/api/postes/', token=login['access'])
    assert status == 200 and postes['count'] == 0
    assert not path.exists()


def test_wait_for_db(tmp_path):
    ok = run(['wait_for_db', '--timeout', '5'], tmp_path)
    assert ok.returncode == 0
    down = run(['wait_for_db', '--timeout', '1'], tmp_path,
               {'DATABASE_URL': 'postgresql://nobody@127.0.0.1:1/nothing'})
    assert down.returncode == 1
    assert down.stderr.strip().startswith('poste-public: error:') and 'Traceback' not in down.stderr


def test_bad_configuration_stops_with_one_line_naming_the_variable(tmp_path):
    for name, value in (('WARNING_TIMES', 'dix'), ('KIOSK_AUTH', 'badge'), ('HEARTBEAT_TIMEOUT', '-3'),
                        ('BACKUP_KEEP', 'x'), ('DEBUG', 'peut-être'), ('DATABASE_URL', 'oracle://x')):
        result = run(['migrate'], tmp_path, {name: value})
        assert result.returncode == 1, name
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], result.stderr


def test_dotenv_in_working_directory_is_read(tmp_path):
    (tmp_path / '.env').write_text('# réglages\nexport WARNING_TIMES="dix"\n')
    result = run(['migrate'], tmp_path, cwd=str(tmp_path))
    assert result.returncode == 1 and 'WARNING_TIMES' in result.stderr


def test_serve_with_unreachable_database_fails_cleanly(tmp_path):
    result = run(['serve', '--port', str(free_port())], tmp_path,
                 {'DATABASE_URL': 'postgresql://nobody@127.0.0.1:1/nothing'}, timeout=60)
    assert result.returncode == 1
    assert 'database unreachable' in result.stderr and 'Traceback' not in result.stderr
    assert 'nobody' not in result.stderr or '***' in result.stderr


def test_seed_postgres_variables_select_postgresql(tmp_path):
    from appliance.config import Config
    config = Config.load(environ={'DATA_DIR': str(tmp_path), 'POSTGRES_DB': 'poste_public',
                                  'POSTGRES_USER': 'admin', 'POSTGRES_PASSWORD': 'p@ss',
                                  'DB_HOST': 'db', 'DB_PORT': '5433'}, cwd=str(tmp_path))
    assert config.database_url == 'postgresql://admin:p%40ss@db:5433/poste_public'
