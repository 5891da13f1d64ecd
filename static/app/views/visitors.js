/* Visitors: search as you type, register, edit (identity check, consent), and their sessions.
 * Routes: #/visiteurs?q=…, #/visiteurs/nouveau, #/visiteurs/12?q=… (the search stays in the address). */
import {api, query} from '../api.js';
import {isAdmin} from '../auth.js';
import {debounce, h, pageTitle} from '../dom.js';
import {calendarDay, date, dateTime, duration, fullName, PIECES, RAISONS, SESSION_STATUTS} from '../format.js';
import {errorBox} from '../forms.js';
import {saveBlob} from '../csv.js';
import {confirmDialog, toast} from '../ui.js';
import {visitorForm} from '../visitor-form.js';
import {visitorPicker} from '../visitor-picker.js';

const PAGE_SIZE = 50;

export function show(main, {rest, query: params}) {
  let search = params.get('q') || '';
  const selected = rest[0];
  const input = h('input', {id: 'visitor-search', type: 'search', value: search, autocomplete: 'off',
    placeholder: 'Nom, prénom, e-mail ou téléphone'});
  const status = h('p', {class: 'hint', 'aria-live': 'polite'});
  const list = h('ul', {class: 'visitor-list'});
  const detail = h('section', {class: 'panel detail', 'aria-label': 'Fiche du visiteur'});
  main.append(
    pageTitle('Visiteurs', h('a', {class: 'button primary', href: hashFor('nouveau', search)}, 'Nouveau visiteur')),
    h('div', {class: 'split'},
      h('section', {class: 'panel'},
        h('label', {for: 'visitor-search'}, 'Rechercher'), input, status, list),
      detail));

  let asked = 0;
  async function load() {
    const ask = ++asked;
    try {
      const data = await api('GET', '/api/utilisateurs/' + query({search, page_size: PAGE_SIZE}));
      if (ask !== asked) return;
      list.replaceChildren(...data.results.map((v) => h('li', {},
        h('a', {href: hashFor(v.id, search), class: String(v.id) === selected ? 'current' : '',
          'aria-current': String(v.id) === selected ? 'true' : null, dataset: {visitor: v.id},
          onclick: (event) => {   // with the search as typed now, even before the list caught up
            event.preventDefault();
            location.hash = hashFor(v.id, search);
          }},
        h('strong', {}, fullName(v)), h('span', {class: 'muted'}, v.email || v.telephone || '')))));
      status.textContent = data.count === 0 ? 'Aucun visiteur.' :
        data.count > PAGE_SIZE ? `${data.count} visiteurs, ${PAGE_SIZE} affichés : précisez la recherche.` :
          `${data.count} visiteur(s).`;
    } catch (error) {
      if (ask === asked) list.replaceChildren(h('li', {}, errorBox(error)));
    }
  }
  const loadSoon = debounce(load, 250);
  input.addEventListener('input', () => {
    search = input.value.trim();
    // Keep the search in the address (without re-opening the screen), for the links below.
    history.replaceState(null, '', hashFor(selected, search));
    loadSoon();
  });
  load();

  if (selected === 'nouveau') {
    detail.append(h('h2', {}, 'Nouveau visiteur'), visitorForm({
      onsaved: (v, {existing}) => {
        toast(existing ? `Fiche existante de ${fullName(v)} ouverte.` : `${fullName(v)} est enregistré(e).`);
        location.hash = hashFor(v.id, search);
      },
      oncancel: () => { location.hash = hashFor(null, search); },
    }));
    detail.querySelector('input[name=nom]').focus();
  } else if (selected) {
    showVisitor(detail, selected, search);
  } else {
    detail.append(h('p', {class: 'empty'}, 'Choisissez un visiteur dans la liste, ou enregistrez-en un nouveau.'));
    input.focus();
  }
}

function hashFor(id, search) {
  return `#/visiteurs${id ? `/${id}` : ''}${search ? `?q=${encodeURIComponent(search)}` : ''}`;
}

async function showVisitor(detail, id, search) {
  let visitor;
  try {
    visitor = await api('GET', `/api/utilisateurs/${encodeURIComponent(id)}/`);
  } catch (error) {
    detail.append(errorBox(error));
    return;
  }
  const name = h('h2', {}, fullName(visitor));
  const editButton = h('button', {type: 'button', onclick: () => showEdit()}, 'Modifier la fiche');
  const body = h('div', {});
  const sessions = h('div', {}, h('p', {class: 'muted'}, 'Chargement des sessions…'));
  const mergeBox = h('div', {});
  const dangerZone = isAdmin() ? h('div', {class: 'danger-zone'},
    h('div', {class: 'actions'},
      h('button', {type: 'button', onclick: () => showMerge(mergeBox, visitor, search)}, 'Fusionner une fiche en double…'),
      h('button', {type: 'button', onclick: () => exportData(visitor)}, 'Exporter ses données'),
      h('button', {type: 'button', class: 'danger', onclick: () => anonymise(visitor, search)}, 'Anonymiser…'),
      h('button', {type: 'button', class: 'danger', onclick: () => remove(visitor, search)}, 'Supprimer ce visiteur')),
    mergeBox) : '';
  detail.append(
    h('div', {class: 'detail-head'}, name,
      h('div', {class: 'actions'}, editButton,
        h('a', {class: 'button primary', href: `#/nouvelle-session?visiteur=${visitor.id}`}, 'Démarrer une session'))),
    body);

  function showSummary() {
    editButton.hidden = false;
    body.replaceChildren(summary(visitor), h('h3', {}, 'Sessions'), sessions, dangerZone);
  }

  function showEdit() {
    editButton.hidden = true;
    body.replaceChildren(visitorForm({
      visitor,
      onsaved: (saved) => {
        visitor = saved;
        name.textContent = fullName(saved);
        toast(`Fiche de ${fullName(saved)} enregistrée.`);
        showSummary();
      },
      oncancel: showSummary,
    }));
    body.querySelector('input[name=nom]').focus();
  }

  showSummary();
  try {
    const data = await api('GET', '/api/sessions/' + query({utilisateur: visitor.id, page_size: 20}));
    sessions.replaceChildren(data.count === 0 ? h('p', {class: 'empty'}, 'Aucune session.') : sessionsTable(data));
  } catch (error) {
    sessions.replaceChildren(errorBox(error));
  }
}

/** The record at a glance: what the desk checks before handing over a code. */
function summary(v) {
  const piece = v.type_piece_identite
    ? `${PIECES[v.type_piece_identite]}${v.numero_piece_identite ? ` n° ${v.numero_piece_identite}` : ''}`
    : 'Aucune indiquée';
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  return h('dl', {class: 'facts record'},
    fact('Contact', [v.email, v.telephone].filter(Boolean).join(' · ')),
    fact('Date de naissance', v.date_naissance && calendarDay(v.date_naissance)),
    fact('Adresse', v.adresse),
    fact('Pièce d’identité', [piece, ' ', v.piece_identite_verifiee
      ? h('span', {class: 'ok'}, '— vérifiée')
      : h('span', {class: 'danger-text'}, '— non vérifiée')]),
    fact('Consentement RGPD', `donné le ${date(v.date_consentement)}`),
    v.anonymise_le ? fact('Anonymisé', `le ${date(v.anonymise_le)}`) : null,
    fact('Autorisation parentale', v.autorisation_parentale ? 'oui' : 'non'),
    fact('Charte', v.charte_version ? `version ${v.charte_version} acceptée` : 'pas encore acceptée'),
    fact('Sessions', v.nombre_sessions_total ? `${v.nombre_sessions_total}, la dernière le ${dateTime(v.derniere_session)}` : 'aucune'),
    v.notes ? fact('Notes', v.notes) : null);
}

function sessionsTable(data) {
  return h('div', {class: 'table-wrap'}, h('table', {},
    h('caption', {class: 'sr-only'}, 'Sessions du visiteur'),
    h('thead', {}, h('tr', {}, ['Créée le', 'Poste', 'Durée', 'Statut', 'Fin'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, data.results.map((s) => h('tr', {},
      h('td', {}, dateTime(s.created_at)),
      h('td', {}, s.poste_nom || '—'),
      h('td', {}, duration(s.duree_initiale + s.temps_ajoute)),
      h('td', {}, SESSION_STATUTS[s.statut] || s.statut),
      h('td', {}, s.fin_session ? `${dateTime(s.fin_session)} (${RAISONS[s.raison_fin] || s.raison_fin})` : '—'))))),
  data.count > data.results.length ? h('p', {class: 'hint'}, `Les ${data.results.length} plus récentes sur ${data.count}.`) : null);
}

/** Admins: pick the duplicate record of this visitor; its sessions come here and it goes. */
function showMerge(box, visitor, search) {
  const picker = visitorPicker({
    label: `La fiche en double de ${fullName(visitor)}`,
    onpick: async (other) => {
      if (other.id === visitor.id) {
        toast('Choisissez une autre fiche que celle-ci.', 'error');
        return;
      }
      const sure = await confirmDialog({
        title: `Fusionner la fiche de ${fullName(other)} dans celle-ci ?`,
        message: `Ses sessions passent sur la fiche de ${fullName(visitor)}, qui reprend ce qui lui manque ` +
          '(e-mail, téléphone, date de naissance…) ; puis la fiche en double est supprimée. Le journal garde la trace de la fusion.',
        confirmLabel: 'Fusionner', danger: true});
      if (!sure) return;
      try {
        await api('POST', `/api/utilisateurs/${visitor.id}/fusionner/`, {doublon: other.id});
        toast(`Fiches fusionnées : ${fullName(visitor)}.`);
        location.hash = hashFor(visitor.id, search);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (error) {
        toast(error.detail, 'error');
      }
    }});
  box.replaceChildren(h('div', {class: 'merge'}, picker.el));
  picker.input.focus();
}

/** The right of access: everything the box holds about the person, as a JSON file. */
async function exportData(visitor) {
  try {
    const blob = await api('GET', `/api/utilisateurs/${visitor.id}/export/`, undefined, {blob: true});
    saveBlob(`donnees-visiteur-${visitor.id}.json`, blob);
    toast('Données exportées (l’export est inscrit au journal).');
  } catch (error) {
    toast(error.detail, 'error');
  }
}

/** The right to erasure: the record is emptied now; the audit log keeps the name for a year. */
async function anonymise(visitor, search) {
  const sure = await confirmDialog({
    title: 'Anonymiser ce visiteur ?',
    message: `Toutes les données personnelles de ${fullName(visitor)} sont effacées (nom, contact, date de naissance, ` +
      'pièce d’identité, photo, notes) ; la fiche reste sous le nom « Anonyme ». Le journal d’audit garde son nom ' +
      'pendant sa durée de conservation (obligation légale). Impossible pendant une session.',
    confirmLabel: 'Anonymiser', danger: true});
  if (!sure) return;
  try {
    await api('POST', `/api/utilisateurs/${visitor.id}/anonymiser/`);
    toast('Visiteur anonymisé.');
    location.hash = hashFor(visitor.id, search);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } catch (error) {
    toast(error.detail, 'error');
  }
}

async function remove(visitor, search) {
  const sure = await confirmDialog({
    title: 'Supprimer ce visiteur ?',
    message: `La fiche de ${fullName(visitor)} sera effacée. Ses sessions passées restent dans les statistiques, sans son nom ; le journal garde son nom.`,
    confirmLabel: 'Supprimer', danger: true});
  if (!sure) return;
  try {
    await api('DELETE', `/api/utilisateurs/${visitor.id}/`);
    toast(`${fullName(visitor)} a été supprimé(e).`);
    location.hash = hashFor(null, search);
  } catch (error) {
    toast(error.detail, 'error');
  }
}
