/* Finding a visitor as you type (debounced): a search field and the matching visitors as buttons. */
import {api, query} from './api.js';
import {debounce, h, uid} from './dom.js';
import {fullName} from './format.js';

const DELAY_MS = 250;
const SHOWN = 8;

/** onpick(visitor); `label` names the search field. Returns {el, input}. */
export function visitorPicker({onpick, label = 'Rechercher un visiteur'}) {
  const id = uid('picker');
  const input = h('input', {id, type: 'search', autocomplete: 'off', placeholder: 'Nom, prénom, e-mail ou téléphone',
    'aria-describedby': `${id}-status`});
  const status = h('p', {class: 'hint', id: `${id}-status`, 'aria-live': 'polite'});
  const list = h('ul', {class: 'pick-list'});
  let asked = 0;

  const search = debounce(async () => {
    const text = input.value.trim();
    const ask = ++asked;
    if (!text) {
      list.replaceChildren();
      status.textContent = '';
      return;
    }
    try {
      const data = await api('GET', '/api/utilisateurs/' + query({search: text, page_size: SHOWN}));
      if (ask !== asked) return;   // a newer search is on its way
      list.replaceChildren(...data.results.map((v) => h('li', {},
        h('button', {type: 'button', class: 'pick', dataset: {visitor: v.id}, onclick: () => onpick(v)},
          h('strong', {}, fullName(v)), ' ', h('span', {class: 'muted'}, v.email || v.telephone || '')))));
      status.textContent = data.count === 0 ? 'Aucun visiteur trouvé.'
        : data.count > SHOWN ? `${data.count} visiteurs : précisez la recherche.` : `${data.count} visiteur(s).`;
    } catch (error) {
      if (ask === asked) status.textContent = error.detail;
    }
  }, DELAY_MS);
  input.addEventListener('input', search);
  const el = h('div', {class: 'picker'}, h('label', {for: id}, label), input, status, list);
  return {el, input};
}
