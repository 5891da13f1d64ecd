"""The link to the server: one plain thread keeps a WebSocket open and reconnects with backoff.

It never touches the screen or the state machine: it puts events on a queue that the Tk thread reads:
  ('connected',)   ('message', dict)   ('disconnected', close code or None)
Sending is allowed from any thread (websocket-client locks each frame).
"""
import json
import logging
import random
import struct
import threading
import time

import websocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5
# The appliance pings every 20 s, so we only ping after a longer silence (a server that does not
# ping); a link silent for DEAD_AFTER, pongs included, is dead (cable pulled, server frozen).
PING_AFTER = 25
DEAD_AFTER = 40
BACKOFF_FIRST = 1
BACKOFF_MAX = 30


def backoff(attempt, rand=random.random):
    """Seconds to wait before retry number `attempt` (1, 2, ...): doubling up to BACKOFF_MAX, with
    ±20 % jitter so that all the kiosks of a library do not come back in the same instant."""
    base = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(attempt - 1, 16))
    return base * (0.8 + 0.4 * rand())


class Connection:
    def __init__(self, url, headers, events, ping_after=PING_AFTER, dead_after=DEAD_AFTER, sslopt=None):
        self._url = url
        self._headers = headers
        self._sslopt = sslopt    # wss://: which authority to trust (KioskConfig.sslopt)
        self._events = events
        self._ping_after = ping_after
        self._dead_after = dead_after
        self._ws = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='kiosk-link', daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        ws = self._ws
        if ws is not None:
            ws.abort()      # wakes the reader at once, whatever state the socket is in
        self._thread.join(timeout=5)

    def send(self, message):
        """Send a message now; without a link it is dropped (heartbeats resend the whole view)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            ws.send(json.dumps(message))
            return True
        except (OSError, websocket.WebSocketException) as exc:
            log.info('could not send %s: %s', message.get('type'), exc)
            return False

    def _run(self):
        failures = 0
        while not self._stop.is_set():
            try:
                close_code, heard = self._connect_and_read()
            except Exception:   # a surprise here must not end the link for good: retry
                log.exception('unexpected error on the link')
                close_code, heard = None, False
            if self._stop.is_set():
                break
            # A server that refuses us (4403, 4404) closes before saying anything: that counts as a
            # failure, so a misconfigured kiosk backs off instead of knocking every second.
            failures = 1 if heard else failures + 1
            self._events.put(('disconnected', close_code))
            delay = backoff(failures)
            log.info('link down (close code %s); next try in %.1f s', close_code, delay)
            self._stop.wait(delay)

    def _connect_and_read(self):
        """One connection, from opening to its end: (close code or None, whether the server spoke)."""
        try:
            ws = websocket.create_connection(self._url, header=self._headers, timeout=CONNECT_TIMEOUT,
                                             sslopt=self._sslopt)
        except (OSError, websocket.WebSocketException) as exc:
            log.info('cannot reach %s: %s', self._url, exc)
            return None, False
        log.info('connected to %s', self._url)
        self._ws = ws
        self._events.put(('connected',))
        try:
            return self._read(ws)
        finally:
            self._ws = None
            ws.close(timeout=1)

    def _read(self, ws):
        """Reads until the link ends; returns (close code or None, whether the server spoke)."""
        heard, pinged = False, False
        last_frame = time.monotonic()
        ws.settimeout(self._ping_after / 5)    # how often we look at the silence
        try:
            while not self._stop.is_set():
                try:
                    opcode, frame = ws.recv_data_frame(True)
                except websocket.WebSocketTimeoutException:
                    silence = time.monotonic() - last_frame
                    if silence >= self._dead_after:
                        log.warning('nothing from the server for %d s', silence)
                        return None, heard
                    if silence >= self._ping_after and not pinged:
                        ws.ping()
                        pinged = True
                    continue
                last_frame, pinged = time.monotonic(), False
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    return _close_code(frame.data), heard
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    heard = True
                    self._post(frame.data)
        except (OSError, websocket.WebSocketException) as exc:
            if not self._stop.is_set():
                log.info('link lost: %s', exc)
        return None, heard

    def _post(self, data):
        try:
            message = json.loads(data)
        except ValueError:
            log.warning('ignored a frame that is not JSON: %.80r', data)
            return
        if isinstance(message, dict):
            self._events.put(('message', message))


def _close_code(payload):
    return struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None
