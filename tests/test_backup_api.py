"""/api/backups/ for the dashboard (admin only) and the "backup" field of /api/health/."""
import os
import shutil
import time

import gevent
import pytest

from appliance.backup import service
from tests import support
from tests.support import log_actions
from tests.test_backup import populate

ROUTES = [('GET', '/api/backups/'), ('POST', '/api/backups/'),
          ('GET', '/api/backups/poste-public-20260105-090000Z.tar.gz/')]


@pytest.fixture
def desk(client, admin, admin_token, ctx):
    return populate(client, admin_token, ctx)


def test_run_list_and_download(client, ctx, desk, admin_token):
    empty = client.get('/api/backups/', token=admin_token)
    assert empty.status == 200 and empty.json['count'] == 0 and empty.json['usb'] is None
    made = client.post('/api/backups/', token=admin_token)
    assert made.status == 201, made
    body = made.json
    assert body == {'name': 'poste-public-20260105-090000Z.tar.gz', 'destination': 'local',
                    'size': os.path.getsize(os.path.join(ctx.config.backup_dir, body['name'])),
                    'created_at': '2026-01-05T09:00:00+00:00', 'encrypted': False, 'verified': True,
                    'detail': None, 'usb': None}
    listed = client.get('/api/backups/', token=admin_token).json
    assert listed['count'] == 1 and listed['results'][0] == {k: v for k, v in body.items() if k != 'usb'}
    download = client.get(f'/api/backups/{body["name"]}/', token=admin_token)
    assert download.status == 200
    assert download.headers['Content-Type'] == 'application/octet-stream'
    assert f'filename="{body["name"]}"' in download.headers['Content-Disposition']
    assert download.headers['Cache-Control'] == 'private, no-store'
    with open(os.path.join(ctx.config.backup_dir, body['name']), 'rb') as f:
        assert download.body == f.read()
    assert log_actions(action='sauvegarde') == ['sauvegarde', 'sauvegarde']   # made, then downloaded


@pytest.mark.parametrize('method, path', ROUTES)
def test_admins_only(client, desk, staff_token, method, path):
    assert client.request(method, path).status == 401
    assert client.request(method, path, token=staff_token).status == 403


def test_one_at_a_time(client, desk, admin_token):
    assert service._running.acquire(blocking=False)
    try:
        busy = client.post('/api/backups/', token=admin_token)
    finally:
        service._running.release()
    assert busy.status == 409 and busy.json['detail'] == 'Une sauvegarde est déjà en cours.'


@pytest.mark.parametrize('name', [
    '..', '...', 'poste_public.db', 'secret_key', 'poste-public-20260105-090000Z.tar.gz.bak',
    'poste-public-20260105-090000Z.tar', '.poste-public-20260105-090000Z.tar.gz.1.tmp',
    'poste-public-20260105-090000Z-1.tar.gz', 'POSTE-PUBLIC-20260105-090000Z.TAR.GZ',
    'poste-public-20260105-090000Z.tar.gz%00', '%2e%2e%2fpostes_public.db', 'poste-public-20991231-235959Z.tar.gz'])
def test_download_names_are_strict(client, ctx, desk, admin_token, name):
    client.post('/api/backups/', token=admin_token)
    secret = b'do-not-serve-me'
    for where in (ctx.config.data_dir, ctx.config.backup_dir):
        with open(os.path.join(where, 'secret_key'), 'wb') as f:
            f.write(secret)
    response = client.get(f'/api/backups/{name}/', token=admin_token)
    assert response.status == 404 and secret not in response.body
    assert response.json['detail'] in ('Sauvegarde introuvable.', 'Introuvable.')


def test_failure_is_a_clear_500(client, ctx, desk, admin_token):
    os.makedirs(ctx.config.data_dir, exist_ok=True)
    with open(ctx.config.backup_dir, 'w') as f:    # BACKUP_DIR is a file: nothing can be written
        f.write('x')
    response = client.post('/api/backups/', token=admin_token)
    assert response.status == 500
    assert response.json['detail'].startswith('Échec de la sauvegarde : dossier de sauvegarde')


def test_archives_not_yet_read_are_checked_in_the_background(client, ctx, desk, admin_token):
    made = client.post('/api/backups/', token=admin_token).json
    source = os.path.join(ctx.config.backup_dir, made['name'])
    copied = os.path.join(ctx.config.backup_dir, 'poste-public-20260104-090000Z.tar.gz')
    broken = os.path.join(ctx.config.backup_dir, 'poste-public-20260103-090000Z.tar.gz')
    shutil.copy(source, copied)
    with open(source, 'rb') as f, open(broken, 'wb') as out:
        out.write(f.read()[:-50])
    first = {a['name']: a for a in client.get('/api/backups/', token=admin_token).json['results']}
    assert first[made['name']]['verified'] is True
    assert first[os.path.basename(copied)]['verified'] is None
    assert first[os.path.basename(broken)]['verified'] is None
    deadline = time.monotonic() + 20
    while True:
        later = {a['name']: a for a in client.get('/api/backups/', token=admin_token).json['results']}
        if all(a['verified'] is not None for a in later.values()) or time.monotonic() > deadline:
            break
        gevent.sleep(0.05)
    assert later[os.path.basename(copied)]['verified'] is True
    assert later[os.path.basename(broken)]['verified'] is False
    assert 'tronquée' in later[os.path.basename(broken)]['detail']
    assert [a['name'] for a in client.get('/api/backups/', token=admin_token).json['results']] == \
        [made['name'], os.path.basename(copied), os.path.basename(broken)]


def test_usb_state_is_listed(desk, tmp_path):
    ctx = support.make_context(tmp_path, BACKUP_USB_DIR=tmp_path / 'nowhere')
    client = support.Client(support.make_app(ctx))
    token = client.login('admin')
    made = client.post('/api/backups/', token=token)
    assert made.status == 201
    assert made.json['usb'] == {'copied': False, 'problem': made.json['usb']['problem']}
    assert made.json['usb']['problem'].startswith('clé USB absente')
    listed = client.get('/api/backups/', token=token).json
    assert listed['usb']['folder'] == str(tmp_path / 'nowhere')
    assert listed['usb']['problem'].startswith('clé USB absente')


def test_health_reports_the_backup(client, ctx, desk, admin_token):
    assert client.get('/api/health/').json['backup'] == 'none'
    client.post('/api/backups/', token=admin_token)
    assert client.get('/api/health/').json['backup'] == 'ok'
    ctx.clock.advance(27 * 3600)
    health = client.get('/api/health/')
    assert health.status == 503 and health.json['backup'] == 'stale' and 'backup' in health.json['detail']
