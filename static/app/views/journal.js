/* The audit log: filters (action, dates, poste, visitor), pages, and a CSV export of everything the
 * filters match, built here from the API's pages. New entries appear live on the first page. */
import {allPages, api, query} from '../api.js';
import {h, pageTitle} from '../dom.js';
import {toCsv, download} from '../csv.js';
import * as feed from '../feed.js';
import {ACTIONS, dateTime, dayEndIso, dayStartIso, fullName, isoDay} from '../format.js';
import {errorBox, field, form} from '../forms.js';
import * as sites from '../sites.js';
import {toast} from '../ui.js';
import {visitorPicker} from '../visitor-picker.js';

const PAGE_SIZE = 50;
const COLUMNS = ['Date', 'Action', 'Opérateur', 'Visiteur', 'Poste', 'Session', 'Détails', 'Adresse IP'];

export function show(main) {
  let filters = {...sites.params()};   // an administrator's chosen site, if any
  let page = 1;
  let visitor = null;
  const tbody = h('tbody');
  const status = h('p', {class: 'hint', 'aria-live': 'polite'});
  const previous = h('button', {type: 'button', onclick: () => go(page - 1)}, 'Précédente');
  const next = h('button', {type: 'button', onclick: () => go(page + 1)}, 'Suivante');
  const results = h('div', {});
  const exportButton = h('button', {type: 'button', onclick: exportCsv}, 'Exporter en CSV');

  const visitorSlot = h('div', {class: 'visitor-filter'});
  const filterForm = form({
    label: 'Filtres du journal',
    className: 'panel filters',
    onsubmit: (data) => {
      // Days are the desk's local days: sent as the exact instants they begin and end.
      filters = {action: data.action, poste: data.poste, utilisateur: visitor?.id, ...sites.params(),
        date_min: data.date_min && dayStartIso(data.date_min), date_max: data.date_max && dayEndIso(data.date_max)};
      go(1);
    },
  },
  field({name: 'action', label: 'Action', kind: 'select', options: [['', 'Toutes les actions'],
    ...Object.entries(ACTIONS).sort((a, b) => a[1].localeCompare(b[1], 'fr'))]}),
  field({name: 'date_min', label: 'Du', kind: 'date'}),
  field({name: 'date_max', label: 'Au', kind: 'date'}),
  field({name: 'poste', label: 'Poste', kind: 'select', options: [['', 'Tous les postes']]}),
  visitorSlot,
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, 'Filtrer'),
    h('button', {type: 'reset', onclick: () => setTimeout(() => { setVisitor(null); filterForm.requestSubmit(); })}, 'Tout afficher')));

  function setVisitor(v) {
    visitor = v;
    if (v) {
      visitorSlot.replaceChildren(h('p', {class: 'label-like'}, 'Visiteur'),
        h('p', {class: 'chosen'}, h('strong', {}, fullName(v)), ' ',
          h('button', {type: 'button', class: 'link', onclick: () => setVisitor(null)}, 'Retirer')));
    } else {
      visitorSlot.replaceChildren(visitorPicker({label: 'Visiteur', onpick: setVisitor}).el);
    }
  }
  setVisitor(null);
  allPages('/api/postes/', sites.params()).then((postes) => {
    filterForm.elements.poste.append(...postes.map((p) => h('option', {value: String(p.id)}, p.nom)));
  }).catch(() => {});

  main.append(pageTitle('Journal', exportButton), filterForm,
    h('section', {class: 'panel'}, status,
      h('div', {class: 'table-wrap'}, h('table', {class: 'log'},
        h('caption', {class: 'sr-only'}, 'Entrées du journal, les plus récentes d’abord'),
        h('thead', {}, h('tr', {}, COLUMNS.slice(0, 7).map((t) => h('th', {scope: 'col'}, t)))),
        tbody)),
      results,
      h('div', {class: 'pager'}, previous, next)));

  async function go(target) {
    try {
      const data = await api('GET', '/api/logs/' + query({...filters, page: target, page_size: PAGE_SIZE}));
      page = target;
      results.replaceChildren();
      tbody.replaceChildren(...data.results.map(row));
      const first = (page - 1) * PAGE_SIZE + 1;
      status.textContent = data.count === 0 ? 'Aucune entrée.' :
        `Entrées ${first} à ${first + data.results.length - 1} sur ${data.count}.`;
      previous.disabled = !data.previous;
      next.disabled = !data.next;
    } catch (error) {
      results.replaceChildren(errorBox(error));
    }
  }

  async function exportCsv() {
    exportButton.disabled = true;
    const label = exportButton.textContent;
    exportButton.textContent = 'Export en cours…';
    try {
      const entries = await allPages('/api/logs/', filters);
      const rows = entries.map((e) => [dateTime(e.created_at), ACTIONS[e.action] || e.action, e.operateur,
        e.utilisateur_nom, e.poste_nom, e.session ?? '', e.details, e.ip_address ?? '']);
      download(`journal-${isoDay(new Date())}.csv`, toCsv(COLUMNS, rows));
      toast(`${entries.length} entrée(s) exportée(s).`);
    } catch (error) {
      toast(error.detail || error.message, 'error');
    } finally {
      exportButton.disabled = false;
      exportButton.textContent = label;
    }
  }

  // A new entry shows at the top when the first page is on screen without filters.
  const unsubscribe = feed.subscribe((kind, entry) => {
    const {site, ...others} = filters;
    if (kind !== 'log' || page !== 1 || Object.values(others).some((v) => v)) return;
    if (site && entry.site !== null && entry.site !== site) return;
    tbody.prepend(row(entry));
    while (tbody.children.length > PAGE_SIZE) tbody.lastElementChild.remove();
  });
  go(1);
  return unsubscribe;
}

function row(e) {
  return h('tr', {dataset: {action: e.action}},
    h('td', {class: 'nowrap'}, dateTime(e.created_at)),
    h('td', {}, ACTIONS[e.action] || e.action),
    h('td', {}, e.operateur || '—'),
    h('td', {}, e.utilisateur_nom || '—'),
    h('td', {}, e.poste_nom || '—'),
    h('td', {}, e.session ?? '—'),
    h('td', {class: 'details'}, e.details));
}
