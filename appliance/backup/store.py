"""The folders archives live in: BACKUP_DIR on the box and BACKUP_USB_DIR on a stick.

An archive is named after its creation time in UTC, `poste-public-20260712-000000Z.tar.gz`, with
`.enc` added when it is encrypted (and `-2`, `-3`... if two are made in the same second). Every file
is written next to its final name, flushed to the device, then renamed: a power cut leaves either
the previous state or a complete file, never half an archive under an archive's name.
"""
import errno
import hashlib
import os
import re
import shutil
import stat
import time
from collections import namedtuple
from datetime import datetime, timedelta

from gevent.monkey import get_original

NAME = re.compile(r'poste-public-(\d{8})-(\d{6})Z(?:-([2-9]|[1-9]\d))?\.tar\.gz(\.enc)?')
NAME_PATTERN = NAME.pattern
TEMP_PREFIX = '.poste-public-'
STALE_TEMP_SECONDS = 6 * 3600
# gevent's os.close only closes a folder once its event loop turns; in a pool thread that psycopg gave
# a loop of its own, it never turns again, and the folder would stay open (a stick busy for good).
_close_folder = get_original('os', 'close')


Archive = namedtuple('Archive', 'name path size created_at mtime_ns')


class DestinationError(Exception):
    """A destination that cannot take an archive; the message says why, in one line."""


def archive_name(created_at, encrypted, directory):
    stamp = created_at.strftime('%Y%m%d-%H%M%S')
    suffix = '.tar.gz.enc' if encrypted else '.tar.gz'
    for n in range(1, 100):
        name = f'poste-public-{stamp}Z{"" if n == 1 else f"-{n}"}{suffix}'
        if not os.path.exists(os.path.join(directory, name)):
            return name
    raise DestinationError(f'trop de sauvegardes dans la même seconde dans {directory}')


def created_at(name):
    """The UTC creation time written in an archive's name (None for any other name)."""
    match = NAME.fullmatch(name)
    if not match:
        return None
    return datetime.strptime(match.group(1) + match.group(2), '%Y%m%d%H%M%S')


def archives(directory):
    """[Archive] in `directory`, newest first."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        when = created_at(entry.name)
        if when is not None and entry.is_file(follow_symlinks=False):
            st = entry.stat()
            rank = int(NAME.fullmatch(entry.name).group(3) or 1)
            found.append((when, rank, Archive(entry.name, entry.path, st.st_size, when, st.st_mtime_ns)))
    found.sort(key=lambda item: item[:2], reverse=True)
    return [archive for _, _, archive in found]


def is_regular_file(path):
    """A regular file itself, not a symbolic link to one (nor a folder, device or pipe)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def open_regular(path):
    """(open binary file, size) of a regular file, refusing a symbolic link even one swapped in after
    a check; None when it is not one."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_NONBLOCK', 0))
    except OSError:
        return None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, 'rb'), st.st_size


def ensure_local(directory):
    """Create BACKUP_DIR if needed (readable by the owner only); DestinationError if impossible."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise DestinationError(f'dossier de sauvegarde {directory} impossible à créer : {exc.strerror}') from None
    problem = _not_writable(directory)
    if problem:
        raise DestinationError(f'dossier de sauvegarde {directory} : {problem}')


def usb_mounted(usb_dir, local_dir):
    """The folder exists and is on another device than BACKUP_DIR: the mount point of an absent
    stick is an empty folder on the box's own disk, and a copy there would protect nothing."""
    return os.path.isdir(usb_dir) and (os.path.ismount(usb_dir) or not _same_device(usb_dir, local_dir))


def usb_problem(usb_dir, local_dir, needed=0):
    """Why the stick cannot take an archive of `needed` bytes now, in one line; None when it can."""
    if not os.path.isdir(usb_dir):
        return f'clé USB absente : {usb_dir} introuvable (clé non branchée ou non montée)'
    if not usb_mounted(usb_dir, local_dir):
        return f'clé USB non montée : {usb_dir} est sur le disque du boîtier, pas sur une clé'
    problem = _not_writable(usb_dir)
    if problem:
        return f'clé USB {usb_dir} : {problem}'
    free = shutil.disk_usage(usb_dir).free
    if free < needed:
        return f'clé USB pleine : {free // 1_000_000} Mo libres, {needed // 1_000_000 + 1} Mo nécessaires'
    return None


def _same_device(a, b):
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _not_writable(directory):
    # statvfs tells a read-only mount even to root, whom permission bits do not stop.
    if os.statvfs(directory).f_flag & os.ST_RDONLY or not os.access(directory, os.W_OK):
        return 'en lecture seule'
    return None


def describe_os_error(exc):
    if exc.errno == errno.ENOSPC:
        return 'support plein'
    if exc.errno == errno.EROFS:
        return 'en lecture seule'
    return exc.strerror or str(exc)


def temp_path(directory, name):
    return os.path.join(directory, f'{TEMP_PREFIX}{name}.{os.getpid()}.tmp')


def commit_file(temp, final):
    """Flush `temp` to its device and rename it to `final`, then flush the folder (the rename)."""
    with open(temp, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(temp, final)
    fd = os.open(os.path.dirname(final), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        _close_folder(fd)


def drop_from_cache(path):
    """Ask the kernel to forget its cached pages, so reading the file back reads the device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def copy(source, directory, name, sha256):
    """Copy an archive into `directory` atomically and read the copy back; returns its path.

    Raises OSError (full, read-only, removed stick) or DestinationError (the copy differs)."""
    temp, final = temp_path(directory, name), os.path.join(directory, name)
    try:
        with open(source, 'rb') as src, open(temp, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        commit_file(temp, final)
    except OSError:
        remove_quietly(temp)
        raise
    drop_from_cache(final)
    if file_sha256(final) != sha256:
        remove_quietly(final)
        raise DestinationError('la copie relue diffère de l’original (support défectueux ?)')
    return final


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def prune(directory, keep, max_age_days, now, spare=()):
    """Delete archives beyond the `keep` newest and those older than `max_age_days`, and temporary
    files left by an interrupted backup. Returns the names deleted."""
    deleted = []
    oldest = now - timedelta(days=max_age_days)
    for index, archive in enumerate(archives(directory)):
        if archive.name in spare:
            continue
        if index >= keep or archive.created_at < oldest:
            remove_quietly(archive.path)
            deleted.append(archive.name)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return deleted
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith('.tmp'):
            try:
                if time.time() - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                    remove_quietly(entry.path)
            except OSError:
                pass
    return deleted
