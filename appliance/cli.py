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
    from appliance import instance, relay, transport
    from appliance.server import serve
    try:
        instance.hold(config)
    except instance.AlreadyRunning as exc:
        raise Failure(str(exc)) from None
    # A certificate that cannot be used stops the start before anything is touched.
    tls_context = transport.tls_context(config.tls_cert, config.tls_key) if config.tls else None
    setup_logging(config)
    open_database(config, timeout=10)
    try:
        return serve(config, args.host, args.port, tls_context)
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
    _advise_encryption(config, service)
    return 0


def _advise_encryption(config, service):
    advice = service.encryption_advice(config)
    if advice:
        print(f'poste-public: ATTENTION : {advice}', file=sys.stderr)


def cmd_backups(config, args):
    from appliance.backup import service
    progress = TerminalProgress()
    rows = []
    _advise_encryption(config, service)
    for destination, found in service.catalog(config):
        verdict = service.check(found.path, config, progress)
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
    key = archive.mac_key(config.secret_key)
    with db.database.connection_context():
        try:
            manifest, authentic = restore.check(path, passphrase, progress, key=key, foreign=args.foreign)
        except (archive.ArchiveError, restore.RestoreError) as exc:
            hint = ('; to restore it anyway (a backup from another box, or from before this box\'s '
                    'secret changed), run again with --foreign' if getattr(exc, 'reason', '') == 'unauthenticated'
                    else '')
            raise Failure(f'{os.path.basename(path)}: {exc}{hint}; nothing was changed') from None
        finally:
            progress.done()
        if not authentic:
            print('ATTENTION : archive étrangère. Elle n’a pas été écrite par ce boîtier, ou la clé secrète '
                  'du boîtier a changé depuis : rien ne prouve qu’elle n’a pas été fabriquée ou modifiée. '
                  'Restaurez-la seulement si vous savez d’où elle vient (l’ancien boîtier de la bibliothèque). '
                  'Ses comptes du personnel, son journal d’audit, ses visiteurs et ses photos remplaceront '
                  'tout ce que contient ce boîtier.')
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
                                 operateur='ligne de commande', passphrase=passphrase, progress=progress,
                                 key=key, foreign=not authentic)
        except (archive.ArchiveError, restore.RestoreError) as exc:
            raise Failure(f'restore failed, nothing was changed: {exc}') from None
        finally:
            progress.done()
    print(f'Restauration terminée : {rows} lignes et {manifest["photos"]} photo(s) remises en place.')
    return 0


def cmd_tls(config, args):
    from appliance import tls
    try:
        if args.action == 'init':
            issued = tls.init(config.data_dir, args.name, args.ip, new_authority=args.new_authority)
        else:
            return _show_tls(config, tls)
    except tls.TlsError as exc:
        raise Failure(str(exc)) from None
    ca_path = os.path.join(issued.folder, tls.CA_CERT)
    print(('Autorité de certification créée : ' if issued.ca_created else 'Autorité existante gardée : ')
          + ca_path)
    print(f'  empreinte SHA-256 : {issued.ca_fingerprint}')
    print(f'  empreinte SHA-1 (Windows) : {tls.fingerprint(ca_path, "sha1")}')
    print(f'Certificat du serveur pour {", ".join(issued.names + issued.addresses)}')
    print(f'  valable jusqu’au {issued.expires:%d/%m/%Y}')
    print('Pour servir en HTTPS, ajoutez ces deux réglages (fichier de réglages du service) puis redémarrez :')
    print(f'  TLS_CERT={os.path.join(issued.folder, tls.SERVER_CERT)}')
    print(f'  TLS_KEY={os.path.join(issued.folder, tls.SERVER_KEY)}')
    if issued.ca_created:
        print(f'Puis installez {ca_path} sur les PC de l’accueil et dans les kiosques (docs/install.md), '
              'en vérifiant l’empreinte ci-dessus.')
    return 0


def _show_tls(config, tls):
    ca_path = os.path.join(tls.folder(config.data_dir), tls.CA_CERT)
    cert_path = config.tls_cert or os.path.join(tls.folder(config.data_dir), tls.SERVER_CERT)
    if not os.path.exists(ca_path) and not os.path.exists(cert_path):
        raise Failure(f'no certificate in {tls.folder(config.data_dir)}: run "poste-public tls init" first')
    if os.path.exists(ca_path):
        print(f'Autorité de certification : {ca_path}')
        print(f'  empreinte SHA-256 : {tls.fingerprint(ca_path)}')
        print(f'  empreinte SHA-1 (Windows) : {tls.fingerprint(ca_path, "sha1")}')
        print(f'  valable jusqu’au {tls.expiry(ca_path):%d/%m/%Y}')
    if os.path.exists(cert_path):
        expires = tls.expiry(cert_path)
        state = tls.certificate_state(expires, datetime.utcnow())
        note = {'ok': '', 'expires_soon': ' (bientôt : lancez « poste-public tls init »)',
                'expired': ' (EXPIRÉ : lancez « poste-public tls init »)'}[state]
        print(f'Certificat du serveur : {cert_path}')
        print(f'  pour {", ".join(tls.subject_names(cert_path))}')
        print(f'  valable jusqu’au {expires:%d/%m/%Y}{note}')
        print('  HTTPS ' + ('activé (TLS_CERT, TLS_KEY)' if config.tls else 'non activé : TLS_CERT et TLS_KEY ne sont pas définis'))
    return 0


def cmd_purge(config, args):
    """What the nightly job does (docs/rgpd.md): audit entries past LOG_RETENTION_DAYS, sessions
    past SESSION_RETENTION_DAYS, visitors idle for VISITOR_RETENTION_DAYS."""
    from datetime import timedelta

    from appliance import audit
    from appliance.context import Context
    open_database(config)
    db.migrate()
    ctx = Context(config)
    with db.database.connection_context():
        now = ctx.clock.now()
        done = ctx.desk.apply_retention(record=False)
        entries = audit.purge(now - timedelta(days=config.log_retention_days), now=now,
                              retention=done)
    print(f'Journal : {entries} entrée(s) supprimée(s). Sessions : {done["sessions_supprimees"]} '
          f'supprimée(s). Visiteurs : {done["visiteurs_anonymises"]} anonymisé(s).')
    return 0


def cmd_verify_log(config, args):
    """Check the audit log's hash chain: prints {"ok": true, "entrees": N} or
    {"ok": false, "premiere_alteree": id} and exits 1 in the second case."""
    import json

    from appliance.context import Context
    from appliance.scheduler import verify_and_report
    open_database(config)
    db.migrate()
    with db.database.connection_context():
        result = verify_and_report(Context(config))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result['ok'] else 1


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

    p = sub.add_parser('tls', help='HTTPS: make the box\'s certificate authority and server certificate, or show them')
    tls_sub = p.add_subparsers(dest='action', required=True, metavar='ACTION')
    init = tls_sub.add_parser('init', help='write DATA_DIR/tls/: the authority (kept if it exists) and a server certificate')
    init.add_argument('--name', action='append', default=[], metavar='N',
                      help='a host name of the box (repeatable; its own name and localhost are always in)')
    init.add_argument('--ip', action='append', default=[], metavar='A',
                      help='an address of the box (repeatable; 127.0.0.1 and its LAN address are always in)')
    init.add_argument('--new-authority', action='store_true',
                      help='replace the authority too (it must then be installed again on the desk PCs)')
    tls_sub.add_parser('show', help='print the authority\'s fingerprint and the certificate\'s expiry')
    p.set_defaults(func=cmd_tls)

    p = sub.add_parser('purge', help='apply the retention rules now (what the nightly job does)')
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser('verify-log', help='check the audit log\'s hash chain (exit 1 when broken)')
    p.set_defaults(func=cmd_verify_log)

    p = sub.add_parser('restore', help='replace all data with an archive (stop the service first)')
    p.add_argument('file', metavar='FILE')
    p.add_argument('--yes', action='store_true', help='do not ask for confirmation')
    p.add_argument('--foreign', action='store_true',
                   help='accept an archive this box cannot prove it wrote (another box, or this one '
                        'before its secret changed); what it is about to do is said first')
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
