/* Postes (administrators): add, edit, delete, and kiosk tokens — shown once, with a copy button. */
import {api} from '../api.js';
import {copyFrom} from '../copy.js';
import {h, pageTitle} from '../dom.js';
import * as feed from '../feed.js';
import {dateTime, POSTE_STATUTS} from '../format.js';
import {field, form, showErrors} from '../forms.js';
import {confirmDialog, toast} from '../ui.js';

export function show(main) {
  const editor = h('div', {});
  const tokenBox = h('div', {});
  const tbody = h('tbody');
  main.append(
    pageTitle('Postes', h('button', {type: 'button', class: 'primary', onclick: () => edit(null)}, 'Nouveau poste')),
    tokenBox, editor,
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', {},
      h('caption', {class: 'sr-only'}, 'Postes publics'),
      h('thead', {}, h('tr', {}, ['Nom', 'Adresse IP', 'Adresse MAC', 'Emplacement', 'Statut', 'Kiosque', 'Actions']
        .map((t) => h('th', {scope: 'col'}, t)))),
      tbody))));

  function render() {
    const postes = [...feed.room.postes.values()].sort((a, b) => a.nom.localeCompare(b.nom, 'fr', {numeric: true}));
    tbody.replaceChildren(...postes.map((p) => h('tr', {dataset: {poste: p.id}},
      h('th', {scope: 'row'}, p.nom),
      h('td', {}, p.ip_address),
      h('td', {}, p.mac_address || '—'),
      h('td', {}, p.emplacement || '—'),
      h('td', {}, POSTE_STATUTS[p.statut] || p.statut),
      h('td', {}, p.en_ligne ? 'En ligne' : `Hors ligne${p.derniere_connexion ? ` (vu le ${dateTime(p.derniere_connexion)})` : ''}`),
      h('td', {class: 'row-actions'},
        h('button', {type: 'button', class: 'quiet', onclick: () => edit(p)}, 'Modifier', srName(p)),
        h('button', {type: 'button', class: 'quiet', onclick: () => newToken(p)}, 'Nouveau jeton', srName(p)),
        h('button', {type: 'button', class: 'quiet danger-text', onclick: () => remove(p)}, 'Supprimer', srName(p))))));
    if (!postes.length) tbody.append(h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'Aucun poste.')));
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
      field({name: 'mac_address', label: 'Adresse MAC (facultative)', value: p.mac_address})),
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, poste ? 'Enregistrer' : 'Ajouter le poste'),
      h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    editor.replaceChildren(posteForm);
    posteForm.elements.nom.focus();
  }

  function showToken(poste, token) {
    const tokenInput = h('input', {id: 'kiosk-token', readonly: true, value: token, class: 'secret'});
    const address = `${location.origin}/kiosk/#poste=${encodeURIComponent(poste.ip_address)}&token=${encodeURIComponent(token)}`;
    const addressInput = h('input', {id: 'kiosk-address', readonly: true, value: address, class: 'secret'});
    tokenBox.replaceChildren(h('section', {class: 'panel token', role: 'alert'},
      h('h2', {}, `Jeton du kiosque de ${poste.nom}`),
      h('p', {}, h('strong', {}, 'Il ne sera affiché qu’une fois.'),
        ' Saisissez-le dans la configuration du kiosque de ce poste (voir docs/kiosk.md).'),
      h('label', {for: 'kiosk-token'}, 'Jeton'),
      h('div', {class: 'row'}, tokenInput,
        h('button', {type: 'button', onclick: () => copyFrom(tokenInput)}, 'Copier le jeton')),
      h('label', {for: 'kiosk-address'}, 'Ou, pour un poste qui n’a qu’un navigateur, ouvrez cette adresse sur le poste'),
      h('div', {class: 'row'}, addressInput,
        h('button', {type: 'button', onclick: () => copyFrom(addressInput)}, 'Copier l’adresse')),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'primary', onclick: () => tokenBox.replaceChildren()}, 'C’est noté'))));
    tokenInput.focus();
    tokenInput.select();
  }

  async function newToken(poste) {
    const sure = await confirmDialog({
      title: `Nouveau jeton pour ${poste.nom} ?`,
      message: 'L’ancien jeton cesse aussitôt de valoir : le kiosque de ce poste devra être reconfiguré avec le nouveau.',
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
  return unsubscribe;
}

function srName(poste) {
  return h('span', {class: 'sr-only'}, ` — ${poste.nom}`);
}
