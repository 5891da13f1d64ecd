"""The WSGI application and the one process that serves it.

create_app(ctx) builds the bottle application (REST API, WebSocket routes, static pages);
serve(config, host, port) runs it on gevent with the scheduler, until SIGTERM or SIGINT.
"""
import gc
import logging
import os
import signal

import bottle
import gevent
from bottle import request, response
from gevent.event import Event

from appliance import accounts, api, db, events, relay, systemd, transport
from appliance.api.declared import PUBLIC, Declared, Name
from appliance.api.http import dumps, json_api
from appliance.context import Context
from appliance.gate import Gate
from appliance.scheduler import Scheduler
from appliance.timekeeper import Timekeeper
from appliance.ws import Hub

log = logging.getLogger('appliance')

# The dashboard and the kiosk page, inside the package: an installed copy carries the repository's
# static/ folder there (setup.py), and in a checkout appliance/static is a link to that folder.
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'static')
SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': ("default-src 'self'; img-src 'self' data: blob:; "
                                "style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; "
                                "frame-ancestors 'none'"),
}
# The web kiosk shows the library's home page (its catalogue, on another site) in a frame.
KIOSK_PAGE_CSP = SECURITY_HEADERS['Content-Security-Policy'] + '; frame-src http: https:'
CORS_HEADERS = {
    'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Poste-Token',
    'Access-Control-Max-Age': '600',
}


def release_connection(callback):
    """Bottle plugin: give the request's database connection back to the pool when it is done."""
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        finally:
            if not db.database.is_closed():
                db.database.close()
    return wrapper


def create_app(ctx):
    app = bottle.Bottle()
    config = ctx.config

    def add_headers(target):
        """Security and CORS headers, on the response or on an HTTPResponse that replaces it."""
        for name, value in SECURITY_HEADERS.items():
            target.set_header(name, value)
        if request.path == '/kiosk/':
            target.set_header('Content-Security-Policy', KIOSK_PAGE_CSP)
        origin = request.get_header('Origin')
        if origin and origin in config.cors_allowed_origins:
            target.set_header('Access-Control-Allow-Origin', origin)
            target.set_header('Vary', 'Origin')
            for name, value in CORS_HEADERS.items():
                target.set_header(name, value)

    @app.hook('before_request')
    def preflight():
        if request.method == 'OPTIONS':
            # CORS preflight, answered before routing so unknown paths stay 404.
            preflight = bottle.HTTPResponse(status=204)
            add_headers(preflight)
            raise preflight

    @app.hook('after_request')
    def common_headers():
        add_headers(response)

    def json_error(error):
        detail = {404: 'Introuvable.', 405: 'Méthode non autorisée.'}.get(error.status_code)
        if detail is None:
            detail = error.body if isinstance(error.body, str) and error.status_code < 500 else \
                'Erreur interne du serveur.'
        if error.status_code >= 500 and error.exception:
            log.error('unhandled error on %s %s: %r', request.method, request.path, error.exception)
        error.content_type = 'application/json; charset=utf-8'
        add_headers(error)
        return dumps({'detail': detail})

    app.default_error_handler = json_error

    app.install(release_connection)
    app.install(ctx.metrics)
    app.install(json_api)
    app.install(Declared(ctx))   # inside json_api: what it refuses becomes a JSON error
    api.register(app, ctx)

    @app.get('/', auth=PUBLIC, summary='Tableau de bord du personnel')
    def index():
        return bottle.static_file('index.html', root=STATIC_DIR)

    @app.get('/kiosk/', auth=PUBLIC, summary='Page du kiosque')
    def kiosk_page():
        return bottle.static_file('index.html', root=os.path.join(STATIC_DIR, 'kiosk'))

    @app.get('/static/<path:path>', auth=PUBLIC, wildcards={'path': Name({'type': 'string'})},
             summary='Fichiers des pages')
    def static(path):
        return bottle.static_file(path, root=STATIC_DIR)

    for route in app.routes:
        route.prepare()   # apply the plugins now: a route that does not declare itself stops the start
    # Unreadable bytes and foreign Host headers are refused in front of everything (gate.py).
    return Gate(app if ctx.hub is None else ctx.hub.wrap(app), config)


def prepare(config):
    """Bind and migrate the database; create the first admin if there is no account."""
    db.bind(config.database_url)
    db.wait_until_available(10)
    applied = db.migrate()
    if applied:
        log.info('migrations applied: %s', ', '.join(applied))
    ctx = Context(config)
    with db.database.connection_context():
        password_file = accounts.ensure_initial_admin(config.data_dir, ctx.clock.now())
    if password_file:
        # The password itself goes to its 0600 file only: the console may end up in the system
        # journal, readable by more people than the box's administrator.
        print('=' * 64)
        print('Premier démarrage : compte administrateur « admin » créé.')
        print(f'  Son mot de passe est dans {password_file}')
        print('  (lisible par ce compte seulement), jusqu’à ce qu’il soit changé.')
        print('=' * 64, flush=True)
    return ctx


def start_relay(ctx):
    """Several processes on one PostgreSQL database: send our facts to the others, hear theirs,
    and keep what this process holds in memory right when they change things."""
    with db.database.connection_context():
        relay.check_secret_key(ctx.config.secret_key)
        channel = relay.channel_name()
    ctx.relay = relay.Relay(ctx.config.database_url, channel)
    events.set_relay(ctx.relay)
    ctx.relay.start()
    if not ctx.relay.wait_listening(10):
        log.warning('relay: not listening yet; changes made by other processes meanwhile are read again later')
    ctx.desk.follow()
    ctx.authenticator.follow()


def serve(config, host='0.0.0.0', port=8000, tls_context=None):
    """Serve until SIGTERM or SIGINT. `tls_context`: transport.tls_context() of TLS_CERT and TLS_KEY,
    made by the caller before it touches anything (made here when it did not)."""
    if config.tls and tls_context is None:
        tls_context = transport.tls_context(config.tls_cert, config.tls_key)
    use_library_time(config)
    ctx = prepare(config)
    if not config.is_sqlite:
        start_relay(ctx)   # before anything keeps state: from now on no fact is missed
    if config.tls:
        from appliance import tls   # loads `cryptography`: only when TLS is on
        ctx.certificate_expires = tls.expiry(config.tls_cert)
    ctx.hub = Hub(ctx)
    app = create_app(ctx)
    with db.database.connection_context():
        ended = ctx.desk.expire_due()  # what ran out while the box was off
    if ended:
        log.info('%d session(s) ended while the appliance was stopped', len(ended))
    server = transport.Server((host, port), app, header_timeout=config.header_timeout, tls_context=tls_context)
    server.start()
    ctx.hub.start()
    ctx.timekeeper = Timekeeper(ctx.desk, ctx.metrics)
    ctx.timekeeper.start()
    ctx.scheduler = Scheduler(ctx)
    ctx.scheduler.check_certificate()
    ctx.scheduler.start()
    watchdog = systemd.start_watchdog(
        lambda: ctx.scheduler.is_alive() and ctx.timekeeper.is_alive() and db.ping()
        and (ctx.relay is None or ctx.relay.is_alive()))
    # Everything loaded so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise pause every kiosk for a noticeable moment.
    gc.collect()
    gc.freeze()
    stopped = Event()

    def shutdown():
        systemd.notify('STOPPING=1')
        if watchdog is not None:
            watchdog.kill()
        server.close()            # stop accepting
        ctx.hub.close_all()       # kiosks hear "going away" (1001), not close_session
        ctx.timekeeper.stop()
        ctx.scheduler.stop()
        if ctx.relay is not None:
            ctx.relay.stop()
        server.stop(timeout=3)
        stopped.set()

    def on_signal(signum):
        log.info('%s received: stopping', signal.Signals(signum).name)
        gevent.spawn(shutdown)

    # Our handlers, not Huey's (which only record the signal): they stop the server, the hub,
    # the timekeeper and the scheduler.
    gevent.signal_handler(signal.SIGTERM, on_signal, signal.SIGTERM)
    gevent.signal_handler(signal.SIGINT, on_signal, signal.SIGINT)
    systemd.notify('READY=1')
    scheme = 'https' if config.tls else 'http'
    print(f'Poste Public : {scheme}://{host}:{server.server_port}/', flush=True)
    stopped.wait()
    return 0


def use_library_time(config):
    """The process's local time is the library's (TIME_ZONE): statistics fold hours into its days
    (desk/stats.py reads local time through the standard library), like hours and quotas."""
    import time
    os.environ['TZ'] = config.time_zone
    time.tzset()
