/* Things that float above a screen: the confirmation dialog and short notices. */
import {h} from './dom.js';

/** Asks a question in a modal dialog; resolves to true when confirmed. */
export function confirmDialog({title, message, confirmLabel = 'Confirmer', danger = false}) {
  return new Promise((resolve) => {
    const yes = h('button', {type: 'button', class: danger ? 'danger' : 'primary', dataset: {confirm: 'yes'}},
      confirmLabel);
    const no = h('button', {type: 'button', dataset: {confirm: 'no'}}, 'Annuler');
    const dialog = h('dialog', {class: 'dialog', 'aria-labelledby': 'dialog-title'},
      h('h2', {id: 'dialog-title'}, title),
      h('p', {}, message),
      h('div', {class: 'actions'}, no, yes));
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => finish(true));
    no.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (event) => {   // Escape
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();   // the safe choice under the Enter key
  });
}

let toastTimer = null;

/** A short notice at the bottom of the screen ("Session terminée."), read out politely. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 8000 : 4000);
}
