"""In-process events: what changed, for the WebSocket hub and anyone else who listens.

publish() inside a write transaction delivers after the commit (db.on_commit). Listeners run in the
publishing greenlet and must not block: the hub only puts messages on queues.
"""
import logging

from appliance import db

log = logging.getLogger(__name__)
_listeners = []


def subscribe(listener):
    """`listener(kind, payload)` is called for every event from now on."""
    _listeners.append(listener)


def unsubscribe(listener):
    if listener in _listeners:
        _listeners.remove(listener)


def publish(kind, **payload):
    db.on_commit(lambda: _deliver(kind, payload))


def _deliver(kind, payload):
    for listener in list(_listeners):
        try:
            listener(kind, payload)
        except Exception:  # one broken listener must not stop the others or the request
            log.exception('event listener failed on %s', kind)
