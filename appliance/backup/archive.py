"""The archive file: a gzip-compressed tar, encrypted as a whole when a passphrase is set.

Members, in this order:
    data/<table>/00001.jsonl   rows as JSON lists, in the order of the manifest's columns, 10,000 a member
    photos/<file name>         the visitors' photos that the saved rows name
    manifest.json              once every member's checksum is known
    manifest.hmac              plain archives: HMAC-SHA256 of the manifest, keyed from the box's secret

It is written in one streaming pass (bounded memory, no temporary copies) and read the same way
(tarstream.py: member by member, in chunks). `read()` checks every byte: the gzip CRC, each
member's size and SHA-256 against the manifest, row counts, and the archive's authenticity: the
manifest's HMAC for a plain archive, the GCM tag (keyed from the passphrase) for an encrypted one.
Checksums alone would not stop a forger, who can recompute them; the HMAC needs the box's secret.
An archive this box did not write (another box, or this one before its secret changed) is refused
as 'unauthenticated' unless the caller accepts it explicitly (`restore --foreign`). Failures raise
ArchiveError with a message a librarian can act on.
"""
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import tarfile
import zlib
from datetime import timezone

from appliance.backup import tables
from appliance.backup.tarstream import TarFormatError, TarReader
from appliance.clock import iso

FORMAT_NAME = 'poste-public-backup'
FORMAT_VERSION = 2      # 2: plain archives carry manifest.hmac
ROWS_PER_MEMBER = 10_000
COMPRESS_LEVEL = 6
MAX_MEMBER_BYTES = 64 * 1024 * 1024     # what a restore may hold in memory of one member
MAX_MANIFEST_BYTES = 8 * 1024 * 1024    # tens of thousands of photos; parsed whole, so bounded
MANIFEST = 'manifest.json'
MAC = 'manifest.hmac'
DATA_MEMBER = re.compile(r'data/([a-z_][a-z0-9_]{0,62})/(\d{5})\.jsonl\Z')
PHOTO_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z')
IDENTIFIER = re.compile(r'[a-z_][a-z0-9_]{0,62}\Z')
PHOTO_COLUMN = ('utilisateur', 'photo')   # the rows that name a file under DATA_DIR/photos

MESSAGES = {
    'unreadable': 'fichier illisible',
    'empty': 'le fichier est vide',
    'foreign': "ce fichier n'est pas une sauvegarde Poste Public",
    'truncated': 'archive incomplète (tronquée) : la copie a été interrompue ou le support était plein',
    'corrupt': 'archive corrompue : son contenu ne correspond plus à ses sommes de contrôle',
    'tampered': 'archive chiffrée endommagée, tronquée ou modifiée : elle ne peut pas être utilisée',
    'passphrase': 'phrase de passe incorrecte pour cette archive chiffrée (BACKUP_PASSPHRASE)',
    'no_passphrase': 'archive chiffrée : définissez BACKUP_PASSPHRASE pour la lire',
    'newer_format': "archive créée par une version plus récente de Poste Public : mettez l'application à jour",
    'unauthenticated': "archive étrangère : elle n'a pas été écrite par ce boîtier, ou sa clé secrète a changé "
                       "depuis (rien ne prouve qu'elle n'a pas été fabriquée ou modifiée)",
}


def mac_key(secret_key):
    """The key of plain archives' HMAC, derived from the box's SECRET_KEY (never the key itself)."""
    return hmac.new(secret_key.encode('utf-8'), b'poste-public archive authentication', hashlib.sha256).digest()


def _mac(key, manifest_bytes):
    return hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest().encode('ascii')


def _crypto():
    # `cryptography` (several MB in memory) is loaded when an archive is encrypted or read, not
    # by the serving process at start-up.
    from appliance.backup import crypto
    return crypto


class ArchiveError(Exception):
    def __init__(self, reason, detail=None):
        message = MESSAGES.get(reason, reason)
        super().__init__(f'{message} ({detail})' if detail else message)
        self.reason = reason


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(',', ':')).encode


class _HashingFile:
    """Counts and hashes what goes to the file, so a copy can be checked against it."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.raw.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def flush(self):
        pass


def write(out, snap, photos_dir, *, passphrase, created_at, app_version, progress=None, key=None):
    """Write the archive of `snap` (an open Snapshot) and of the photos it names to `out`; a plain
    one is authenticated with `key` (mac_key() of the box's secret).

    Returns (manifest, size, sha256 of the file's bytes, names of photos missing from the disk)."""
    hashing = _HashingFile(out)
    sink = _crypto().EncryptingWriter(hashing, passphrase) if passphrase else hashing
    mtime = int(created_at.replace(tzinfo=timezone.utc).timestamp())
    gz = gzip.GzipFile(filename='', mode='wb', fileobj=sink, compresslevel=COMPRESS_LEVEL, mtime=mtime)
    # USTAR: plain headers only, which is all the reader (tarstream.py) accepts.
    tar = tarfile.open(fileobj=gz, mode='w|', format=tarfile.USTAR_FORMAT)
    files = {}

    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), mtime, 0o600
        tar.addfile(info, io.BytesIO(data))
        files[name] = {'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}

    layout = tables.layout()
    total = sum(snap.count(table) for table in layout) or 1
    done, photo_names, saved_tables = 0, set(), {}
    for table, cols in layout.items():
        names = [name for name, _ in cols]
        rows = snap.rows(table, names)
        if table == PHOTO_COLUMN[0]:
            rows = _noting(rows, names.index(PHOTO_COLUMN[1]), photo_names)
        count = 0
        for part, lines in enumerate(_chunks(rows, tables.encoder([kind for _, kind in cols])), 1):
            add(f'data/{table}/{part:05d}.jsonl', ('\n'.join(lines) + '\n').encode('utf-8'))
            count += len(lines)
            if progress:
                progress(f'Sauvegarde : {(done + count) * 100 // total} % des lignes')
        done += count
        saved_tables[table] = {'columns': [list(c) for c in cols], 'rows': count}

    missing = []
    for name in sorted(photo_names):
        try:
            if not PHOTO_NAME.match(name):
                raise FileNotFoundError(name)
            with open(os.path.join(photos_dir, name), 'rb') as f:
                add(f'photos/{name}', f.read())
        except FileNotFoundError:
            missing.append(name)   # deleted or replaced since the snapshot: nothing to keep
    if progress:
        progress('Sauvegarde : 100 % des lignes, photos comprises')

    manifest = {
        'format': FORMAT_NAME,
        'format_version': FORMAT_VERSION,
        'schema_version': snap.schema_version(),
        'app_version': app_version,
        'engine': snap.engine,
        'created_at': iso(created_at),
        'tables': saved_tables,
        'photos': len(photo_names) - len(missing),
        'files': files,
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode('utf-8')
    last = [(MANIFEST, data)]
    if key is not None and not passphrase:
        last.append((MAC, _mac(key, data)))
    for name, content in last:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), mtime, 0o600
        tar.addfile(info, io.BytesIO(content))
    tar.close()
    gz.close()
    if passphrase:
        sink.finish()
    return manifest, hashing.size, hashing.sha256.hexdigest(), missing


def _chunks(rows, encode):
    """The rows as JSON lines, ROWS_PER_MEMBER at a time."""
    lines = []
    for row in rows:
        lines.append(_dumps(encode(row)))
        if len(lines) == ROWS_PER_MEMBER:
            yield lines
            lines = []
    if lines:
        yield lines


def _noting(rows, index, names):
    """The rows unchanged; the photo file named in column `index` of each is added to `names`."""
    for row in rows:
        if row[index]:
            names.add(row[index])
        yield row


# -- reading ------------------------------------------------------------------------------------

def encrypted(path):
    """True when the file starts like an encrypted archive."""
    with open(path, 'rb') as f:
        return f.read(len(_crypto().MAGIC)) == _crypto().MAGIC


def read(path, passphrase, on_rows=None, on_photo=None, progress=None, *, key=None, foreign=False):
    """Read the whole archive and check it; returns its manifest. Raises ArchiveError.

    With `key` (mac_key() of the box's secret), an archive whose authenticity cannot be shown is
    refused ('unauthenticated') unless `foreign` is true. Without it authenticity is not looked at.
    on_rows(table, data) gets each data member's bytes and on_photo(name, data) each photo, as they
    come: they may only act in ways that can be undone (a transaction, a temporary folder) until
    read() has returned, since the checks complete at the very end. Without them, members are only
    hashed, a chunk at a time: checking an archive takes little memory whatever it holds."""
    manifest, authentic = verify(path, passphrase, on_rows, on_photo, progress, key=key)
    if key is not None and not authentic and not foreign:
        raise ArchiveError('unauthenticated')
    return manifest


def verify(path, passphrase, on_rows=None, on_photo=None, progress=None, *, key=None):
    """(manifest, authentic): like read(), but an archive that is sound and merely foreign is not
    refused; `authentic` says whether it is this box's (None when no `key` was given)."""
    try:
        f = open(path, 'rb')
    except OSError as exc:
        raise ArchiveError('unreadable', exc.strerror) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(len(_crypto().MAGIC))
        f.seek(0)
        if not head:
            raise ArchiveError('empty')
        envelope = None
        if head == _crypto().MAGIC:
            try:
                envelope = _crypto().DecryptingReader(f, size, passphrase)
            except _crypto().EnvelopeError as exc:
                raise ArchiveError(exc.reason if exc.reason != 'format' else 'newer_format') from None
        elif not head.startswith(b'\x1f\x8b'):
            raise ArchiveError('foreign')
        try:
            manifest, mac_ok = _read_payload(f, envelope, size, on_rows, on_photo, progress, key)
        except _crypto().EnvelopeError as exc:
            raise ArchiveError(exc.reason) from None
        except ArchiveError as exc:
            # Inside an encrypted archive, any damage shows first as garbage: say it plainly.
            if envelope is not None and exc.reason in ('truncated', 'corrupt', 'foreign'):
                raise ArchiveError('tampered') from None
            raise
    if key is None:
        return manifest, None
    # Encrypted: the GCM tag, checked to the last byte, is a MAC keyed from the passphrase.
    return manifest, envelope is not None or mac_ok


def _read_payload(f, envelope, size, on_rows, on_photo, progress, key):
    gz = gzip.GzipFile(fileobj=envelope or f, mode='rb')
    seen, lines, manifest, manifest_bytes, mac = {}, {}, None, None, None
    try:
        tar = TarReader(gz)
        while (member := tar.next()) is not None:
            name, member_size = member
            data_match = DATA_MEMBER.match(name)
            is_photo = name.startswith('photos/') and PHOTO_NAME.match(name[len('photos/'):])
            if not (data_match or is_photo or name in (MANIFEST, MAC)):
                raise ArchiveError('foreign' if not seen else 'corrupt')
            if name in seen or mac is not None or (manifest is not None and name != MAC):
                raise ArchiveError('corrupt')
            keep = name in (MANIFEST, MAC) or (data_match and on_rows) or (is_photo and on_photo)
            limit = MAX_MANIFEST_BYTES if name == MANIFEST else (64 if name == MAC else MAX_MEMBER_BYTES)
            if keep and member_size > limit:
                raise ArchiveError('corrupt')
            digest, newlines, kept = hashlib.sha256(), 0, []
            for chunk in tar.chunks():
                digest.update(chunk)
                newlines += chunk.count(b'\n')
                if keep:
                    kept.append(chunk)
            data = b''.join(kept)
            seen[name] = {'size': member_size, 'sha256': digest.hexdigest()}
            if name == MANIFEST:
                manifest, manifest_bytes = _parse_manifest(data), data
            elif name == MAC:
                mac = data
            elif data_match:
                lines[name] = newlines
                if on_rows:
                    on_rows(data_match.group(1), data)
            elif on_photo:
                on_photo(name[len('photos/'):], data)
            if progress:
                progress(f'Lecture : {f.tell() * 100 // size} %')
        while gz.read(1 << 20):   # to the end: the gzip CRC, and nothing glued after it
            pass
        if envelope is not None:
            envelope.finish()
    except TarFormatError as exc:
        reason = exc.reason if exc.reason != 'foreign' or not seen else 'corrupt'
        raise ArchiveError(reason, str(exc) if str(exc) != exc.reason else None) from None
    except EOFError:
        raise ArchiveError('truncated') from None
    except (gzip.BadGzipFile, zlib.error):
        raise ArchiveError('corrupt' if seen else 'foreign') from None
    if manifest is None:
        raise ArchiveError('truncated' if seen else 'foreign', 'manifeste absent')
    seen.pop(MAC, None)
    _check_against(manifest, seen, lines)
    mac_ok = key is not None and mac is not None and hmac.compare_digest(mac, _mac(key, manifest_bytes))
    return manifest, mac_ok


def _parse_manifest(data):
    try:
        manifest = json.loads(data.decode('utf-8'))
        if manifest.get('format') != FORMAT_NAME:
            raise ArchiveError('foreign')
        if type(manifest['format_version']) is not int or manifest['format_version'] > FORMAT_VERSION:
            raise ArchiveError('newer_format')
        well_formed = (
            type(manifest['schema_version']) is int and manifest['schema_version'] >= 1
            and isinstance(manifest['app_version'], str) and manifest['engine'] in ('sqlite', 'postgresql')
            and isinstance(manifest['created_at'], str) and type(manifest['photos']) is int
            and all(IDENTIFIER.match(table) and type(spec['rows']) is int and spec['columns']
                    and all(IDENTIFIER.match(column) and kind in tables.KINDS
                            for column, kind in spec['columns'])
                    for table, spec in manifest['tables'].items())
            and all(type(spec['size']) is int and isinstance(spec['sha256'], str)
                    for spec in manifest['files'].values()))
    except (ValueError, KeyError, TypeError, AttributeError):
        well_formed = False
    if not well_formed:
        raise ArchiveError('corrupt', 'manifeste illisible')
    return manifest


def _check_against(manifest, seen, lines):
    members = {name: spec for name, spec in seen.items() if name != MANIFEST}
    if set(members) != set(manifest['files']):
        raise ArchiveError('corrupt', 'membres manquants ou en trop')
    for name, spec in members.items():
        expected = manifest['files'][name]
        if spec['size'] != expected['size'] or spec['sha256'] != expected['sha256']:
            raise ArchiveError('corrupt', name)
    rows = {table: 0 for table in manifest['tables']}
    for name, count in lines.items():
        table = DATA_MEMBER.match(name).group(1)
        if table not in rows:
            raise ArchiveError('corrupt', name)
        rows[table] += count
    for table, spec in manifest['tables'].items():
        if rows[table] != spec['rows']:
            raise ArchiveError('corrupt', f'{table} : nombre de lignes')
