"""The one module that knows gevent-websocket, so it can be swapped.

Only one greenlet may write to a socket at a time (two raise ConcurrentObjectUseError): messages,
pings and the close go through an outbox drained by one writer greenlet, spawned while there is
something to write (an idle kiosk costs no greenlet but its reader), and every write takes a lock
(gevent-websocket itself answers pings from the reader). It also limits the size of a message
(1009 when it is exceeded) and closes with a real close code (gevent-websocket's own close()
drops it).
"""
import json
import logging
import struct
from collections import deque

import gevent
from gevent.lock import Semaphore
from geventwebsocket.exceptions import ProtocolError, WebSocketError
from geventwebsocket.websocket import Header

from appliance.protocol import Close

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024       # whatever the number of its frames
LINGER_SECONDS, LINGER_BYTES = 2, 16 * 1024 * 1024
PROTOCOL_ERROR, INVALID_DATA = 1002, 1007
PING_INTERVAL = 20

SILENCE = object()  # what receive() returns when nothing came within its timeout
_PING = object()


class FrameTooLarge(Exception):
    pass


class Socket:
    def __init__(self, ws):
        self.ws = ws
        self.closed = False
        self.too_big = False
        self._outbox = deque()
        self._writer = None
        # gevent-websocket answers pings and closes from the reading greenlet, while our writer may
        # be writing: every write takes this lock, so frames never interleave.
        raw_write, lock = ws.raw_write, Semaphore()

        def locked_write(data):
            with lock:
                return raw_write(data)

        ws.raw_write = locked_write

    def send(self, message):
        """Queue a JSON message; never blocks the caller."""
        if not self.closed:
            self._queue(json.dumps(message, ensure_ascii=False))

    def ping(self):
        """Pings find peers that vanished without closing (power cut, cable pulled)."""
        if not self.closed:
            self._queue(_PING)

    def close(self, code=Close.NORMAL, reason=''):
        """Queue a close frame after what is already queued; nothing is sent after it."""
        if not self.closed:
            self.closed = True
            self._queue(('close', struct.pack('!H', code) + reason.encode('utf-8')[:120]))

    def receive(self, timeout):
        """The next text message; SILENCE when nothing came within `timeout`; None when the peer
        closed or broke the protocol (the socket is then closed: 1009 for a message too big,
        1002 for a protocol error, 1007 for text that is not UTF-8)."""
        try:
            with gevent.Timeout(timeout):
                message = self._read_message()
        except gevent.Timeout:
            return SILENCE
        except FrameTooLarge:
            self.too_big = True
            self.close(Close.TOO_BIG, 'message trop volumineux')
            return None
        except ProtocolError:
            self.close(PROTOCOL_ERROR, 'protocole')
            return None
        except UnicodeDecodeError:
            self.close(INVALID_DATA, 'texte non UTF-8')
            return None
        except Exception:  # the peer closed or broke the connection, whatever was raised
            message = None
        if message is None:
            self.close()
            return None
        return message

    def _read_message(self):
        """One message, read frame by frame (gevent-websocket's own reader, with sizes checked from
        each frame's header before its payload is read: a huge frame, or a message of many
        frames, never reaches memory). Pings are answered and a close is acknowledged here;
        None when the peer closes."""
        ws = self.ws
        opcode, parts, size = None, [], 0
        while True:
            header = Header.decode_header(ws.stream)
            if header.flags:
                raise ProtocolError('reserved bits set')
            if header.opcode in (ws.OPCODE_TEXT, ws.OPCODE_BINARY):
                if opcode is not None:
                    raise ProtocolError('a new message inside a fragmented one')
                opcode = header.opcode
            elif header.opcode == ws.OPCODE_CONTINUATION:
                if opcode is None:
                    raise ProtocolError('a continuation without a message')
            elif header.opcode not in (ws.OPCODE_PING, ws.OPCODE_PONG, ws.OPCODE_CLOSE):
                raise ProtocolError('unknown opcode')
            if header.opcode <= ws.OPCODE_BINARY:
                size += header.length
                if size > MAX_MESSAGE_BYTES:
                    raise FrameTooLarge(size)
            payload = ws.raw_read(header.length) if header.length else b''
            if len(payload) != header.length:
                raise WebSocketError('connection ended inside a frame')
            if header.mask:
                payload = header.unmask_payload(payload)
            if header.opcode == ws.OPCODE_PING:
                ws.handle_ping(header, payload)
            elif header.opcode == ws.OPCODE_CLOSE:
                ws.handle_close(header, payload)
                return None
            elif header.opcode != ws.OPCODE_PONG:
                parts.append(payload)
                if header.fin:
                    break
        data = b''.join(parts)
        if opcode == ws.OPCODE_TEXT:
            return data.decode('utf-8')
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            return ''   # a binary message: not ours to read, answered like any malformed one

    def wait_closed(self, timeout=2):
        """Let the writer flush (the close frame included) before the handler returns."""
        if self._writer is not None:
            self._writer.join(timeout)
            self._writer.kill(block=False)
        if self.too_big:
            self._discard_unread()

    def _discard_unread(self):
        """After a 1009, read and drop what the peer still sends of its message before the socket
        is closed: closing with unread bytes makes the kernel send a reset, which can destroy
        the close frame before the peer reads it."""
        stream = self.ws.stream
        if stream is None:
            return
        dropped = 0
        try:
            with gevent.Timeout(LINGER_SECONDS, False):
                while dropped < LINGER_BYTES:
                    chunk = stream.handler.socket.recv(65536)
                    if not chunk:
                        break
                    dropped += len(chunk)
        except OSError:
            pass

    def _queue(self, item):
        self._outbox.append(item)
        if self._writer is None or self._writer.dead:
            self._writer = gevent.spawn(self._drain)

    def _drain(self):
        ws = self.ws
        try:
            while self._outbox and not ws.closed:
                item = self._outbox.popleft()
                if item is _PING:
                    ws.send_frame(b'', ws.OPCODE_PING)
                elif isinstance(item, tuple) and item[0] == 'close':
                    ws.send_frame(item[1], ws.OPCODE_CLOSE)
                    ws.closed = True   # so gevent-websocket does not send a second close frame
                else:
                    ws.send(item)
        except (WebSocketError, OSError, AttributeError):
            # The peer is gone; the reader will notice and clean up.
            self.closed = True
        if ws.closed:
            self._outbox.clear()
