/* How values read in French: durations, countdowns, dates in the desk's local time, labels. */

const dateFmt = new Intl.DateTimeFormat('fr-FR', {day: '2-digit', month: '2-digit', year: 'numeric'});
const timeFmt = new Intl.DateTimeFormat('fr-FR', {hour: '2-digit', minute: '2-digit'});
const numberFmt = new Intl.NumberFormat('fr-FR', {maximumFractionDigits: 1});

/** 5400 → "1 h 30", 2700 → "45 min", 30 → "1 min" (rounded up: never "0 min" for time left). */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const minutes = Math.ceil(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest ? `${hours} h ${String(rest).padStart(2, '0')}` : `${hours} h`;
}

/** A countdown: "42:05", or "1:02:05" past an hour. */
export function countdown(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function date(iso) {
  return iso ? dateFmt.format(new Date(iso)) : '—';
}

/** A calendar date without time ("2001-05-04", as for a birth date) → "04/05/2001", no time zone. */
export function calendarDay(day) {
  if (!day) return '—';
  const [y, m, d] = day.split('-');
  return `${d}/${m}/${y}`;
}

/** What a date field shows: "2001-05-04" → "04/05/2001" ('' for none). */
export function dayField(day) {
  return day ? calendarDay(day) : '';
}

/** What was typed in a date field, as YYYY-MM-DD: '' when empty, null when it is no real day.
 * Takes JJ/MM/AAAA (also with - or . between, or a two-digit year) and AAAA-MM-JJ. */
export function parseDay(text) {
  const value = (text || '').trim();
  if (!value) return '';
  let match = value.match(/^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$/);
  let [d, m, y] = match ? match.slice(1).map(Number) : [];
  if (!match) {
    match = value.match(/^(\d{4})-(\d{2})-(\d{2})$/);
    if (!match) return null;
    [y, m, d] = match.slice(1).map(Number);
  }
  if (y < 100) y += y > new Date().getFullYear() % 100 ? 1900 : 2000;
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function time(iso) {
  return iso ? timeFmt.format(new Date(iso)) : '—';
}

export function dateTime(iso) {
  return iso ? `${date(iso)} ${time(iso)}` : '—';
}

export function number(value) {
  return numberFmt.format(value);
}

export function bytes(size) {
  if (size === null || size === undefined) return '—';
  const units = ['o', 'Ko', 'Mo', 'Go'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${numberFmt.format(value)} ${units[unit]}`;
}

/** A local calendar day as YYYY-MM-DD (what date inputs and the API's date filters take). */
export function isoDay(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function fullName(visitor) {
  return `${visitor.prenom} ${visitor.nom}`.trim();
}

export const POSTE_STATUTS = {
  disponible: 'Libre',
  occupe: 'Occupé',
  hors_ligne: 'Hors ligne',
  maintenance: 'Maintenance',
};

export const SESSION_STATUTS = {
  en_attente: 'Code en attente',
  active: 'En cours',
  suspendue: 'Suspendue',
  terminee: 'Terminée',
  expiree: 'Expirée',
};

export const RAISONS = {
  expiration: 'temps écoulé',
  fermeture_staff: 'fermée par l’accueil',
  fermeture_utilisateur: 'fermée par le visiteur',
  maintenance: 'poste mis en maintenance',
  code_expire: 'code jamais utilisé',
  poste_supprime: 'poste supprimé',
};

export const PIECES = {
  cni: 'Carte d’identité',
  passeport: 'Passeport',
  titre_sejour: 'Titre de séjour',
  permis: 'Permis de conduire',
  autre: 'Autre',
};

export const ROLES = {admin: 'Administrateur', staff: 'Personnel'};

/** Field names as staff know them, for errors shown away from their field (the server's error
 * summary names them the same way: appliance/errors.py). */
const FIELD_LABELS = {
  nom: 'Nom', prenom: 'Prénom', email: 'E-mail', telephone: 'Téléphone', date_naissance: 'Date de naissance',
  adresse: 'Adresse', type_piece_identite: 'Type de pièce d’identité', consentement_rgpd: 'Consentement RGPD',
  ip_address: 'Adresse IP', mac_address: 'Adresse MAC', emplacement: 'Emplacement', statut: 'Statut',
  utilisateur: 'Visiteur', poste: 'Poste', duree_initiale: 'Durée', seconds: 'Durée', minutes: 'Durée',
  username: 'Identifiant', password: 'Mot de passe', role: 'Rôle', date_min: 'Date de début', date_max: 'Date de fin',
  page_accueil: 'Page d’accueil', photo: 'Photo',
};

export function fieldLabel(name) {
  const text = FIELD_LABELS[name] || name.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const ACTIONS = {
  connexion_staff: 'Connexion du personnel',
  deconnexion_staff: 'Déconnexion du personnel',
  echec_connexion: 'Échec de connexion',
  creation_utilisateur: 'Visiteur enregistré',
  modification_utilisateur: 'Visiteur modifié',
  suppression_utilisateur: 'Visiteur supprimé',
  creation_poste: 'Poste créé',
  modification_poste: 'Poste modifié',
  suppression_poste: 'Poste supprimé',
  changement_statut_poste: 'Statut de poste changé',
  jeton_poste: 'Jeton de kiosque émis',
  generation_code: 'Code d’accès généré',
  demarrage_session: 'Session démarrée',
  echec_code: 'Code refusé',
  ajout_temps: 'Temps ajouté',
  avertissement: 'Avertissement envoyé',
  fermeture: 'Session fermée',
  expiration: 'Session expirée',
  connexion_poste: 'Poste en ligne',
  deconnexion_poste: 'Poste hors ligne',
  creation_compte: 'Compte créé',
  modification_compte: 'Compte modifié',
  suppression_compte: 'Compte supprimé',
  sauvegarde: 'Sauvegarde',
  restauration: 'Restauration',
  purge: 'Purge du journal',
  modification_bibliotheque: 'Réglages de la bibliothèque',
  fusion_utilisateurs: 'Visiteurs fusionnés',
  anonymisation_utilisateur: 'Visiteur anonymisé',
  export_donnees: 'Données d’un visiteur exportées',
  requisition: 'Réquisition',
  modification_charte: 'Charte modifiée',
  acceptation_charte: 'Charte acceptée',
  verification_journal: 'Journal altéré',
  creation_site: 'Création de site',
  modification_site: 'Modification de site',
  suppression_site: 'Suppression de site',
};

/** The first and last instants of a local day (YYYY-MM-DD) as UTC ISO strings, for date filters. */
export function dayStartIso(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toISOString();
}

export function dayEndIso(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 59, 999).toISOString();
}
