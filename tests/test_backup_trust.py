"""Archives that can be trusted (docs/backup.md): authenticated by the box's secret (or the
passphrase), refused when forged unless accepted as foreign, checked in bounded memory, downloaded
only as regular files, and encryption recommended when it is off."""
import gzip
import io
import os
import tarfile
import tracemalloc

import pytest

from appliance.backup import archive, service
from tests import support
from tests.test_backup import PASSPHRASE, dump, populate, reseal, restore_archive, rewrite, take_backup

MIB = 1024 * 1024


@pytest.fixture
def desk(client, admin, admin_token, ctx):
    return populate(client, admin_token, ctx)


def another_box(ctx, tmp_path, **env):
    """The same database seen by a box with a secret of its own."""
    other = support.make_context(tmp_path / 'autre', SECRET_KEY='une-autre-cle-secrete-de-boitier-' + 'z' * 20,
                                 **env)
    other.clock = ctx.clock
    return other


def refused_as_foreign(ctx, path, passphrase=''):
    with pytest.raises(archive.ArchiveError) as error:
        restore_archive(ctx, path, passphrase)
    assert error.value.reason == 'unauthenticated'
    assert 'étrangère' in str(error.value)


# -- authenticity ------------------------------------------------------------------------------------

def test_a_forged_plain_archive_is_refused_unless_accepted_as_foreign(ctx, desk):
    path = take_backup(ctx).path

    def forge(content):   # a forger with every checksum recomputed, but not the box's secret
        content['data/compte/00001.jsonl'] = content['data/compte/00001.jsonl'].replace(b'"admin"', b'"pirate"')
        return reseal(content)
    rewrite(path, forge)
    assert archive.read(path, '')                    # sound as far as checksums go...
    before = dump()
    refused_as_foreign(ctx, path)                    # ...but not this box's
    assert dump() == before
    assert service.check(path, ctx.config).startswith('archive étrangère')
    restore_archive(ctx, path, foreign=True)         # the operator's explicit choice
    assert [row[1] for row in dump()['compte']] == ['pirate']
    from appliance import db
    from appliance.models import Log
    with db.database.connection_context():
        entry = Log.select().where(Log.action == 'restauration').get()
    assert entry.metadata_dict['etrangere_acceptee'] is True


def test_an_archive_without_its_hmac_or_with_another_is_foreign(ctx, desk):
    path = take_backup(ctx).path
    rewrite(path, lambda content: {k: v for k, v in content.items() if k != 'manifest.hmac'})
    refused_as_foreign(ctx, path)
    path = take_backup(ctx).path
    rewrite(path, lambda content: {**content, 'manifest.hmac': b'0' * 64})
    refused_as_foreign(ctx, path)


def test_a_new_box_with_another_secret_needs_foreign_for_a_plain_archive(ctx, desk, tmp_path):
    path = take_backup(ctx).path
    restore_archive(ctx, path)                       # its own box: fine
    other = another_box(ctx, tmp_path)
    refused_as_foreign(other, path)
    assert restore_archive(other, path, foreign=True) > 0


def test_an_encrypted_archive_is_authenticated_by_its_passphrase(ctx, desk, tmp_path):
    """A new box given the passphrase restores it without --foreign: the GCM tag is a MAC keyed from
    the passphrase, which a forger does not have."""
    before = dump()
    config = support.make_config(ctx.config.data_dir, BACKUP_PASSPHRASE=PASSPHRASE)
    from appliance import db
    with db.database.connection_context():
        path = service.run(config, now=ctx.clock.now()).path
    other = another_box(ctx, tmp_path, BACKUP_PASSPHRASE=PASSPHRASE)
    restore_archive(other, path, PASSPHRASE)
    assert dump() == before


# -- bounded memory ------------------------------------------------------------------------------------

def crafted(path, header_type, declared, body_size):
    """An archive named like ours whose first member is a header of `header_type` declaring
    `declared` bytes, followed by `body_size` zero bytes: a few hundred KiB on the disk."""
    info = tarfile.TarInfo('././@PaxHeader' if header_type == tarfile.XHDTYPE else 'data/poste/00001.jsonl')
    info.type, info.size = header_type, declared
    header = info.tobuf(format=tarfile.USTAR_FORMAT if header_type == tarfile.REGTYPE else tarfile.GNU_FORMAT)
    with open(path, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9) as gz:
        gz.write(header)
        zeros = bytes(MIB)
        for _ in range(body_size // MIB):
            gz.write(zeros)
        gz.write(bytes(1024))   # the end-of-archive blocks
    return path


def peak_while(function):
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize('header_type, label', [(tarfile.XHDTYPE, 'pax'), (tarfile.GNUTYPE_LONGNAME, 'gnu'),
                                                (tarfile.REGTYPE, 'big member')])
def test_listing_checks_a_crafted_archive_in_bounded_memory(ctx, header_type, label):
    os.makedirs(ctx.config.backup_dir, exist_ok=True)
    path = crafted(os.path.join(ctx.config.backup_dir, 'poste-public-20260101-000000Z.tar.gz'),
                   header_type, 256 * MIB, 256 * MIB)
    assert os.path.getsize(path) < 2 * MIB
    verdict, peak = peak_while(lambda: service.check(path, ctx.config))
    assert verdict and verdict.startswith(('archive corrompue', 'archive incomplète', "ce fichier n'est pas"))
    assert peak < 16 * MIB, f'{label}: {peak / MIB:.0f} MiB'


# -- downloads ---------------------------------------------------------------------------------------

def test_download_serves_regular_files_only(client, ctx, desk, admin_token, tmp_path):
    made = client.post('/api/backups/', token=admin_token).json
    folder = ctx.config.backup_dir
    link = 'poste-public-20250101-000000Z.tar.gz'
    os.symlink(os.path.join(ctx.config.data_dir, 'secret_key'), os.path.join(folder, link))
    os.symlink(os.path.join(folder, made['name']), os.path.join(folder, 'poste-public-20250102-000000Z.tar.gz'))
    os.mkfifo(os.path.join(folder, 'poste-public-20250103-000000Z.tar.gz'))
    for name in (link, 'poste-public-20250102-000000Z.tar.gz', 'poste-public-20250103-000000Z.tar.gz'):
        answer = client.get(f'/api/backups/{name}/', token=admin_token)
        assert answer.status == 404 and answer.json['detail'] == 'Sauvegarde introuvable.', name
    assert [b['name'] for b in client.get('/api/backups/', token=admin_token).json['results']] == [made['name']]
    good = client.get(f'/api/backups/{made["name"]}/', token=admin_token)
    with open(os.path.join(folder, made['name']), 'rb') as f:
        assert good.status == 200 and good.body == f.read()


# -- encryption, recommended loudly ------------------------------------------------------------------------

def test_the_listing_recommends_encryption_when_it_is_off(client, ctx, desk, admin_token, tmp_path):
    listed = client.get('/api/backups/', token=admin_token).json
    assert listed['encryption']['enabled'] is False
    assert 'BACKUP_PASSPHRASE' in listed['encryption']['warning'] and 'chiffrées' in listed['encryption']['warning']
    encrypted = support.make_context(tmp_path / 'chiffre', BACKUP_PASSPHRASE=PASSPHRASE)
    encrypted_client = support.Client(support.make_app(encrypted))
    answer = encrypted_client.get('/api/backups/', token=encrypted_client.login('admin')).json
    assert answer['encryption'] == {'enabled': True, 'warning': None}


def test_a_tar_written_by_the_writer_has_plain_headers_only(ctx, desk):
    """What the reader accepts is what the writer writes: ustar headers, regular files."""
    path = take_backup(ctx).path
    with open(path, 'rb') as f:
        data = gzip.decompress(f.read())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert all(member.type == tarfile.REGTYPE and not member.pax_headers for member in tar)
