/* Changing one's password; on first run the initial admin password must be changed before anything
 * else. The server then ends every login of the account; this page logs in again at once with the
 * new password, so the staff member goes on where they were. */
import {api} from '../api.js';
import * as auth from '../auth.js';
import {h, pageTitle} from '../dom.js';
import {field, form, showErrors} from '../forms.js';
import {toast} from '../ui.js';

const RULES = 'Au moins 10 caractères, pas uniquement des chiffres, sans votre identifiant, ni un mot de passe courant.';

export function show(main, {forced = false, onChanged = null} = {}) {
  const passwordForm = form({
    label: 'Changer le mot de passe',
    onsubmit: async (data, el) => {
      if (data.new_password !== data.confirmation) {
        showErrors(el, {detail: 'Les deux saisies du nouveau mot de passe diffèrent.',
          errors: {confirmation: ['Saisissez le même mot de passe deux fois.']}});
        return;
      }
      try {
        await api('POST', '/api/auth/change-password/',
          {old_password: data.old_password, new_password: data.new_password});
      } catch (error) {
        showErrors(el, error);
        return;
      }
      const username = auth.currentUser()?.username;
      let again = null;
      try {
        again = await auth.login(username, data.new_password);
      } catch {
        again = null;
      }
      if (!again?.user) {
        auth.end('Mot de passe changé. Connectez-vous avec le nouveau mot de passe.');
        return;
      }
      toast('Mot de passe changé. Vos autres connexions ont été fermées.');
      if (onChanged) onChanged();
      else for (const name of ['old_password', 'new_password', 'confirmation']) el.elements[name].value = '';
    },
  },
  // For password managers: whose password this is.
  h('input', {type: 'text', name: 'username', autocomplete: 'username', value: auth.currentUser()?.username || '',
    hidden: true, readonly: true}),
  field({name: 'old_password', label: 'Mot de passe actuel', kind: 'password', autocomplete: 'current-password', required: true}),
  field({name: 'new_password', label: 'Nouveau mot de passe', kind: 'password', autocomplete: 'new-password',
    required: true, hint: RULES}),
  field({name: 'confirmation', label: 'Nouveau mot de passe, encore une fois', kind: 'password',
    autocomplete: 'new-password', required: true}),
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, 'Changer le mot de passe'),
    forced ? h('button', {type: 'button', class: 'quiet', onclick: () => auth.logout()}, 'Se déconnecter') : null));

  if (forced) {
    main.append(h('div', {class: 'login'},
      h('h1', {class: 'page-title', tabindex: '-1'}, 'Choisissez un mot de passe'),
      h('p', {class: 'notice'}, 'Ce compte utilise encore le mot de passe initial, créé au premier démarrage. ' +
        'Remplacez-le avant de continuer.'),
      passwordForm));
    passwordForm.elements.old_password.focus();
  } else {
    main.append(pageTitle('Mon mot de passe'),
      h('section', {class: 'panel narrow'},
        h('p', {}, 'Après le changement, vos connexions sur d’autres postes ou onglets sont fermées ; celle-ci reste ouverte.'),
        passwordForm));
  }
}
