"""The kiosk's command line: `poste-public kiosk` on the server's install, `poste-public-kiosk` in the
kiosk-only distribution (kiosk/pyproject.toml); `… hash-secret` makes the admin secret's hash."""
import argparse
import dataclasses
import getpass
import logging
import sys

from appliance.kiosk.admin import hash_secret
from appliance.kiosk.config import ConfigError, load_config

MIN_SECRET_LENGTH = 8


def run():
    """Entry point of the kiosk-only distribution's `poste-public-kiosk` command."""
    sys.exit(main(sys.argv[1:], prog='poste-public-kiosk'))


def main(argv, prog='poste-public kiosk'):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="L'écran de verrouillage d'un poste public (configuration : docs/kiosk.md).")
    parser.add_argument('--config', metavar='FICHIER', help='fichier de configuration (par défaut : '
                        '$KIOSK_CONFIG, puis ~/.config/poste-public/kiosk.ini, puis /etc/poste-public/kiosk.ini)')
    parser.add_argument('--ca', metavar='FICHIER', help="l'autorité de certification du boîtier (PEM, de "
                        '« poste-public tls init ») : connexion en wss:// en ne faisant confiance qu’à elle')
    parser.add_argument('--windowed', action='store_true',
                        help='une simple fenêtre au lieu du plein écran, pour essayer le kiosque')
    parser.add_argument('--verbose', '-v', action='store_true', help='journal détaillé')
    commands = parser.add_subparsers(dest='command', metavar='COMMANDE')
    commands.add_parser('hash-secret', help="affiche l'empreinte d'un secret d'administration, pour admin_secret_hash")
    args = parser.parse_args(argv)

    if args.command == 'hash-secret':
        return _hash_secret(prog)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        config = load_config(args.config, overrides={'ca': args.ca})
    except ConfigError as exc:
        print('{}: {}'.format(prog, exc), file=sys.stderr)
        return 1
    if args.windowed:
        config = dataclasses.replace(config, fullscreen=False)
    return _run_screen(config, prog)


def _run_screen(config, prog):
    # Imported here so that hash-secret and configuration errors work without a display or Tk.
    import tkinter

    from appliance.kiosk.runtime import Runtime
    from appliance.kiosk.screen import Screen

    try:
        screen = Screen(Runtime(config), config)
    except tkinter.TclError as exc:
        print("{}: impossible d'ouvrir l'écran : {}".format(prog, exc), file=sys.stderr)
        return 1
    screen.run()
    return 0


def _hash_secret(prog):
    if sys.stdin.isatty():
        secret = getpass.getpass("Secret d'administration : ")
        if getpass.getpass('Encore une fois : ') != secret:
            print('{}: les deux saisies diffèrent'.format(prog), file=sys.stderr)
            return 1
    else:
        secret = sys.stdin.readline().rstrip('\r\n')
    if len(secret) < MIN_SECRET_LENGTH:
        print('{}: le secret doit avoir au moins {} caractères'.format(prog, MIN_SECRET_LENGTH),
              file=sys.stderr)
        return 1
    print(hash_secret(secret))
    return 0
