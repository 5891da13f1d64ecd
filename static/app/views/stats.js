/* Statistics: sessions per day, occupancy by hour of the week, use per poste, average length.
 * Aggregated by the box (GET /api/stats/, no personal data); drawn here as SVG. */
import {api, query} from '../api.js';
import {barChart, figure, heatmap, horizontalBars} from '../charts.js';
import {debounce, h, pageTitle} from '../dom.js';
import {dayField, duration, isoDay, number} from '../format.js';
import {errorBox, field, form, showErrors} from '../forms.js';
import * as sites from '../sites.js';

const DAYS = ['Lundi', 'Mardi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi', 'Dimanche'];
const SHORT_DAYS = ['lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.', 'dim.'];
const PRESETS = [[7, '7 derniers jours'], [30, '30 derniers jours'], [365, '12 derniers mois']];

export function show(main) {
  let data = null;
  const output = h('div', {class: 'stats'});
  const periodForm = form({
    label: 'Période',
    className: 'panel filters',
    onsubmit: (values, el) => load({date_min: values.date_min, date_max: values.date_max}, el),
  },
  field({name: 'date_min', label: 'Du', kind: 'date'}),
  field({name: 'date_max', label: 'Au', kind: 'date'}),
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, 'Afficher'),
    PRESETS.map(([days, text]) => h('button', {type: 'button', class: 'quiet', onclick: () => lastDays(days)}, text))));
  main.append(pageTitle('Statistiques'),
    h('p', {class: 'intro'}, 'Chiffres agrégés, sans aucune donnée personnelle. Heures locales du boîtier.'),
    periodForm, output);

  function lastDays(days) {
    const end = new Date();
    const start = new Date(end.getFullYear(), end.getMonth(), end.getDate() - days + 1);
    load({date_min: isoDay(start), date_max: isoDay(end)}, periodForm);
  }

  async function load(period, formEl) {
    try {
      data = await api('GET', '/api/stats/' + query({...period, ...sites.params()}));
    } catch (error) {
      if (formEl) showErrors(formEl, error);
      else output.replaceChildren(errorBox(error));
      return;
    }
    periodForm.elements.date_min.value = dayField(data.date_min);
    periodForm.elements.date_max.value = dayField(data.date_max);
    draw();
  }

  function draw() {
    if (!data) return;
    const width = Math.max(300, output.clientWidth - 40);
    output.replaceChildren(totals(data), perDay(data, width), occupancy(data, width), perPoste(data, width),
      perCategory(data, width));
  }

  const redraw = debounce(draw, 150);
  window.addEventListener('resize', redraw);
  load({});
  return () => window.removeEventListener('resize', redraw);
}

function totals({totaux}) {
  const card = (label, value, name) => h('div', {class: 'card', dataset: {total: name}},
    h('p', {class: 'card-value'}, value), h('p', {class: 'card-label'}, label));
  return h('section', {class: 'cards', 'aria-label': 'Totaux de la période'},
    card('sessions', number(totaux.sessions), 'sessions'),
    card('visiteurs différents', number(totaux.visiteurs), 'visiteurs'),
    card('d’utilisation des postes', duration(totaux.duree_totale), 'duree_totale'),
    card('durée moyenne d’une session', duration(totaux.duree_moyenne), 'duree_moyenne'),
    card('codes remis jamais utilisés', number(totaux.codes_non_utilises), 'codes_non_utilises'));
}

function dayLabel(day) {
  const [y, m, d] = day.split('-').map(Number);
  const when = new Date(y, m - 1, d);
  return {short: `${String(d).padStart(2, '0')}/${String(m).padStart(2, '0')}`,
    long: `${SHORT_DAYS[(when.getDay() + 6) % 7]} ${String(d).padStart(2, '0')}/${String(m).padStart(2, '0')}/${y}`};
}

function perDay({par_jour: days}, width) {
  const items = days.map((d) => ({label: dayLabel(d.date).short, value: d.sessions,
    title: `${dayLabel(d.date).long} : ${d.sessions} session(s), ${duration(d.duree)} d’utilisation`}));
  const labelEvery = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor(width / 60))));
  const table = h('table', {}, h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Jour'),
    h('th', {scope: 'col'}, 'Sessions'), h('th', {scope: 'col'}, 'Utilisation'))),
  h('tbody', {}, days.map((d) => h('tr', {}, h('td', {}, dayLabel(d.date).long), h('td', {}, d.sessions),
    h('td', {}, duration(d.duree))))));
  return h('section', {class: 'panel', 'aria-label': 'Sessions par jour'},
    figure('Sessions par jour', barChart(items, {width, labelEvery}), table));
}

function occupancy({occupation, postes}, width) {
  // Opening hours at least 8 h – 20 h, widened to any hour that saw use.
  const used = [...Array(24).keys()].filter((hour) => occupation.some((day) => day[hour] > 0));
  const first = Math.min(8, ...used);
  const last = Math.max(19, ...used);
  const columns = [];
  for (let hour = first; hour <= last; hour += 1) columns.push({index: hour, label: `${hour} h`});
  const title = (day, hour, value) => `${DAYS[day]} ${hour} h : ${number(value)} poste(s) occupé(s) en moyenne` +
    (postes ? ` (${Math.round((value / postes) * 100)} %)` : '');
  const chart = heatmap({rows: SHORT_DAYS, columns, values: occupation, title, width, max: postes || undefined});
  const table = h('table', {}, h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Jour'),
    columns.map((c) => h('th', {scope: 'col'}, c.label)))),
  h('tbody', {}, occupation.map((day, d) => h('tr', {}, h('th', {scope: 'row'}, DAYS[d]),
    columns.map((c) => h('td', {}, number(day[c.index])))))));
  return h('section', {class: 'panel', 'aria-label': 'Occupation par heure'},
    figure(`Occupation moyenne par heure de la semaine (postes occupés${postes ? `, sur ${postes}` : ''})`, chart, table),
    h('p', {class: 'legend'}, h('span', {class: 'swatch pale'}), ' libre ', h('span', {class: 'swatch dark'}),
      postes ? ` tous les postes occupés` : ' le plus occupé'));
}

function perPoste({par_poste: lines}, width) {
  if (!lines.length) {
    return h('section', {class: 'panel'}, h('h2', {}, 'Utilisation par poste'), h('p', {class: 'empty'}, 'Aucun poste.'));
  }
  const items = lines.map((l) => ({label: l.nom, value: l.duree,
    text: `${duration(l.duree)} · ${l.sessions} session(s)`}));
  return h('section', {class: 'panel', 'aria-label': 'Utilisation par poste'},
    figure('Utilisation par poste', horizontalBars(items, {width})));
}

/** Use per visitor category (guests apart): what the library's policy is measured by. */
function perCategory({par_categorie: lines = []}, width) {
  const items = lines.map((l) => ({label: l.nom, value: l.duree, text: `${duration(l.duree)} · ${l.sessions} session(s)`}));
  return h('section', {class: 'panel', 'aria-label': 'Utilisation par catégorie', id: 'stats-categories'},
    items.length ? figure('Utilisation par catégorie de visiteurs', horizontalBars(items, {width}))
      : [h('h2', {}, 'Utilisation par catégorie de visiteurs'), h('p', {class: 'empty'}, 'Aucune catégorie.')]);
}
