"""The staff live feed, /ws/staff/?token=<access token>: every poste, session and log change,
pushed so that a dashboard never polls. The feed is read-only.

A feed lives no longer than the login behind it: it is closed with 4401 when its access token
expires, and as soon as that login is revoked (logout), its account deactivated or deleted, or its
password changed, whatever the dashboard sends meanwhile. (Its Host is checked by the gate, like
any request.)

A staff member's feed shows their own site: its postes, sessions and log entries (with those of
the whole network); a poste moved to another site leaves it as `poste_deleted`. An admin's feed
shows every site."""
import logging

import gevent
from gevent.queue import Queue

from appliance import db, events
from appliance.clock import iso
from appliance.desk.sites import is_admin, own_site
from appliance.errors import AppError
from appliance.models import Poste
from appliance.protocol import Close, StaffEvent
from appliance.ws.plumbing import Sockets, origin_allowed
from appliance.ws.socket import SILENCE, Socket

log = logging.getLogger(__name__)
RECHECK = 60   # seconds between checks that a staff token is still valid, at the longest


class StaffFeed:
    def __init__(self, ctx):
        self.ctx = ctx
        self.desk = ctx.desk
        self.sockets = Sockets()    # account id -> its dashboards' sockets
        self.tokens = {}            # socket -> the access token it connected with
        self.sites = {}             # socket -> the site it shows (None: every site, for an admin)
        self.queue = Queue()
        self.greenlet = None

    def start(self):
        events.subscribe(self._on_event, events.POSTE_CHANGED, events.SESSION_CHANGED, events.LOG_WRITTEN,
                         events.RESYNC, events.DEMANDE_CHANGED)
        events.subscribe(self._on_logins_changed, events.LOGIN_CHANGED)
        self.greenlet = gevent.spawn(self._broadcast)

    def stop(self):
        events.unsubscribe(self._on_event)
        events.unsubscribe(self._on_logins_changed)
        if self.greenlet is not None:
            self.greenlet.kill()

    def _on_logins_changed(self, kind, payload):
        sockets = self.sockets.get(payload['compte_id'])
        if sockets:
            gevent.spawn(self._recheck, sockets)   # listeners must not wait on the database

    def _recheck(self, sockets):
        for socket in sockets:
            token = self.tokens.get(socket)
            if token is not None and self._seconds_left(token) is None:
                socket.close(Close.UNAUTHORIZED, 'connexion révoquée')

    def _on_event(self, kind, payload):
        if self.sockets:
            self.queue.put((kind, payload))

    def _broadcast(self):
        """One greenlet turns facts into staff messages (reading a poste once for everyone)."""
        while True:
            kind, payload = self.queue.get()
            try:
                if kind == events.RESYNC:
                    self._resync()
                    continue
                message = self._message(kind, payload)
            except Exception:
                log.exception('staff event %s could not be prepared', kind)
                continue
            site, elsewhere = self._site_of(message)
            for socket in self.sockets.all():
                shown = self.sites.get(socket)
                if site is None or shown is None or shown == site:
                    socket.send(message)
                elif elsewhere is not None:
                    socket.send(elsewhere)

    @staticmethod
    def _site_of(message):
        """(the site a message belongs to or None for every feed, what feeds of other sites get
        instead or None)."""
        event = message['event']
        if event == StaffEvent.POSTE:
            return message['poste'].get('site'), {'event': StaffEvent.POSTE_DELETED, 'id': message['poste']['id']}
        if event == StaffEvent.SESSION:
            return message['session'].get('site'), None
        if event == StaffEvent.LOG:
            return message['log'].get('site'), None
        return None, None

    def _resync(self):
        """Facts may have been missed: each feed gets its whole room again."""
        hellos = {}
        for socket in self.sockets.all():
            site = self.sites.get(socket)
            if site not in hellos:
                hellos[site] = self._hello(site)
            socket.send(hellos[site])

    def _message(self, kind, payload):
        if kind == events.RESYNC:   # facts may have been missed: the whole room again
            return self._hello()
        if kind == events.SESSION_CHANGED:
            return {'event': StaffEvent.SESSION, 'session': payload['session']}
        if kind == events.LOG_WRITTEN:
            return {'event': StaffEvent.LOG, 'log': payload['log']}
        if kind == events.DEMANDE_CHANGED:
            return {'event': StaffEvent.DEMANDE, 'demande': payload['demande']}
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
        compte = self._compte(token)
        if compte is None:
            socket.close(Close.UNAUTHORIZED, 'jeton invalide ou expiré')
            socket.wait_closed()
            return
        with db.database.connection_context():
            site = None if is_admin(compte) else own_site(compte)
        self.sockets.add(compte.id, socket)
        self.tokens[socket] = token
        self.sites[socket] = site
        try:
            socket.send(self._hello(site))
            while not socket.closed:
                # Awake at the token's expiry at the latest, whatever the dashboard sends.
                left = self._seconds_left(token)
                if left is None:
                    socket.close(Close.UNAUTHORIZED, 'jeton expiré')
                    break
                text = socket.receive(min(RECHECK, max(left, 0.05)))
                if text is None:
                    break
                if text is not SILENCE and text.strip() not in ('', 'ping', '{"type":"ping"}'):
                    socket.send({'event': StaffEvent.ERROR, 'detail': 'Ce flux est en lecture seule.'})
        finally:
            self.sockets.discard(compte.id, socket)
            self.tokens.pop(socket, None)
            self.sites.pop(socket, None)
            socket.close()
            socket.wait_closed()

    def _hello(self, site=None):
        with db.database.connection_context():
            postes = self.desk.room_json(site=site)
        return {'event': StaffEvent.HELLO, 'postes': postes, 'server_time': iso(self.desk.now())}

    def _compte(self, token):
        """The account behind a valid access token, or None."""
        try:
            with db.database.connection_context():
                return self.ctx.authenticator.authenticate(token)
        except AppError:
            return None

    def _seconds_left(self, token):
        """Seconds until the token expires, or None when it is no longer valid (expired, revoked,
        account deactivated or deleted)."""
        try:
            with db.database.connection_context():
                self.ctx.authenticator.authenticate(token)
                return self.ctx.authenticator.seconds_left(token)
        except AppError:
            return None
