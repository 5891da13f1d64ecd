"""One backup now, for the nightly job, the admin API and the command line.

The archive is written and read back in gevent's thread pool (inline, a 150 MB copy stalled every
greenlet for 0.18 s), from a snapshot on its own connection: requests keep being answered while it
runs. Then it is copied to the stick when one is configured, the folders are rotated, and the
outcome is written down: one `sauvegarde` audit entry, and the time of the last success that
/api/health/ reports on.

Whatever touches the stick's folder runs in the thread pool too: behind an automount, looking at
an absent stick can wait for the device's timeout, and the event loop must not wait with it.
"""
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import gevent
from gevent.lock import Semaphore

from appliance import __version__, audit, db
from appliance.backup import archive, snapshot, store
from appliance.errors import AppError, Conflict
from appliance.models import State

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=26)
LAST_SUCCESS, LAST_FAILURE = 'backup:last_success', 'backup:last_failure'
SYSTEM = 'système'

_running = threading.Lock()   # gevent's once patched: one backup at a time in this process


class BackupFailed(AppError):
    status = 500


@dataclass
class Result:
    name: str
    path: str
    size: int
    created_at: datetime
    encrypted: bool
    manifest: dict
    usb_path: str = None
    usb_problem: str = None


def offload(function, *args):
    """Run `function` in gevent's thread pool: the event loop keeps serving meanwhile."""
    return gevent.get_hub().threadpool.apply(function, args)


def run(config, *, now, operateur=SYSTEM, ip=None, to=None, progress=None):
    """Write one archive now into `to`, or into BACKUP_DIR and onto the stick with rotation.

    Raises Conflict when a backup is already running, BackupFailed (with the reason) otherwise."""
    if not _running.acquire(blocking=False):
        raise Conflict('Une sauvegarde est déjà en cours.')
    try:
        try:
            result = _run(config, now, to, progress)
        except Exception as exc:
            reason = _reason(exc)
            _record_failure(now, operateur, ip, reason)
            raise BackupFailed(f'Échec de la sauvegarde : {reason}') from None
        _record_success(result, now, operateur, ip, counts_for_health=to is None)
        return result
    finally:
        _running.release()


def _reason(exc):
    if isinstance(exc, (store.DestinationError, archive.ArchiveError, AppError)):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        return f'écriture impossible ({store.describe_os_error(exc)})'
    log.exception('backup failed')
    return f'erreur inattendue ({type(exc).__name__}: {exc})'


def _run(config, now, to, progress):
    if db.schema_version() == 0:
        raise AppError("base de données vide : lancez d'abord « poste-public migrate »")
    local_dir = to or config.backup_dir
    store.ensure_local(local_dir)
    passphrase = config.backup_passphrase
    name = store.archive_name(now, bool(passphrase), local_dir)
    path = os.path.join(local_dir, name)
    engine, params = snapshot.source(db.database.obj)
    key = archive.mac_key(config.secret_key)
    manifest, size, sha256, missing = offload(
        _write, engine, params, config.photos_dir, store.temp_path(local_dir, name), path, passphrase,
        now, progress, key)
    if missing:
        log.warning('backup %s: %d photo(s) removed while it was taken: %s', name, len(missing), ', '.join(missing))
    # A backup that does not read back is no backup: check every byte as it now lies on the disk.
    offload(_read_back, path, passphrase, progress, key)
    remember(path, None)
    result = Result(name, path, size, now, bool(passphrase), manifest)
    if to is None:
        if config.backup_usb_dir:
            result.usb_path, result.usb_problem = offload(_copy_to_usb, config, result, sha256)
        store.prune(local_dir, config.backup_keep, config.log_retention_days, now, spare=(name,))
    return result


def _write(engine, params, photos_dir, temp, final, passphrase, now, progress, key):
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with snapshot.open_snapshot(engine, params) as snap, os.fdopen(fd, 'wb') as out:
            written = archive.write(out, snap, photos_dir, passphrase=passphrase, created_at=now,
                                    app_version=__version__, progress=progress, key=key)
        store.commit_file(temp, final)
    except BaseException:
        store.remove_quietly(temp)
        raise
    return written


def _read_back(path, passphrase, progress, key):
    store.drop_from_cache(path)
    archive.read(path, passphrase, progress=progress, key=key)


def _copy_to_usb(config, result, sha256):
    """(path of the copy, None) or (None, the reason in one line): the local archive stands anyway."""
    usb_dir = config.backup_usb_dir
    problem = store.usb_problem(usb_dir, os.path.dirname(result.path), needed=result.size)
    if problem is None:
        try:
            copy = store.copy(result.path, usb_dir, result.name, sha256)
        except OSError as exc:
            problem = f'clé USB {usb_dir} : {store.describe_os_error(exc)}'
        except store.DestinationError as exc:
            problem = f'clé USB {usb_dir} : {exc}'
        else:
            remember(copy, None)
            store.prune(usb_dir, config.backup_keep, config.log_retention_days, result.created_at,
                        spare=(result.name,))
            return copy, None
    log.warning('backup %s: not copied to the USB stick: %s', result.name, problem)
    return None, problem


def _set_state(key, value):
    State.insert(key=key, value=value).on_conflict(
        conflict_target=[State.key], update={State.value: value}).execute()


def _record_success(result, now, operateur, ip, counts_for_health):
    size = f'{result.size / 1_000_000:.1f}'.replace('.', ',')
    details = (f'Sauvegarde {result.name} écrite ({size} Mo{", chiffrée" if result.encrypted else ""}) '
               f'dans {os.path.dirname(result.path)}.')
    if result.usb_path:
        details += ' Copie faite sur la clé USB.'
    elif result.usb_problem:
        details += f' Pas de copie sur la clé : {result.usb_problem}.'
    metadata = {'archive': result.name, 'taille': result.size, 'chiffree': result.encrypted,
                'lignes': {t: spec['rows'] for t, spec in result.manifest['tables'].items()},
                'photos': result.manifest['photos'], 'cle_usb': bool(result.usb_path)}
    if result.usb_problem:
        metadata['erreur_cle_usb'] = result.usb_problem
    with db.writing():
        audit.record('sauvegarde', now=now, operateur=operateur, ip=ip, details=details, metadata=metadata)
        if counts_for_health:
            _set_state(LAST_SUCCESS, now.isoformat())


def _record_failure(now, operateur, ip, reason):
    log.error('backup failed: %s', reason)
    try:
        with db.writing():
            audit.record('sauvegarde', now=now, operateur=operateur, ip=ip,
                         details=f'Échec de la sauvegarde : {reason}.', metadata={'erreur': reason})
            _set_state(LAST_FAILURE, now.isoformat())
    except Exception:  # the database may be the very thing that failed; the log line stays
        log.exception('could not record the failed backup')


def run_scheduled(ctx):
    """The nightly job (scheduler.py), in a greenlet of its own: failures are logged and recorded."""
    with db.database.connection_context():
        try:
            result = run(ctx.config, now=ctx.clock.now())
        except Conflict:
            log.warning('nightly backup skipped: another backup is running')
        except BackupFailed:
            pass   # already logged and written to the audit log
        else:
            log.info('backup written: %s', result.path)


def freshness(now):
    """/api/health/'s "backup": "ok" (a success within 26 h), "stale" (older, or only failures),
    or "none" (never tried: a new box waits for its first night)."""
    values = dict(State.select(State.key, State.value)
                  .where(State.key.in_([LAST_SUCCESS, LAST_FAILURE])).tuples())
    success = values.get(LAST_SUCCESS)
    if success and now - datetime.fromisoformat(success) <= STALE_AFTER:
        return 'ok'
    if success or values.get(LAST_FAILURE):
        return 'stale'
    return 'none'


# -- which archives verify ------------------------------------------------------------------------

_verdicts = {}        # (path, size, mtime_ns) -> None when the file verifies, else why not
_checking = set()
_one_check = Semaphore(1)
UNKNOWN = object()


def remember(path, verdict):
    try:
        st = os.stat(path)
    except OSError:
        return
    _verdicts[path, st.st_size, st.st_mtime_ns] = verdict


def check(path, config, progress=None):
    """None when the archive verifies to its last byte and is this box's, else the reason (one
    line). Only hashes are kept while reading: a list of archives costs little memory."""
    try:
        offload(_check, path, config.backup_passphrase, archive.mac_key(config.secret_key), progress)
    except archive.ArchiveError as exc:
        verdict = str(exc)
    else:
        verdict = None
    remember(path, verdict)
    return verdict


def _check(path, passphrase, key, progress):
    archive.read(path, passphrase, progress=progress, key=key)


def known_verdict(found, config):
    """The verdict this process holds on an archive found by catalog(), or UNKNOWN while it is
    checked in the background (so a list of archives costs no rereading of a stick full of them)."""
    key = (found.path, found.size, found.mtime_ns)
    if key in _verdicts:
        return _verdicts[key]
    if key not in _checking:
        _checking.add(key)
        gevent.spawn(_check_in_background, key, found.path, config)
    return UNKNOWN


def _check_in_background(key, path, config):
    try:
        with _one_check:
            check(path, config)
    finally:
        _checking.discard(key)


def destinations(config):
    """[(label, folder)] holding archives: BACKUP_DIR, and the stick when it is mounted."""
    found = [('local', config.backup_dir)]
    if config.backup_usb_dir and store.usb_mounted(config.backup_usb_dir, config.backup_dir):
        found.append(('usb', config.backup_usb_dir))
    return found


def _catalog(config):
    items = [(label, found) for label, folder in destinations(config) for found in store.archives(folder)]
    return sorted(items, key=lambda item: (item[1].created_at, item[0] == 'local'), reverse=True)


def catalog(config):
    """[(destination, store.Archive)] of every archive, newest first."""
    return offload(_catalog, config)


def usb_problem(config):
    """Why the stick could not take a backup now (None when it could, or when there is none)."""
    if not config.backup_usb_dir:
        return None
    return offload(store.usb_problem, config.backup_usb_dir, config.backup_dir)


def _find(config, name):
    for label, folder in destinations(config):
        if store.is_regular_file(os.path.join(folder, name)):
            return label, folder
    return None


def find(config, name):
    """(destination, folder) of the archive `name` (a checked name), or None; a symbolic link by
    an archive's name is not an archive."""
    return offload(_find, config, name)


def _prune_everywhere(config, now):
    return [(folder, store.prune(folder, config.backup_keep, config.log_retention_days, now))
            for _, folder in destinations(config)]


ENCRYPTION_ADVICE = ('Les sauvegardes ne sont pas chiffrées : une clé USB perdue livre les noms, '
                     'adresses et pièces d’identité des visiteurs. Définissez BACKUP_PASSPHRASE '
                     '(docs/backup.md).')


def encryption_advice(config):
    """The warning to show wherever archives are listed, or None when they are encrypted."""
    return None if config.backup_passphrase else ENCRYPTION_ADVICE


def prune_everywhere(config, now):
    """The daily purge: archives past BACKUP_KEEP or LOG_RETENTION_DAYS go, in every folder.
    Returns [(folder, names deleted)]."""
    return offload(_prune_everywhere, config, now)
