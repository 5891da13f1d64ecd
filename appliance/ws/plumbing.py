"""What both WebSocket endpoints need: the request behind a socket, the Origin check, and the sockets
they hold (pinged from one greenlet, closed together at shutdown)."""
from collections import defaultdict
from urllib.parse import parse_qs, urlparse

import gevent

from appliance.ws.socket import PING_INTERVAL


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


def origin_allowed(connection, allowed_origins):
    """Browsers send Origin: only our own pages and the configured origins may connect."""
    origin = connection.header('Origin')
    if not origin:
        return True  # not a browser (the Tk kiosk, scripts)
    if origin in allowed_origins:
        return True
    return urlparse(origin).netloc.lower() == connection.header('Host').lower()


class Sockets:
    """Open sockets by key (a poste id for kiosks, None for the staff feed)."""

    def __init__(self):
        self.by_key = defaultdict(set)

    def add(self, key, socket):
        self.by_key[key].add(socket)

    def discard(self, key, socket):
        sockets = self.by_key.get(key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.by_key[key]

    def get(self, key):
        return list(self.by_key.get(key, ()))

    def all(self):
        return [socket for sockets in self.by_key.values() for socket in sockets]

    def __len__(self):
        return sum(len(sockets) for sockets in self.by_key.values())


def ping_forever(*registries):
    """One greenlet pings every socket, rather than one greenlet per socket: pings find peers
    that vanished without closing (power cut, cable pulled)."""
    while True:
        gevent.sleep(PING_INTERVAL)
        for registry in registries:
            for socket in registry.all():
                socket.ping()
