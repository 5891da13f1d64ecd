"""Configuration: environment variables, also read from `.env` in the working directory.

Every variable is described in docs/configuration.md.
A bad value raises ConfigError with one line naming the variable; the command line prints it and
exits 1.
"""
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

KIOSK_AUTH_MODES = ('token', 'ip')
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(Exception):
    pass


def read_dotenv(path):
    """KEY=VALUE lines; `export`, quotes and comments allowed. Missing file: empty."""
    values = {}
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        if line.startswith('export '):
            line = line[len('export '):]
        key, value = line.split('=', 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\'':
            value = value[1:-1]
        else:
            value = value.split(' #', 1)[0].strip()
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Config:
    data_dir: str
    database_url: str
    secret_key: str
    debug: bool = False
    allowed_hosts: tuple = ('*',)
    cors_allowed_origins: tuple = ()
    kiosk_auth: str = 'token'
    warning_times: tuple = (600, 300, 60)
    heartbeat_timeout: int = 60
    log_retention_days: int = 365
    backup_dir: str = ''
    backup_usb_dir: str = ''
    backup_keep: int = 14
    backup_passphrase: str = field(default='', repr=False)
    log_file: str = ''
    # Our own (docs/configuration.md).
    access_token_lifetime: int = 900
    refresh_token_lifetime: int = 86400
    pending_code_ttl: int = 3600
    metrics_token: str = field(default='', repr=False)
    tls_cert: str = ''
    tls_key: str = ''
    trusted_proxies: tuple = ()
    header_timeout: int = 10
    # Privacy (docs/rgpd.md).
    session_retention_days: int = 365
    visitor_retention_days: int = 365
    age_consentement: int = 15
    # Live control of the postes (docs/configuration.md).
    pause_max: int = 900
    extension_auto: bool = True
    inactivity_timeout: int = 0
    wol_address: tuple = ('255.255.255.255', 9)
    time_zone: str = 'UTC'

    @property
    def tls(self):
        return bool(self.tls_cert)

    @property
    def photos_dir(self):
        return os.path.join(self.data_dir, 'photos')

    @property
    def is_sqlite(self):
        return self.database_url.startswith('sqlite')

    @classmethod
    def load(cls, environ=None, cwd=None):
        """Build the configuration from `environ` (default os.environ) over `<cwd>/.env`."""
        env = read_dotenv(os.path.join(cwd or os.getcwd(), '.env'))
        env.update(os.environ if environ is None else environ)
        get = _Reader(env)

        data_dir = os.path.abspath(get.str('DATA_DIR', './data'))
        # Visitors' data, the secret and the backups: readable by the service's account only.
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        tls_cert, tls_key = _tls_files(get)
        return cls(
            data_dir=data_dir,
            database_url=_database_url(env, data_dir),
            secret_key=_secret_key(get, data_dir),
            debug=get.bool('DEBUG', False),
            allowed_hosts=get.list('ALLOWED_HOSTS', '*'),
            cors_allowed_origins=get.list('CORS_ALLOWED_ORIGINS', ''),
            kiosk_auth=get.choice('KIOSK_AUTH', 'token', KIOSK_AUTH_MODES),
            warning_times=tuple(sorted(get.int_list('WARNING_TIMES', '600,300,60'), reverse=True)),
            heartbeat_timeout=get.int('HEARTBEAT_TIMEOUT', 60, minimum=1),
            log_retention_days=get.int('LOG_RETENTION_DAYS', 365, minimum=1),
            backup_dir=os.path.abspath(get.str('BACKUP_DIR', os.path.join(data_dir, 'backups'))),
            backup_usb_dir=get.str('BACKUP_USB_DIR', ''),
            backup_keep=get.int('BACKUP_KEEP', 14, minimum=1),
            backup_passphrase=get.str('BACKUP_PASSPHRASE', ''),
            log_file=get.str('LOG_FILE', ''),
            access_token_lifetime=get.int('ACCESS_TOKEN_LIFETIME', 900, minimum=5),
            refresh_token_lifetime=get.int('REFRESH_TOKEN_LIFETIME', 86400, minimum=60),
            pending_code_ttl=get.int('PENDING_CODE_TTL', 3600, minimum=60),
            metrics_token=get.str('METRICS_TOKEN', ''),
            tls_cert=tls_cert,
            tls_key=tls_key,
            trusted_proxies=get.networks('TRUSTED_PROXIES'),
            header_timeout=get.int('HEADER_TIMEOUT', 10, minimum=1),
            session_retention_days=get.int('SESSION_RETENTION_DAYS', 365, minimum=1),
            visitor_retention_days=get.int('VISITOR_RETENTION_DAYS', 365, minimum=1),
            age_consentement=get.int('AGE_CONSENTEMENT', 15, minimum=0),
            pause_max=get.int('PAUSE_MAX', 900, minimum=1),
            extension_auto=get.bool('EXTENSION_AUTO', True),
            inactivity_timeout=_inactivity_timeout(get),
            wol_address=_wol_address(get),
            time_zone=_time_zone(get),
        )


class _Reader:
    """Typed access to the merged environment; each failure names its variable."""

    def __init__(self, env):
        self.env = env

    def str(self, name, default):
        return self.env.get(name, default).strip()

    def bool(self, name, default):
        raw = self.str(name, str(default)).lower()
        if raw in ('1', 'true', 'yes', 'on'):
            return True
        if raw in ('0', 'false', 'no', 'off', ''):
            return False
        raise ConfigError(f'{name}: expected true or false, got {raw!r}')

    def int(self, name, default, minimum=0):
        raw = self.str(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f'{name}: expected a whole number, got {raw!r}') from None
        if value < minimum:
            raise ConfigError(f'{name}: must be at least {minimum}, got {value}')
        return value

    def int_list(self, name, default):
        raw = self.str(name, default)
        try:
            values = [int(part) for part in raw.split(',') if part.strip()]
        except ValueError:
            raise ConfigError(f'{name}: expected whole numbers separated by commas, got {raw!r}') from None
        if not values or any(v <= 0 for v in values):
            raise ConfigError(f'{name}: expected positive numbers of seconds, got {raw!r}')
        return sorted(set(values))

    def list(self, name, default):
        return tuple(part.strip() for part in self.str(name, default).split(',') if part.strip())

    def networks(self, name):
        """A comma list of addresses or networks (192.168.1.2, 10.0.0.0/24)."""
        values = self.list(name, '')
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ConfigError(f'{name}: expected IP addresses or networks, got {value!r}') from None
        return values

    def choice(self, name, default, choices):
        raw = self.str(name, default).lower()
        if raw not in choices:
            raise ConfigError(f'{name}: expected one of {", ".join(choices)}, got {raw!r}')
        return raw


def uses_postgresql(environ=None, cwd=None):
    """Whether the configuration selects PostgreSQL (read before anything imports peewee)."""
    env = read_dotenv(os.path.join(cwd or os.getcwd(), '.env'))
    env.update(os.environ if environ is None else environ)
    url = env.get('DATABASE_URL', '').strip()
    return url.startswith('postgres') or (not url and bool(env.get('POSTGRES_DB', '').strip()))


def _database_url(env, data_dir):
    url = env.get('DATABASE_URL', '').strip()
    if url:
        if not url.startswith(('sqlite:', 'postgres:', 'postgresql:', 'postgresext:')):
            raise ConfigError(f'DATABASE_URL: unsupported engine in {url.split(":", 1)[0]!r} '
                              '(use sqlite:/// or postgresql://)')
        return url
    if env.get('POSTGRES_DB', '').strip():
        user = quote(env.get('POSTGRES_USER', ''), safe='')
        password = quote(env.get('POSTGRES_PASSWORD', ''), safe='')
        auth = f'{user}:{password}@' if user and password else (f'{user}@' if user else '')
        host = env.get('DB_HOST', '') or 'localhost'
        port = env.get('DB_PORT', '') or '5432'
        if not port.isdigit():
            raise ConfigError(f'DB_PORT: expected a port number, got {port!r}')
        return f'postgresql://{auth}{host}:{port}/{quote(env["POSTGRES_DB"], safe="")}'
    return 'sqlite:///' + os.path.join(data_dir, 'poste_public.db')


def _secret_key(get, data_dir):
    key = get.str('SECRET_KEY', '')
    if not key:
        return _stored_secret_key(data_dir)
    if len(key) < MIN_SECRET_KEY_LENGTH:
        # A short key can be guessed offline from one token, and then any token forged.
        raise ConfigError(f'SECRET_KEY: must be at least {MIN_SECRET_KEY_LENGTH} characters, '
                          f'got {len(key)} (or leave it unset: one is generated in DATA_DIR)')
    return key


def _tls_files(get):
    """(TLS_CERT, TLS_KEY): both set, or neither."""
    cert, key = get.str('TLS_CERT', ''), get.str('TLS_KEY', '')
    if bool(cert) != bool(key):
        missing = 'TLS_KEY' if cert else 'TLS_CERT'
        raise ConfigError(f'{missing}: must be set together with {"TLS_CERT" if cert else "TLS_KEY"} '
                          '(the server certificate and its private key, PEM files)')
    # Whether the files can be used is checked by `serve` (not here: `tls init` must be able to
    # run with the settings already written, to make the very files they name).
    return (os.path.abspath(cert), os.path.abspath(key)) if cert else ('', '')


def _stored_secret_key(data_dir):
    """The signing key generated on first start and kept, readable by the owner only."""
    path = os.path.join(data_dir, 'secret_key')
    try:
        with open(path, encoding='ascii') as f:
            key = f.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='ascii') as f:
        f.write(key + '\n')
    return key


def _inactivity_timeout(get):
    """INACTIVITY_TIMEOUT: seconds, 0 (off). Kiosks warn a minute before (half the time when it
    is shorter than two minutes)."""
    return get.int('INACTIVITY_TIMEOUT', 0)


def _wol_address(get):
    """WOL_ADDRESS `host:port` (default 255.255.255.255:9) as (host, port)."""
    raw = get.str('WOL_ADDRESS', '255.255.255.255:9')
    host, _, port = raw.rpartition(':')
    host = host.strip('[]')
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f'WOL_ADDRESS: expected an IP address and a port (255.255.255.255:9), '
                          f'got {raw!r}') from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f'WOL_ADDRESS: expected a port number after the address, got {raw!r}')
    return host, int(port)
def _time_zone(get):
    """TIME_ZONE: the library's local time for hours, quotas and statistics (default: the system's)."""
    from appliance.hours import system_zone_name, zone_or_none
    name = get.str('TIME_ZONE', '') or system_zone_name()
    if zone_or_none(name) is None:
        raise ConfigError(f'TIME_ZONE: unknown time zone {name!r} (e.g. Europe/Paris)')
    return name
