/* The words the appliance and its kiosks share, for the web kiosk: a copy of
 * appliance/protocol.py (tests/test_kiosk_scenarios.py checks that every value here equals the
 * Python one). The staff feed's events are left out: the kiosk has no use for them. */

// -- statuses

export const DISPONIBLE = 'disponible';
export const OCCUPE = 'occupe';
export const HORS_LIGNE = 'hors_ligne';
export const MAINTENANCE = 'maintenance';
export const POSTE_STATUTS = Object.freeze([DISPONIBLE, OCCUPE, HORS_LIGNE, MAINTENANCE]);
export const STAFF_POSTE_STATUTS = Object.freeze([DISPONIBLE, MAINTENANCE, HORS_LIGNE]);

export const EN_ATTENTE = 'en_attente';
export const ACTIVE = 'active';
export const SUSPENDUE = 'suspendue';
export const TERMINEE = 'terminee';
export const EXPIREE = 'expiree';
export const SESSION_STATUTS = Object.freeze([EN_ATTENTE, ACTIVE, SUSPENDUE, TERMINEE, EXPIREE]);
export const OPEN_STATUTS = Object.freeze([EN_ATTENTE, ACTIVE, SUSPENDUE]);
export const RUNNING = Object.freeze([ACTIVE, SUSPENDUE]);

/** Why a session ended: the `raison` of close_session. */
export const Reason = Object.freeze({
  EXPIRATION: 'expiration',
  BY_STAFF: 'fermeture_staff',
  BY_VISITOR: 'fermeture_utilisateur',
  FOR_MAINTENANCE: 'maintenance',
  CODE_EXPIRED: 'code_expire',
  POSTE_DELETED: 'poste_supprime',
  NO_SESSION: 'aucune_session',
  UNKNOWN_SESSION: 'session_inconnue',
  PAUSE_EXPIRED: 'pause_expiree',
  INACTIVITY: 'inactivite',
  LIBRARY_CLOSING: 'fermeture_bibliotheque',
});

// -- the kiosk WebSocket

/** Kiosk → server: the `type` of each message. */
export const Type = Object.freeze({
  HEARTBEAT: 'heartbeat',
  VALIDATE_CODE: 'validate_code',
  END_SESSION: 'end_session',
  ACCEPT_CHARTER: 'accept_charter',
  PAUSE: 'pause',
  RESUME: 'resume',
  REQUEST_TIME: 'request_time',
});

/** Server → kiosk: the `action` of each message. */
export const Action = Object.freeze({
  SYNC: 'sync',
  SESSION_STARTED: 'session_started',
  CODE_INVALID: 'code_invalid',
  ADD_TIME: 'add_time',
  WARNING: 'warning',
  CLOSE_SESSION: 'close_session',
  ERROR: 'error',
  CHARTER_REQUIRED: 'charter_required',
  MESSAGE: 'message',
  COMMAND: 'command',
  PAUSED: 'paused',
  RESUMED: 'resumed',
  REQUEST_PENDING: 'request_pending',
  REQUEST_REFUSED: 'request_refused',
  CLOSING: 'closing',
});

/** WebSocket close codes the server sends. */
export const Close = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  TOO_BIG: 1009,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
});

// -- live control of the postes

export const LOCK = 'verrouiller';
export const LOG_OFF = 'deconnecter';
export const RESTART = 'redemarrer';
export const SHUT_DOWN = 'eteindre';
export const WAKE = 'reveiller';
export const KIOSK_COMMANDS = Object.freeze([LOCK, LOG_OFF, RESTART, SHUT_DOWN]);
export const COMMANDES = Object.freeze([...KIOSK_COMMANDS, WAKE]);
export const FORCED_COMMANDS = Object.freeze([RESTART, SHUT_DOWN]);
export const DEMANDE_EN_ATTENTE = 'en_attente';
export const DEMANDE_ACCEPTEE = 'acceptee';
export const DEMANDE_REFUSEE = 'refusee';
export const DEMANDE_CLOSE = 'close';
export const DEMANDE_STATUTS = Object.freeze([DEMANDE_EN_ATTENTE, DEMANDE_ACCEPTEE, DEMANDE_REFUSEE, DEMANDE_CLOSE]);
export const MIN_REQUEST = 60;
export const MAX_REQUEST = 3600;
export const INACTIVITY_WARNING = 60;   // seconds of warning before the inactivity end

// -- access codes

export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';   // no I, O, 0, 1
export const CODE_LENGTH = 6;

/** What a visitor typed, as the code it means: ASCII letters and digits only, upper case
 * ("abc 123", "ABC-123" and "abc123" are one code). */
export function normaliseCode(text) {
  return String(text).toUpperCase().replace(/[^A-Z0-9]/g, '');
}
