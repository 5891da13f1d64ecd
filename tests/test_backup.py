"""Backup archives: what they hold, how they are checked, and restoring them in process.

Helpers here (populate, dump, take_backup, restore_archive) are shared by the other test_backup_* files.
"""
import gzip
import io
import json
import os
import tarfile
from datetime import date, datetime

import pytest
from peewee import OperationalError

from appliance import db
from appliance.backup import archive, restore, service, store, tables
from appliance.models import AuthSession, Compte, Log, Poste, Session, Utilisateur
from tests import support
from tests.test_utilisateurs import png_bytes, upload

PASSPHRASE = 'une phrase de passe assez longue'


# -- helpers ------------------------------------------------------------------------------------

def populate(client, token, ctx):
    """A small desk with every kind of value: nulls, booleans, dates, microseconds, odd text, a photo,
    a running session."""
    poste = client.make_poste(token)
    client.make_poste(token, nom='Poste « 2 »', ip='192.168.1.12', emplacement='Salle d’étude\n1er étage')
    alice = client.make_visitor(token, date_naissance='1990-05-04', type_piece_identite='cni',
                                piece_identite_verifiee=True, notes='Émoji 🙂 "guillemets" \\ barre')
    client.make_visitor(token, nom='Zoé', prenom='Bob', email='', telephone='0600000000')
    assert upload(client, token, alice['id'], png_bytes(padding=3000)).status == 200
    session = client.make_session(token, alice['id'], poste['id'])
    assert client.kiosk_validate(poste['kiosk_token'], session['code_acces']).status == 200
    with db.database.connection_context():
        with db.writing():
            Log.create(action='connexion_poste', details='ligne 1\nligne 2\ttab', metadata='{"a": [1, null]}',
                       ip_address=None, utilisateur=None,
                       created_at=datetime(2025, 3, 1, 12, 30, 45, 123456))
    return {'poste': poste, 'alice': alice, 'session': session}


def dump():
    """Every saved table as Python values, for comparisons (restore entries left out)."""
    with db.database.connection_context():
        result = {}
        for model in tables.MODELS:
            query = model.select().order_by(model._meta.primary_key)
            if model is Log:
                query = query.where(Log.action != 'restauration')
            result[model._meta.table_name] = list(query.tuples())
        return result


def take_backup(ctx, **kw):
    with db.database.connection_context():
        return service.run(ctx.config, now=ctx.clock.now(), **kw)


def restore_archive(ctx, path, passphrase='', foreign=False, **kw):
    """Check then restore, as `poste-public restore` does; `foreign` as its --foreign."""
    key = archive.mac_key(ctx.config.secret_key)
    with db.database.connection_context():
        manifest, authentic = restore.check(path, passphrase, key=key, foreign=foreign, **kw)
        return restore.apply(path, manifest, ctx.config, now=ctx.clock.now(), operateur='test',
                             passphrase=passphrase, key=key, foreign=not authentic, **kw)


def members(path):
    with tarfile.open(path, 'r:gz') as tar:
        return {info.name: tar.extractfile(info).read() for info in tar}


def rewrite(path, change):
    """Rewrite a plain archive with `change(members)` applied (a forger's tool)."""
    content = change(members(path))
    # The manifest and its HMAC stay last.
    order = sorted(content, key=lambda name: {'manifest.json': 1, 'manifest.hmac': 2}.get(name, 0))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name in order:
            data = content[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open(path, 'wb') as f:
        f.write(buffer.getvalue())


def reseal(content):
    """Recompute the manifest's checksums after a change, as a careful forger would."""
    manifest = json.loads(content['manifest.json'])
    for name, data in content.items():
        if name not in ('manifest.json', 'manifest.hmac'):
            manifest['files'][name] = {'size': len(data), 'sha256': __import__('hashlib').sha256(data).hexdigest()}
    content['manifest.json'] = json.dumps(manifest).encode()
    return content


@pytest.fixture
def desk(client, admin, admin_token, ctx):
    return populate(client, admin_token, ctx)


# -- the archive ----------------------------------------------------------------------------------

def test_archive_holds_a_manifest_the_rows_and_the_photos(ctx, desk):
    result = take_backup(ctx)
    assert os.path.dirname(result.path) == ctx.config.backup_dir
    assert store.NAME.fullmatch(result.name) and result.name.endswith('.tar.gz')
    content = members(result.path)
    assert list(content)[-2:] == ['manifest.json', 'manifest.hmac']
    manifest = json.loads(content['manifest.json'])
    assert manifest['format'] == 'poste-public-backup' and manifest['format_version'] == 2
    assert manifest['schema_version'] == db.schema_version() and manifest['app_version']
    assert manifest['engine'] == ('sqlite' if db.is_sqlite() else 'postgresql')
    assert manifest['created_at'] == '2026-01-05T09:00:00+00:00'
    assert set(manifest['tables']) == set(tables.layout()) >= {'compte', 'utilisateur', 'poste', 'poste_session',
                                                               'log', 'state', 'demande_temps', 'charte'}
    assert 'authsession' not in json.dumps(manifest)     # logins are not data
    assert manifest['tables']['utilisateur']['rows'] == 2 and manifest['photos'] == 1
    assert set(manifest['files']) == set(content) - {'manifest.json', 'manifest.hmac'}
    photo = [name for name in content if name.startswith('photos/')]
    assert len(photo) == 1 and content[photo[0]] == png_bytes(padding=3000)
    # Values are typed the same on both engines: ISO dates, true/false, null.
    alice = [json.loads(line) for line in content['data/utilisateur/00001.jsonl'].splitlines()][0]
    columns = [name for name, _ in manifest['tables']['utilisateur']['columns']]
    row = dict(zip(columns, alice))
    assert row['date_naissance'] == '1990-05-04' and row['piece_identite_verifiee'] is True
    assert row['created_at'] == '2026-01-05T09:00:00' and row['derniere_session'] is not None
    assert row['notes'] == 'Émoji 🙂 "guillemets" \\ barre'
    logs = [dict(zip([c for c, _ in manifest['tables']['log']['columns']], json.loads(line)))
            for line in content['data/log/00001.jsonl'].splitlines()]
    assert {'created_at': '2025-03-01T12:30:45.123456', 'ip_address': None}.items() <= logs[-1].items()
    # Written atomically: no temporary file is left behind.
    assert os.listdir(ctx.config.backup_dir) == [result.name]
    assert (os.stat(result.path).st_mode & 0o777) == 0o600


def test_big_tables_are_split_into_members(ctx, admin, monkeypatch):
    monkeypatch.setattr(archive, 'ROWS_PER_MEMBER', 3)
    with db.database.connection_context(), db.writing():
        for i in range(7):
            Log.create(action='purge', details=str(i))
    result = take_backup(ctx)
    names = sorted(n for n in members(result.path) if n.startswith('data/log/'))
    assert names == ['data/log/00001.jsonl', 'data/log/00002.jsonl', 'data/log/00003.jsonl']
    assert archive.read(result.path, '')['tables']['log']['rows'] == 7


def test_a_backup_writes_one_audit_entry_and_counts_for_health(ctx, desk):
    assert service.freshness(ctx.clock.now()) == 'none'
    result = take_backup(ctx, operateur='admin')
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'sauvegarde').get()
    assert result.name in entry.details and entry.operateur == 'admin'
    assert entry.metadata_dict['lignes']['utilisateur'] == 2 and entry.metadata_dict['cle_usb'] is False
    with db.database.connection_context():
        assert service.freshness(ctx.clock.now()) == 'ok'
        ctx.clock.advance(26 * 3600 + 1)
        assert service.freshness(ctx.clock.now()) == 'stale'


def test_a_failed_backup_is_recorded_and_leaves_nothing(ctx, desk, tmp_path):
    blocked = tmp_path / 'not-a-folder'
    blocked.write_text('x')
    with pytest.raises(service.BackupFailed) as failure:
        take_backup(ctx, to=str(blocked / 'sub'))
    assert 'Échec de la sauvegarde' in failure.value.detail
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'sauvegarde').get()
        assert entry.details.startswith('Échec de la sauvegarde')
        assert service.freshness(ctx.clock.now()) == 'stale'   # tried, and nothing to show for it


def test_one_backup_at_a_time(ctx, admin):
    assert service._running.acquire(blocking=False)
    try:
        with pytest.raises(service.Conflict):
            take_backup(ctx)
    finally:
        service._running.release()
    assert take_backup(ctx).size > 0


# -- verification: every damage is refused with one clear reason ------------------------------------

@pytest.fixture
def plain(ctx, desk):
    return take_backup(ctx).path


def refused(path, passphrase='', reason=None):
    with pytest.raises(archive.ArchiveError) as error:
        archive.read(path, passphrase)
    if reason:
        assert error.value.reason == reason, str(error.value)
    assert '\n' not in str(error.value)
    return error.value


def test_a_good_archive_verifies(plain):
    manifest = archive.read(plain, '')
    assert manifest['tables']['poste']['rows'] == 2


def test_truncated_archives_are_refused(plain):
    data = open(plain, 'rb').read()
    for keep in (len(data) - 1, len(data) // 2, 30):
        with open(plain, 'wb') as f:
            f.write(data[:keep])
        assert refused(plain).reason in ('truncated', 'corrupt')
    with open(plain, 'wb') as f:
        f.write(data[:len(data) // 2])
    assert 'tronquée' in str(refused(plain, reason='truncated'))


def test_a_flipped_byte_is_refused(plain):
    data = bytearray(open(plain, 'rb').read())
    data[len(data) // 2] ^= 0x01
    with open(plain, 'wb') as f:
        f.write(data)
    assert refused(plain).reason in ('corrupt', 'truncated', 'foreign')


def test_a_member_changed_without_its_checksum_is_refused(plain):
    def change(content):
        content['data/poste/00001.jsonl'] = content['data/poste/00001.jsonl'].replace(b'Poste 1', b'Poste 9')
        return content
    rewrite(plain, change)
    assert 'data/poste/00001.jsonl' in str(refused(plain, reason='corrupt'))


def test_a_removed_member_or_row_is_refused(plain):
    rewrite(plain, lambda content: {k: v for k, v in content.items() if not k.startswith('photos/')})
    refused(plain, reason='corrupt')


def test_a_row_removed_with_resealed_checksums_is_refused(plain):
    def change(content):
        data = content['data/poste/00001.jsonl']
        content['data/poste/00001.jsonl'] = data[:data.index(b'\n') + 1]
        return reseal(content)
    rewrite(plain, change)
    assert 'poste' in str(refused(plain, reason='corrupt'))


def test_garbage_after_the_archive_is_refused(plain):
    with open(plain, 'ab') as f:
        f.write(b'\x00garbage')
    refused(plain)


def test_foreign_files_are_refused(tmp_path):
    cases = {'empty': b'', 'text': b'hello, world\n', 'pdf': b'%PDF-1.4\n' + b'x' * 100,
             'gzip': gzip.compress(b'not a tar at all' * 100)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        info = tarfile.TarInfo('etc/passwd')
        info.size = 4
        tar.addfile(info, io.BytesIO(b'root'))
    cases['other tar'] = buffer.getvalue()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        data = json.dumps({'format': 'something-else'}).encode()
        info = tarfile.TarInfo('manifest.json')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    cases['other manifest'] = buffer.getvalue()
    for label, data in cases.items():
        path = tmp_path / 'file'
        path.write_bytes(data)
        error = refused(str(path))
        assert error.reason in ('foreign', 'empty'), (label, error)
    assert refused(str(tmp_path / 'missing')).reason == 'unreadable'


def test_a_newer_format_is_refused(plain):
    def change(content):
        manifest = json.loads(content['manifest.json'])
        manifest['format_version'] = 99
        content['manifest.json'] = json.dumps(manifest).encode()
        return content
    rewrite(plain, change)
    assert 'plus récente' in str(refused(plain, reason='newer_format'))


def test_path_tricks_in_member_names_are_refused(plain):
    for evil in ('photos/../../etc/x', '../manifest.json', 'photos/.hidden', '/data/log/00001.jsonl'):
        def change(content, evil=evil):
            content[evil] = b'x'
            return reseal(content)
        rewrite(plain, change)
        refused(plain)


# -- encryption ------------------------------------------------------------------------------------

@pytest.fixture
def encrypted(ctx, desk, tmp_path):
    """The path of an encrypted archive of the desk."""
    config = support.make_config(tmp_path, BACKUP_PASSPHRASE=PASSPHRASE)
    with db.database.connection_context():
        return service.run(config, now=ctx.clock.now()).path


def test_encrypted_archives_reveal_nothing(encrypted):
    assert encrypted.endswith('.tar.gz.enc')
    data = open(encrypted, 'rb').read()
    assert data.startswith(b'PPBACKUP')
    for secret in (b'Alice', b'Martin', b'manifest', b'utilisateur', b'poste', b'"rows"', b'IHDR'):
        assert secret not in data
    with pytest.raises(tarfile.ReadError):
        tarfile.open(encrypted, 'r:*')
    manifest = archive.read(encrypted, PASSPHRASE)
    assert manifest['tables']['utilisateur']['rows'] == 2
    assert archive.encrypted(encrypted)


def test_wrong_or_missing_passphrase(encrypted):
    assert 'phrase de passe incorrecte' in str(refused(encrypted, 'pas la bonne', reason='passphrase'))
    assert 'BACKUP_PASSPHRASE' in str(refused(encrypted, '', reason='no_passphrase'))


def test_any_change_to_an_encrypted_archive_is_detected(encrypted):
    original = open(encrypted, 'rb').read()
    header = 8 + 4 + 16 + 12 + 32
    for position in (12, header - 33, header + 5, len(original) // 2, len(original) - 20, len(original) - 1):
        data = bytearray(original)
        data[position] ^= 0x80
        with open(encrypted, 'wb') as f:
            f.write(data)
        assert refused(encrypted, PASSPHRASE).reason in ('tampered', 'passphrase'), position
    for keep in (len(original) - 1, len(original) - 17, header + 10, 20):
        with open(encrypted, 'wb') as f:
            f.write(original[:keep])
        assert refused(encrypted, PASSPHRASE).reason in ('tampered', 'truncated'), keep
    with open(encrypted, 'wb') as f:
        f.write(original + b'more')
    refused(encrypted, PASSPHRASE, reason='tampered')


def test_the_passphrase_is_compared_as_unicode_text(ctx, desk, tmp_path):
    composed, decomposed = 'bibliothèque municipale', 'bibliothe\u0300que municipale'
    config = support.make_config(tmp_path, BACKUP_PASSPHRASE=composed)
    with db.database.connection_context():
        path = service.run(config, now=ctx.clock.now()).path
    assert archive.read(path, decomposed)['tables']['poste']['rows'] == 2


def test_each_archive_has_its_own_salt_and_nonce(ctx, desk, tmp_path):
    config = support.make_config(tmp_path, BACKUP_PASSPHRASE=PASSPHRASE)
    with db.database.connection_context():
        first = service.run(config, now=ctx.clock.now()).path
        second = service.run(config, now=ctx.clock.now()).path
    assert first != second and second.endswith('-2.tar.gz.enc')
    assert open(first, 'rb').read()[8:72] != open(second, 'rb').read()[8:72]


# -- restoring (same engine) -----------------------------------------------------------------------

def test_round_trip_restores_every_value(ctx, desk, client, admin_token):
    before = dump()
    result = take_backup(ctx)
    # Life goes on after the backup...
    client.make_poste(admin_token, nom='Poste 3', ip='192.168.1.13')
    client.post(f'/api/sessions/{desk["session"]["id"]}/terminate/', {}, token=admin_token)
    with db.database.connection_context(), db.writing():
        Utilisateur.update(photo=None).execute()
    highest_log = max(row[0] for row in dump()['log'])
    rows = restore_archive(ctx, result.path)
    assert rows == sum(len(v) for v in before.values())
    assert dump() == before
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'restauration').get()
        assert result.name in entry.details and entry.operateur == 'test'
        # Ids are never reused: new rows go past both the restored and the discarded ids.
        assert entry.id > highest_log
        new = Poste.create(nom='Après', ip_address='10.9.9.9')
        assert new.id > max(p[0] for p in before['poste']) + 1
        alice = Utilisateur.get_by_id(desk['alice']['id'])
        assert alice.date_naissance == date(1990, 5, 4) and alice.piece_identite_verifiee is True
        assert Session.get_by_id(desk['session']['id']).statut == 'active'
    assert os.listdir(ctx.config.photos_dir) == [alice.photo]
    with open(os.path.join(ctx.config.photos_dir, alice.photo), 'rb') as f:
        assert f.read() == png_bytes(padding=3000)
    # No scratch folders left in DATA_DIR.
    assert not [n for n in os.listdir(ctx.config.data_dir) if n.startswith('.')]


def test_restore_ends_every_login(ctx, desk, admin_token, tmp_path):
    result = take_backup(ctx)
    restore_archive(ctx, result.path)
    with db.database.connection_context():
        assert AuthSession.select().count() == 0
    # The service restarted after the restore (docs/backup.md) knows no login: staff sign in again.
    restarted = support.Client(support.make_app(support.make_context(tmp_path)))
    assert restarted.get('/api/auth/me/', token=admin_token).status == 401
    assert restarted.login('admin')


def test_encrypted_round_trip(ctx, desk, tmp_path):
    before = dump()
    config = support.make_config(tmp_path, BACKUP_PASSPHRASE=PASSPHRASE)
    with db.database.connection_context():
        path = service.run(config, now=ctx.clock.now()).path
        with db.writing():
            Poste.delete().where(Poste.nom != 'Poste 1').execute()
    restore_archive(ctx, path, PASSPHRASE)
    assert dump() == before


def test_refused_archives_change_nothing(ctx, desk, plain, tmp_path):
    before, photos = dump(), os.listdir(ctx.config.photos_dir)
    data = open(plain, 'rb').read()
    with open(plain, 'wb') as f:
        f.write(data[:len(data) - 100])
    with pytest.raises(archive.ArchiveError):
        restore_archive(ctx, plain)
    assert dump() == before and os.listdir(ctx.config.photos_dir) == photos


def test_a_forged_value_rolls_everything_back(ctx, desk, plain):
    """Checksums are not authenticity: a forged plain archive accepted as foreign (--foreign) with a
    bad value fails inside the transaction, and the live data stays."""
    def change(content):
        manifest = json.loads(content['manifest.json'])
        columns = [c for c, _ in manifest['tables']['log']['columns']]
        line = json.loads(content['data/log/00001.jsonl'].splitlines()[0])
        line[columns.index('created_at')] = 'hier soir'
        content['data/log/00002.jsonl'] = (json.dumps(line) + '\n').encode()
        manifest['tables']['log']['rows'] += 1
        content['manifest.json'] = json.dumps(manifest).encode()
        return reseal(content)
    rewrite(plain, change)
    before, photos = dump(), os.listdir(ctx.config.photos_dir)
    with pytest.raises(restore.RestoreError) as error:
        restore_archive(ctx, plain, foreign=True)
    assert 'log' in str(error.value) and 'date' in str(error.value)
    assert dump() == before and os.listdir(ctx.config.photos_dir) == photos


def test_a_newer_schema_is_refused(ctx, desk, plain):
    def change(content):
        manifest = json.loads(content['manifest.json'])
        manifest['schema_version'] = db.schema_version() + 1   # a schema this version does not know
        content['manifest.json'] = json.dumps(manifest).encode()
        return content
    rewrite(plain, change)
    with pytest.raises(restore.RestoreError) as error:
        restore_archive(ctx, plain, foreign=True)
    assert 'plus récente' in str(error.value) and 'mettez' in str(error.value)


def test_a_failing_commit_puts_the_photos_back(ctx, desk, plain, monkeypatch):
    photos = os.listdir(ctx.config.photos_dir)
    with db.database.connection_context(), db.writing():
        Compte.create(username='apres', password_hash='x')
    before = dump()
    real = db.database.obj

    def commit():
        monkeypatch.undo()
        raise OperationalError('disk I/O error')
    monkeypatch.setattr(real, 'commit', commit)
    with pytest.raises(restore.RestoreError) as error:
        restore_archive(ctx, plain)
    assert 'disk I/O error' in str(error.value)
    assert dump() == before and os.listdir(ctx.config.photos_dir) == photos
    assert not [n for n in os.listdir(ctx.config.data_dir) if n.startswith('.')]
