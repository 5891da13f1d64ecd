"""What every request passes before any route or WebSocket endpoint sees it.

Bottle and the endpoints decode headers, the path and the query string as UTF-8 when they read
them; a byte that is not UTF-8 would then raise in the middle of a handler (an HTML "Critical
error" page, or a 500). PostgreSQL refuses the NUL character in text, where SQLite stores it: a NUL
that reached a query would fail on one engine only. So a request whose headers, path or query
string are not UTF-8, or carry a NUL, is answered 400 here, in the API's JSON error format, and so
is a Host that ALLOWED_HOSTS does not name. The WebSocket paths get the same answer: the handler
(transport.py) asks `refusal()` before it accepts an upgrade.

The X-Forwarded-* headers are a proxy's word about the client: they are believed only from an
address of TRUSTED_PROXIES (the client's address then becomes REMOTE_ADDR, for the audit log and
the throttles), and removed from every other request, so that nothing downstream (pagination
links among others) can be fooled by a client that sends them itself.
"""
import ipaddress
import json
from urllib.parse import unquote_to_bytes

FORWARDED = ('HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_HOST', 'HTTP_X_FORWARDED_PROTO',
             'HTTP_X_FORWARDED_PORT', 'HTTP_FORWARDED')

SECURITY_HEADERS = (
    ('X-Content-Type-Options', 'nosniff'),
    ('X-Frame-Options', 'DENY'),
    ('Referrer-Policy', 'no-referrer'),
)


def _utf8(text):
    """The UTF-8 text behind a WSGI string (WSGI hands bytes over decoded as latin-1), or None."""
    try:
        return text.encode('latin-1').decode('utf-8')
    except UnicodeError:
        return None


def host_name(header):
    """The host part of a Host header, lower case: "[::1]:8000" -> "::1", "Box.local:80" -> "box.local"."""
    header = header.strip().lower()
    if header.startswith('['):
        return header[1:].split(']', 1)[0]
    return header.rsplit(':', 1)[0] if header.count(':') == 1 else header


class Gate:
    """WSGI middleware in front of the whole application (REST, pages, WebSockets)."""

    def __init__(self, app, config):
        self.app = app
        hosts = config.allowed_hosts
        self.allowed_hosts = None if '*' in hosts else frozenset(h.lower() for h in hosts)
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in config.trusted_proxies]

    def __getattr__(self, name):
        # What the gate does not define is the application's (its routes, for instance).
        if name == 'app':
            raise AttributeError(name)
        return getattr(self.app, name)

    def _trusted(self, address):
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def _forwarding(self, environ):
        """Drop forwarding headers that no trusted proxy vouches for; behind one, take the client's
        address from X-Forwarded-For (the last address no trusted proxy owns)."""
        if not (self.proxies and self._trusted(environ.get('REMOTE_ADDR', ''))):
            for key in FORWARDED:
                environ.pop(key, None)
            return
        for hop in reversed(environ.get('HTTP_X_FORWARDED_FOR', '').split(',')):
            if hop.strip() and not self._trusted(hop):
                try:
                    environ['REMOTE_ADDR'] = str(ipaddress.ip_address(hop.strip()))
                except ValueError:
                    pass
                break
        if environ.get('HTTP_X_FORWARDED_PROTO', '').lower() not in ('http', 'https'):
            environ.pop('HTTP_X_FORWARDED_PROTO', None)

    def refusal(self, environ):
        """Why this request is refused (a French sentence), or None when it may go on."""
        if 'poste.gated' not in environ:   # once per request (the handler may ask first)
            environ['poste.gated'] = True
            self._forwarding(environ)
        for key, value in environ.items():
            if key.startswith('HTTP_') or key in ('CONTENT_TYPE', 'CONTENT_LENGTH'):
                if not isinstance(value, str):
                    continue
                text = _utf8(value)
                if text is None or '\x00' in text:
                    return 'En-tête de requête illisible : UTF-8 sans caractère nul attendu.'
        path = _utf8(environ.get('PATH_INFO', ''))
        if path is None or '\x00' in path:
            return 'Chemin illisible : UTF-8 sans caractère nul attendu.'
        query = environ.get('QUERY_STRING', '')
        if query:
            try:
                raw = unquote_to_bytes(query.encode('latin-1').replace(b'+', b' '))
                readable = b'\x00' not in raw and raw.decode('utf-8') is not None
            except UnicodeError:
                readable = False
            if not readable:
                return 'Paramètres de requête illisibles : UTF-8 sans caractère nul attendu.'
        if self.allowed_hosts is not None:
            for key in ('HTTP_HOST', 'HTTP_X_FORWARDED_HOST'):
                if (key == 'HTTP_HOST' or key in environ) and \
                        host_name(environ.get(key, '')) not in self.allowed_hosts:
                    return 'Hôte non autorisé.'
        return None

    def __call__(self, environ, start_response):
        detail = self.refusal(environ)
        if detail is None:
            return self.app(environ, start_response)
        body = json.dumps({'detail': detail}, ensure_ascii=False).encode('utf-8')
        start_response('400 Bad Request', [('Content-Type', 'application/json; charset=utf-8'),
                                           ('Content-Length', str(len(body))), *SECURITY_HEADERS])
        return [body]
