"""The listening socket and the handler of each connection: plain HTTP, or HTTPS and WSS only
when TLS_CERT and TLS_KEY are set (docs/install.md).

- TCP_NODELAY: pywsgi writes headers and body separately; without it each response on a kept-alive
  connection waits for the client's delayed ACK (40 ms).
- A deadline from the start of a request to its last header line (HEADER_TIMEOUT): a client that
  opens connections and sends its headers a byte at a time (slowloris) would otherwise hold a
  greenlet and a socket each for as long as it likes. The TLS handshake has the same deadline.
- A WebSocket upgrade that the gate refuses (gate.py) is answered 400 like any request, instead
  of being upgraded first.
- A client speaking plain HTTP to the TLS port, or failing its handshake, is closed quietly:
  without this every confused browser would leave a traceback in the log.
"""
import logging
import socket
import ssl
import time

import gevent
from gevent.pywsgi import WSGIHandler, WSGIServer
from geventwebsocket.handler import WebSocketHandler

from appliance.accesslog import ACCESS_LOG
from appliance.config import ConfigError

log = logging.getLogger(__name__)
request_log = logging.getLogger('appliance.requests')   # its lines: accesslog.py

PLAIN_HTTP_ANSWER = (
    b'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n'
    b'Connection: close\r\nContent-Length: %d\r\n\r\n%s')
TLS_HANDSHAKE = b'\x16'
PLAIN_HTTP_BODY = '{"detail": "Ce port parle HTTPS : utilisez une adresse en https://."}'.encode('utf-8')


class Handler(WebSocketHandler):
    def handle(self):
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().handle()

    def handle_one_request(self):
        # Runs once per request of a kept-alive connection: the deadline covers the wait for the
        # request line too, so an idle kept-alive connection is also let go after it.
        deadline = gevent.Timeout(self.server.header_timeout)
        deadline.start()
        self._header_deadline = deadline
        try:
            result = super().handle_one_request()
            # A yield point per request: a connection whose next request is already buffered
            # would otherwise be served again and again while every other one waits.
            gevent.sleep(0)
            return result
        except gevent.Timeout as exc:
            if exc is not deadline:
                raise
            log.debug('request headers from %s not complete within %d s: connection closed',
                      self.client_address[0] if self.client_address else '?', self.server.header_timeout)
            return None
        finally:
            deadline.close()

    def read_request(self, raw_requestline):
        parsed = super().read_request(raw_requestline)
        self._header_deadline.cancel()   # every header is in: the request itself may take its time
        return parsed

    def run_application(self):
        refusal = getattr(self.application, 'refusal', None)
        if refusal is not None and self.environ.get('HTTP_UPGRADE') and refusal(self.environ):
            self.close_connection = True               # it asked for another protocol: no keep-alive
            return WSGIHandler.run_application(self)   # the gate answers 400; nothing is upgraded
        return super().run_application()

    def log_request(self):
        """One line per request, without the query string (it may carry a search term or a token)."""
        if not request_log.isEnabledFor(logging.INFO):
            return
        path = (self.path or '').split('?', 1)[0]
        status = (self._orig_status or self.status or '-').split(' ')[0]
        elapsed = (time.time() - self.time_start) * 1000 if self.time_start else 0
        ACCESS_LOG.add(self.command, path, status, elapsed)   # written a moment later (accesslog.py)


class Server(WSGIServer):
    """The server of `application` on `listener`: HTTPS and WSS only when a `tls_context` is given."""

    def __init__(self, listener, application, *, header_timeout, tls_context=None):
        self.header_timeout = header_timeout
        super().__init__(listener, application, handler_class=Handler, log=request_log,
                         error_log=logging.getLogger('appliance.server'),
                         **({'ssl_context': tls_context} if tls_context is not None else {}))

    def wrap_socket_and_handle(self, client_socket, address):
        """TLS only: the handshake, bounded in time; a failed one ends the connection quietly."""
        try:
            with gevent.Timeout(self.header_timeout):
                # A TLS connection opens with a handshake record (0x16). A browser sent to
                # http:// opens with a method name instead: it gets one plain line of explanation.
                first = client_socket.recv(1, socket.MSG_PEEK)
                if first != TLS_HANDSHAKE:
                    if first.isalpha():
                        _answer_plain_http(client_socket)
                    log.debug('plain connection from %s to the TLS port: closed', address[0])
                    client_socket.close()
                    return None
                tls_socket = self.wrap_socket(client_socket, **self.ssl_args)
        except gevent.Timeout:
            log.debug('TLS handshake from %s not done within %d s', address[0], self.header_timeout)
            client_socket.close()
            return None
        except OSError as exc:   # ssl.SSLError included
            log.debug('TLS handshake from %s failed: %s', address[0], getattr(exc, 'reason', None) or exc)
            client_socket.close()
            return None
        try:
            return self.handle(tls_socket, address)
        finally:
            tls_socket.close()


def _answer_plain_http(client_socket):
    """A browser that typed http:// learns why, in one line, instead of a bare reset."""
    try:
        client_socket.sendall(PLAIN_HTTP_ANSWER % (len(PLAIN_HTTP_BODY), PLAIN_HTTP_BODY))
    except OSError:
        pass


def tls_context(cert_file, key_file):
    """The server's TLS settings: TLS 1.2 at least, OpenSSL's defaults otherwise."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ValueError) as exc:   # ssl.SSLError included: not PEM, or not a pair
        raise ConfigError(f'TLS_CERT, TLS_KEY: cannot use {cert_file} with {key_file} '
                          f'({getattr(exc, "reason", None) or exc})') from None
    return context
