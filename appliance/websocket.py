"""The one module that knows gevent-websocket (GUIDE pitfall 6), so it can be swapped.

A Socket has an outbox drained by a single writer greenlet (two greenlets writing at once raise
ConcurrentObjectUseError), sends pings, limits frame size, and closes with a real close code
(gevent-websocket's own close() drops the code).
"""
import json
import logging
import struct

import gevent
from gevent.queue import Queue
from geventwebsocket.exceptions import WebSocketError

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
PING_INTERVAL = 20

GOING_AWAY = 1001
TOO_BIG = 1009
UNAUTHORIZED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404

_CLOSE = object()
SILENCE = object()  # what receive() returns when nothing came within its timeout
_PING = object()


class FrameTooLarge(Exception):
    pass


class Socket:
    def __init__(self, ws):
        self.ws = ws
        self.outbox = Queue()
        self.closed = False
        self.too_big = False
        raw_read = ws.raw_read

        def limited_read(length):
            if length > MAX_FRAME_BYTES:
                self.too_big = True  # gevent-websocket swallows the exception: remember why
                raise FrameTooLarge(length)
            return raw_read(length)

        # Checked before the payload is read, so a huge frame never reaches memory.
        ws.raw_read = limited_read
        self._writer = gevent.spawn(self._write_loop)
        self._pinger = gevent.spawn(self._ping_loop)

    def send(self, message):
        """Queue a JSON message; never blocks the caller."""
        if not self.closed:
            self.outbox.put(json.dumps(message, ensure_ascii=False))

    def close(self, code=1000, reason=''):
        """Queue a close frame after what is already queued; the writer then stops."""
        if not self.closed:
            self.closed = True
            self.outbox.put((_CLOSE, code, reason))

    def receive(self, timeout):
        """The next text message; SILENCE when nothing came within `timeout`; None when the peer
        closed or broke the protocol (the socket is then closed)."""
        try:
            with gevent.Timeout(timeout):
                message = self.ws.receive()
        except gevent.Timeout:
            return SILENCE
        except Exception:  # the peer closed or broke the connection, whatever the library raised
            message = None
        if self.too_big:
            self.close(TOO_BIG, 'message trop volumineux')
            return None
        if message is None:
            self.closed = True
            return None
        if isinstance(message, (bytes, bytearray)):
            try:
                return bytes(message).decode('utf-8')
            except UnicodeDecodeError:
                return ''
        return message

    def wait_closed(self, timeout=2):
        """Let the writer flush (close frame included) before the handler returns."""
        self._writer.join(timeout)
        self._pinger.kill(block=False)
        if not self._writer.dead:
            self._writer.kill(block=False)

    def _write_loop(self):
        while True:
            item = self.outbox.get()
            try:
                if isinstance(item, tuple) and item[0] is _CLOSE:
                    _, code, reason = item
                    if not self.ws.closed:
                        payload = struct.pack('!H', code) + reason.encode('utf-8')[:120]
                        self.ws.send_frame(payload, self.ws.OPCODE_CLOSE)
                        self.ws.closed = True
                    return
                if self.ws.closed:
                    return
                if item is _PING:
                    self.ws.send_frame(b'', self.ws.OPCODE_PING)
                else:
                    self.ws.send(item)
            except (WebSocketError, OSError, AttributeError):
                # The peer is gone; the reader will notice and clean up.
                self.closed = True
                return

    def _ping_loop(self):
        # Pings find kiosks that vanished without closing (power cut, cable pulled).
        while not self.closed:
            gevent.sleep(PING_INTERVAL)
            if not self.closed:
                self.outbox.put(_PING)
