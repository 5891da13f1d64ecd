/* Live control of the postes, on the room's screen (docs/dashboard.md): the bar of pending
 * requests for more time (with a badge and a short sound), the message to every kiosk, « Tout
 * allumer » (Wake-on-LAN), and on each tile: message, lock, pause or resume, wake. */
import {api} from './api.js';
import {h} from './dom.js';
import * as feed from './feed.js';
import {time} from './format.js';
import {toast} from './ui.js';

const MAX_MESSAGE = 500;

// ---- the bar above the tiles

/** The requests bar and the broadcast box; returns {el, stop}. */
export function bar() {
  const pending = new Map();   // demande id → demande
  const count = h('span', {class: 'badge count', 'aria-label': 'Demandes en attente'}, '0');
  const list = h('ul', {class: 'request-list'});
  const requests = h('section', {class: 'panel requests', 'aria-labelledby': 'requests-title', hidden: true},
    h('h2', {id: 'requests-title'}, 'Demandes de temps ', count), list);

  const text = h('textarea', {id: 'broadcast-text', rows: 2, maxlength: MAX_MESSAGE,
    placeholder: 'Message à tous les postes connectés (ex. : la bibliothèque ferme dans 15 minutes)'});
  const broadcast = h('form', {class: 'panel broadcast', 'aria-label': 'Message à tous les postes'},
    h('label', {for: 'broadcast-text'}, 'Message à tous les postes'), text,
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, 'Envoyer à tous'),
      h('button', {type: 'button', id: 'wake-all', onclick: wakeAll}, 'Tout allumer')));
  broadcast.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message) return;
    try {
      const sent = await api('POST', '/api/postes/message/', {message, postes: null});
      text.value = '';
      toast(`Message envoyé à ${sent.envoye.length} poste(s).`);
    } catch (error) {
      toast(error.detail || error.message, 'error');
    }
  });

  function draw() {
    const items = [...pending.values()].sort((a, b) => a.id - b.id);
    requests.hidden = items.length === 0;
    count.textContent = String(items.length);
    list.replaceChildren(...items.map(requestItem));
  }

  function keep(demande, fresh) {
    if (demande.statut === 'en_attente') {
      if (fresh && !pending.has(demande.id)) chime();
      pending.set(demande.id, demande);
    } else {
      pending.delete(demande.id);
    }
    draw();
  }

  async function load() {
    try {
      const data = await api('GET', '/api/demandes/?page_size=200');
      pending.clear();
      for (const demande of data.results) keep(demande, false);
      draw();
    } catch {
      // Not fatal: new requests still arrive through the feed.
    }
  }

  const unsubscribe = feed.subscribe((kind, data) => {
    if (kind === 'demande') keep(data, true);
    if (kind === 'status' && data === 'live') load();   // after a reconnection: read them again
  });
  load();
  return {el: h('div', {class: 'control-bar'}, requests, broadcast), stop: unsubscribe};
}

function requestItem(demande) {
  const motif = h('input', {type: 'text', maxlength: 500, placeholder: 'Motif du refus',
    'aria-label': `Motif du refus — ${demande.poste_nom || ''}`});
  const settle = async (action) => {
    try {
      const body = action === 'refuser' && motif.value.trim() ? {motif: motif.value.trim()} : {};
      await api('POST', `/api/demandes/${demande.id}/${action}/`, body);
      toast(action === 'accepter' ? `${minutes(demande.seconds)} accordées sur ${demande.poste_nom}.`
        : `Demande refusée sur ${demande.poste_nom}.`);
    } catch (error) {
      toast(error.detail || error.message, 'error');
    }
  };
  return h('li', {dataset: {demande: demande.id}},
    h('strong', {}, demande.poste_nom || 'Poste'), ' · ',
    h('span', {}, demande.utilisateur_nom || 'Visiteur'), ' demande ',
    h('strong', {}, minutes(demande.seconds)), ' ',
    h('span', {class: 'muted'}, `à ${time(demande.created_at)}`), ' ',
    h('button', {type: 'button', class: 'primary', onclick: () => settle('accepter')}, 'Accepter'), ' ',
    motif, ' ',
    h('button', {type: 'button', class: 'danger', onclick: () => settle('refuser')}, 'Refuser'));
}

function minutes(seconds) {
  const m = Math.round(seconds / 60);
  return m >= 60 && m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

/** A short, soft sound for a new request (no file: the page makes it). */
function chime() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
    tone.onended = () => audio.close();
  } catch {
    // No sound available: the badge is enough.
  }
}

/** Wake every poste whose kiosk is offline and that has a MAC address. */
async function wakeAll() {
  const asleep = [...feed.room.postes.values()].filter((p) => !p.en_ligne && p.mac_address);
  let woken = 0;
  for (const poste of asleep) {
    try {
      await api('POST', `/api/postes/${poste.id}/commande/`, {commande: 'reveiller'});
      woken += 1;
    } catch (error) {
      toast(`${poste.nom} : ${error.detail || error.message}`, 'error');
    }
  }
  toast(asleep.length ? `Réveil envoyé à ${woken} poste(s).`
    : 'Aucun poste éteint avec une adresse MAC à réveiller.');
}

// ---- on each tile

/** The control buttons of one tile: {el, fill(poste)}. */
export function tileControls(id) {
  const suffix = () => h('span', {class: 'sr-only', dataset: {suffix: ''}});
  const button = (label, action, handler) =>
    h('button', {type: 'button', class: 'quiet', dataset: {action}, onclick: () => handler(id)}, label, suffix());
  const c = {
    message: button('Message', 'message', sendMessage),
    lock: button('Verrouiller', 'lock', (posteId) => command(posteId, 'verrouiller')),
    pause: button('Pause', 'pause', (posteId) => pauseOrResume(posteId, 'pause')),
    resume: button('Reprendre', 'resume', (posteId) => pauseOrResume(posteId, 'reprise')),
    wake: button('Réveiller', 'wake', (posteId) => command(posteId, 'reveiller')),
    paused: h('p', {class: 'paused-line', hidden: true}, 'En pause'),
  };
  c.el = h('div', {class: 'control-actions'}, c.paused, c.message, c.lock, c.pause, c.resume, c.wake);
  c.fill = (poste) => {
    const active = poste.session_active;
    const paused = active?.statut === 'suspendue';
    c.message.hidden = !poste.en_ligne;
    c.lock.hidden = !poste.en_ligne;
    c.pause.hidden = !active || paused;
    c.resume.hidden = !paused;
    c.paused.hidden = !paused;
    c.wake.hidden = poste.en_ligne || !poste.mac_address;
  };
  return c;
}

async function command(posteId, commande) {
  const poste = feed.room.postes.get(posteId);
  try {
    await api('POST', `/api/postes/${posteId}/commande/`, {commande});
    toast(commande === 'reveiller' ? `Réveil envoyé à ${poste?.nom}.` : `${poste?.nom} est verrouillé.`);
  } catch (error) {
    toast(error.detail || error.message, 'error');
  }
}

async function pauseOrResume(posteId, action) {
  const poste = feed.room.postes.get(posteId);
  const active = poste?.session_active;
  if (!active) return;
  try {
    await api('POST', `/api/sessions/${active.id}/${action}/`);
    toast(action === 'pause' ? `Session en pause sur ${poste.nom}.` : `Session reprise sur ${poste.nom}.`);
  } catch (error) {
    toast(error.detail || error.message, 'error');
  }
}

/** Ask for a message in a dialog, then send it to this poste's kiosk. */
function sendMessage(posteId) {
  const poste = feed.room.postes.get(posteId);
  if (!poste) return;
  const text = h('textarea', {id: 'message-text', rows: 3, maxlength: MAX_MESSAGE});
  const send = h('button', {type: 'submit', class: 'primary'}, 'Envoyer');
  const cancel = h('button', {type: 'button'}, 'Annuler');
  const form = h('form', {method: 'dialog'},
    h('label', {for: 'message-text'}, `Message affiché sur ${poste.nom}`), text,
    h('div', {class: 'actions'}, cancel, send));
  const dialog = h('dialog', {class: 'dialog', 'aria-label': `Message à ${poste.nom}`}, form);
  const close = () => { dialog.close(); dialog.remove(); };
  cancel.addEventListener('click', close);
  dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message) return;
    try {
      const sent = await api('POST', `/api/postes/${posteId}/message/`, {message});
      close();
      toast(sent.envoye.length ? `Message envoyé à ${poste.nom}.` : `${poste.nom} est hors ligne : message non remis.`,
        sent.envoye.length ? 'info' : 'error');
    } catch (error) {
      toast(error.detail || error.message, 'error');
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  text.focus();
}
