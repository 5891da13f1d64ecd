/* Backups (administrators): the archives on the box, one now, and a download. Built against
 * GET/POST /api/backups/ and GET /api/backups/{name}/ (each archive: {name, destination, size,
 * created_at, verified, encrypted, detail}; the list also says whether the USB copy has a problem
 * and warns when archives are not encrypted). The box's health warnings (/api/health/: an HTTPS
 * certificate near its end, a part that is down) are shown on top. On a box without that API the
 * page says so. */
import {api} from '../api.js';
import {saveBlob} from '../csv.js';
import {h, pageTitle} from '../dom.js';
import {bytes, dateTime} from '../format.js';
import {errorBox} from '../forms.js';
import {toast} from '../ui.js';

const DESTINATIONS = {local: 'Boîtier', usb: 'Clé USB'};

export function show(main) {
  const runButton = h('button', {type: 'button', class: 'primary', onclick: run}, 'Sauvegarder maintenant');
  const body = h('section', {class: 'panel'}, h('p', {class: 'muted'}, 'Chargement…'));
  const notices = h('div', {class: 'notices', 'aria-live': 'polite'});
  const intro = h('p', {class: 'intro'},
    'Une sauvegarde est faite chaque nuit. Téléchargez-en une de temps en temps pour la garder hors du boîtier.');
  main.append(pageTitle('Sauvegardes', runButton), notices, intro, body);
  healthNotices().then((items) => notices.prepend(...items));

  async function load() {
    let data;
    try {
      data = await api('GET', '/api/backups/?page_size=200');
    } catch (error) {
      if (error.status === 404) {
        runButton.hidden = true;
        intro.hidden = true;
        body.replaceChildren(h('p', {class: 'empty'}, 'Les sauvegardes ne sont pas encore disponibles sur ce boîtier.'));
      } else {
        body.replaceChildren(errorBox(error));
      }
      return;
    }
    notices.querySelector('[data-notice=encryption]')?.remove();
    if (data.encryption?.warning) {
      notices.append(h('p', {class: 'banner', dataset: {notice: 'encryption'}}, h('strong', {}, 'Sauvegardes non chiffrées. '),
        data.encryption.warning));
    }
    const archives = Array.isArray(data) ? data : data.results || [];
    const usb = data.usb?.problem ? h('p', {class: 'banner'}, `Clé USB : ${data.usb.problem}`) : '';
    if (!archives.length) {
      body.replaceChildren(usb, h('p', {class: 'empty'}, 'Aucune sauvegarde pour l’instant.'));
      return;
    }
    body.replaceChildren(usb, h('div', {class: 'table-wrap'}, h('table', {},
      h('caption', {class: 'sr-only'}, 'Archives de sauvegarde'),
      h('thead', {}, h('tr', {}, ['Créée le', 'Fichier', 'Emplacement', 'Taille', 'Vérifiée', ''].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, archives.map((b) => h('tr', {},
        h('td', {class: 'nowrap'}, dateTime(b.created_at)),
        h('td', {}, b.name, b.encrypted ? h('span', {class: 'muted'}, ' (chiffrée)') : null),
        h('td', {}, DESTINATIONS[b.destination] || b.destination),
        h('td', {class: 'nowrap'}, bytes(b.size)),
        h('td', {}, verdict(b)),
        h('td', {}, h('button', {type: 'button', class: 'quiet', onclick: () => download(b)}, 'Télécharger',
          h('span', {class: 'sr-only'}, ` ${b.name}`)))))))));
  }

  async function run() {
    runButton.disabled = true;
    runButton.textContent = 'Sauvegarde en cours…';
    try {
      const made = await api('POST', '/api/backups/');
      if (made?.usb?.problem) toast(`Sauvegarde faite, mais pas de copie sur la clé USB : ${made.usb.problem}`, 'error');
      else toast(made?.name ? `Sauvegarde faite : ${made.name}.` : 'Sauvegarde faite.');
      await load();
    } catch (error) {
      toast(error.detail, 'error');
    } finally {
      runButton.disabled = false;
      runButton.textContent = 'Sauvegarder maintenant';
    }
  }

  load();
}

/** The box's own warnings, from /api/health/ (answered 503 when a part is down: read it anyway). */
async function healthNotices() {
  try {
    const health = await (await fetch('/api/health/')).json();
    const texts = [...(health.warnings || []), ...(health.detail ? [health.detail] : [])];
    return texts.map((text) => h('p', {class: 'banner', dataset: {notice: 'health'}}, text));
  } catch {
    return [];
  }
}

function verdict(backup) {
  if (backup.verified === null || backup.verified === undefined) return h('span', {class: 'muted'}, 'Vérification…');
  if (backup.verified) return 'Oui';
  return h('strong', {class: 'danger-text'}, backup.detail ? `Non : ${backup.detail}` : 'Non');
}

async function download(backup) {
  try {
    // Through fetch, not a plain link: the request needs the staff token.
    const blob = await api('GET', `/api/backups/${encodeURIComponent(backup.name)}/`, undefined, {blob: true});
    saveBlob(backup.name, blob);
  } catch (error) {
    toast(error.detail, 'error');
  }
}
