/* What the web kiosk says, in French: the Tk kiosk's words (appliance/kiosk/state.py), which the
 * scenario table (tests/kiosk_scenarios.json) checks on both. */
import {Reason} from './protocol.js';

export const PROMPT = "Entrez le code remis à l'accueil";
export const CODE_UNKNOWN = 'Code inconnu ou expiré';
export const TOO_MANY_TRIES = "Trop d'essais : patientez une minute";
export const BAD_LENGTH = 'Le code comporte 6 caractères.';
export const NO_ANSWER = 'Le serveur ne répond pas : réessayez dans un instant.';
export const IN_MAINTENANCE = 'Ce poste est en maintenance.';
export const CONNECTING = 'Connexion au serveur…';
export const UNREACHABLE = 'Serveur injoignable : nouvelle tentative…';
export const POSTE_UNKNOWN = "Ce poste n'est pas enregistré sur le serveur : prévenez l'accueil.";
export const TOKEN_REFUSED = "Ce poste n'est pas autorisé par le serveur : prévenez l'accueil.";
const ENDED = Object.freeze({
  [Reason.EXPIRATION]: 'Votre session est terminée. Merci de votre visite !',
  [Reason.BY_STAFF]: "Votre session a été fermée par l'accueil.",
  [Reason.BY_VISITOR]: 'Session terminée. À bientôt !',
  [Reason.PAUSE_EXPIRED]: 'Votre pause a trop duré : la session est terminée.',
  [Reason.INACTIVITY]: 'Session terminée faute d’activité.',
  [Reason.LIBRARY_CLOSING]: 'La bibliothèque ferme : votre session est terminée. À bientôt !',
});
export const ENDED_OTHER = 'Session terminée.';
export const CHARTER_DECLINED = "Charte refusée : la session n'est pas ouverte.";
export const CHARTER_TIMEOUT = 'Charte sans réponse : entrez de nouveau votre code.';
export const PAUSED = 'Session en pause : entrez votre code pour reprendre';
export const REQUEST_SENT = 'Demande transmise à l’accueil.';
export const INACTIVITY_NOTICE = 'Êtes-vous toujours là ? Sans action de votre part, la session se termine dans 1 minute.';
export const COMMAND_TEXTS = Object.freeze({
  verrouiller: 'Poste verrouillé par l’accueil.',
  deconnecter: 'Déconnexion demandée par l’accueil.',
  redemarrer: 'Redémarrage du poste demandé par l’accueil…',
  eteindre: 'Arrêt du poste demandé par l’accueil…',
});

export function refusedText(motif) {
  return motif ? `Demande refusée : ${motif}` : 'Demande refusée.';
}
export const CLOSING_SOON = 'La bibliothèque ferme bientôt.';

// The page's own (the Tk kiosk has a configuration file and its own countdown window).
export const NOT_CONFIGURED = "Ce terminal n'est pas configuré : ouvrez /kiosk/#poste=ADRESSE&token=JETON";
export const OFFLINE = 'Hors ligne : le décompte continue';

/** What the lock screen says after a session ended for `raison` (any value from the server). */
export function endedText(raison) {
  return typeof raison === 'string' && Object.hasOwn(ENDED, raison) ? ENDED[raison] : ENDED_OTHER;
}

/** '5 minutes', '1 minute', "moins d'une minute" (to the nearest minute, halves up). */
export function minutesText(seconds) {
  const minutes = Math.floor(seconds / 60 + 0.5);
  if (minutes < 1) return "moins d'une minute";
  return `${minutes} minute${minutes > 1 ? 's' : ''}`;
}

export function timeAdded(seconds) {
  return `Temps ajouté : ${minutesText(seconds)}.`;
}

export function timeLeft(seconds) {
  return `Il vous reste ${minutesText(seconds)}.`;
}
