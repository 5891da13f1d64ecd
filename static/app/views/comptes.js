/* Staff accounts (administrators): who may log in at the desk, and with which role. */
import {allPages, api} from '../api.js';
import {currentUser} from '../auth.js';
import {h, pageTitle} from '../dom.js';
import {dateTime, ROLES} from '../format.js';
import {errorBox, field, form, showErrors} from '../forms.js';
import {confirmDialog, toast} from '../ui.js';
import * as sites from '../sites.js';

const PASSWORD_RULES = 'Au moins 10 caractères, pas uniquement des chiffres, sans l’identifiant, ni un mot de passe courant.';

export function show(main) {
  const editor = h('div', {});
  const tbody = h('tbody');
  const problems = h('div', {});
  main.append(
    pageTitle('Comptes du personnel', h('button', {type: 'button', class: 'primary', onclick: () => edit(null)}, 'Nouveau compte')),
    editor, problems,
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', {},
      h('caption', {class: 'sr-only'}, 'Comptes du personnel'),
      h('thead', {}, h('tr', {}, ['Identifiant', 'E-mail', 'Rôle', 'État', 'Dernière connexion', 'Actions']
        .map((t) => h('th', {scope: 'col'}, t)))),
      tbody))));

  async function load() {
    try {
      const comptes = await allPages('/api/comptes/', sites.params());
      tbody.replaceChildren(...comptes.map((c) => h('tr', {dataset: {compte: c.id}},
        h('th', {scope: 'row'}, c.username, c.id === currentUser().id ? h('span', {class: 'muted'}, ' (vous)') : null),
        h('td', {}, c.email || '—'),
        h('td', {}, ROLES[c.role] || c.role, sites.state.sites.length > 1 ? h('span', {class: 'sub site-tag'}, c.site_nom) : null),
        h('td', {}, c.is_active ? 'Actif' : 'Désactivé'),
        h('td', {}, dateTime(c.last_login)),
        h('td', {class: 'row-actions'},
          h('button', {type: 'button', class: 'quiet', onclick: () => edit(c)}, 'Modifier',
            h('span', {class: 'sr-only'}, ` — ${c.username}`)),
          h('button', {type: 'button', class: 'quiet danger-text', onclick: () => remove(c)}, 'Supprimer',
            h('span', {class: 'sr-only'}, ` — ${c.username}`))))));
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  }

  function edit(compte) {
    const c = compte || {role: 'staff', is_active: true};
    const accountForm = form({
      label: compte ? `Modifier ${compte.username}` : 'Nouveau compte',
      className: 'panel form',
      onsubmit: async (data, el) => {
        if (compte && !data.password) delete data.password;   // empty: keep the current one
        try {
          if (compte) await api('PATCH', `/api/comptes/${compte.id}/`, data);
          else await api('POST', '/api/comptes/', data);
          editor.replaceChildren();
          toast(compte ? `Compte ${compte.username} enregistré.` : `Compte ${data.username} créé.`);
          load();
        } catch (error) {
          showErrors(el, error);
        }
      },
    },
    h('h2', {}, compte ? `Modifier ${compte.username}` : 'Nouveau compte'),
    h('div', {class: 'grid-2'},
      compte ? null : field({name: 'username', label: 'Identifiant', required: true, autocomplete: 'off'}),
      field({name: 'email', label: 'E-mail', kind: 'email', value: c.email, autocomplete: 'off'}),
      field({name: 'role', label: 'Rôle', kind: 'select', value: c.role, options: Object.entries(ROLES)}),
      sites.state.sites.length > 1 ? field({name: 'site', label: 'Site', kind: 'select', options: sites.options(),
        hint: 'Le personnel ne voit et n’agit que sur son site ; un administrateur voit tous les sites.',
        value: String(c.site || sites.state.chosen || sites.state.sites.find((s) => s.par_defaut)?.id || '')}) : null,
      field({name: 'password', label: compte ? 'Nouveau mot de passe (laisser vide pour le garder)' : 'Mot de passe',
        kind: 'password', required: !compte, autocomplete: 'new-password', hint: PASSWORD_RULES})),
    field({name: 'is_active', label: 'Compte actif (peut se connecter)', kind: 'checkbox', value: c.is_active,
      hint: 'Désactiver un compte ferme aussitôt toutes ses connexions.'}),
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, compte ? 'Enregistrer' : 'Créer le compte'),
      h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    editor.replaceChildren(accountForm);
    accountForm.querySelector('input:not([type=hidden])').focus();
  }

  async function remove(compte) {
    const sure = await confirmDialog({
      title: `Supprimer le compte ${compte.username} ?`,
      message: 'Cette personne ne pourra plus se connecter. Le journal garde son nom dans les actions passées.',
      confirmLabel: 'Supprimer le compte', danger: true});
    if (!sure) return;
    try {
      await api('DELETE', `/api/comptes/${compte.id}/`);
      toast(`Compte ${compte.username} supprimé.`);
      load();
    } catch (error) {
      toast(error.detail, 'error');
    }
  }

  load();
}
