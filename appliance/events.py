"""In-process events: the facts the desk publishes, for whoever listens (the WebSocket endpoints,
the timekeeper).

publish() inside a write transaction delivers after the commit (db.on_commit), so nobody hears of a
change that was rolled back. Listeners subscribe to the kinds they want; they run in the publishing
greenlet and must not block (the endpoints only queue messages). Payloads are plain JSON values
(ids, strings, numbers, JSON objects), never database rows.
"""
import logging
from collections import defaultdict

from appliance import db

log = logging.getLogger(__name__)

# The kinds, with their payloads.
POSTE_CHANGED = 'poste_changed'              # {poste_id, deleted}
SESSION_CHANGED = 'session_changed'          # {session: JSON, avertissements: "600,300"}
LOG_WRITTEN = 'log_written'                  # {log: JSON}
KIOSK_TOKEN_CHANGED = 'kiosk_token_changed'  # {poste_id}: kiosks holding the old token must go
SESSION_STARTED = 'session_started'          # {poste_id, session: JSON, temps_restant}
TIME_ADDED = 'time_added'                    # {poste_id, seconds, temps_restant}
WARNING_DUE = 'warning_due'                  # {poste_id, seuil, temps_restant, message}
SESSION_ENDED = 'session_ended'              # {poste_id, session_id, raison}
LIBRARY_CHANGED = 'library_changed'          # {nom, page_accueil}: every kiosk hears it

_listeners = defaultdict(list)   # kind -> listeners


def subscribe(listener, *kinds):
    """`listener(kind, payload)` is called for every event of these kinds from now on."""
    for kind in kinds:
        _listeners[kind].append(listener)


def unsubscribe(listener):
    for listeners in _listeners.values():
        if listener in listeners:
            listeners.remove(listener)


def publish(kind, **payload):
    db.on_commit(lambda: _deliver(kind, payload))


def _deliver(kind, payload):
    for listener in list(_listeners.get(kind, ())):
        try:
            listener(kind, payload)
        except Exception:  # one broken listener must not stop the others or the request
            log.exception('event listener failed on %s', kind)
