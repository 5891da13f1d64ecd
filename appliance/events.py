"""Events: the facts the desk publishes, for whoever listens (the WebSocket endpoints, the
timekeeper, what is kept in memory).

publish() inside a write transaction delivers after the commit (db.on_commit), so nobody hears of a
change that was rolled back. Listeners subscribe to the kinds they want; they run in the publishing
greenlet and must not block (the endpoints only queue messages). Payloads are plain JSON values
(ids, strings, numbers, JSON objects), never database rows: when several processes share one
PostgreSQL database, the relay (appliance/relay.py) carries every fact to the others, which
deliver it to their own listeners exactly as if it had been published there.
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
LOGIN_CHANGED = 'login_changed'              # {compte_id}: forget what is remembered of its logins
POSTE_MESSAGE = 'poste_message'              # {poste_id, message, de}
POSTE_COMMAND = 'poste_command'              # {poste_id, commande}
SESSION_PAUSED = 'session_paused'            # {poste_id, temps_restant, pause_max}
SESSION_RESUMED = 'session_resumed'          # {poste_id, temps_restant}
TIME_REQUESTED = 'time_requested'            # {poste_id, seconds}: waits for staff
TIME_REFUSED = 'time_refused'                # {poste_id, motif}
DEMANDE_CHANGED = 'demande_changed'          # {demande: JSON}
HOURS_CHANGED = 'hours_changed'              # {}: the opening hours changed (read them again)
CLOSING_DUE = 'closing_due'                  # {fermeture, secondes, message}: every kiosk hears it
# Never published by the desk: the relay lost facts (its link to the database dropped) and says,
# once it is back, that anything kept in memory must be read again.
RESYNC = 'resync'                            # {}

_listeners = defaultdict(list)   # kind -> listeners
_relay = None                     # carries facts to other processes (appliance/relay.py), or None


def subscribe(listener, *kinds):
    """`listener(kind, payload)` is called for every event of these kinds from now on."""
    for kind in kinds:
        _listeners[kind].append(listener)


def unsubscribe(listener):
    for listeners in _listeners.values():
        if listener in listeners:
            listeners.remove(listener)


def publish(kind, **payload):
    db.on_commit(lambda: deliver(kind, payload))
    if _relay is not None:
        _relay.send(kind, payload)


def publish_reserved(kind, payload):
    """Like publish(), for a fact whose payload is filled in later in the same transaction (an
    audit entry gets its id at the end): this process hears it in the order it was reserved; call
    send_to_others(kind, payload) once the payload is complete."""
    db.on_commit(lambda: deliver(kind, payload))


def send_to_others(kind, payload):
    if _relay is not None:
        _relay.send(kind, payload)


def set_relay(relay):
    global _relay
    _relay = relay


def deliver(kind, payload):
    """Hand a fact to this process's listeners (published here, or arriving from another)."""
    for listener in list(_listeners.get(kind, ())):
        try:
            listener(kind, payload)
        except Exception:  # one broken listener must not stop the others or the request
            log.exception('event listener failed on %s', kind)
