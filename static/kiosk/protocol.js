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
});

// -- the kiosk WebSocket

/** Kiosk → server: the `type` of each message. */
export const Type = Object.freeze({
  HEARTBEAT: 'heartbeat',
  VALIDATE_CODE: 'validate_code',
  END_SESSION: 'end_session',
  ACCEPT_CHARTER: 'accept_charter',
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

// -- access codes

export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';   // no I, O, 0, 1
export const CODE_LENGTH = 6;

/** What a visitor typed, as the code it means: ASCII letters and digits only, upper case
 * ("abc 123", "ABC-123" and "abc123" are one code). */
export function normaliseCode(text) {
  return String(text).toUpperCase().replace(/[^A-Z0-9]/g, '');
}
