/* The visitor's record: register (POST) or edit (PATCH), with the identity check and consent.
 * A new visitor who looks like a registered one (the server answers 409 with `doublons`) is not
 * registered twice: the form offers the existing record, or to register anyway. */
import {api} from './api.js';
import {h} from './dom.js';
import {calendarDay, date, fullName, PIECES} from './format.js';
import {clearErrors, field, form, showErrors} from './forms.js';

/** onsaved(visitor, {existing}) after a save, or when an existing record is chosen instead;
 * oncancel shows a "Annuler" button. */
export function visitorForm({visitor = null, onsaved, oncancel, submitLabel}) {
  const warning = h('div', {class: 'duplicates', role: 'alert', hidden: true});
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
      warning.hidden = true;
      try {
        const saved = visitor
          ? await api('PATCH', `/api/utilisateurs/${visitor.id}/`, data)
          : await api('POST', '/api/utilisateurs/', data);
        onsaved(saved, {existing: false});
      } catch (error) {
        if (error.status === 409 && Array.isArray(error.data?.doublons)) {
          showDuplicates(warning, error.data.doublons, {
            onpick: (existing) => onsaved(existing, {existing: true}),
            onconfirm: async () => {
              clearErrors(el);
              warning.hidden = true;
              try {
                onsaved(await api('POST', '/api/utilisateurs/', {...data, doublon_confirme: true}), {existing: false});
              } catch (again) {
                showErrors(el, again);
              }
            }});
        } else {
          showErrors(el, error);
        }
      }
    },
  },
  warning,
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
  field({name: 'autorisation_parentale', label: 'Autorisation parentale (mineur de moins de 15 ans)',
    kind: 'checkbox', value: v.autorisation_parentale,
    hint: 'Sans elle, un visiteur de moins de 15 ans ne peut pas recevoir de session.'}),
  consent,
  field({name: 'notes', label: 'Notes', kind: 'textarea', value: v.notes}),
  h('div', {class: 'actions'},
    h('button', {type: 'submit', class: 'primary'}, submitLabel || (visitor ? 'Enregistrer' : 'Enregistrer le visiteur')),
    oncancel ? h('button', {type: 'button', onclick: oncancel}, 'Annuler') : null));
}

/** "Already registered?": each look-alike with a button to use it, and one to register anyway. */
function showDuplicates(box, doublons, {onpick, onconfirm}) {
  box.replaceChildren(
    h('h3', {}, doublons.length > 1 ? 'Ce visiteur est peut-être déjà enregistré (plusieurs fiches semblables)'
      : 'Ce visiteur est peut-être déjà enregistré'),
    h('ul', {}, doublons.map((v) => h('li', {dataset: {visitor: v.id}},
      h('div', {},
        h('strong', {}, fullName(v)),
        h('span', {class: 'muted'}, ' — ', [v.date_naissance ? `né(e) le ${calendarDay(v.date_naissance)}` : null,
          v.email, v.telephone].filter(Boolean).join(' · '),
        ` — ${v.nombre_sessions_total} session(s), fiche créée le ${date(v.created_at)}`)),
      h('button', {type: 'button', class: 'primary', onclick: () => onpick(v)}, 'Utiliser cette fiche')))),
    h('div', {class: 'actions'},
      h('button', {type: 'button', class: 'quiet', dataset: {confirmNew: ''}, onclick: onconfirm},
        'Ce n’est pas la même personne : enregistrer une nouvelle fiche')));
  box.hidden = false;
  box.querySelector('button').focus();
}
