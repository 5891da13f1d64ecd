/* The printable ticket handed to the visitor: the code, large, for 58 mm or 80 mm receipt printers
 * or A4 (print.css lays it out; the format chosen is remembered on this computer). */
import {h} from './dom.js';
import {dateTime, duration} from './format.js';

const FORMAT_KEY = 'poste-public-ticket-format';
export const FORMATS = [['80', 'Reçu 80 mm'], ['58', 'Reçu 58 mm'], ['a4', 'Feuille A4']];

export function ticketFormat() {
  const kept = localStorage.getItem(FORMAT_KEY);
  return FORMATS.some(([value]) => value === kept) ? kept : '80';
}

export function setTicketFormat(value) {
  localStorage.setItem(FORMAT_KEY, value);
}

export function printTicket(session) {
  const ticket = document.getElementById('ticket');
  ticket.replaceChildren(
    h('p', {class: 't-title'}, 'Poste Public'),
    h('p', {class: 't-label'}, 'Votre code d’accès'),
    h('p', {class: 't-code'}, session.code_acces),
    h('p', {}, session.poste_nom ? `Poste : ${session.poste_nom}` : 'Sur n’importe quel poste libre'),
    h('p', {}, `Durée : ${duration(session.duree_initiale + session.temps_ajoute)}`),
    h('p', {class: 't-help'}, 'Tapez ce code sur l’écran du poste pour commencer.'),
    h('p', {class: 't-small'}, `Délivré le ${dateTime(session.created_at)}`));
  document.documentElement.dataset.ticket = ticketFormat();
  window.print();
}
