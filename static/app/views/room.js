/* The room: every poste as a tile, live from the staff feed, with its actions one click away.
 * Tiles are made once and updated in place, so keyboard focus stays where it was. */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import * as feed from '../feed.js';
import {countdown, POSTE_STATUTS, time} from '../format.js';
import * as sites from '../sites.js';
import {confirmDialog, toast} from '../ui.js';
import * as control from '../control.js';

const ADD_CHOICES = [[15, '+15 min'], [30, '+30 min'], [60, '+1 h']];
const LOW_SECONDS = 300;
const CRITICAL_SECONDS = 60;

export function show(main) {
  const summary = h('p', {class: 'summary', 'aria-live': 'polite'});
  const banner = h('p', {class: 'banner', role: 'status', hidden: true});
  const pendingList = h('ul', {class: 'pending-list'});
  const pendingBox = h('section', {class: 'panel pending', 'aria-labelledby': 'pending-title', hidden: true},
    h('h2', {id: 'pending-title'}, 'Codes remis pour « n’importe quel poste »'), pendingList);
  const grid = h('div', {class: 'tiles'});
  const empty = h('p', {class: 'empty', hidden: true},
    'Aucun poste enregistré. Un administrateur les ajoute dans « Postes ».');
  const controlBar = control.bar();   // requests for more time, message to all, wake all
  main.append(
    pageTitle('Salle', summary, h('a', {class: 'button primary', href: '#/nouvelle-session'}, 'Nouvelle session')),
    banner, controlBar.el, pendingBox, empty, grid);

  const tiles = new Map();   // poste id → tile

  function update() {
    const postes = [...feed.room.postes.values()]
      .sort((a, b) => a.nom.localeCompare(b.nom, 'fr', {numeric: true}));
    const pending = [...feed.room.pending.values()];
    for (const [id, tile] of tiles) {
      if (!feed.room.postes.has(id)) {
        tile.el.remove();
        tiles.delete(id);
      }
    }
    postes.forEach((poste, index) => {
      let tile = tiles.get(poste.id);
      if (!tile) {
        tile = makeTile(poste.id);
        tiles.set(poste.id, tile);
      }
      if (grid.children[index] !== tile.el) grid.insertBefore(tile.el, grid.children[index] || null);
      fillTile(tile, poste, pending.find((s) => s.poste === poste.id));
    });
    const anywhere = pending.filter((s) => s.poste === null);
    pendingBox.hidden = anywhere.length === 0;
    pendingList.replaceChildren(...anywhere.map(pendingItem));
    empty.hidden = postes.length > 0 || feed.room.status !== 'live';
    summary.textContent = describe(postes);
    banner.hidden = feed.room.status === 'live';
    banner.textContent = feed.room.status === 'live' ? '' :
      'Liaison avec le boîtier interrompue : l’affichage peut être en retard. Reconnexion automatique…';
    tick();
  }

  function tick() {
    for (const [id, tile] of tiles) {
      const active = feed.room.postes.get(id)?.session_active;
      if (!active) continue;
      const left = feed.remaining(active);
      tile.remaining.textContent = countdown(left);
      tile.remaining.classList.toggle('low', left <= LOW_SECONDS && left > CRITICAL_SECONDS);
      tile.remaining.classList.toggle('critical', left <= CRITICAL_SECONDS);
    }
  }

  const unsubscribe = feed.subscribe((kind) => {
    if (kind === 'room' || kind === 'status') update();
  });
  const ticker = setInterval(tick, 1000);
  update();
  return () => {
    unsubscribe();
    controlBar.stop();
    clearInterval(ticker);
  };
}

function describe(postes) {
  const count = (statut) => postes.filter((p) => p.statut === statut).length;
  const parts = [`${count('disponible')} libre(s)`, `${count('occupe')} occupé(s)`];
  if (count('maintenance')) parts.push(`${count('maintenance')} en maintenance`);
  if (count('hors_ligne')) parts.push(`${count('hors_ligne')} hors ligne`);
  return postes.length ? parts.join(' · ') : '';
}

function makeTile(id) {
  const t = {};
  // Each button's accessible name ends with the poste's name (a hidden suffix, filled below).
  const button = (text, action, props = {}) =>
    h('button', {type: 'button', dataset: {action}, ...props, onclick: () => act(id, action)},
      text, h('span', {class: 'sr-only', dataset: {suffix: ''}}));
  t.name = h('h2', {id: `poste-${id}-nom`});
  t.badge = h('span', {class: 'badge'});
  t.where = h('p', {class: 'where'});
  t.presence = h('p', {class: 'presence'});
  t.moved = h('p', {class: 'address-warning', hidden: true});
  t.visitor = h('p', {class: 'visitor'});
  t.remaining = h('p', {class: 'remaining'});
  t.code = h('p', {class: 'code-line', title: 'Code d’accès'});
  t.session = h('div', {class: 'session'}, t.visitor,
    h('div', {class: 'clock-row'}, h('span', {class: 'sr-only'}, 'Temps restant'), t.remaining, t.code));
  t.pending = h('p', {class: 'pending-line'});
  t.cancel = button('Annuler le code', 'cancel-code', {class: 'link'});
  t.pendingBox = h('div', {class: 'pending-box'}, t.pending, t.cancel);
  t.add = ADD_CHOICES.map(([minutes, text]) => button(text, `add-${minutes}`));
  t.end = button('Terminer', 'end', {class: 'danger'});
  t.start = button('Nouvelle session', 'start', {class: 'primary'});
  t.maintenance = button('Maintenance', 'maintenance', {class: 'quiet'});
  t.service = button('Remettre en service', 'service', {class: 'quiet'});
  t.el = h('article', {class: 'tile', dataset: {poste: id}, 'aria-labelledby': `poste-${id}-nom`},
    h('header', {}, t.name, t.badge),
    t.where, t.presence, t.moved, t.session, t.pendingBox,
    h('div', {class: 'tile-actions'},
      h('div', {class: 'time-actions'}, t.add),
      h('div', {class: 'status-actions'}, t.end, t.start, t.maintenance, t.service)));
  t.control = control.tileControls(id);
  t.el.append(t.control.el);
  return t;
}

function fillTile(t, poste, waiting) {
  const active = poste.session_active;
  t.el.className = `tile s-${poste.statut}`;
  t.el.dataset.statut = poste.statut;
  t.name.textContent = poste.nom;
  t.badge.textContent = POSTE_STATUTS[poste.statut] || poste.statut;
  // Every site on screen (an administrator's "Tous les sites"): each tile says its site.
  const site = sites.state.sites.length > 1 && !sites.state.chosen ? sites.name(poste.site) : '';
  t.where.textContent = [site, poste.emplacement].filter(Boolean).join(' · ');
  t.where.hidden = !t.where.textContent;
  t.presence.textContent = poste.en_ligne ? 'Kiosque en ligne' :
    `Kiosque hors ligne${poste.derniere_connexion ? ` · vu à ${time(poste.derniere_connexion)}` : ''}`;
  t.presence.classList.toggle('online', poste.en_ligne);
  // A kiosk connecting from another address than the poste's: its address changed (no DHCP
  // reservation) or the kiosk is configured for the wrong poste.
  const moved = Boolean(poste.adresse_kiosque) && poste.adresse_kiosque !== poste.ip_address;
  t.moved.hidden = !moved;
  t.moved.textContent = moved ? `⚠ Kiosque connecté depuis ${poste.adresse_kiosque}, pas ${poste.ip_address}` : '';
  t.session.hidden = !active;
  if (active) {
    t.visitor.textContent = active.utilisateur_nom || (active.invite ? 'Invité' : 'Invité ou visiteur supprimé');
    t.code.textContent = active.code_acces;
  }
  t.pendingBox.hidden = !waiting || Boolean(active);
  if (waiting) t.pending.textContent = `Code en attente : ${waiting.code_acces} · ${waiting.utilisateur_nom || (waiting.invite ? 'invité' : '')}`;
  t.cancel.dataset.session = waiting ? waiting.id : '';
  for (const b of [...t.add, t.end]) b.hidden = !active;
  t.add[0].parentElement.hidden = !active;
  t.start.hidden = Boolean(active || waiting) || poste.statut === 'maintenance';
  t.maintenance.hidden = poste.statut === 'maintenance';
  t.service.hidden = poste.statut !== 'maintenance';
  t.control.fill(poste);
  for (const suffix of t.el.querySelectorAll('[data-suffix]')) suffix.textContent = ` — ${poste.nom}`;
}

function pendingItem(session) {
  return h('li', {dataset: {session: session.id}},
    h('span', {class: 'code-inline'}, session.code_acces), ' ',
    h('span', {}, session.utilisateur_nom || (session.invite ? 'Invité' : 'Visiteur supprimé')), ' ',
    h('span', {class: 'muted'}, `remis à ${time(session.created_at)}`), ' ',
    h('button', {type: 'button', class: 'link', onclick: () => cancelCode(session)}, 'Annuler le code'));
}

async function act(posteId, action) {
  const poste = feed.room.postes.get(posteId);
  if (!poste) return;
  const active = poste.session_active;
  try {
    if (action.startsWith('add-') && active) {
      const minutes = Number(action.slice(4));
      let session;
      try {
        session = await api('POST', `/api/sessions/${active.id}/add-time/`, {minutes});
      } catch (error) {
        // Over the visitor's quota: staff may force it, and the excess is logged.
        if (error.status !== 409 || !error.data?.quota) throw error;
        const force = await confirmDialog({title: 'Quota dépassé', message: error.detail,
          confirmLabel: `Ajouter ${minutes} min quand même`});
        if (!force) return;
        session = await api('POST', `/api/sessions/${active.id}/add-time/`, {minutes, force: true});
      }
      toast(session.limite_fermeture ? `Temps ajouté sur ${poste.nom}, jusqu’à la fermeture de la bibliothèque.`
        : `${minutes} min ajoutées sur ${poste.nom}.`);
    } else if (action === 'end' && active) {
      const sure = await confirmDialog({
        title: 'Terminer la session ?',
        message: `${active.utilisateur_nom || 'Le visiteur'} sur ${poste.nom} : le poste se verrouille tout de suite.`,
        confirmLabel: 'Terminer la session', danger: true});
      if (!sure) return;
      await api('POST', `/api/sessions/${active.id}/terminate/`, {});
      toast(`Session terminée sur ${poste.nom}.`);
    } else if (action === 'start') {
      location.hash = `#/nouvelle-session?poste=${posteId}`;
    } else if (action === 'cancel-code') {
      const waiting = [...feed.room.pending.values()].find((s) => s.poste === posteId);
      if (waiting) await cancelCode(waiting);
    } else if (action === 'maintenance') {
      await toMaintenance(poste);
    } else if (action === 'service') {
      await api('PUT', `/api/postes/${posteId}/status/`, {statut: 'disponible'});
      toast(`${poste.nom} est remis en service.`);
    }
  } catch (error) {
    toast(error.detail || error.message, 'error');
  }
}

async function toMaintenance(poste) {
  try {
    await api('PUT', `/api/postes/${poste.id}/status/`, {statut: 'maintenance'});
  } catch (error) {
    if (error.status !== 409) throw error;
    // A session is running there: ending it is a choice the staff member makes knowingly.
    const sure = await confirmDialog({
      title: 'Une session est en cours',
      message: `${error.detail} Terminer la session et mettre ${poste.nom} en maintenance ?`,
      confirmLabel: 'Terminer et mettre en maintenance', danger: true});
    if (!sure) return;
    await api('PUT', `/api/postes/${poste.id}/status/`, {statut: 'maintenance', force: true});
  }
  toast(`${poste.nom} est en maintenance.`);
}

async function cancelCode(session) {
  const sure = await confirmDialog({
    title: 'Annuler ce code ?',
    message: `Le code ${session.code_acces} de ${session.utilisateur_nom || 'ce visiteur'} ne pourra plus être utilisé.`,
    confirmLabel: 'Annuler le code', danger: true});
  if (!sure) return;
  try {
    await api('POST', `/api/sessions/${session.id}/terminate/`, {raison: 'Code annulé à l’accueil.'});
    toast(`Code ${session.code_acces} annulé.`);
  } catch (error) {
    toast(error.detail, 'error');
  }
}
