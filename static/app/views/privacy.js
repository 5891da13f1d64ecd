/* Vie privée (administrators): what the box keeps and for how long, the last purge, the audit
 * log's verification (its hash chain), and the charter visitors accept at the kiosk. Built against
 * GET /api/rgpd/, GET /api/logs/verification/ and GET/PUT /api/charte/ (docs/rgpd.md). */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import {dateTime, number} from '../format.js';
import {errorBox, field, form, showErrors} from '../forms.js';
import {toast} from '../ui.js';

export function show(main) {
  const retention = h('section', {class: 'panel', dataset: {section: 'retention'}}, h('p', {class: 'muted'}, 'Chargement…'));
  const verification = h('section', {class: 'panel', dataset: {section: 'verification'}});
  const charter = h('section', {class: 'panel', dataset: {section: 'charter'}}, h('p', {class: 'muted'}, 'Chargement…'));
  main.append(pageTitle('Vie privée'),
    h('p', {class: 'intro'}, 'Durées de conservation, intégrité du journal d’audit et charte d’utilisation des postes. ' +
      'Le droit d’accès et l’effacement se font depuis la fiche du visiteur.'),
    retention, verification, charter);

  loadRetention();
  showVerification(null);
  loadCharter();

  async function loadRetention() {
    let state;
    try {
      state = await api('GET', '/api/rgpd/');
    } catch (error) {
      retention.replaceChildren(errorBox(error));
      return;
    }
    const last = state.derniere_purge;
    retention.replaceChildren(
      h('h2', {}, 'Conservation'),
      h('dl', {class: 'facts wide'},
        h('dt', {}, 'Sessions terminées'), h('dd', {}, `supprimées après ${state.session_retention_days} jours`),
        h('dt', {}, 'Visiteurs sans session'), h('dd', {}, `anonymisés après ${state.visitor_retention_days} jours`),
        h('dt', {}, 'Journal d’audit'), h('dd', {}, `${state.log_retention_days} jours`),
        h('dt', {}, 'Âge de la majorité numérique'), h('dd', {}, `${state.age_consentement} ans (autorisation parentale en dessous)`),
        h('dt', {}, 'Dernière purge'), h('dd', {dataset: {lastPurge: ''}}, last
          ? `${dateTime(last.le)} : ${number(last.sessions_supprimees)} session(s) supprimée(s), ` +
            `${number(last.visiteurs_anonymises)} visiteur(s) anonymisé(s)`
          : 'pas encore faite (chaque nuit à 3 h)')));
    if (state.verification_journal) showVerification(state.verification_journal);
  }

  function showVerification(result) {
    const button = h('button', {type: 'button', class: 'primary', onclick: verify}, 'Vérifier maintenant');
    let verdict = h('p', {class: 'muted'}, 'Le journal est vérifié chaque nuit ; vous pouvez le vérifier maintenant.');
    if (result && result.ok) {
      verdict = h('p', {class: 'ok', dataset: {verdict: 'ok'}},
        `Journal intact : ${number(result.entrees)} entrée(s) vérifiée(s)` +
        (result.verifie_le ? ` le ${dateTime(result.verifie_le)}.` : '.'));
    } else if (result) {
      verdict = h('p', {class: 'banner', dataset: {verdict: 'altere'}}, h('strong', {}, 'Journal altéré. '),
        `L’entrée n° ${result.premiere_alteree} a été modifiée ou une entrée a été supprimée avant elle. ` +
        'Conservez le boîtier en l’état et prévenez le délégué à la protection des données.');
    }
    verification.replaceChildren(h('h2', {}, 'Intégrité du journal d’audit'),
      h('p', {class: 'hint'}, 'Chaque entrée porte une empreinte qui dépend de la précédente : une modification ' +
        'ou une suppression se voit.'), verdict, h('div', {class: 'actions'}, button));

    async function verify() {
      button.disabled = true;
      button.textContent = 'Vérification…';
      try {
        showVerification({...await api('GET', '/api/logs/verification/'), verifie_le: new Date().toISOString()});
      } catch (error) {
        toast(error.detail, 'error');
        button.disabled = false;
        button.textContent = 'Vérifier maintenant';
      }
    }
  }

  async function loadCharter() {
    let current;
    try {
      current = await api('GET', '/api/charte/');
    } catch (error) {
      charter.replaceChildren(errorBox(error));
      return;
    }
    const status = h('p', {class: 'hint', dataset: {charterVersion: String(current.version)}}, current.version
      ? `Version ${current.version}, modifiée le ${dateTime(current.modifiee_le)} par ${current.operateur || '—'}.`
      : 'Aucune charte : les visiteurs ne sont pas invités à en accepter une.');
    const editor = form({label: 'Charte d’utilisation', className: 'form charter-form', onsubmit: async (data, el) => {
      try {
        const saved = await api('PUT', '/api/charte/', {texte: data.texte});
        toast(saved.texte ? `Charte enregistrée : version ${saved.version}.` : 'Charte retirée.');
        loadCharter();
      } catch (error) {
        showErrors(el, error);
      }
    }},
    field({name: 'texte', label: 'Texte de la charte', kind: 'textarea', value: current.texte, maxlength: 20000,
      hint: 'Chaque visiteur l’accepte au poste avant sa première session, et de nouveau après chaque modification ; ' +
        'un invité l’accepte à chaque fois. Vide : plus de charte à accepter.'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Enregistrer une nouvelle version')));
    editor.querySelector('textarea').rows = 10;
    charter.replaceChildren(h('h2', {}, 'Charte d’utilisation des postes'), status, editor);
  }
}
