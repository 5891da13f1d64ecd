"""The WebSocket hub: kiosks on /ws/poste/{ip_address}/, the staff live feed on /ws/staff/.

Handlers translate messages to Desk calls and back (CONTRACT §4); what the desk publishes
(`kiosk`, `session`, `poste`, `log` events) is routed here to the right sockets.
"""
import json
import logging
import re
from collections import defaultdict
from urllib.parse import parse_qs, unquote, urlparse

import gevent
from gevent.queue import Queue

from appliance import db, events
from appliance.clock import iso
from appliance.errors import AppError
from appliance.models import Poste, Session
from appliance.rules import normalise_code
from appliance.serializers import session_json, temps_restant
from appliance.timekeeper import Timekeeper
from appliance.websocket import (FORBIDDEN, GOING_AWAY, NOT_FOUND, PING_INTERVAL, SILENCE, UNAUTHORIZED,
                                 Socket)

log = logging.getLogger(__name__)
KIOSK_PATH = re.compile(r'^/ws/poste/([^/]{1,100})/$')
DRIFT_TOLERANCE = 2        # seconds between the kiosk's countdown and ours before a `sync`
STAFF_RECHECK = 60         # seconds between checks that a staff token is still valid


class Hub:
    def __init__(self, ctx):
        self.ctx = ctx
        self.desk = ctx.desk
        self.kiosks = defaultdict(set)   # poste id -> sockets
        self.staff = set()
        self.staff_events = Queue()
        self.timekeeper = Timekeeper(ctx.desk, ctx.metrics)
        self._greenlets = []

    # -- lifecycle --------------------------------------------------------------------------

    def start(self):
        events.subscribe(self._on_event)
        self.timekeeper.start()
        self._greenlets += [gevent.spawn(self._staff_broadcaster), gevent.spawn(self._pinger)]

    def close_all(self):
        """Shutdown: every socket hears "going away" (1001); kiosks keep counting on their own."""
        events.unsubscribe(self._on_event)
        self.timekeeper.stop()
        for socket in [s for sockets in self.kiosks.values() for s in sockets] + list(self.staff):
            socket.close(GOING_AWAY, 'arrêt du serveur')
        gevent.sleep(0.1)  # let the writers flush their close frames
        gevent.killall(self._greenlets)

    def _pinger(self):
        """One greenlet pings every socket, rather than one greenlet per socket."""
        while True:
            gevent.sleep(PING_INTERVAL)
            for socket in [s for sockets in self.kiosks.values() for s in sockets] + list(self.staff):
                socket.ping()

    def connected_kiosks(self):
        return sum(len(s) for s in self.kiosks.values())

    def wrap(self, app):
        """The WSGI application: WebSocket paths come straight here, everything else goes to `app`.
        (Outside bottle, a connection held for hours keeps a shallow stack: less memory per kiosk.)"""
        def dispatch(environ, start_response):
            path = environ.get('PATH_INFO', '')
            kiosk = KIOSK_PATH.match(path)
            if kiosk is None and path != '/ws/staff/':
                return app(environ, start_response)
            if environ.get('wsgi.websocket') is None:
                body = b'{"detail": "Connexion WebSocket attendue."}'
                start_response('426 Upgrade Required', [('Content-Type', 'application/json'),
                                                        ('Upgrade', 'websocket'),
                                                        ('Content-Length', str(len(body)))])
                return [body]
            connection = Connection(environ)
            if kiosk is not None:
                self.kiosk_endpoint(connection, unquote(kiosk.group(1)))
            else:
                self.staff_endpoint(connection)
            return []
        return dispatch

    # -- events from the desk ---------------------------------------------------------------

    def _on_event(self, kind, payload):
        if kind == 'kiosk':
            for socket in list(self.kiosks.get(payload['poste_id'], ())):
                socket.send(payload['message'])
        elif kind == 'kiosk_token':
            # A new token was issued: kiosks holding the old one must prove themselves again.
            for socket in list(self.kiosks.get(payload['poste_id'], ())):
                socket.close(FORBIDDEN, 'jeton remplacé')
        if kind in ('session', 'poste', 'log') and self.staff:
            self.staff_events.put((kind, payload))

    def _staff_broadcaster(self):
        """One greenlet turns events into staff messages (reading a poste once for everyone)."""
        while True:
            kind, payload = self.staff_events.get()
            try:
                message = self._staff_message(kind, payload)
            except Exception:
                log.exception('staff event %s could not be prepared', kind)
                continue
            for socket in list(self.staff):
                socket.send(message)

    def _staff_message(self, kind, payload):
        if kind == 'session':
            return {'event': 'session', 'session': payload['session']}
        if kind == 'log':
            return {'event': 'log', 'log': payload['log']}
        if payload.get('deleted'):
            return {'event': 'poste_supprime', 'id': payload['poste_id']}
        with db.database.connection_context():
            poste = Poste.get_or_none(Poste.id == payload['poste_id'])
            if poste is None:
                return {'event': 'poste_supprime', 'id': payload['poste_id']}
            return {'event': 'poste', 'poste': self.desk.poste_json(poste)}

    # -- kiosks -----------------------------------------------------------------------------

    def kiosk_endpoint(self, connection, ip_address):
        socket = Socket(connection.ws)
        source = connection.remote_addr
        with db.database.connection_context():
            poste = self._authenticate_kiosk(socket, connection, ip_address)
        if poste is None:
            socket.wait_closed()
            return
        self.kiosks[poste.id].add(socket)
        try:
            with db.database.connection_context():
                self.desk.kiosk_seen(poste)
                socket.send(self._sync(*self.desk.poste_state(poste.id)))
            timeout = self.ctx.config.heartbeat_timeout + 30
            while not socket.closed:
                text = socket.receive(timeout)
                if text is SILENCE:
                    socket.close(GOING_AWAY, 'silence')  # no heartbeat for too long: a dead peer
                if text is None or text is SILENCE:
                    break
                with db.database.connection_context():
                    self._kiosk_message(socket, poste, text, source)
        finally:
            self.kiosks[poste.id].discard(socket)
            if not self.kiosks[poste.id]:
                del self.kiosks[poste.id]
            socket.close()
            socket.wait_closed()

    def _authenticate_kiosk(self, socket, connection, ip_address):
        if not self._origin_allowed(connection):
            socket.close(FORBIDDEN, 'origine refusée')
            return None
        poste = Poste.get_or_none(Poste.ip_address == ip_address[:45])
        if poste is None:
            socket.close(NOT_FOUND, 'poste inconnu')
            return None
        token = connection.query('token') or connection.header('X-Poste-Token')
        if token:
            by_token = self.desk.poste_for_token(token)
            if by_token is not None and by_token.id == poste.id:
                return poste
        elif self.ctx.config.kiosk_auth == 'ip' and connection.remote_addr == poste.ip_address:
            return poste
        socket.close(FORBIDDEN, 'preuve du poste refusée')
        return None

    def _kiosk_message(self, socket, poste, text, source):
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get('type'), str):
            socket.send({'action': 'error', 'detail': 'Message invalide : un objet JSON avec "type" est attendu.'})
            return
        kind = message['type']
        poste, running = self.desk.poste_state(poste.id)
        if poste is None:
            socket.close(NOT_FOUND, 'poste supprimé')
            return
        if kind == 'heartbeat':
            self._heartbeat(socket, poste, running, message)
        elif kind == 'validate_code':
            code = message.get('code') or message.get('code_acces')
            if not isinstance(code, str) or not code.strip():
                socket.send({'action': 'code_invalid', 'detail': 'Entrez le code remis à l’accueil.'})
                return
            try:
                self.desk.validate_code(code, poste, source_ip=source)  # success arrives as an event
            except AppError as exc:
                reply = {'action': 'code_invalid', 'detail': exc.detail}
                if exc.status == 429:
                    reply['retry_after'] = exc.retry_after
                socket.send(reply)
        elif kind == 'end_session':
            try:
                self.desk.end_by_visitor(poste, ip=source)  # close_session arrives as an event
            except AppError as exc:
                socket.send({'action': 'close_session', 'raison': 'aucune_session', 'detail': exc.detail})
        else:
            socket.send({'action': 'error', 'detail': f'Type de message inconnu : {kind[:40]}.'})

    def _heartbeat(self, socket, poste, running, message):
        self.desk.kiosk_seen(poste)
        code = message.get('code')
        if isinstance(code, str) and code.strip():
            mine = running is not None and running.code_acces == normalise_code(code)
            if not mine:
                ended = (Session.select().where(Session.code_acces == normalise_code(code),
                                                Session.poste == poste.id)
                         .order_by(Session.id.desc()).first())
                socket.send({'action': 'close_session',
                             'raison': ended.raison_fin if ended and ended.raison_fin else 'session_inconnue'})
                return
        kiosk_left = message.get('temps_restant')
        if running is None:
            if kiosk_left not in (None, 0):
                socket.send(self._sync(poste, None))
            return
        server_left = temps_restant(running, self.desk.now())
        if (not isinstance(kiosk_left, (int, float)) or isinstance(kiosk_left, bool)
                or abs(kiosk_left - server_left) > DRIFT_TOLERANCE):
            socket.send(self._sync(poste, running))

    def _sync(self, poste, running):
        now = self.desk.now()
        return {'action': 'sync', 'statut': poste.statut,
                'session': session_json(running, now) if running else None,
                'temps_restant': temps_restant(running, now) if running else None,
                'server_time': iso(now)}

    # -- staff ------------------------------------------------------------------------------

    def staff_endpoint(self, connection):
        socket = Socket(connection.ws)
        token = connection.query('token')
        if not self._origin_allowed(connection):
            socket.close(FORBIDDEN, 'origine refusée')
            socket.wait_closed()
            return
        if not self._staff_token_valid(token):
            socket.close(UNAUTHORIZED, 'jeton invalide ou expiré')
            socket.wait_closed()
            return
        self.staff.add(socket)
        try:
            with db.database.connection_context():
                postes = self.desk.room_json()
            socket.send({'event': 'hello', 'postes': postes, 'server_time': iso(self.desk.now())})
            while not socket.closed:
                text = socket.receive(STAFF_RECHECK)
                if text is None:
                    break
                if text is SILENCE:
                    # The dashboard only listens: meanwhile, make sure its login is still valid.
                    if not self._staff_token_valid(token):
                        socket.close(UNAUTHORIZED, 'jeton expiré')
                elif text.strip() not in ('', 'ping', '{"type":"ping"}'):
                    socket.send({'event': 'error', 'detail': 'Ce flux est en lecture seule.'})
        finally:
            self.staff.discard(socket)
            socket.close()
            socket.wait_closed()

    def _staff_token_valid(self, token):
        try:
            with db.database.connection_context():
                self.ctx.authenticator.authenticate(token)
            return True
        except AppError:
            return False

    def _origin_allowed(self, connection):
        """Browsers send Origin: only our own pages and the configured origins may connect."""
        origin = connection.header('Origin')
        if not origin:
            return True  # not a browser (the Tk kiosk, scripts)
        if origin in self.ctx.config.cors_allowed_origins:
            return True
        return urlparse(origin).netloc.lower() == connection.header('Host').lower()


class Connection:
    """What a WebSocket handler needs from the WSGI environ."""

    def __init__(self, environ):
        self.environ = environ
        self.ws = environ['wsgi.websocket']
        self.remote_addr = environ.get('REMOTE_ADDR', '')

    def query(self, name):
        values = parse_qs(self.environ.get('QUERY_STRING', '')).get(name)
        return values[0] if values else ''

    def header(self, name):
        return self.environ.get('HTTP_' + name.upper().replace('-', '_'), '')
