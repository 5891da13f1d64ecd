/* Sites: the branch the signed-in person works at, shown in the top bar, and for administrators
 * the site switcher ("Tous les sites" or one site), which narrows the room, the journal, the
 * statistics and the lists of postes and accounts. Staff always see their own site: the server
 * narrows their lists itself. */
import {allPages, api} from './api.js';
import {isAdmin} from './auth.js';
import {h} from './dom.js';

const KEY = 'poste-public.site';
export const state = {sites: [], chosen: null, own: null};   // chosen: a site id, or null for all
const listeners = new Set();
let box = null;

/** `listener()` after an administrator chose another site. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Read the account's site and the sites it may see, then draw the top bar's part. */
export async function start(container) {
  box = container;
  try {
    const me = await api('GET', '/api/auth/me/');
    state.own = {id: me.site, nom: me.site_nom};
    state.sites = await allPages('/api/sites/');
  } catch {
    state.sites = [];
  }
  const saved = Number(localStorage.getItem(KEY)) || null;
  state.chosen = isAdmin() && state.sites.some((s) => s.id === saved) ? saved : null;
  draw();
}

/** Read the sites again (after the Sites page changed them). */
export async function reload() {
  state.sites = await allPages('/api/sites/');
  if (state.chosen && !state.sites.some((s) => s.id === state.chosen)) choose(null);
  else draw();
}

export function stop() {
  state.sites = [];
  state.chosen = null;
  if (box) box.replaceChildren();
}

/** The `site` query parameter of the administrator's choice ({} for every site). */
export function params() {
  return state.chosen ? {site: state.chosen} : {};
}

/** Whether a poste or a session of `siteId` is on screen under the current choice. */
export function shows(siteId) {
  return !state.chosen || siteId === state.chosen;
}

export function name(siteId) {
  return state.sites.find((s) => s.id === siteId)?.nom || '—';
}

/** [[id, name]] for a select. */
export function options() {
  return state.sites.map((s) => [String(s.id), s.nom]);
}

function choose(siteId) {
  state.chosen = siteId;
  if (siteId) localStorage.setItem(KEY, String(siteId));
  else localStorage.removeItem(KEY);
  draw();
  for (const listener of listeners) listener();
}

function draw() {
  if (!box) return;
  if (isAdmin() && state.sites.length > 1) {
    const select = h('select', {id: 'site-switch', 'aria-label': 'Site affiché',
      onchange: () => choose(Number(select.value) || null)},
      h('option', {value: ''}, 'Tous les sites'),
      state.sites.map((s) => h('option', {value: String(s.id)}, s.nom)));
    select.value = state.chosen ? String(state.chosen) : '';
    box.replaceChildren(h('label', {for: 'site-switch', class: 'sr-only'}, 'Site affiché'), select);
  } else {
    const shown = state.own?.nom || (state.sites[0] && state.sites[0].nom) || '';
    box.replaceChildren(shown ? h('span', {class: 'site-name', title: 'Votre site'}, shown) : '');
  }
}
