"""One serving process per data folder, and per SQLite file.

SQLite serves one process: its writes are ordered by that process's write lock, and nothing tells
another process what changed. Several processes share one PostgreSQL database instead (the relay,
appliance/relay.py), each with a DATA_DIR of its own (the scheduler's store, photos, backups). A
second `serve` on the same folder or SQLite file stops with one line. The locks are advisory file
locks, released by the kernel when the process ends, however it ends (kill -9 included).
"""
import fcntl
import os


class AlreadyRunning(Exception):
    pass


_held = []   # the open lock files, kept for the life of the process


def hold(config):
    """Take the locks of this configuration, or raise AlreadyRunning naming what is taken."""
    _lock(os.path.join(config.data_dir, 'serve.lock'),
          f'another poste-public serve uses DATA_DIR {config.data_dir} (pid {{pid}}): '
          'give each process its own')
    if config.is_sqlite:
        path = config.database_url[len('sqlite:///'):]
        if path and path != ':memory:':
            path = os.path.abspath(path)
            _lock(path + '.serve.lock',
                  f'another poste-public serve uses the SQLite database {path} (pid {{pid}}): '
                  'SQLite serves one process; several processes need PostgreSQL')


def _lock(lock_path, message):
    f = open(lock_path, 'a+', encoding='ascii')
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        pid = f.read().strip() or '?'
        f.close()
        raise AlreadyRunning(message.format(pid=pid)) from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _held.append(f)
