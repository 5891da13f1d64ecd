"""The WebSocket side of the appliance: kiosks on /ws/poste/{ip_address}/ (kiosk.py), the staff live
feed on /ws/staff/ (staff.py), what they share (plumbing.py), and the one module that knows
gevent-websocket (socket.py)."""
import re
from urllib.parse import unquote

import gevent

from appliance.protocol import Close
from appliance.ws.kiosk import KioskEndpoint
from appliance.ws.plumbing import Connection, ping_forever
from appliance.ws.staff import StaffFeed

KIOSK_PATH = re.compile(r'^/ws/poste/([^/]{1,100})/$')
STAFF_PATH = '/ws/staff/'
UPGRADE_REQUIRED = b'{"detail": "Connexion WebSocket attendue."}'


class Hub:
    """Both endpoints, started and stopped together, in front of the bottle application."""

    def __init__(self, ctx):
        self.kiosk = KioskEndpoint(ctx)
        self.staff = StaffFeed(ctx)
        self._pinger = None

    def start(self):
        self.kiosk.start()
        self.staff.start()
        self._pinger = gevent.spawn(ping_forever, self.kiosk.sockets, self.staff.sockets)

    def close_all(self):
        """Shutdown: every socket hears "going away" (1001); kiosks keep counting on their own."""
        self.kiosk.stop()
        self.staff.stop()
        for socket in self.kiosk.sockets.all() + self.staff.sockets.all():
            socket.close(Close.GOING_AWAY, 'arrêt du serveur')
        gevent.sleep(0.1)  # let the writers flush their close frames
        if self._pinger is not None:
            self._pinger.kill()

    def connected_kiosks(self):
        return len(self.kiosk.sockets)

    def connected_staff(self):
        return len(self.staff.sockets)

    def wrap(self, app):
        """The WSGI application: WebSocket paths come straight here, everything else goes to `app`.
        (Outside bottle, a connection held for hours keeps a shallow stack: less memory per kiosk.)"""
        def dispatch(environ, start_response):
            path = environ.get('PATH_INFO', '')
            kiosk = KIOSK_PATH.match(path)
            if kiosk is None and path != STAFF_PATH:
                return app(environ, start_response)
            if environ.get('wsgi.websocket') is None:
                start_response('426 Upgrade Required', [('Content-Type', 'application/json'),
                                                        ('Upgrade', 'websocket'),
                                                        ('Content-Length', str(len(UPGRADE_REQUIRED)))])
                return [UPGRADE_REQUIRED]
            connection = Connection(environ)
            if kiosk is not None:
                self.kiosk.serve(connection, unquote(kiosk.group(1)))
            else:
                self.staff.serve(connection)
            return []
        return dispatch
