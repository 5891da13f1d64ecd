/* The staff dashboard: log in, then one screen per hash route (#/salle, #/visiteurs/12…).
 * Views live in views/; each exports show(main, {rest, query}) and may return a cleanup function. */
import {api} from './api.js';
import * as auth from './auth.js';
import {clear, h} from './dom.js';
import * as feed from './feed.js';
import {ROLES} from './format.js';
import * as backups from './views/backups.js';
import * as comptes from './views/comptes.js';
import * as journal from './views/journal.js';
import * as login from './views/login.js';
import * as newSession from './views/new-session.js';
import * as password from './views/password.js';
import * as sites from './sites.js';
import * as sitesView from './views/sites.js';
import * as postes from './views/postes.js';
import * as privacy from './views/privacy.js';
import * as requisition from './views/requisition.js';
import * as roomView from './views/room.js';
import * as stats from './views/stats.js';
import * as visitors from './views/visitors.js';
import * as categories from './views/categories.js';
import * as horaires from './views/horaires.js';
import * as invites from './views/invites.js';

const ROUTES = [
  {path: 'salle', label: 'Salle', view: roomView},
  {path: 'nouvelle-session', label: 'Nouvelle session', view: newSession},
  {path: 'codes-invites', label: 'Codes invités', view: invites},
  {path: 'visiteurs', label: 'Visiteurs', view: visitors},
  {path: 'journal', label: 'Journal', view: journal},
  {path: 'statistiques', label: 'Statistiques', view: stats},
  {path: 'horaires', label: 'Horaires', view: horaires},   // the library's policy (docs/horaires.md)
  {path: 'categories', label: 'Catégories', view: categories},
  {path: 'postes', label: 'Postes', view: postes, admin: true},
  {path: 'comptes', label: 'Comptes', view: comptes, admin: true},
  {path: 'sites', label: 'Sites', view: sitesView, admin: true},
  {path: 'requisition', label: 'Réquisition', view: requisition, admin: true},
  {path: 'vie-privee', label: 'Vie privée', view: privacy, admin: true},
  {path: 'sauvegardes', label: 'Sauvegardes', view: backups, admin: true},
  {path: 'mot-de-passe', label: 'Mon mot de passe', view: password, hiddenInNav: true},
];
const LIVE_TEXT = {
  connecting: 'Connexion…', live: 'En direct', down: 'Connexion perdue : nouvel essai…', off: '',
};

const main = document.getElementById('main');
let cleanup = null;
let inApp = false;

auth.onAuth((kind, message) => {
  if (kind === 'ended') {
    leaveApp();
    showLogin(message);
  }
});

feed.subscribe((kind, status) => {
  if (kind !== 'status') return;
  const live = document.getElementById('live');
  live.textContent = LIVE_TEXT[status];
  live.dataset.status = status;
});

document.getElementById('logout').addEventListener('click', () => auth.logout());
window.addEventListener('hashchange', () => route());
// An administrator chose another site: the feed starts again (its room narrowed), then the screen.
sites.onChange(() => {
  feed.stop();
  feed.start();
  route();
});

function showLogin(message) {
  render(login, {message, onLogin: afterLogin});
}

async function afterLogin() {
  const me = await api('GET', '/api/auth/me/');
  if (me.must_change_password) {
    render(password, {forced: true, onChanged: enterApp});
  } else {
    enterApp();
  }
}

function enterApp() {
  inApp = true;
  const user = auth.currentUser();
  const account = document.getElementById('account');
  account.textContent = user.username;
  account.title = `${ROLES[user.role] || user.role} — changer mon mot de passe`;
  buildNav();
  document.getElementById('topbar').hidden = false;
  if (auth.isAdmin()) hideBackupsIfAbsent();
  // The site first: the room, the journal and the statistics are narrowed by it.
  sites.start(document.getElementById('site-box')).then(() => {
    if (!inApp) return;
    feed.start();
    route();
  });
}

function leaveApp() {
  inApp = false;
  feed.stop();
  sites.stop();
  document.getElementById('topbar').hidden = true;
}

function buildNav() {
  const links = ROUTES.filter((r) => !r.hiddenInNav && (!r.admin || auth.isAdmin()))
    .map((r) => h('li', {dataset: {route: r.path}}, h('a', {href: `#/${r.path}`}, r.label)));
  clear(document.getElementById('nav')).append(h('ul', {}, links));
}

/** The backups API may not exist on this box yet: then its page is simply not offered. */
async function hideBackupsIfAbsent() {
  try {
    await api('GET', '/api/backups/');
  } catch (error) {
    if (error.status === 404) {
      document.querySelector('#nav li[data-route="sauvegardes"]')?.remove();
    }
  }
}

function parseHash() {
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/').filter(Boolean);
  return {name: name || 'salle', rest, query: new URLSearchParams(search)};
}

function route() {
  if (!inApp) return;
  const {name, rest, query} = parseHash();
  const found = ROUTES.find((r) => r.path === name && (!r.admin || auth.isAdmin()));
  if (!found) {
    location.replace('#/salle');
    return;
  }
  for (const li of document.querySelectorAll('#nav li')) {
    const link = li.querySelector('a');
    if (li.dataset.route === found.path) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${found.label} — Poste Public`;
  render(found.view, {rest, query});
}

function render(view, options) {
  if (cleanup) cleanup();
  cleanup = null;
  clear(main);
  cleanup = view.show(main, options) || null;
  // Move focus to the new screen's title, so keyboard and screen reader users start there.
  const title = main.querySelector('.page-title');
  if (title && inApp) title.focus({preventScroll: true});
}

showLogin();
