"""Kiosk configuration: an INI file (section [kiosk]), each key overridable by an environment variable.

The file is the first of: --config, $KIOSK_CONFIG, the user's file, the machine's file (paths in
default_config_paths()). A missing default file is fine when the environment gives what is needed.
docs/kiosk.md is the reference of every key.
"""
import configparser
import os
import sys
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from appliance.kiosk.admin import BadHash, parse_hash

SECTION = 'kiosk'
# key in the file -> environment variable
KEYS = {
    'server': 'KIOSK_SERVER',
    'poste': 'KIOSK_POSTE',
    'token': 'KIOSK_TOKEN',
    'library_name': 'KIOSK_LIBRARY_NAME',
    'home_page': 'KIOSK_HOME_PAGE',
    'end_command': 'KIOSK_END_COMMAND',
    'admin_secret_hash': 'KIOSK_ADMIN_SECRET_HASH',
    'state_file': 'KIOSK_STATE_FILE',
    'fullscreen': 'KIOSK_FULLSCREEN',
    'ca': 'KIOSK_CA',
}
# The desk's commands (docs/kiosk.md, « Les commandes de l'accueil »): a system command each.
COMMAND_KEYS = {
    'verrouiller': ('lock_command', 'KIOSK_LOCK_COMMAND'),
    'deconnecter': ('logoff_command', 'KIOSK_LOGOFF_COMMAND'),
    'redemarrer': ('restart_command', 'KIOSK_RESTART_COMMAND'),
    'eteindre': ('shutdown_command', 'KIOSK_SHUTDOWN_COMMAND'),
}
KEYS.update(COMMAND_KEYS.values())


def default_commands(platform=sys.platform):
    """The system's own commands for the desk's commands. Locking needs none: the kiosk's lock
    screen is the lock (the server paused the session first)."""
    if platform.startswith('win'):
        return {'verrouiller': '', 'deconnecter': 'shutdown /l', 'redemarrer': 'shutdown /r /t 0',
                'eteindre': 'shutdown /s /t 0'}
    return {'verrouiller': '', 'deconnecter': 'loginctl terminate-session "$XDG_SESSION_ID"',
            'redemarrer': 'systemctl reboot', 'eteindre': 'systemctl poweroff'}
TRUE, FALSE = ('1', 'yes', 'true', 'on', 'oui'), ('0', 'no', 'false', 'off', 'non')


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class KioskConfig:
    server: str                 # http://host:port of the appliance
    poste: str                  # the poste's ip_address, as registered on the server
    token: str = field(default='', repr=False)
    library_name: str = 'Bibliothèque'
    home_page: str = ''         # opened in the browser when a session starts (the catalogue...)
    end_command: str = ''
    admin_secret_hash: str = field(default='', repr=False)
    state_file: str = ''
    fullscreen: bool = True
    ca: str = ''                # the appliance's certificate authority (PEM): trust it, and it alone
    commands: dict = field(default_factory=dict)   # commande -> system command ('' : none)

    @property
    def ws_url(self):
        parts = urlsplit(self.server)
        scheme = 'wss' if parts.scheme == 'https' else 'ws'
        return '{}://{}/ws/poste/{}/'.format(scheme, parts.netloc, quote(self.poste, safe=''))

    @property
    def sslopt(self):
        """websocket-client's TLS options: with `ca`, a context that trusts that authority only
        (not the system's store); without it, the library's defaults (the system's store)."""
        if not self.ca:
            return None
        import ssl
        return {'context': ssl.create_default_context(cafile=self.ca)}

    @property
    def headers(self):
        # The token travels in a header, not in the URL, so it stays out of access logs.
        return {'X-Poste-Token': self.token} if self.token else {}


def default_config_paths(env=os.environ, platform=sys.platform):
    if platform.startswith('win'):
        return [os.path.join(env.get('APPDATA', ''), 'poste-public', 'kiosk.ini'),
                os.path.join(env.get('PROGRAMDATA', r'C:\ProgramData'), 'poste-public', 'kiosk.ini')]
    home = os.path.expanduser('~')
    user = env.get('XDG_CONFIG_HOME') or os.path.join(home, '.config')
    return [os.path.join(user, 'poste-public', 'kiosk.ini'), '/etc/poste-public/kiosk.ini']


def default_state_file(env=os.environ, platform=sys.platform):
    if platform.startswith('win'):
        base = env.get('LOCALAPPDATA') or os.path.expanduser('~')
    else:
        base = env.get('XDG_STATE_HOME') or os.path.join(os.path.expanduser('~'), '.local', 'state')
    return os.path.join(base, 'poste-public', 'kiosk-session.json')


def load_config(path=None, env=os.environ, platform=sys.platform, overrides=None):
    """KioskConfig from the file, the environment and `overrides` (command-line options, by key);
    ConfigError with one clear line otherwise."""
    path = path or env.get('KIOSK_CONFIG')
    values = {}
    if path:
        if not os.path.isfile(path):
            raise ConfigError('fichier de configuration introuvable : {}'.format(path))
        values = _read_file(path)
    else:
        for candidate in default_config_paths(env, platform):
            if os.path.isfile(candidate):
                values = _read_file(candidate)
                break
    for key, var in KEYS.items():
        if env.get(var):
            values[key] = env[var]
    values.update({key: value for key, value in (overrides or {}).items() if value})
    return _build(values, env, platform)


def _read_file(path):
    # No interpolation: '%' and '$' are common in commands and in the hash.
    parser = configparser.ConfigParser(interpolation=None)
    try:
        # utf-8-sig: Windows' Notepad may add a byte order mark when the file is edited there.
        with open(path, encoding='utf-8-sig') as f:
            parser.read_file(f)
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise ConfigError('lecture impossible de {} : {}'.format(path, str(exc).splitlines()[0])) from None
    if not parser.has_section(SECTION):
        raise ConfigError('{} : pas de section [{}]'.format(path, SECTION))
    values = dict(parser.items(SECTION))
    if 'admin_secret' in values:
        raise ConfigError('{} : admin_secret ne doit pas être gardé en clair ; mettez dans admin_secret_hash '
                          'la sortie de "poste-public-kiosk hash-secret"'.format(path))
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ConfigError('{} : clé inconnue {}'.format(path, ', '.join(unknown)))
    return values


def _build(values, env, platform):
    server = values.get('server', '').strip().rstrip('/')
    parts = urlsplit(server)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise ConfigError("server (KIOSK_SERVER) doit être l'adresse du boîtier, "
                          'comme http://192.168.1.10:8000 ; reçu {!r}'.format(server))
    poste = values.get('poste', '').strip()
    if not poste:
        raise ConfigError("poste (KIOSK_POSTE) est obligatoire : l'adresse de ce poste telle "
                          'qu’enregistrée sur le boîtier')
    admin_hash = values.get('admin_secret_hash', '').strip()
    if admin_hash:
        try:
            parse_hash(admin_hash)
        except BadHash as exc:
            raise ConfigError('admin_secret_hash (KIOSK_ADMIN_SECRET_HASH): {}'.format(exc)) from None
    home_page = values.get('home_page', '').strip()
    if home_page and urlsplit(home_page).scheme not in ('http', 'https'):
        raise ConfigError('home_page (KIOSK_HOME_PAGE) doit être une adresse http:// ou https:// ; '
                          'reçu {!r}'.format(home_page))
    ca = values.get('ca', '').strip()
    if ca:
        if parts.scheme != 'https':
            raise ConfigError('ca (KIOSK_CA, --ca) sert à un boîtier en HTTPS : server doit commencer '
                              'par https:// ; reçu {!r}'.format(server))
        _check_authority(ca)
    fullscreen = values.get('fullscreen', 'yes').strip().lower()
    if fullscreen not in TRUE + FALSE:
        raise ConfigError('fullscreen (KIOSK_FULLSCREEN) vaut yes ou no ; reçu {!r}'.format(fullscreen))
    return KioskConfig(
        server=server,
        poste=poste,
        token=values.get('token', '').strip(),
        library_name=values.get('library_name', '').strip() or KioskConfig.library_name,
        home_page=home_page,
        end_command=values.get('end_command', '').strip(),
        admin_secret_hash=admin_hash,
        state_file=values.get('state_file', '').strip() or default_state_file(env, platform),
        fullscreen=fullscreen in TRUE,
        ca=os.path.abspath(ca) if ca else '',
        commands=_commands(values, platform),
    )


def _commands(values, platform):
    """Each command as configured (an empty value: none), else the platform's default."""
    commands = default_commands(platform)
    for commande, (key, _) in COMMAND_KEYS.items():
        if key in values:
            commands[commande] = values[key].strip()
    return commands


def _check_authority(path):
    """The file must be a certificate the TLS library can load, told now rather than at each try."""
    import ssl
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise ConfigError('ca (KIOSK_CA, --ca) : fichier introuvable : {}'.format(path)) from None
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConfigError("ca (KIOSK_CA, --ca) : {} n'est pas un certificat PEM ({})".format(
            path, getattr(exc, 'reason', None) or exc)) from None
