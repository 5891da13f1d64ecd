/* Starting a session: a visitor (found, or registered inline), a poste or any poste, a duration;
 * then the code, large, with its printable ticket. */
import {api} from '../api.js';
import {h, pageTitle} from '../dom.js';
import * as feed from '../feed.js';
import {duration, fullName, POSTE_STATUTS} from '../format.js';
import {form, showErrors} from '../forms.js';
import {FORMATS, printTicket, setTicketFormat, ticketFormat} from '../ticket.js';
import {visitorForm} from '../visitor-form.js';
import {visitorPicker} from '../visitor-picker.js';
import * as sites from '../sites.js';

const PRESETS = [[30, '30 min'], [60, '1 h'], [120, '2 h']];
const DEFAULT_MINUTES = 60;

export function show(main, {query}) {
  let visitor = null;
  let wantedPoste = Number(query.get('poste')) || null;
  const visitorBox = h('section', {class: 'panel', 'aria-labelledby': 'step-visitor'});
  const sessionForm = makeSessionForm();
  const content = h('div', {class: 'new-session'}, visitorBox, sessionForm);
  main.append(pageTitle('Nouvelle session'), content);

  // -- 1. the visitor --------------------------------------------------------------------------

  function showVisitorStep() {
    const heading = h('h2', {id: 'step-visitor'}, '1. Visiteur');
    if (visitor) {
      visitorBox.replaceChildren(heading,
        h('div', {class: 'chosen'},
          h('p', {}, h('strong', {class: 'chosen-name'}, fullName(visitor)), ' ',
            h('span', {class: 'muted'}, visitor.email || visitor.telephone || '')),
          h('button', {type: 'button', class: 'quiet', onclick: () => choose(null)}, 'Changer de visiteur')),
        quotaLine(visitor));
      return;
    }
    const picker = visitorPicker({onpick: choose});
    visitorBox.replaceChildren(heading, picker.el,
      h('p', {class: 'or-new'}, 'Pas encore inscrit ? ',
        h('button', {type: 'button', onclick: showNewVisitor}, 'Nouveau visiteur')));
    picker.input.focus();
  }

  function showNewVisitor() {
    visitorBox.replaceChildren(h('h2', {id: 'step-visitor'}, '1. Nouveau visiteur'),
      visitorForm({submitLabel: 'Enregistrer et continuer', onsaved: choose, oncancel: showVisitorStep}));
    visitorBox.querySelector('input[name=nom]').focus();
  }

  function choose(picked) {
    visitor = picked;
    showVisitorStep();
    if (visitor) sessionForm.querySelector('select[name=poste]').focus();
  }

  // -- 2. poste and duration -------------------------------------------------------------------

  function makeSessionForm() {
    const posteSelect = h('select', {id: 'ns-poste', name: 'poste', dataset: {nullable: '1'},
      'aria-describedby': 'ns-poste-error'});
    const custom = h('input', {id: 'ns-minutes', type: 'number', name: 'minutes', min: 1, max: 1440, step: 1,
      disabled: true, 'aria-label': 'Durée en minutes', 'aria-describedby': 'ns-duree-error'});
    const radios = [...PRESETS, ['autre', 'Autre']].map(([value, text]) => h('label', {class: 'choice'},
      h('input', {type: 'radio', name: 'preset', value: String(value), checked: value === DEFAULT_MINUTES,
        onchange: () => {
          custom.disabled = value !== 'autre';
          if (!custom.disabled) custom.focus();
        }}),
      ' ', text));
    const el = form({
      label: 'Poste et durée',
      className: 'panel form',
      onsubmit: async (data, formEl) => {
        const minutes = data.preset === 'autre' ? data.minutes : Number(data.preset);
        if (!visitor) {
          showErrors(formEl, {detail: 'Choisissez d’abord le visiteur.', errors: {utilisateur: ['Aucun visiteur choisi.']}});
          return;
        }
        if (!minutes) {
          showErrors(formEl, {detail: 'Indiquez la durée.', errors: {duree_initiale: ['Indiquez une durée en minutes.']}});
          return;
        }
        try {
          const body = {utilisateur: visitor.id, poste: data.poste, duree_initiale: Math.round(minutes * 60),
            ...(data.poste ? {} : sites.params())};   // any poste of the site an administrator chose
          if (data.force) body.force = true;
          const session = await api('POST', '/api/sessions/', body);
          showCode(session);
        } catch (error) {
          // Over the visitor's quota (or outside its category's ages): staff may force, and it is logged.
          if (error.status === 409 && error.data?.quota) formEl.querySelector('.force-box').hidden = false;
          showErrors(formEl, error);
        }
      },
    },
    h('h2', {}, '2. Poste et durée'),
    h('p', {class: 'field-error', dataset: {errorFor: 'utilisateur'}}),
    h('div', {class: 'field'}, h('label', {for: 'ns-poste'}, 'Poste'), posteSelect,
      h('p', {class: 'field-error', id: 'ns-poste-error', dataset: {errorFor: 'poste'}})),
    h('fieldset', {class: 'durations'}, h('legend', {}, 'Durée'),
      h('div', {class: 'choices'}, radios, custom, h('span', {class: 'muted'}, 'minutes')),
      h('p', {class: 'field-error', id: 'ns-duree-error', dataset: {errorFor: 'duree_initiale'}})),
    h('div', {class: 'force-box', hidden: true},
      h('label', {class: 'choice'}, h('input', {type: 'checkbox', name: 'force', id: 'ns-force'}),
        ' Forcer malgré le quota (le dépassement est inscrit au journal)')),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary big'}, 'Générer le code')));
    return el;
  }

  function fillPostes() {
    const select = sessionForm.querySelector('select[name=poste]');
    const current = select.value || (wantedPoste ? String(wantedPoste) : '');
    const waiting = new Set([...feed.room.pending.values()].map((s) => s.poste));
    const postes = [...feed.room.postes.values()].sort((a, b) => a.nom.localeCompare(b.nom, 'fr', {numeric: true}));
    select.replaceChildren(h('option', {value: ''}, 'N’importe quel poste libre'),
      ...postes.map((p) => {
        const busy = p.session_active || p.statut === 'maintenance' || waiting.has(p.id);
        const state = waiting.has(p.id) && !p.session_active ? 'code en attente' : POSTE_STATUTS[p.statut].toLowerCase();
        return h('option', {value: String(p.id), disabled: Boolean(busy)}, `${p.nom} — ${state}`);
      }));
    select.value = current;
    if (select.selectedOptions[0]?.disabled) select.value = '';
  }

  /** "Il reste 40 min aujourd’hui et 3 h cette semaine (catégorie Adultes)", filled in once known. */
  function quotaLine(chosen) {
    const line = h('p', {class: 'quota', id: 'ns-quota', 'aria-live': 'polite'});
    sessionForm.querySelector('.force-box').hidden = true;
    sessionForm.querySelector('#ns-force').checked = false;
    api('GET', `/api/utilisateurs/${chosen.id}/quota/`).then((q) => {
      const parts = [];
      if (q.jour.restant !== null) parts.push(`${duration(q.jour.restant)} aujourd’hui`);
      if (q.semaine.restant !== null) parts.push(`${duration(q.semaine.restant)} cette semaine`);
      const where = q.categorie_nom ? ` (catégorie ${q.categorie_nom})` : '';
      line.textContent = parts.length ? `Il reste ${parts.join(' et ')}${where}.` : `Pas de quota de temps${where}.`;
      if (q.duree_max_session !== null) line.textContent += ` Une session dure au plus ${duration(q.duree_max_session)}.`;
      if ((q.jour.restant ?? 1) <= 0 || (q.semaine.restant ?? 1) <= 0) line.classList.add('exhausted');
    }).catch(() => {});
    return line;
  }

  // -- 3. the code -----------------------------------------------------------------------------

  let shown = null;           // the session whose code is on screen
  let seenWaiting = false;    // its code has shown up among the waiting ones
  function showCode(session) {
    shown = session;
    seenWaiting = false;
    const format = h('select', {id: 'ns-format', value: ticketFormat(), onchange: (e) => setTicketFormat(e.target.value)},
      FORMATS.map(([value, text]) => h('option', {value}, text)));
    content.className = 'code-result';
    content.replaceChildren(h('section', {class: 'panel result', 'aria-labelledby': 'code-title'},
      h('h2', {id: 'code-title'}, 'Code d’accès à remettre'),
      h('p', {class: 'big-code', id: 'code-acces'}, session.code_acces),
      h('dl', {class: 'facts'},
        h('dt', {}, 'Visiteur'), h('dd', {}, session.utilisateur_nom),
        h('dt', {}, 'Poste'), h('dd', {}, session.poste_nom || 'N’importe quel poste libre'),
        h('dt', {}, 'Durée'), h('dd', {}, duration(session.duree_initiale))),
      h('p', {class: 'code-status', id: 'code-status', 'aria-live': 'polite'},
        'En attente : le visiteur tape ce code sur l’écran du poste.'),
      h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'primary', onclick: () => printTicket(session)}, 'Imprimer le ticket'),
        h('label', {for: 'ns-format', class: 'inline-label'}, 'Format'), format),
      h('div', {class: 'actions'},
        h('button', {type: 'button', onclick: restart}, 'Nouvelle session'),
        h('a', {class: 'button', href: '#/salle'}, 'Retour à la salle'))));
    followCode();
  }

  function restart() {
    shown = null;
    visitor = null;
    wantedPoste = null;
    history.replaceState(null, '', '#/nouvelle-session');
    content.className = 'new-session';
    content.replaceChildren(visitorBox, sessionForm);
    fillPostes();
    showVisitorStep();
  }

  /** Once the kiosk accepts the code, say where the session started. */
  function followCode() {
    const status = document.getElementById('code-status');
    const running = [...feed.room.postes.values()].find((p) => p.session_active?.id === shown.id);
    seenWaiting = seenWaiting || feed.room.pending.has(shown.id);
    if (running) {
      status.textContent = `Session démarrée sur ${running.nom}.`;
      status.classList.add('started');
    } else if (seenWaiting && !feed.room.pending.has(shown.id)) {
      status.textContent = 'Ce code n’est plus en attente (annulé ou expiré).';
    }
  }

  const unsubscribe = feed.subscribe((kind) => {
    if (kind !== 'room') return;
    if (shown) followCode();
    else fillPostes();
  });
  fillPostes();
  showVisitorStep();
  const preselected = Number(query.get('visiteur'));
  if (preselected) {
    api('GET', `/api/utilisateurs/${preselected}/`).then(choose).catch(() => {});
  }
  return unsubscribe;
}
