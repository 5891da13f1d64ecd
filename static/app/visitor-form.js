/* The visitor's record: register (POST) or edit (PATCH), with the identity check and consent. */
import {api} from './api.js';
import {h} from './dom.js';
import {date, PIECES} from './format.js';
import {field, form, showErrors} from './forms.js';

/** onsaved(visitor) after a successful save; oncancel shows a "Annuler" button. */
export function visitorForm({visitor = null, onsaved, oncancel, submitLabel}) {
  const v = visitor || {};
  const consent = visitor
    ? h('p', {class: 'consent-given'}, `Consentement RGPD donné le ${date(v.date_consentement)}.`)
    : field({name: 'consentement_rgpd', label: 'Le visiteur accepte le traitement de ses données (RGPD)',
      kind: 'checkbox', required: true,
      hint: 'Obligatoire : informez le visiteur de l’usage de ses données et de leur durée de conservation.'});
  return form({
    label: visitor ? 'Modifier le visiteur' : 'Nouveau visiteur',
    className: 'form visitor-form',
    onsubmit: async (data, el) => {
      try {
        const saved = visitor
          ? await api('PATCH', `/api/utilisateurs/${visitor.id}/`, data)
          : await api('POST', '/api/utilisateurs/', data);
        onsaved(saved);
      } catch (error) {
        showErrors(el, error);
      }
    },
  },
  h('div', {class: 'grid-2'},
    field({name: 'nom', label: 'Nom', value: v.nom, required: true, autocomplete: 'off'}),
    field({name: 'prenom', label: 'Prénom', value: v.prenom, required: true, autocomplete: 'off'}),
    field({name: 'email', label: 'E-mail', kind: 'email', value: v.email, autocomplete: 'off',
      hint: 'Un e-mail ou un téléphone.'}),
    field({name: 'telephone', label: 'Téléphone', kind: 'tel', value: v.telephone, autocomplete: 'off'}),
    field({name: 'date_naissance', label: 'Date de naissance', kind: 'date', value: v.date_naissance}),
    field({name: 'adresse', label: 'Adresse', value: v.adresse, autocomplete: 'off'})),
  h('fieldset', {class: 'identity'},
    h('legend', {}, 'Pièce d’identité'),
    h('div', {class: 'grid-2'},
      field({name: 'type_piece_identite', label: 'Type', kind: 'select', nullable: true,
        value: v.type_piece_identite || '', options: [['', '— Aucune —'], ...Object.entries(PIECES)]}),
      field({name: 'numero_piece_identite', label: 'Numéro (facultatif)', value: v.numero_piece_identite,
        autocomplete: 'off'})),
    field({name: 'piece_identite_verifiee', label: 'Pièce d’identité vérifiée à l’accueil', kind: 'checkbox',
      value: v.piece_identite_verifiee})),
  consent,
  field({name: 'notes', label: 'Notes', kind: 'textarea', value: v.notes}),
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, submitLabel || (visitor ? 'Enregistrer' : 'Enregistrer le visiteur')),
    oncancel ? h('button', {type: 'button', onclick: oncancel}, 'Annuler') : null));
}
