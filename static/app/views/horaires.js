/* Opening hours: open or closed now, the week (several ranges a day), dated exceptions on a calendar
 * (closures, short days), and how long before closing the postes are warned. Everyone on the desk
 * sees them; administrators change them. */
import {api} from '../api.js';
import {isAdmin} from '../auth.js';
import {h, pageTitle} from '../dom.js';
import {calendarDay, dateTime, time} from '../format.js';
import {clearErrors, errorBox, showErrors} from '../forms.js';
import {toast} from '../ui.js';

export const DAYS = [['lundi', 'Lundi'], ['mardi', 'Mardi'], ['mercredi', 'Mercredi'], ['jeudi', 'Jeudi'],
  ['vendredi', 'Vendredi'], ['samedi', 'Samedi'], ['dimanche', 'Dimanche']];
const MONTHS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre',
  'novembre', 'décembre'];

/** [["09:00", "12:30"], ["14:00", "18:00"]] → "09:00-12:30, 14:00-18:00" */
export function rangesText(ranges) {
  return ranges.map(([a, b]) => `${a}-${b}`).join(', ');
}

/** "9h-12h30, 14:00-18:00" → [["09:00", "12:30"], ["14:00", "18:00"]]; null when unreadable. */
export function parseRanges(text) {
  const value = (text || '').trim();
  if (!value || /^ferm/i.test(value)) return [];
  const ranges = [];
  for (const part of value.split(/[,;]/)) {
    const match = part.trim().match(/^(\d{1,2})(?:[:h](\d{2})?)?\s*[-–à]+\s*(\d{1,2})(?:[:h](\d{2})?)?$/i);
    if (!match) return null;
    const [, h1, m1 = '00', h2, m2 = '00'] = match;
    ranges.push([`${h1.padStart(2, '0')}:${m1}`, `${h2.padStart(2, '0')}:${m2}`]);
  }
  return ranges;
}

function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function show(main) {
  const admin = isAdmin();
  let hours = null;
  let month = new Date();
  month.setDate(1);
  const state = h('p', {class: 'hours-state', id: 'hours-state', 'aria-live': 'polite'}, 'Chargement…');
  const problems = h('div', {});
  const weekBody = h('tbody');
  const notice = h('input', {id: 'h-notice', type: 'number', min: 0, max: 120, step: 1, disabled: !admin,
    'aria-describedby': 'h-notice-hint'});
  const calendar = h('div', {class: 'calendar', id: 'calendar'});
  const exceptionList = h('ul', {class: 'exceptions', id: 'exceptions'});
  const editor = h('div', {});
  const formEl = h('form', {class: 'panel form', novalidate: true, 'aria-label': 'Horaires de la semaine'},
    h('div', {class: 'form-error', role: 'alert', hidden: true}),
    h('h2', {}, 'Semaine type'),
    h('p', {class: 'hint'}, 'Heures locales de la bibliothèque. Plusieurs plages séparées par des virgules, ' +
      'par exemple « 09:00-12:30, 14:00-18:00 » ; vide : fermé ce jour-là. Aucune plage de toute la semaine : ' +
      'ouvert en permanence.'),
    h('div', {class: 'table-wrap'}, h('table', {class: 'week-grid'},
      h('caption', {class: 'sr-only'}, 'Plages d’ouverture par jour'),
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Jour'), h('th', {scope: 'col'}, 'Plages d’ouverture'))),
      weekBody)),
    h('div', {class: 'field'}, h('label', {for: 'h-notice'}, 'Prévenir les postes avant la fermeture (minutes)'), notice,
      h('p', {class: 'hint', id: 'h-notice-hint'}, 'Chaque poste connecté affiche « La bibliothèque ferme dans … » ; ' +
        'à la fermeture, toutes les sessions se terminent.'),
      h('p', {class: 'field-error', dataset: {errorFor: 'avertissement_fermeture'}})),
    h('p', {class: 'field-error', dataset: {errorFor: 'semaine'}}),
    admin ? h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Enregistrer les horaires'))
      : h('p', {class: 'muted'}, 'Seul un administrateur peut modifier les horaires.'));
  formEl.addEventListener('submit', (event) => {
    event.preventDefault();
    saveWeek();
  });

  main.append(pageTitle('Horaires'), state, problems,
    h('div', {class: 'split hours'}, formEl,
      h('section', {class: 'panel', 'aria-labelledby': 'exc-title'},
        h('h2', {id: 'exc-title'}, 'Jours particuliers'),
        h('p', {class: 'hint'}, 'Fermetures et journées courtes : choisissez un jour dans le calendrier.'),
        calendar, editor, exceptionList)));

  function fillWeek() {
    weekBody.replaceChildren(...DAYS.map(([key, label]) => h('tr', {},
      h('th', {scope: 'row'}, h('label', {for: `h-${key}`}, label)),
      h('td', {}, h('input', {id: `h-${key}`, name: key, value: rangesText(hours.semaine[key]), disabled: !admin,
        placeholder: 'Fermé', autocomplete: 'off'})))));
    notice.value = String(Math.round(hours.avertissement_fermeture / 60));
  }

  function fillCalendar() {
    const byDate = new Map(hours.exceptions.map((e) => [e.date, e]));
    const first = new Date(month);
    const offset = (first.getDay() + 6) % 7;      // Monday first
    const days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    const cells = [];
    for (let i = 0; i < offset; i++) cells.push(h('span', {class: 'cal-empty'}));
    for (let d = 1; d <= days; d++) {
      const day = isoDay(new Date(first.getFullYear(), first.getMonth(), d));
      const exception = byDate.get(day);
      const label = exception ? `${d} : ${exception.motif || 'jour particulier'}` : String(d);
      cells.push(h('button', {type: 'button', class: exception ? (exception.plages.length ? 'cal-day short' : 'cal-day closed') : 'cal-day',
        dataset: {day}, title: label, 'aria-label': `${calendarDay(day)}${exception ? ` — ${exception.motif || 'jour particulier'}` : ''}`,
        onclick: () => editException(day)}, String(d)));
    }
    calendar.replaceChildren(
      h('div', {class: 'cal-head'},
        h('button', {type: 'button', class: 'quiet', 'aria-label': 'Mois précédent', onclick: () => moveMonth(-1)}, '‹'),
        h('strong', {}, `${MONTHS[month.getMonth()]} ${month.getFullYear()}`),
        h('button', {type: 'button', class: 'quiet', 'aria-label': 'Mois suivant', onclick: () => moveMonth(1)}, '›')),
      h('div', {class: 'cal-grid'}, ['L', 'M', 'M', 'J', 'V', 'S', 'D'].map((d) => h('span', {class: 'cal-wd'}, d)), cells));
    exceptionList.replaceChildren(...hours.exceptions.map((e) => h('li', {dataset: {date: e.date}},
      h('strong', {}, calendarDay(e.date)), ' — ', e.plages.length ? rangesText(e.plages) : 'fermé',
      e.motif ? h('span', {class: 'muted'}, ` (${e.motif})`) : null,
      admin ? h('button', {type: 'button', class: 'quiet danger-text', onclick: () => removeException(e.date)}, 'Retirer',
        h('span', {class: 'sr-only'}, ` — ${calendarDay(e.date)}`)) : null)));
  }

  function moveMonth(step) {
    month = new Date(month.getFullYear(), month.getMonth() + step, 1);
    fillCalendar();
  }

  function editException(day) {
    if (!admin) return;
    const current = hours.exceptions.find((e) => e.date === day) || {date: day, plages: [], motif: ''};
    const plages = h('input', {id: 'exc-plages', value: rangesText(current.plages), placeholder: 'Fermé toute la journée'});
    const motif = h('input', {id: 'exc-motif', value: current.motif, maxlength: 200});
    const box = h('form', {class: 'form exception-form', novalidate: true, 'aria-label': `Jour particulier du ${calendarDay(day)}`},
      h('div', {class: 'form-error', role: 'alert', hidden: true}),
      h('h3', {}, `Le ${calendarDay(day)}`),
      h('div', {class: 'field'}, h('label', {for: 'exc-plages'}, 'Plages (vide : fermé)'), plages),
      h('div', {class: 'field'}, h('label', {for: 'exc-motif'}, 'Motif'), motif),
      h('p', {class: 'field-error', dataset: {errorFor: 'exceptions'}}),
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Enregistrer ce jour'),
        h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    box.addEventListener('submit', async (event) => {
      event.preventDefault();
      const ranges = parseRanges(plages.value);
      if (ranges === null) {
        showErrors(box, {detail: 'Plages illisibles.', errors: {exceptions: ['Écrivez par exemple 09:00-12:00, 14:00-17:00.']}});
        return;
      }
      const others = hours.exceptions.filter((e) => e.date !== day);
      await save({exceptions: [...others, {date: day, plages: ranges, motif: motif.value.trim()}]}, box,
        `Le ${calendarDay(day)} est enregistré.`);
    });
    editor.replaceChildren(box);
    plages.focus();
  }

  async function removeException(day) {
    await save({exceptions: hours.exceptions.filter((e) => e.date !== day)}, formEl, `Le ${calendarDay(day)} est retiré.`);
  }

  async function saveWeek() {
    clearErrors(formEl);
    const semaine = {};
    const errors = {};
    for (const [key, label] of DAYS) {
      const ranges = parseRanges(formEl.querySelector(`input[name=${key}]`).value);
      if (ranges === null) errors.semaine = [`${label} : écrivez par exemple 09:00-12:30, 14:00-18:00.`];
      semaine[key] = ranges || [];
    }
    if (errors.semaine) {
      showErrors(formEl, {detail: 'Une plage est mal écrite.', errors});
      return;
    }
    await save({semaine, avertissement_fermeture: Math.round(Number(notice.value || 0) * 60)}, formEl,
      'Horaires enregistrés.');
  }

  async function save(data, where, done) {
    try {
      hours = await api('PUT', '/api/horaires/', data);
      clearErrors(formEl);
      editor.replaceChildren();
      fillWeek();
      fillCalendar();
      loadState();
      toast(done);
    } catch (error) {
      showErrors(where, error);
    }
  }

  async function loadState() {
    try {
      const now = await api('GET', '/api/horaires/etat/');
      if (now.ouvert) {
        state.textContent = now.fermeture ? `Ouvert — ferme à ${time(now.fermeture)}` +
          (new Date(now.fermeture).toDateString() !== new Date().toDateString() ? ` le ${dateTime(now.fermeture).split(' ')[0]}` : '')
          : 'Ouvert en permanence (aucun horaire défini)';
        state.className = 'hours-state open';
      } else {
        state.textContent = now.prochaine_ouverture ? `Fermé — rouvre le ${dateTime(now.prochaine_ouverture).replace(' ', ' à ')}` : 'Fermé';
        state.className = 'hours-state closed';
      }
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  }

  async function load() {
    try {
      hours = await api('GET', '/api/horaires/');
      fillWeek();
      fillCalendar();
      loadState();
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  }
  load();
}
