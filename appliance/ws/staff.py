"""The staff live feed, /ws/staff/?token=<access token>: every poste, session and log change,
pushed so that a dashboard never polls. The feed is read-only."""
import logging

import gevent
from gevent.queue import Queue

from appliance import db, events
from appliance.clock import iso
from appliance.errors import AppError
from appliance.models import Poste
from appliance.protocol import Close, StaffEvent
from appliance.ws.plumbing import Sockets, origin_allowed
from appliance.ws.socket import SILENCE, Socket

log = logging.getLogger(__name__)
RECHECK = 60   # seconds between checks that a staff token is still valid


class StaffFeed:
    def __init__(self, ctx):
        self.ctx = ctx
        self.desk = ctx.desk
        self.sockets = Sockets()
        self.queue = Queue()
        self.greenlet = None

    def start(self):
        events.subscribe(self._on_event, events.POSTE_CHANGED, events.SESSION_CHANGED, events.LOG_WRITTEN,
                         events.RESYNC)
        self.greenlet = gevent.spawn(self._broadcast)

    def stop(self):
        events.unsubscribe(self._on_event)
        if self.greenlet is not None:
            self.greenlet.kill()

    def _on_event(self, kind, payload):
        if self.sockets:
            self.queue.put((kind, payload))

    def _broadcast(self):
        """One greenlet turns facts into staff messages (reading a poste once for everyone)."""
        while True:
            kind, payload = self.queue.get()
            try:
                message = self._message(kind, payload)
            except Exception:
                log.exception('staff event %s could not be prepared', kind)
                continue
            for socket in self.sockets.all():
                socket.send(message)

    def _message(self, kind, payload):
        if kind == events.RESYNC:   # facts may have been missed: the whole room again
            return self._hello()
        if kind == events.SESSION_CHANGED:
            return {'event': StaffEvent.SESSION, 'session': payload['session']}
        if kind == events.LOG_WRITTEN:
            return {'event': StaffEvent.LOG, 'log': payload['log']}
        deleted = {'event': StaffEvent.POSTE_DELETED, 'id': payload['poste_id']}
        if payload.get('deleted'):
            return deleted
        with db.database.connection_context():
            poste = Poste.get_or_none(Poste.id == payload['poste_id'])
            return deleted if poste is None else {'event': StaffEvent.POSTE, 'poste': self.desk.poste_json(poste)}

    def serve(self, connection):
        socket = Socket(connection.ws)
        token = connection.query('token')
        if not origin_allowed(connection, self.ctx.config.cors_allowed_origins):
            socket.close(Close.FORBIDDEN, 'origine refusée')
            socket.wait_closed()
            return
        if not self._token_valid(token):
            socket.close(Close.UNAUTHORIZED, 'jeton invalide ou expiré')
            socket.wait_closed()
            return
        self.sockets.add(None, socket)
        try:
            socket.send(self._hello())
            while not socket.closed:
                text = socket.receive(RECHECK)
                if text is None:
                    break
                if text is SILENCE:
                    # The dashboard only listens: meanwhile, make sure its login is still valid.
                    if not self._token_valid(token):
                        socket.close(Close.UNAUTHORIZED, 'jeton expiré')
                elif text.strip() not in ('', 'ping', '{"type":"ping"}'):
                    socket.send({'event': StaffEvent.ERROR, 'detail': 'Ce flux est en lecture seule.'})
        finally:
            self.sockets.discard(None, socket)
            socket.close()
            socket.wait_closed()

    def _hello(self):
        with db.database.connection_context():
            postes = self.desk.room_json()
        return {'event': StaffEvent.HELLO, 'postes': postes, 'server_time': iso(self.desk.now())}

    def _token_valid(self, token):
        try:
            with db.database.connection_context():
                self.ctx.authenticator.authenticate(token)
            return True
        except AppError:
            return False
