"""Where archives go: BACKUP_DIR always, the USB stick when it is really there; rotation and
retention; the nightly job."""
import os
import subprocess
import time
from datetime import timedelta

import gevent
import pytest

from appliance import db
from appliance.backup import archive, service, store
from appliance.models import Log
from appliance.scheduler import Scheduler, write_state
from tests import support
from tests.test_backup import populate


@pytest.fixture
def mount(tmp_path):
    """mount(name, size, readonly) -> a folder on a tmpfs of its own (a stand-in for a USB stick);
    skipped where this user may not mount."""
    mounted = []

    def make(name, size='8m', readonly=False):
        target = tmp_path / name
        target.mkdir()
        options = f'size={size}' + (',ro' if readonly else '')
        result = subprocess.run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', str(target)],
                                capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f'cannot mount a tmpfs as a stand-in USB stick ({result.stderr.strip()})')
        mounted.append(target)
        return target
    yield make
    for target in mounted:
        # A folder the backup left open would make this fail: the stick could not be removed.
        result = subprocess.run(['umount', str(target)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def backup(ctx_config, clock):
    with db.database.connection_context():
        return service.run(ctx_config, now=clock.now())


def audit_entries():
    with db.database.connection_context():
        return [(e.details, e.metadata_dict) for e in Log.select().where(Log.action == 'sauvegarde').order_by(Log.id)]


@pytest.fixture
def desk(client, admin, admin_token, ctx):
    return populate(client, admin_token, ctx)


def test_usb_copy_is_written_and_checked(ctx, desk, tmp_path, mount):
    usb = mount('usb')
    config = support.make_config(tmp_path, BACKUP_USB_DIR=usb)
    result = backup(config, ctx.clock)
    assert result.usb_problem is None and result.usb_path == str(usb / result.name)
    assert open(result.usb_path, 'rb').read() == open(result.path, 'rb').read()
    assert os.listdir(usb) == [result.name]
    archive.read(result.usb_path, '')
    details, metadata = audit_entries()[-1]
    assert 'Copie faite sur la clé USB' in details and metadata['cle_usb'] is True
    assert [d for d, *_ in service.catalog(config)] == ['local', 'usb']


@pytest.mark.parametrize('case', ['absent', 'unmounted'])
def test_absent_or_unmounted_stick_is_reported_and_the_local_backup_made(ctx, desk, tmp_path, case):
    usb = tmp_path / 'media' / 'usb'
    if case == 'unmounted':
        usb.mkdir(parents=True)   # the empty mount point, on the box's own disk
    config = support.make_config(tmp_path, BACKUP_USB_DIR=usb)
    result = backup(config, ctx.clock)
    assert os.path.exists(result.path) and result.usb_path is None
    assert result.usb_problem.startswith('clé USB absente' if case == 'absent' else 'clé USB non montée')
    assert '\n' not in result.usb_problem and str(usb) in result.usb_problem
    if case == 'unmounted':
        assert os.listdir(usb) == []     # nothing written to the SD card by mistake
    details, metadata = audit_entries()[-1]
    assert result.usb_problem in details and metadata['erreur_cle_usb'] == result.usb_problem
    with db.database.connection_context():
        assert service.freshness(ctx.clock.now()) == 'ok'     # the local backup counts
    assert [d for d, *_ in service.catalog(config)] == ['local']


def test_read_only_stick(ctx, desk, tmp_path, mount):
    usb = mount('usb', readonly=True)
    config = support.make_config(tmp_path, BACKUP_USB_DIR=usb)
    result = backup(config, ctx.clock)
    assert os.path.exists(result.path)
    assert result.usb_problem == f'clé USB {usb} : en lecture seule'


def test_full_stick(ctx, desk, tmp_path, mount):
    usb = mount('usb', size='64k')
    with open(usb / 'filler', 'wb', buffering=0) as f:
        try:
            while True:
                f.write(b'\0' * 4096)
        except OSError:
            pass
    config = support.make_config(tmp_path, BACKUP_USB_DIR=usb)
    result = backup(config, ctx.clock)
    assert os.path.exists(result.path)
    assert result.usb_problem.startswith('clé USB pleine'), result.usb_problem
    # Had the space run out during the copy, the half-written file would be gone as well.
    with pytest.raises(OSError) as error:
        store.copy(result.path, str(usb), result.name, 'x')
    assert store.describe_os_error(error.value) == 'support plein'
    assert os.listdir(usb) == ['filler']


def test_a_copy_that_reads_back_wrong_is_removed(ctx, desk, tmp_path, mount, monkeypatch):
    usb = mount('usb')
    monkeypatch.setattr(store, 'file_sha256', lambda path: 'bad')
    result = backup(support.make_config(tmp_path, BACKUP_USB_DIR=usb), ctx.clock)
    assert result.usb_path is None and 'diffère' in result.usb_problem
    assert os.listdir(usb) == []


def test_rotation_keeps_backup_keep_per_destination(ctx, desk, tmp_path, mount):
    usb = mount('usb')
    config = support.make_config(tmp_path, BACKUP_USB_DIR=usb, BACKUP_KEEP=3)
    names = []
    for _ in range(5):
        names.append(backup(config, ctx.clock).name)
        ctx.clock.advance(86400)
    assert sorted(os.listdir(config.backup_dir)) == names[-3:]
    assert sorted(os.listdir(usb)) == names[-3:]


def test_archives_older_than_the_log_retention_go(ctx, desk, tmp_path):
    config = support.make_config(tmp_path, LOG_RETENTION_DAYS=2)
    first = backup(config, ctx.clock).name
    ctx.clock.advance(86400)
    second = backup(config, ctx.clock).name
    ctx.clock.advance(2 * 86400)
    third = backup(config, ctx.clock).name
    assert sorted(os.listdir(config.backup_dir)) == [second, third]
    assert first not in os.listdir(config.backup_dir)


def test_prune_keeps_other_files_and_fresh_temporaries(tmp_path):
    folder = tmp_path / 'b'
    folder.mkdir()
    for name in ('notes.txt', 'poste-public-20260101-000000Z.tar.gz.bak', '.poste-public-x.tar.gz.1.tmp',
                 '.poste-public-y.tar.gz.1.tmp', 'poste-public-20250101-000000Z.tar.gz'):
        (folder / name).write_text('x')
    old = time.time() - store.STALE_TEMP_SECONDS - 60
    os.utime(folder / '.poste-public-y.tar.gz.1.tmp', (old, old))
    now = store.created_at('poste-public-20260105-000000Z.tar.gz')
    assert store.prune(str(folder), 14, 365, now) == ['poste-public-20250101-000000Z.tar.gz']
    assert sorted(os.listdir(folder)) == ['.poste-public-x.tar.gz.1.tmp', 'notes.txt',
                                          'poste-public-20260101-000000Z.tar.gz.bak']


def test_backup_dir_that_cannot_be_written(ctx, desk, tmp_path, mount):
    target = mount('ro', readonly=True)
    with pytest.raises(service.BackupFailed) as failure:
        with db.database.connection_context():
            service.run(ctx.config, now=ctx.clock.now(), to=str(target))
    assert 'lecture seule' in failure.value.detail


# -- the scheduler ---------------------------------------------------------------------------------

def wait_for(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out'
        gevent.sleep(0.05)


def test_nightly_backup_at_two_and_caught_up_after_a_night_off(ctx, desk):
    scheduler = Scheduler(ctx)
    assert scheduler.daily_jobs['backup'][0] == 2
    with db.database.connection_context():
        scheduler.run_daily_jobs()       # first start: the first run is the next 02:00
    gevent.sleep(0.2)
    assert not store.archives(ctx.config.backup_dir)
    with db.database.connection_context():
        write_state('daily:backup', (ctx.clock.now() - timedelta(days=2)).isoformat())
        scheduler.run_daily_jobs()       # the box was off at 02:00: caught up now
    wait_for(lambda: store.archives(ctx.config.backup_dir) and not service._running.locked())
    with db.database.connection_context():
        assert service.freshness(ctx.clock.now()) == 'ok'


def test_a_failed_nightly_backup_is_logged_and_shows_in_health(ctx, desk, tmp_path, caplog):
    blocked = tmp_path / 'file'
    blocked.write_text('x')
    ctx = support.make_context(tmp_path, BACKUP_DIR=blocked / 'backups')
    service.run_scheduled(ctx)
    assert 'backup failed' in caplog.text
    assert audit_entries()[-1][0].startswith('Échec de la sauvegarde')
    with db.database.connection_context():
        assert service.freshness(ctx.clock.now()) == 'stale'


def test_daily_purge_removes_archives_past_the_retention(ctx, desk, tmp_path, mount):
    usb = mount('usb')
    ctx = support.make_context(tmp_path, BACKUP_USB_DIR=usb, LOG_RETENTION_DAYS=30)
    for folder in (ctx.config.backup_dir, str(usb)):
        os.makedirs(folder, exist_ok=True)
        for name in ('poste-public-20251101-020000Z.tar.gz', 'poste-public-20260101-020000Z.tar.gz'):
            with open(os.path.join(folder, name), 'w') as f:
                f.write('x')
    with db.database.connection_context():
        Scheduler(ctx).purge()
    for folder in (ctx.config.backup_dir, str(usb)):
        assert os.listdir(folder) == ['poste-public-20260101-020000Z.tar.gz']
