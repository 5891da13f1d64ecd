/* Guest passes: several access codes at once, without a visitor, printed as a sheet of tickets
 * (A4, several a page) or one after the other on the receipt printer (58 or 80 mm). */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import * as feed from '../feed.js';
import {dateTime, duration} from '../format.js';
import {field, form, showErrors} from '../forms.js';
import {FORMATS, setTicketFormat, ticketFormat} from '../ticket.js';

/** Fills the print area with one ticket per guest code and prints. */
export function printGuestTickets(sessions) {
  const area = document.getElementById('ticket');
  area.replaceChildren(...sessions.map((s) => h('div', {class: 'guest-ticket'},
    h('p', {class: 't-title'}, 'Poste Public — invité'),
    h('p', {class: 't-label'}, 'Votre code d’accès'),
    h('p', {class: 't-code'}, s.code_acces),
    h('p', {}, s.poste_nom ? `Poste : ${s.poste_nom}` : 'Sur n’importe quel poste libre'),
    h('p', {}, `Durée : ${duration(s.duree_initiale)}`),
    h('p', {class: 't-help'}, 'Tapez ce code sur l’écran du poste pour commencer.'),
    h('p', {class: 't-small'}, `Délivré le ${dateTime(s.created_at)} — valable aux heures d’ouverture`))));
  document.documentElement.dataset.ticket = ticketFormat();
  document.documentElement.dataset.sheet = '1';
  window.addEventListener('afterprint', () => delete document.documentElement.dataset.sheet, {once: true});
  window.print();
}

export function show(main) {
  const result = h('div', {id: 'guest-result'});
  const postes = h('select', {id: 'g-poste', name: 'poste', dataset: {nullable: '1'}});
  const el = form({
    label: 'Créer des codes invités',
    className: 'panel form',
    onsubmit: async (data, formEl) => {
      try {
        const body = {nombre: data.nombre, duree_initiale: Math.round((data.minutes || 0) * 60), poste: data.poste};
        const answer = await api('POST', '/api/sessions/invites/', body);
        showCodes(answer.results);
      } catch (error) {
        if (error.errors?.duree_initiale) error.errors.minutes = error.errors.duree_initiale;
        showErrors(formEl, error);
      }
    },
  },
  h('h2', {}, 'Nouveaux codes'),
  h('p', {class: 'hint'}, 'Des codes sans visiteur inscrit, pour un passage : ils suivent les horaires d’ouverture, ' +
    'pas les quotas.'),
  h('div', {class: 'grid-2'},
    field({name: 'nombre', label: 'Nombre de codes (1 à 50)', kind: 'number', min: 1, max: 50, value: '5', required: true}),
    field({name: 'minutes', label: 'Durée de chaque code (minutes)', kind: 'number', min: 1, max: 1440, value: '60',
      required: true}),
    h('div', {class: 'field'}, h('label', {for: 'g-poste'}, 'Poste'), postes,
      h('p', {class: 'field-error', dataset: {errorFor: 'poste'}}))),
  h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary big'}, 'Générer les codes')));
  main.append(pageTitle('Codes invités'), el, result);

  function fillPostes() {
    const current = postes.value;
    const sorted = [...feed.room.postes.values()].sort((a, b) => a.nom.localeCompare(b.nom, 'fr', {numeric: true}));
    postes.replaceChildren(h('option', {value: ''}, 'N’importe quel poste libre'),
      ...sorted.map((p) => h('option', {value: String(p.id), disabled: p.statut === 'maintenance'}, p.nom)));
    postes.value = current;
  }

  function showCodes(sessions) {
    const format = h('select', {id: 'g-format', value: ticketFormat(), onchange: (e) => setTicketFormat(e.target.value)},
      FORMATS.map(([value, text]) => h('option', {value}, text)));
    result.replaceChildren(h('section', {class: 'panel', 'aria-labelledby': 'g-title'},
      h('h2', {id: 'g-title'}, `${sessions.length} code${sessions.length > 1 ? 's' : ''} à remettre`),
      h('ul', {class: 'guest-codes'}, sessions.map((s) => h('li', {},
        h('span', {class: 'guest-code'}, s.code_acces), ' ', h('span', {class: 'muted'}, duration(s.duree_initiale))))),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'primary', id: 'g-print', onclick: () => printGuestTickets(sessions)},
          'Imprimer les tickets'),
        h('label', {for: 'g-format', class: 'inline-label'}, 'Format'), format)));
  }

  const unsubscribe = feed.subscribe((kind) => {
    if (kind === 'room') fillPostes();
  });
  fillPostes();
  return unsubscribe;
}
