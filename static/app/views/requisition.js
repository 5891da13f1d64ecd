/* Réquisition (administrators): a legal request from the police (décret 2021-1362). The admin
 * types the request's reference and a period (and a poste or a visitor, optionally); the box answers
 * a CSV of the sessions of that period, which is downloaded, with its SHA-256 fingerprint shown to
 * be written on the report. Built against GET /api/requisitions/ (header X-Content-SHA256); the
 * request itself is written in the audit log by the box. */
import {allPages, api, ApiError, query} from '../api.js';
import {saveBlob} from '../csv.js';
import {h, pageTitle} from '../dom.js';
import {dayEndIso, dayStartIso, isoDay, number} from '../format.js';
import {field, form, showErrors} from '../forms.js';

export function show(main) {
  const result = h('section', {class: 'panel requisition-result', 'aria-live': 'polite', hidden: true});
  const posteField = field({name: 'poste', label: 'Poste (facultatif)', kind: 'select', nullable: true,
    options: [['', '— Tous les postes —']]});
  const today = isoDay(new Date());
  const theForm = form({label: 'Réquisition', className: 'form requisition-form', onsubmit: submit},
    h('div', {class: 'grid-2'},
      field({name: 'motif', label: 'Référence de la réquisition', required: true, maxlength: 200, autocomplete: 'off',
        hint: 'Numéro de procès-verbal, de procédure ou de la demande écrite : il est inscrit au journal.'}),
      posteField,
      field({name: 'debut', label: 'Du', kind: 'date', value: today, required: true}),
      field({name: 'fin', label: 'Au (inclus)', kind: 'date', value: today, required: true}),
      field({name: 'utilisateur', label: 'N° de fiche du visiteur (facultatif)', kind: 'number', min: 1})),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Extraire les sessions')));
  main.append(pageTitle('Réquisition'),
    h('p', {class: 'intro'}, 'Une réquisition judiciaire demande les connexions d’une période. Le fichier produit ' +
      '(CSV pour tableur) liste chaque session : poste, adresses IP et MAC, début, fin, visiteur, date de naissance, ' +
      'pièce d’identité et agent. Sa signature SHA-256 est à reporter sur le procès-verbal de remise.'),
    h('section', {class: 'panel'}, theForm), result);

  allPages('/api/postes/').then((postes) => {
    const select = posteField.querySelector('select');
    select.append(...postes.map((p) => h('option', {value: String(p.id)}, p.nom)));
  }).catch(() => {});

  async function submit(data, el) {
    // Whole local days (the library's), sent as UTC instants.
    const params = {motif: data.motif, debut: dayStartIso(data.debut), fin: dayEndIso(data.fin), poste: data.poste || '',
      utilisateur: data.utilisateur ?? ''};
    let response;
    try {
      response = await api('GET', '/api/requisitions/' + query(params), undefined, {raw: true});
    } catch (error) {
      showErrors(el, error instanceof ApiError ? error : new ApiError(0, null));
      return;
    }
    const hash = response.headers.get('X-Content-SHA256');
    const blob = await response.blob();
    const lines = (await blob.text()).split('\r\n').filter(Boolean).length - 1;
    const name = `requisition-${data.debut}-${data.fin}.csv`;
    result.replaceChildren(
      h('h2', {}, 'Fichier prêt'),
      h('dl', {class: 'facts'},
        h('dt', {}, 'Référence'), h('dd', {}, data.motif),
        h('dt', {}, 'Sessions'), h('dd', {dataset: {count: ''}}, number(lines)),
        h('dt', {}, 'Fichier'), h('dd', {}, name)),
      h('p', {}, 'Empreinte SHA-256 du fichier, à écrire sur le procès-verbal :'),
      h('p', {class: 'hash mono', dataset: {hash: ''}}, hash),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'primary', onclick: () => saveBlob(name, blob)}, 'Télécharger le fichier')),
      h('p', {class: 'hint'}, 'La demande est inscrite au journal d’audit avec sa référence et ses critères.'));
    result.hidden = false;
    saveBlob(name, blob);
  }
}
