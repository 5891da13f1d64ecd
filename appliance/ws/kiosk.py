"""The kiosk endpoint, /ws/poste/{ip_address}/: a public computer's lock screen talks to the desk.

The poste proves itself with its token (`?token=` or `X-Poste-Token`), or by its source address
under KIOSK_AUTH=ip. Messages in are translated to desk calls; the facts the desk publishes about a
poste are turned into the wire messages its kiosks hear (docs/kiosk.md describes the protocol).
"""
import json

import gevent

from appliance import db, events
from appliance.clock import iso, parse_iso, remaining_seconds
from appliance.desk.privacy import CharterRequired
from appliance.errors import AppError
from appliance.hours import closing_message
from appliance.models import Session
from appliance.protocol import Action, Close, Reason, Type, normalise_code
from appliance.serializers import kiosk_session_json, session_json, temps_restant
from appliance.ws.plumbing import Sockets, origin_allowed
from appliance.ws.socket import SILENCE, Socket

DRIFT_TOLERANCE = 2        # seconds between the kiosk's countdown and ours before a `sync`


def wire_message(kind, fact):
    """The message a kiosk hears for a fact the desk published about its poste."""
    if kind == events.SESSION_STARTED:
        return {'action': Action.SESSION_STARTED, 'session': kiosk_session_json(fact['session']),
                'temps_restant': fact['temps_restant']}
    if kind == events.TIME_ADDED:
        return {'action': Action.ADD_TIME, 'seconds': fact['seconds'], 'temps_restant': fact['temps_restant']}
    if kind == events.WARNING_DUE:
        return {'action': Action.WARNING, 'temps_restant': fact['temps_restant'], 'seuil': fact['seuil'],
                'message': fact['message']}
    if kind == events.SESSION_ENDED:
        return {'action': Action.CLOSE_SESSION, 'raison': fact['raison'], 'session': fact['session_id']}
    if kind == events.POSTE_MESSAGE:
        return {'action': Action.MESSAGE, 'message': fact['message'], 'de': fact['de']}
    if kind == events.POSTE_COMMAND:
        return {'action': Action.COMMAND, 'commande': fact['commande']}
    if kind == events.SESSION_PAUSED:
        return {'action': Action.PAUSED, 'temps_restant': fact['temps_restant'], 'pause_max': fact['pause_max']}
    if kind == events.SESSION_RESUMED:
        return {'action': Action.RESUMED, 'temps_restant': fact['temps_restant']}
    if kind == events.TIME_REQUESTED:
        return {'action': Action.REQUEST_PENDING, 'seconds': fact['seconds']}
    if kind == events.TIME_REFUSED:
        return {'action': Action.REQUEST_REFUSED, 'motif': fact['motif']}
    raise ValueError(kind)


CONTROL_FACTS = (events.POSTE_MESSAGE, events.POSTE_COMMAND, events.SESSION_PAUSED, events.SESSION_RESUMED,
                 events.TIME_REQUESTED, events.TIME_REFUSED)


class KioskEndpoint:
    def __init__(self, ctx):
        self.ctx = ctx
        self.desk = ctx.desk
        self.sockets = Sockets()   # poste id -> its kiosks' sockets
        self.closing = None        # the last closing announced (its fact), until it has passed

    def start(self):
        events.subscribe(self._on_fact, events.SESSION_STARTED, events.TIME_ADDED, events.WARNING_DUE,
                         events.SESSION_ENDED, *CONTROL_FACTS)
        events.subscribe(self._on_token_changed, events.KIOSK_TOKEN_CHANGED)
        events.subscribe(self._on_library_changed, events.LIBRARY_CHANGED)
        events.subscribe(self._on_resync, events.RESYNC)
        events.subscribe(self._on_closing, events.CLOSING_DUE)

    def stop(self):
        events.unsubscribe(self._on_fact)
        events.unsubscribe(self._on_token_changed)
        events.unsubscribe(self._on_library_changed)
        events.unsubscribe(self._on_resync)
        events.unsubscribe(self._on_closing)

    def _on_fact(self, kind, fact):
        sockets = self.sockets.get(fact['poste_id'])
        if sockets:
            message = wire_message(kind, fact)
            if kind == events.SESSION_STARTED:
                message['inactivite'] = self.ctx.config.inactivity_timeout
            for socket in sockets:
                socket.send(message)
            if kind == events.SESSION_STARTED:
                # Started after the closing was announced: this kiosk hears it too.
                self._late_closing(sockets, fact['temps_restant'])

    def _on_token_changed(self, kind, fact):
        # A new token was issued: kiosks holding the old one must prove themselves again.
        for socket in self.sockets.get(fact['poste_id']):
            socket.close(Close.FORBIDDEN, 'jeton remplacé')

    def _on_library_changed(self, kind, fact):
        # A new name or home page: every kiosk hears it at once, in a `sync` (its view changed).
        gevent.spawn(self._sync_everyone, fact)

    def _on_closing(self, kind, fact):
        """The library closes soon: every connected kiosk hears it once, with its own time left
        (never more than the library has left)."""
        self.closing = fact
        now = self.desk.now()
        closing_left = remaining_seconds(parse_iso(fact['fermeture']), now)
        for poste_id in list(self.sockets.by_key):
            poste, running = self.desk.poste_state(poste_id)
            left = closing_left if running is None else min(closing_left, temps_restant(running, now))
            message = {'action': Action.CLOSING, 'fermeture': fact['fermeture'], 'temps_restant': left,
                       'message': fact['message']}
            for socket in self.sockets.get(poste_id):
                socket.send(message)

    def _late_closing(self, sockets, session_left=None):
        """A kiosk that connects, or whose session starts, after the closing notice and before the
        closing hears the notice as well: every connected kiosk is told, whenever it came."""
        if self.closing is None:
            return
        closing_left = remaining_seconds(parse_iso(self.closing['fermeture']), self.desk.now())
        if closing_left <= 0:
            self.closing = None
            return
        left = closing_left if session_left is None else min(closing_left, session_left)
        message = {'action': Action.CLOSING, 'fermeture': self.closing['fermeture'], 'temps_restant': left,
                   'message': closing_message(closing_left)}
        for socket in sockets:
            socket.send(message)

    def _on_resync(self, kind, fact):
        gevent.spawn(self._sync_everyone)

    def _sync_everyone(self, library=None):
        """Every kiosk hears the server's view again (the library's settings changed, or facts
        from other processes may have been missed)."""
        with db.database.connection_context():
            for poste_id in list(self.sockets.by_key):
                poste, running = self.desk.poste_state(poste_id)
                for socket in self.sockets.get(poste_id):
                    if poste is None:
                        socket.close(Close.NOT_FOUND, 'poste supprimé')
                    else:
                        socket.send(self._sync(poste, running, library=library))

    # -- one connection ---------------------------------------------------------------------

    def serve(self, connection, ip_address):
        socket = Socket(connection.ws)
        source = connection.remote_addr
        with db.database.connection_context():
            poste = self._authenticate(socket, connection, ip_address)
        if poste is None:
            socket.wait_closed()
            return
        self.sockets.add(poste.id, socket)
        try:
            with db.on_demand():
                self.desk.kiosk_seen(poste, address=source)
                poste_now, running = self.desk.poste_state(poste.id)
                socket.send(self._sync(poste_now, running))
                self._late_closing([socket], temps_restant(running, self.desk.now()) if running else None)
            timeout = self.ctx.config.heartbeat_timeout + 30
            while not socket.closed:
                text = socket.receive(timeout)
                if text is SILENCE:
                    socket.close(Close.GOING_AWAY, 'silence')  # no heartbeat for too long: a dead peer
                if text is None or text is SILENCE:
                    break
                with db.on_demand():
                    self._message(socket, poste, text, source)
        finally:
            self.sockets.discard(poste.id, socket)
            socket.close()
            socket.wait_closed()

    def _authenticate(self, socket, connection, ip_address):
        if not origin_allowed(connection, self.ctx.config.cors_allowed_origins):
            socket.close(Close.FORBIDDEN, 'origine refusée')
            return None
        poste = self.desk.poste_for_address(ip_address[:45])
        if poste is None:
            socket.close(Close.NOT_FOUND, 'poste inconnu')
            return None
        token = connection.query('token') or connection.header('X-Poste-Token')
        if token:
            by_token = self.desk.poste_for_token(token)
            if by_token is not None and by_token.id == poste.id:
                return poste
        elif self.ctx.config.kiosk_auth == 'ip' and connection.remote_addr == poste.ip_address:
            return poste
        socket.close(Close.FORBIDDEN, 'preuve du poste refusée')
        return None

    def _message(self, socket, poste, text, source):
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):   # RecursionError: [[[[…]]]] nested too deep
            message = None
        if not isinstance(message, dict) or not isinstance(message.get('type'), str):
            socket.send({'action': Action.ERROR, 'detail': 'Message invalide : un objet JSON avec "type" est attendu.'})
            return
        kind = message['type']
        poste, running = self.desk.poste_state(poste.id)
        if poste is None:
            socket.close(Close.NOT_FOUND, 'poste supprimé')
            return
        if kind == Type.HEARTBEAT:
            self._heartbeat(socket, poste, running, message)
        elif kind == Type.VALIDATE_CODE:
            code = message.get('code') or message.get('code_acces')
            if not isinstance(code, str) or not code.strip():
                socket.send({'action': Action.CODE_INVALID, 'detail': 'Entrez le code remis à l’accueil.'})
                return
            self._start(socket, poste, code, source)
        elif kind == Type.END_SESSION:
            raison = Reason.INACTIVITY if message.get('raison') == Reason.INACTIVITY else Reason.BY_VISITOR
            try:
                self.desk.end_by_visitor(poste, ip=source, raison=raison)  # close_session arrives as a fact
            except AppError as exc:
                socket.send({'action': Action.CLOSE_SESSION, 'raison': Reason.NO_SESSION, 'detail': exc.detail})
        elif kind in (Type.PAUSE, Type.RESUME, Type.REQUEST_TIME):
            self._control(socket, poste, kind, message, source)
        elif kind == Type.ACCEPT_CHARTER:
            self._accept_charter(socket, poste, message, source)
        else:
            socket.send({'action': Action.ERROR, 'detail': f'Type de message inconnu : {kind[:40]}.'})

    def _control(self, socket, poste, kind, message, source):
        """pause, resume and request_time: their success arrives as facts (paused, resumed,
        add_time or request_pending); a refusal is answered here."""
        try:
            if kind == Type.PAUSE:
                self.desk.pause_from_kiosk(poste, ip=source)
            elif kind == Type.RESUME:
                self.desk.resume_from_kiosk(poste, message.get('code') or message.get('code_acces'), ip=source)
            else:
                self.desk.request_time(poste, message.get('seconds'), ip=source)
        except AppError as exc:
            if kind == Type.RESUME:
                reply = {'action': Action.CODE_INVALID, 'detail': exc.detail}
                if exc.status == 429:
                    reply['retry_after'] = exc.retry_after
            else:
                reply = {'action': Action.ERROR, 'detail': exc.detail, 'type': kind}
            socket.send(reply)

    def _accept_charter(self, socket, poste, message, source):
        """{"type": "accept_charter", "code", "version"}: the visitor accepted the charter shown
        by charter_required; the session then starts (session_started arrives as a fact)."""
        code, version = message.get('code'), message.get('version')
        if not isinstance(code, str) or not code.strip() or isinstance(version, bool) or not isinstance(version, int):
            socket.send({'action': Action.ERROR, 'detail': 'accept_charter attend "code" et "version" (entier).'})
            return
        self._start(socket, poste, code, source, charte_version=version)

    def _start(self, socket, poste, code, source, charte_version=None):
        """Start the session of `code`: success arrives as a fact (session_started); a charter to
        accept first, or a refusal, is answered here."""
        try:
            self.desk.validate_code(code, poste, source_ip=source, charte_version=charte_version)
        except CharterRequired as required:
            socket.send({'action': Action.CHARTER_REQUIRED, 'charte': required.to_json(), 'code': code})
        except AppError as exc:
            reply = {'action': Action.CODE_INVALID, 'detail': exc.detail}
            if exc.status == 429:
                reply['retry_after'] = exc.retry_after
            socket.send(reply)

    def _heartbeat(self, socket, poste, running, message):
        self.desk.kiosk_seen(poste)
        code = message.get('code')
        if isinstance(code, str) and code.strip():
            code = normalise_code(code)
            if running is None or running.code_acces != code:
                ended = (Session.select().where(Session.code_acces == code, Session.poste == poste.id)
                         .order_by(Session.id.desc()).first())
                socket.send({'action': Action.CLOSE_SESSION,
                             'raison': ended.raison_fin if ended and ended.raison_fin else Reason.UNKNOWN_SESSION})
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

    def _sync(self, poste, running, library=None):
        now = self.desk.now()
        library = library or self.desk.library()
        return {'action': Action.SYNC, 'statut': poste.statut,
                'session': kiosk_session_json(session_json(running, now)) if running else None,
                'temps_restant': temps_restant(running, now) if running else None,
                'server_time': iso(now), 'inactivite': self.ctx.config.inactivity_timeout,
                'bibliotheque': library['nom'], 'page_accueil': library['page_accueil']}
