"""systemd's notify protocol (sd_notify) without a dependency: READY, the watchdog, STOPPING.

Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""
import logging
import os
import socket

import gevent

log = logging.getLogger(__name__)


def notify(message):
    address = os.environ.get('NOTIFY_SOCKET')
    if not address:
        return
    if address.startswith('@'):   # an abstract socket
        address = '\0' + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode('ascii'), address)
    except OSError as exc:
        log.warning('systemd notification failed: %s', exc)


def start_watchdog(healthy):
    """Tell systemd we are alive twice per WatchdogSec, as long as `healthy()` says so. A stuck
    event loop, a dead scheduler or an unreachable database stop the pings, and systemd restarts
    the service. Returns the greenlet, or None when no watchdog is configured."""
    try:
        interval = int(os.environ.get('WATCHDOG_USEC', '0')) / 2e6
    except ValueError:
        interval = 0
    if interval <= 0:
        return None

    def loop():
        while True:
            if healthy():
                notify('WATCHDOG=1')
            else:
                log.warning('unhealthy: not feeding the systemd watchdog')
            gevent.sleep(interval)
    return gevent.spawn(loop)
