/* Postes (administrators): the library's name and kiosk home page, the postes (add, edit, delete),
 * where their kiosks connect from, and each kiosk's set-up — its token shown once, with the
 * configuration file to download and the web kiosk's address (kiosk-setup.js). */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import * as feed from '../feed.js';
import {dateTime, POSTE_STATUTS} from '../format.js';
import {field, form, showErrors} from '../forms.js';
import {setupPanel} from '../kiosk-setup.js';
import {confirmDialog, toast} from '../ui.js';
import * as sites from '../sites.js';

export function show(main) {
  const editor = h('div', {});
  const tokenBox = h('div', {});
  const tbody = h('tbody');
  const library = {nom: '', page_accueil: ''};
  const libraryBox = h('div', {});
  main.append(
    pageTitle('Postes', h('button', {type: 'button', class: 'primary', onclick: () => edit(null)}, 'Nouveau poste')),
    tokenBox, editor,
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', {class: 'postes'},
      h('caption', {class: 'sr-only'}, 'Postes publics'),
      h('thead', {}, h('tr', {}, ['Poste', 'Adresses', 'Kiosque', 'Statut', 'Actions']
        .map((t) => h('th', {scope: 'col'}, t)))),
      tbody)),
    h('p', {class: 'hint'}, 'Chaque kiosque est reconnu par l’adresse IP enregistrée ici : réservez-la sur le ',
      'routeur de la bibliothèque (réservation DHCP) avec l’adresse MAC du poste, pour qu’elle ne change pas ',
      '(voir docs/install.md).')),
    libraryBox);

  function render() {
    const postes = [...feed.room.postes.values()].sort((a, b) => a.nom.localeCompare(b.nom, 'fr', {numeric: true}));
    tbody.replaceChildren(...postes.map((p) => h('tr', {dataset: {poste: p.id}},
      h('th', {scope: 'row'}, p.nom, p.emplacement ? h('span', {class: 'sub'}, p.emplacement) : null,
        sites.state.sites.length > 1 ? h('span', {class: 'sub site-tag'}, sites.name(p.site)) : null),
      h('td', {}, h('span', {class: 'mono'}, p.ip_address),
        h('span', {class: 'sub mono', title: 'Adresse MAC'}, p.mac_address || 'MAC non renseignée')),
      h('td', {}, p.en_ligne ? 'En ligne' : `Hors ligne${p.derniere_connexion ? ` (vu le ${dateTime(p.derniere_connexion)})` : ''}`,
        kioskAddress(p)),
      h('td', {}, POSTE_STATUTS[p.statut] || p.statut),
      h('td', {class: 'row-actions'},
        h('button', {type: 'button', class: 'quiet', onclick: () => edit(p)}, 'Modifier', srName(p)),
        h('button', {type: 'button', class: 'quiet', onclick: () => newToken(p)}, 'Configurer le kiosque', srName(p)),
        h('button', {type: 'button', class: 'quiet danger-text', onclick: () => remove(p)}, 'Supprimer', srName(p))))));
    if (!postes.length) tbody.append(h('tr', {}, h('td', {colspan: 5, class: 'empty'}, 'Aucun poste.')));
  }

  function showLibrary() {
    const libraryForm = form({
      label: 'La bibliothèque',
      className: 'form library-form',
      onsubmit: async (data, el) => {
        try {
          Object.assign(library, await api('PUT', '/api/bibliotheque/', data));
          toast('Réglages de la bibliothèque enregistrés : les kiosques les reçoivent aussitôt.');
        } catch (error) {
          showErrors(el, error);
        }
      },
    },
    h('div', {class: 'grid-2'},
      field({name: 'nom', label: 'Nom de la bibliothèque', value: library.nom, required: true,
        hint: 'Affiché par tous les kiosques, sur l’écran de verrouillage et pendant la session.'}),
      field({name: 'page_accueil', label: 'Page d’accueil des sessions (facultative)', kind: 'url',
        value: library.page_accueil, placeholder: 'https://catalogue.exemple.fr/',
        hint: 'Ouverte au début de chaque session, par exemple le catalogue. Vide : aucune.'})),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Enregistrer')));
    libraryBox.replaceChildren(h('section', {class: 'panel', 'aria-labelledby': 'library-title'},
      h('h2', {id: 'library-title'}, 'La bibliothèque'), libraryForm));
  }

  async function loadLibrary() {
    try {
      Object.assign(library, await api('GET', '/api/bibliotheque/'));
    } catch (error) {
      toast(error.detail, 'error');
    }
    showLibrary();
  }

  function edit(poste) {
    const p = poste || {};
    const posteForm = form({
      label: poste ? `Modifier ${poste.nom}` : 'Nouveau poste',
      className: 'panel form',
      onsubmit: async (data, el) => {
        data.mac_address = data.mac_address || null;
        try {
          const saved = poste ? await api('PATCH', `/api/postes/${poste.id}/`, data)
            : await api('POST', '/api/postes/', data);
          editor.replaceChildren();
          toast(poste ? `${saved.nom} enregistré.` : `${saved.nom} ajouté.`);
          if (saved.kiosk_token) showToken(saved, saved.kiosk_token);
        } catch (error) {
          showErrors(el, error);
        }
      },
    },
    h('h2', {}, poste ? `Modifier ${poste.nom}` : 'Nouveau poste'),
    h('div', {class: 'grid-2'},
      field({name: 'nom', label: 'Nom', value: p.nom, required: true}),
      field({name: 'emplacement', label: 'Emplacement', value: p.emplacement, hint: 'Par exemple : salle multimédia.'}),
      field({name: 'ip_address', label: 'Adresse IP', value: p.ip_address, required: true,
        hint: 'L’adresse du poste sur le réseau de la bibliothèque.'}),
      field({name: 'mac_address', label: 'Adresse MAC (facultative)', value: p.mac_address}),
      sites.state.sites.length > 1 ? field({name: 'site', label: 'Site', kind: 'select', options: sites.options(),
        value: String(p.site || sites.state.chosen || sites.state.sites.find((s) => s.par_defaut)?.id || '')}) : null),
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, poste ? 'Enregistrer' : 'Ajouter le poste'),
      h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    editor.replaceChildren(posteForm);
    posteForm.elements.nom.focus();
  }

  function showToken(poste, token) {
    const setup = setupPanel({poste, token, library, ondone: () => tokenBox.replaceChildren()});
    tokenBox.replaceChildren(setup.panel);
    setup.focus();
  }

  async function newToken(poste) {
    const sure = await confirmDialog({
      title: `Configurer le kiosque de ${poste.nom} ?`,
      message: 'Un nouveau jeton est émis pour ce poste, avec son fichier de configuration. L’ancien jeton cesse aussitôt ' +
        'de valoir : si le kiosque de ce poste tourne déjà, il faudra lui donner la nouvelle configuration.',
      confirmLabel: 'Émettre un nouveau jeton'});
    if (!sure) return;
    try {
      const answer = await api('POST', `/api/postes/${poste.id}/token/`);
      showToken(poste, answer.kiosk_token);
    } catch (error) {
      toast(error.detail, 'error');
    }
  }

  async function remove(poste) {
    const sure = await confirmDialog({
      title: `Supprimer ${poste.nom} ?`,
      message: 'Le poste disparaît de la salle. Son historique reste dans le journal et les statistiques.',
      confirmLabel: 'Supprimer le poste', danger: true});
    if (!sure) return;
    try {
      await api('DELETE', `/api/postes/${poste.id}/`);
      toast(`${poste.nom} supprimé.`);
    } catch (error) {
      toast(error.detail, 'error');
    }
  }

  const unsubscribe = feed.subscribe((kind) => { if (kind === 'room') render(); });
  render();
  loadLibrary();
  return unsubscribe;
}

/** Where the kiosk really connects from, flagged when it is not the stored address. */
function kioskAddress(poste) {
  if (!poste.adresse_kiosque) return null;
  const moved = poste.adresse_kiosque !== poste.ip_address;
  return h('span', {class: `sub mono${moved ? ' address-warning' : ''}`, dataset: {kioskAddress: poste.adresse_kiosque}},
    moved ? `⚠ connecté depuis ${poste.adresse_kiosque}` : `connecté depuis ${poste.adresse_kiosque}`);
}

function srName(poste) {
  return h('span', {class: 'sr-only'}, ` — ${poste.nom}`);
}
