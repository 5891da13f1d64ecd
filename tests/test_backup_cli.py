"""`poste-public backup / backups / restore` as an installer runs them (subprocesses)."""
import os
import pty
import subprocess
import sys

import pytest
from gevent.monkey import get_original

from tests import support
from tests.test_cli import run

PASSWORD = 'Tres-bon-secret-2026'


class Box:
    """A DATA_DIR and its database, driven through the command line only."""

    def __init__(self, tmp_path, name, **env):
        self.dir = tmp_path
        self.schema = f'{name}{os.getpid()}'
        self.url = support.database_url(self.schema, tmp_path)
        self.env = {'DATABASE_URL': self.url, **{k: str(v) for k, v in env.items()}}

    def run(self, *args, env=None, input_text=None):
        return run(list(args), self.dir, {**self.env, **(env or {})}, input_text=input_text)

    def add_admin(self, username):
        result = self.run('createsuperuser', '--username', username, '--noinput',
                          env={'SUPERUSER_PASSWORD': PASSWORD})
        assert result.returncode == 0, result.stderr

    def query(self, sql):
        if self.url.startswith('sqlite'):
            import sqlite3
            with sqlite3.connect(self.url[len('sqlite:///'):]) as conn:
                return conn.execute(sql).fetchall()
        import psycopg
        with psycopg.connect(self.url.split('?')[0], autocommit=True) as conn:
            conn.execute(f'SET search_path TO {self.schema}')
            return conn.execute(sql).fetchall()

    def accounts(self):
        return [name for (name,) in self.query('SELECT username FROM compte ORDER BY username')]

    def backup(self, *args, env=None):
        result = self.run('backup', *args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[0]


@pytest.fixture
def box(tmp_path):
    box = Box(tmp_path, 'clibk')
    box.add_admin('marie')
    yield box
    support.drop_schema(box.schema)


def one_line_error(result):
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('poste-public: error:'), result.stderr
    assert 'Traceback' not in result.stderr
    return lines[0]


ADVICE = 'poste-public: ATTENTION : Les sauvegardes ne sont pas chiffrées'


def test_backup_prints_its_path_and_backups_lists_it(box):
    result = box.run('backup')
    # No progress noise off a terminal; one line recommending encryption, loudly.
    assert result.returncode == 0 and result.stderr.startswith(ADVICE) and result.stderr.count('\n') == 1
    assert 'BACKUP_PASSPHRASE' in result.stderr
    path = result.stdout.strip()
    assert os.path.dirname(path) == str(box.dir / 'backups') and os.path.isfile(path)
    listing = box.run('backups')
    assert listing.returncode == 0, listing.stderr
    header, line = listing.stdout.strip().splitlines()
    assert header.split()[:4] == ['date', 'taille', 'vérifiée', 'où']
    assert ' oui ' in line and ' local ' in line and line.endswith(os.path.basename(path))
    assert listing.stderr.startswith(ADVICE)
    secret = {'BACKUP_PASSPHRASE': 'la phrase de passe de la bibliothèque'}
    assert box.run('backup', env=secret).stderr == ''
    assert ADVICE not in box.run('backups', env=secret).stderr


def test_backup_to_another_folder(box, tmp_path):
    target = tmp_path / 'ailleurs' / 'ici'
    path = box.backup('--to', str(target))
    assert os.path.dirname(path) == str(target)
    assert not (box.dir / 'backups').exists()


def test_restore_replaces_everything(box):
    path = box.backup()
    box.add_admin('paul')
    assert box.accounts() == ['marie', 'paul']
    result = box.run('restore', path, '--yes')
    assert result.returncode == 0, result.stderr
    assert 'vérifiée' in result.stdout and '1 entrée(s) du journal' in result.stdout
    assert 'Restauration terminée' in result.stdout
    assert box.accounts() == ['marie']
    assert box.query("SELECT COUNT(*) FROM log WHERE action = 'restauration'") == [(1,)]


def test_restore_asks_before_replacing(box):
    path = box.backup()
    box.add_admin('paul')
    line = one_line_error(box.run('restore', path))
    assert '--yes' in line
    assert box.accounts() == ['marie', 'paul']


def test_restore_into_a_new_box_needs_foreign(box, tmp_path):
    """A new box has a secret of its own: it cannot prove the old box's plain archive, and says so;
    --foreign restores it after saying plainly what it is about to do."""
    path = box.backup()
    fresh = Box(tmp_path / 'neuve', 'clinew')
    os.makedirs(fresh.dir)
    try:
        fresh.add_admin('nouvel')
        line = one_line_error(fresh.run('restore', path, '--yes'))
        assert 'archive étrangère' in line and '--foreign' in line and 'nothing was changed' in line
        assert fresh.accounts() == ['nouvel']
        result = fresh.run('restore', path, '--yes', '--foreign')
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith('ATTENTION : archive étrangère.')
        assert 'remplaceront tout ce que contient ce boîtier' in result.stdout
        assert fresh.accounts() == ['marie']
        entry = fresh.query("SELECT metadata FROM log WHERE action = 'restauration'")
        assert '"etrangere_acceptee": true' in entry[0][0]
        # The same box, with the old box's secret: its own archive, no --foreign needed.
        secret = (box.dir / 'secret_key').read_text().strip()
        result = fresh.run('restore', path, '--yes', env={'SECRET_KEY': secret})
        assert result.returncode == 0 and 'ATTENTION' not in result.stdout, result.stderr
    finally:
        support.drop_schema(fresh.schema)


def test_a_forged_archive_on_the_stick_is_refused(box, tmp_path):
    """Someone who can write on the USB stick rewrites an archive, checksums included: without the
    box's secret the forgery shows."""
    from tests.test_backup import reseal, rewrite
    path = box.backup()
    box.add_admin('paul')

    def forge(content):
        content['data/compte/00001.jsonl'] = content['data/compte/00001.jsonl'].replace(b'marie', b'pirate')
        return reseal(content)
    rewrite(path, forge)
    line = one_line_error(box.run('restore', path, '--yes'))
    assert 'archive étrangère' in line and '--foreign' in line
    assert box.accounts() == ['marie', 'paul']
    listing = box.run('backups')
    assert listing.returncode == 1 and 'NON : archive étrangère' in listing.stdout


@pytest.mark.parametrize('damage, message', [
    (lambda data: data[:len(data) // 2], 'tronquée'),
    (lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:], None),
    (lambda data: b'%PDF-1.4 not a backup', "n'est pas une sauvegarde Poste Public"),
    (lambda data: b'', 'vide'),
])
def test_damaged_archives_are_refused_and_nothing_changes(box, damage, message):
    path = box.backup()
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(damage(data))
    box.add_admin('paul')
    line = one_line_error(box.run('restore', path, '--yes'))
    assert 'nothing was changed' in line
    if message:
        assert message in line
    assert box.accounts() == ['marie', 'paul']
    listing = box.run('backups')
    assert listing.returncode == 1 and 'NON' in listing.stdout
    assert 'do not verify' in listing.stderr


def test_missing_file(box):
    assert 'fichier illisible' in one_line_error(box.run('restore', str(box.dir / 'absent.tar.gz'), '--yes'))


def test_encrypted_archives_need_the_right_passphrase(box):
    secret = {'BACKUP_PASSPHRASE': 'la phrase de passe de la bibliothèque'}
    path = box.backup(env=secret)
    assert path.endswith('.tar.gz.enc')
    with open(path, 'rb') as f:
        assert b'marie' not in f.read()
    box.add_admin('paul')
    assert 'phrase de passe incorrecte' in one_line_error(
        box.run('restore', path, '--yes', env={'BACKUP_PASSPHRASE': 'une autre phrase'}))
    assert 'définissez BACKUP_PASSPHRASE' in one_line_error(box.run('restore', path, '--yes'))
    assert box.accounts() == ['marie', 'paul']
    assert box.run('restore', path, '--yes', env=secret).returncode == 0
    assert box.accounts() == ['marie']


def test_absent_usb_stick_is_a_warning_not_a_failure(box):
    result = box.run('backup', env={'BACKUP_USB_DIR': str(box.dir / 'media' / 'usb')})
    assert result.returncode == 0
    assert os.path.isfile(result.stdout.strip())
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 2 and warning[0].startswith('poste-public: warning: clé USB absente')
    assert warning[1].startswith(ADVICE)


def test_progress_is_shown_on_a_terminal(box):
    close = get_original('os', 'close')   # gevent's would close the terminal only later: no EOF
    master, slave = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('POSTGRES_', 'DB_'))}
    environment.update({'DATA_DIR': str(box.dir), **box.env})
    process = subprocess.Popen([sys.executable, '-m', 'appliance', 'backup'], cwd=str(box.dir),
                               env=environment, stdout=subprocess.PIPE, stderr=slave)
    close(slave)
    shown = b''
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait(60) == 0
    close(master)
    assert b'Sauvegarde : 100 %' in shown and b'Lecture : 100 %' in shown
