"""The words the appliance and its kiosks share: statuses, reasons, messages, codes.

One vocabulary for the server (desk, WebSocket endpoints, scheduler) and the kiosk client
(appliance/kiosk/), which installs on the public computers without the server's dependencies:
this module imports nothing but the standard library. The protocol itself is described in
docs/api.md (REST) and docs/kiosk.md (the kiosk WebSocket).
"""

# -- statuses ---------------------------------------------------------------------------------

DISPONIBLE, OCCUPE, HORS_LIGNE, MAINTENANCE = 'disponible', 'occupe', 'hors_ligne', 'maintenance'
POSTE_STATUTS = (DISPONIBLE, OCCUPE, HORS_LIGNE, MAINTENANCE)
STAFF_POSTE_STATUTS = (DISPONIBLE, MAINTENANCE, HORS_LIGNE)   # `occupe` is the system's alone

EN_ATTENTE, ACTIVE, SUSPENDUE, TERMINEE, EXPIREE = 'en_attente', 'active', 'suspendue', 'terminee', 'expiree'
SESSION_STATUTS = (EN_ATTENTE, ACTIVE, SUSPENDUE, TERMINEE, EXPIREE)
OPEN_STATUTS = (EN_ATTENTE, ACTIVE, SUSPENDUE)      # not ended: the code is still taken
RUNNING = (ACTIVE, SUSPENDUE)                        # started: the poste is the visitor's


class Reason:
    """Why a session ended: its `raison_fin`, and the `raison` of close_session."""
    EXPIRATION = 'expiration'
    BY_STAFF = 'fermeture_staff'
    BY_VISITOR = 'fermeture_utilisateur'
    FOR_MAINTENANCE = 'maintenance'
    CODE_EXPIRED = 'code_expire'
    POSTE_DELETED = 'poste_supprime'
    # Only in a close_session answering a kiosk that believed in a session the server lacks.
    NO_SESSION = 'aucune_session'
    UNKNOWN_SESSION = 'session_inconnue'
    PAUSE_EXPIRED = 'pause_expiree'          # a pause longer than PAUSE_MAX
    INACTIVITY = 'inactivite'                # the kiosk saw no input for INACTIVITY_TIMEOUT
    LIBRARY_CLOSING = 'fermeture_bibliotheque'   # the library closed (opening hours)


# -- the kiosk WebSocket ------------------------------------------------------------------------

class Type:
    """Kiosk → server: the `type` of each message."""
    HEARTBEAT = 'heartbeat'
    VALIDATE_CODE = 'validate_code'
    END_SESSION = 'end_session'
    ACCEPT_CHARTER = 'accept_charter'      # {"code", "version"}: the visitor accepted the charter
    PAUSE = 'pause'                          # the visitor steps away: the time stops
    RESUME = 'resume'                        # {code}: the visitor is back, with their own code
    REQUEST_TIME = 'request_time'            # {seconds}: the visitor asks for more time


class Action:
    """Server → kiosk: the `action` of each message."""
    SYNC = 'sync'
    SESSION_STARTED = 'session_started'
    CODE_INVALID = 'code_invalid'
    ADD_TIME = 'add_time'
    WARNING = 'warning'
    CLOSE_SESSION = 'close_session'
    ERROR = 'error'
    CHARTER_REQUIRED = 'charter_required'  # {"charte": {"version", "texte"}}: to accept first
    MESSAGE = 'message'                      # {message, de}: a message from the desk
    COMMAND = 'command'                      # {commande}: lock, log off, restart, shut down
    PAUSED = 'paused'                        # {temps_restant}
    RESUMED = 'resumed'                      # {temps_restant}
    REQUEST_PENDING = 'request_pending'      # {seconds}: the request waits for staff
    REQUEST_REFUSED = 'request_refused'      # {motif}
    CLOSING = 'closing'          # the library closes soon: {fermeture, temps_restant, message}


class Close:
    """WebSocket close codes the server sends."""
    NORMAL = 1000
    GOING_AWAY = 1001
    TOO_BIG = 1009
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404


class StaffEvent:
    """Server → staff dashboard: the `event` of each message of the live feed."""
    HELLO = 'hello'
    POSTE = 'poste'
    POSTE_DELETED = 'poste_supprime'
    SESSION = 'session'
    LOG = 'log'
    ERROR = 'error'
    DEMANDE = 'demande'                      # {demande}: a time request, pending or settled


# -- live control of the postes ----------------------------------------------------------------

LOCK, LOG_OFF, RESTART, SHUT_DOWN, WAKE = 'verrouiller', 'deconnecter', 'redemarrer', 'eteindre', 'reveiller'
KIOSK_COMMANDS = (LOCK, LOG_OFF, RESTART, SHUT_DOWN)   # carried out by the kiosk
COMMANDES = KIOSK_COMMANDS + (WAKE,)                  # WAKE: a Wake-on-LAN packet from the server
FORCED_COMMANDS = (RESTART, SHUT_DOWN)                # refused while a session runs, unless forced
DEMANDE_EN_ATTENTE, DEMANDE_ACCEPTEE, DEMANDE_REFUSEE, DEMANDE_CLOSE = (
    'en_attente', 'acceptee', 'refusee', 'close')
DEMANDE_STATUTS = (DEMANDE_EN_ATTENTE, DEMANDE_ACCEPTEE, DEMANDE_REFUSEE, DEMANDE_CLOSE)
MIN_REQUEST, MAX_REQUEST = 60, 3600                   # seconds a kiosk may ask for
INACTIVITY_WARNING = 60                               # seconds of warning before the inactivity end


# -- access codes -----------------------------------------------------------------------------

CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'   # no I, O, 0, 1: nothing to confuse
CODE_LENGTH = 6


def normalise_code(text):
    """What a visitor typed, as the code it means: ASCII letters and digits only, upper case
    ("abc 123", "ABC-123" and "abc123" are one code)."""
    return ''.join(ch for ch in str(text).upper() if ch.isascii() and ch.isalnum())
