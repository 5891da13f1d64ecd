/* The login screen, also where the app comes back when a login ends (with the reason). */
import {ApiError} from '../api.js';
import * as auth from '../auth.js';
import {h} from '../dom.js';
import {field, form, showErrors} from '../forms.js';

export function show(main, {message, onLogin}) {
  const loginForm = form({
    label: 'Connexion',
    onsubmit: async (data, el) => {
      let answer;
      try {
        answer = await auth.login(data.username, data.password);
      } catch {
        showErrors(el, new ApiError(0, null));
        return;
      }
      if (answer.refused) {
        const {status, data: body, headers} = answer.refused;
        showErrors(el, new ApiError(status, body, headers.get('Retry-After')));
        el.elements.password.value = '';
        return;
      }
      try {
        await onLogin();
      } catch (error) {
        showErrors(el, error);
      }
    },
  },
  field({name: 'username', label: 'Identifiant', autocomplete: 'username', required: true}),
  field({name: 'password', label: 'Mot de passe', kind: 'password', autocomplete: 'current-password', required: true}),
  h('button', {type: 'submit', class: 'primary wide'}, 'Se connecter'));

  main.append(h('div', {class: 'login'},
    h('h1', {class: 'page-title', tabindex: '-1'}, 'Poste Public'),
    h('p', {class: 'subtitle'}, 'Accueil — postes publics de la bibliothèque'),
    message ? h('p', {class: 'notice', role: 'status'}, message) : null,
    loginForm));
  loginForm.elements.username.focus();
}
