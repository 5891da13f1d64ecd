"""The `poste-public` command line.

Expected failures (bad configuration, unreachable database, bad input) end with one clear line on
stderr and a non-zero status, never a traceback.
"""
import argparse
import getpass
import logging
import logging.handlers
import os
import sys
from datetime import datetime, timezone

from appliance import __version__, db
from appliance.config import Config, ConfigError
from appliance.errors import AppError

log = logging.getLogger('appliance')


class Failure(Exception):
    """An expected failure: its message is printed as is."""


def setup_logging(config):
    level = logging.DEBUG if config.debug else logging.INFO
    handlers = [logging.StreamHandler(sys.stderr)]
    if config.log_file:
        # WatchedFileHandler reopens the file after logrotate moves it.
        handlers.append(logging.handlers.WatchedFileHandler(config.log_file, encoding='utf-8'))
    formatter = logging.Formatter('%(asctime)s %(levelname)s %(name)s: %(message)s')
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ('peewee', 'huey'):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def open_database(config, timeout=5):
    db.bind(config.database_url)
    try:
        db.wait_until_available(timeout)
    except db.DatabaseUnavailable:
        raise Failure(f'database unreachable ({_safe_url(config.database_url)})') from None


def _safe_url(url):
    """The database URL without its password, for messages."""
    if '@' in url and '://' in url:
        scheme, rest = url.split('://', 1)
        return f'{scheme}://***@{rest.split("@", 1)[1]}'
    return url


# -- commands -------------------------------------------------------------------------------

def cmd_serve(config, args):
    from appliance import instance, relay
    from appliance.server import serve
    try:
        instance.hold(config)
    except instance.AlreadyRunning as exc:
        raise Failure(str(exc)) from None
    setup_logging(config)
    open_database(config, timeout=10)
    try:
        return serve(config, args.host, args.port)
    except relay.SecretKeyMismatch as exc:
        raise Failure(str(exc)) from None


def cmd_migrate(config, args):
    open_database(config)
    applied = db.migrate()
    print('Migrations appliquées : ' + ', '.join(applied) if applied else 'Base de données à jour.')
    return 0


def cmd_createsuperuser(config, args):
    from appliance import accounts
    from appliance.clock import MonotonicClock
    open_database(config)
    db.migrate()
    if args.noinput:
        password = os.environ.get('SUPERUSER_PASSWORD', '')
        if not password:
            raise Failure('SUPERUSER_PASSWORD must be set with --noinput')
    else:
        password = getpass.getpass('Mot de passe : ')
        if password != getpass.getpass('Mot de passe (confirmation) : '):
            raise Failure('the two passwords differ')
    with db.database.connection_context():
        try:
            accounts.create(args.username, password, now=MonotonicClock().now(), email=args.email,
                            role='admin', operateur='createsuperuser')
        except AppError as exc:
            messages = [m for field in (exc.errors or {}).values() for m in field]
            raise Failure(' '.join(messages) or exc.detail) from None
    print(f'Administrateur « {args.username} » créé.')
    return 0


def cmd_wait_for_db(config, args):
    db.bind(config.database_url)
    try:
        db.wait_until_available(args.timeout)
    except db.DatabaseUnavailable as exc:
        raise Failure(str(exc)) from None
    print('Base de données disponible.')
    return 0


class TerminalProgress:
    """One line of progress on stderr, rewritten in place; silent unless stderr is a terminal."""

    def __init__(self):
        self.active = sys.stderr.isatty()
        self.shown = False

    def __call__(self, text):
        if self.active:
            sys.stderr.write('\r' + text.ljust(60))
            sys.stderr.flush()
            self.shown = True

    def done(self):
        if self.shown:
            sys.stderr.write('\n')
            self.shown = False


def cmd_backup(config, args):
    from appliance.backup import service
    from appliance.clock import MonotonicClock
    open_database(config)
    log.addHandler(logging.NullHandler())   # the outcome is told below, in one line
    progress = TerminalProgress()
    with db.database.connection_context():
        try:
            result = service.run(config, now=MonotonicClock().now(), operateur='ligne de commande',
                                 to=os.path.abspath(args.to) if args.to else None, progress=progress)
        except AppError as exc:
            raise Failure(exc.detail) from None
        finally:
            progress.done()
    print(result.path)
    if result.usb_path:
        print(result.usb_path)
    if result.usb_problem:
        print(f'poste-public: warning: {result.usb_problem} (the local backup is made)', file=sys.stderr)
    return 0


def cmd_backups(config, args):
    from appliance.backup import service
    progress = TerminalProgress()
    rows = []
    for destination, found in service.catalog(config):
        verdict = service.check(found.path, config.backup_passphrase, progress)
        progress.done()
        local = found.created_at.replace(tzinfo=timezone.utc).astimezone()
        rows.append((f'{local:%d/%m/%Y %H:%M}', f'{found.size / 1_000_000:.1f} Mo'.replace('.', ','),
                     'oui' if verdict is None else f'NON : {verdict}', destination, found.name))
    if not rows:
        print('Aucune sauvegarde dans ' + ' ni dans '.join(folder for _, folder in service.destinations(config)) + '.')
        return 0
    header = ('date', 'taille', 'vérifiée', 'où', 'fichier')
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
    for row in [header] + rows:
        print('  '.join(cell.ljust(w) for cell, w in zip(row, widths)) + '  ' + row[4])
    bad = sum(1 for r in rows if r[2] != 'oui')
    if bad:
        raise Failure(f'{bad} archive(s) out of {len(rows)} do not verify')
    return 0


def cmd_restore(config, args):
    from appliance.backup import archive, restore
    from appliance.clock import MonotonicClock
    path = os.path.abspath(args.file)
    open_database(config)
    db.migrate()
    passphrase = config.backup_passphrase
    if not passphrase and sys.stdin.isatty() and os.path.isfile(path) and archive.encrypted(path):
        passphrase = getpass.getpass('Phrase de passe de la sauvegarde : ')
    progress = TerminalProgress()
    with db.database.connection_context():
        try:
            manifest = restore.check(path, passphrase, progress)
        except (archive.ArchiveError, restore.RestoreError) as exc:
            raise Failure(f'{os.path.basename(path)}: {exc}; nothing was changed') from None
        finally:
            progress.done()
        created = datetime.fromisoformat(manifest['created_at']).astimezone()
        rows = {table: spec['rows'] for table, spec in manifest['tables'].items()}
        print(f'Sauvegarde du {created:%d/%m/%Y à %H:%M} (Poste Public {manifest["app_version"]}, '
              f'{manifest["engine"]}), vérifiée : {rows.get("utilisateur", 0)} visiteur(s), '
              f'{rows.get("poste", 0)} poste(s), {rows.get("poste_session", 0)} session(s), '
              f'{rows.get("log", 0)} entrée(s) du journal, {manifest["photos"]} photo(s).')
        if not args.yes:
            if not sys.stdin.isatty():
                raise Failure('confirmation needed: run again with --yes')
            answer = input('Toutes les données actuelles seront remplacées. Tapez « oui » pour restaurer : ')
            if answer.strip().lower() != 'oui':
                print('Restauration annulée : rien n’a changé.')
                return 1
        try:
            rows = restore.apply(path, manifest, config, now=MonotonicClock().now(),
                                 operateur='ligne de commande', passphrase=passphrase, progress=progress)
        except (archive.ArchiveError, restore.RestoreError) as exc:
            raise Failure(f'restore failed, nothing was changed: {exc}') from None
        finally:
            progress.done()
    print(f'Restauration terminée : {rows} lignes et {manifest["photos"]} photo(s) remises en place.')
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog='poste-public', description='Poste Public appliance.')
    parser.add_argument('--version', action='version', version=f'poste-public {__version__}')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')

    p = sub.add_parser('serve', help='migrate, then serve HTTP + WebSocket and run the scheduler')
    p.add_argument('--host', default='0.0.0.0')
    p.add_argument('--port', type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser('migrate', help='apply pending schema migrations')
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser('createsuperuser', help='create an admin account')
    p.add_argument('--username', required=True)
    p.add_argument('--email', default='')
    p.add_argument('--noinput', action='store_true', help='password from $SUPERUSER_PASSWORD')
    p.set_defaults(func=cmd_createsuperuser)

    # Listed for --help only: main() hands `kiosk ...` to the kiosk client before parsing.
    sub.add_parser('kiosk', help='the lock screen of a public computer (docs/kiosk.md)', add_help=False)

    p = sub.add_parser('wait_for_db', help='wait until the database answers')
    p.add_argument('--timeout', type=float, default=30)
    p.set_defaults(func=cmd_wait_for_db)

    p = sub.add_parser('backup', help='write one backup archive now and print its path')
    p.add_argument('--to', metavar='DIR', help='write it into DIR only (no USB copy, no rotation)')
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser('backups', help='list the backup archives and check each of them')
    p.set_defaults(func=cmd_backups)

    p = sub.add_parser('restore', help='replace all data with an archive (stop the service first)')
    p.add_argument('file', metavar='FILE')
    p.add_argument('--yes', action='store_true', help='do not ask for confirmation')
    p.set_defaults(func=cmd_restore)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['kiosk']:
        from appliance.kiosk.cli import main as kiosk_main
        return kiosk_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        config = Config.load()
        return args.func(config, args)
    except ConfigError as exc:
        print(f'poste-public: configuration error: {exc}', file=sys.stderr)
    except Failure as exc:
        print(f'poste-public: error: {exc}', file=sys.stderr)
    except KeyboardInterrupt:
        print('poste-public: interrupted', file=sys.stderr)
    return 1
