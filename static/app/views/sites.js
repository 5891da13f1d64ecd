/* Sites (administrators): the branches of the network, their address, and where postes and
 * accounts belong. The default site cannot be deleted; a site with postes, accounts or sessions
 * neither (move them first). */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import {dateTime} from '../format.js';
import {errorBox, field, form, showErrors} from '../forms.js';
import * as sites from '../sites.js';
import {confirmDialog, toast} from '../ui.js';

export function show(main) {
  const editor = h('div', {});
  const tbody = h('tbody');
  const problems = h('div', {});
  main.append(
    pageTitle('Sites du réseau', h('button', {type: 'button', class: 'primary', onclick: () => edit(null)}, 'Nouveau site')),
    h('p', {class: 'hint'}, 'Chaque poste, compte du personnel et session appartient à un site. Le personnel ne voit que ' +
      'le sien ; les administrateurs choisissent le site affiché en haut de l’écran.'),
    editor, problems,
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', {},
      h('caption', {class: 'sr-only'}, 'Sites du réseau'),
      h('thead', {}, h('tr', {}, ['Nom', 'Adresse', 'Créé le', 'Actions'].map((t) => h('th', {scope: 'col'}, t)))),
      tbody))));

  async function load() {
    try {
      await sites.reload();
      tbody.replaceChildren(...sites.state.sites.map((s) => h('tr', {dataset: {site: s.id}},
        h('th', {scope: 'row'}, s.nom, s.par_defaut ? h('span', {class: 'muted'}, ' (par défaut)') : null),
        h('td', {}, s.adresse || '—'),
        h('td', {}, dateTime(s.created_at)),
        h('td', {class: 'row-actions'},
          h('button', {type: 'button', class: 'quiet', onclick: () => edit(s)}, 'Modifier',
            h('span', {class: 'sr-only'}, ` — ${s.nom}`)),
          s.par_defaut ? null : h('button', {type: 'button', class: 'quiet danger-text', onclick: () => remove(s)},
            'Supprimer', h('span', {class: 'sr-only'}, ` — ${s.nom}`))))));
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  }

  function edit(site) {
    const siteForm = form({
      label: site ? `Modifier ${site.nom}` : 'Nouveau site',
      className: 'panel form',
      onsubmit: async (data, el) => {
        try {
          if (site) await api('PATCH', `/api/sites/${site.id}/`, data);
          else await api('POST', '/api/sites/', data);
          editor.replaceChildren();
          toast(site ? `Site ${data.nom} enregistré.` : `Site ${data.nom} créé.`);
          load();
        } catch (error) {
          showErrors(el, error);
        }
      },
    },
    h('h2', {}, site ? `Modifier ${site.nom}` : 'Nouveau site'),
    h('div', {class: 'grid-2'},
      field({name: 'nom', label: 'Nom', required: true, value: site?.nom || '', autocomplete: 'off', maxlength: 100}),
      field({name: 'adresse', label: 'Adresse', kind: 'textarea', value: site?.adresse || ''})),
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, site ? 'Enregistrer' : 'Créer le site'),
      h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    editor.replaceChildren(siteForm);
    siteForm.querySelector('input').focus();
  }

  async function remove(site) {
    const sure = await confirmDialog({
      title: `Supprimer le site ${site.nom} ?`,
      message: 'Seul un site sans poste, sans compte et sans session peut être supprimé. Le journal garde ses entrées.',
      confirmLabel: 'Supprimer le site', danger: true});
    if (!sure) return;
    try {
      await api('DELETE', `/api/sites/${site.id}/`);
      toast(`Site ${site.nom} supprimé.`);
      load();
    } catch (error) {
      toast(error.detail, 'error');
    }
  }

  load();
}
