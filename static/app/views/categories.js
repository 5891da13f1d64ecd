/* Visitor categories: daily and weekly quotas of active time, the longest session, an age range,
 * and the default one (visitors without a category). Administrators change them. */
import {allPages, api} from '../api.js';
import {isAdmin} from '../auth.js';
import {h, pageTitle} from '../dom.js';
import {duration} from '../format.js';
import {errorBox, field, form, showErrors} from '../forms.js';
import {confirmDialog, toast} from '../ui.js';

function limit(seconds) {
  return seconds === null || seconds === undefined ? 'illimité' : duration(seconds);
}

function ages(c) {
  if (c.age_min === null && c.age_max === null) return 'tous âges';
  if (c.age_max === null) return `à partir de ${c.age_min} ans`;
  return `${c.age_min ?? 0} à ${c.age_max} ans`;
}

/** Minutes typed (or empty: no limit) → seconds, as the API wants them. */
function toSeconds(minutes) {
  return minutes === null || minutes === undefined ? null : Math.round(minutes * 60);
}

function toMinutes(seconds) {
  return seconds === null || seconds === undefined ? '' : String(Math.round(seconds / 60));
}

export function show(main) {
  const admin = isAdmin();
  const editor = h('div', {});
  const problems = h('div', {});
  const tbody = h('tbody');
  main.append(
    pageTitle('Catégories de visiteurs', admin
      ? h('button', {type: 'button', class: 'primary', onclick: () => edit(null)}, 'Nouvelle catégorie') : null),
    h('p', {class: 'hint'}, 'Le temps compté est le temps actif des sessions du visiteur dans la journée et dans ' +
      'la semaine (du lundi), à l’heure de la bibliothèque. Au-delà, la création d’une session est refusée ; ' +
      'le personnel peut forcer, et c’est inscrit au journal.'),
    editor, problems,
    h('section', {class: 'panel'}, h('div', {class: 'table-wrap'}, h('table', {},
      h('caption', {class: 'sr-only'}, 'Catégories de visiteurs'),
      h('thead', {}, h('tr', {}, ['Catégorie', 'Par jour', 'Par semaine', 'Session la plus longue', 'Âges', 'Actions']
        .map((t) => h('th', {scope: 'col'}, t)))),
      tbody))));

  async function load() {
    try {
      const categories = await allPages('/api/categories/');
      tbody.replaceChildren(...categories.map((c) => h('tr', {dataset: {categorie: c.id}},
        h('th', {scope: 'row'}, c.nom, c.par_defaut ? h('span', {class: 'default-mark'}, ' par défaut') : null),
        h('td', {}, limit(c.quota_jour)), h('td', {}, limit(c.quota_semaine)),
        h('td', {}, c.duree_max_session === null ? 'sans limite' : duration(c.duree_max_session)),
        h('td', {}, ages(c)),
        h('td', {class: 'row-actions'}, admin ? [
          h('button', {type: 'button', class: 'quiet', onclick: () => edit(c)}, 'Modifier',
            h('span', {class: 'sr-only'}, ` — ${c.nom}`)),
          c.par_defaut ? null : h('button', {type: 'button', class: 'quiet danger-text', onclick: () => remove(c)},
            'Supprimer', h('span', {class: 'sr-only'}, ` — ${c.nom}`))] : null))));
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  }

  function edit(categorie) {
    const c = categorie || {nom: '', quota_jour: null, quota_semaine: null, duree_max_session: null,
      age_min: null, age_max: null, par_defaut: false};
    const el = form({
      label: categorie ? `Modifier ${categorie.nom}` : 'Nouvelle catégorie',
      className: 'panel form',
      onsubmit: async (data, formEl) => {
        const body = {nom: data.nom, quota_jour: toSeconds(data.quota_jour), quota_semaine: toSeconds(data.quota_semaine),
          duree_max_session: toSeconds(data.duree_max_session), age_min: data.age_min, age_max: data.age_max,
          par_defaut: data.par_defaut};
        try {
          if (categorie) await api('PATCH', `/api/categories/${categorie.id}/`, body);
          else await api('POST', '/api/categories/', body);
          editor.replaceChildren();
          toast(`Catégorie ${body.nom} enregistrée.`);
          load();
        } catch (error) {
          showErrors(formEl, error);
        }
      },
    },
    h('h2', {}, categorie ? `Modifier ${categorie.nom}` : 'Nouvelle catégorie'),
    h('div', {class: 'grid-2'},
      field({name: 'nom', label: 'Nom', required: true, value: c.nom, autocomplete: 'off'}),
      field({name: 'quota_jour', label: 'Temps par jour (minutes, vide : illimité)', kind: 'number', min: 0,
        value: toMinutes(c.quota_jour)}),
      field({name: 'quota_semaine', label: 'Temps par semaine (minutes, vide : illimité)', kind: 'number', min: 0,
        value: toMinutes(c.quota_semaine)}),
      field({name: 'duree_max_session', label: 'Session la plus longue (minutes, vide : sans limite)', kind: 'number',
        min: 1, value: toMinutes(c.duree_max_session)}),
      field({name: 'age_min', label: 'Âge minimum (ans)', kind: 'number', min: 0, value: c.age_min ?? ''}),
      field({name: 'age_max', label: 'Âge maximum (ans)', kind: 'number', min: 0, value: c.age_max ?? ''})),
    field({name: 'par_defaut', label: 'Catégorie par défaut (visiteurs sans catégorie)', kind: 'checkbox',
      value: c.par_defaut}),
    h('div', {class: 'actions'},
      h('button', {type: 'submit', class: 'primary'}, categorie ? 'Enregistrer' : 'Créer la catégorie'),
      h('button', {type: 'button', onclick: () => editor.replaceChildren()}, 'Annuler')));
    editor.replaceChildren(el);
    el.querySelector('input[name=nom]').focus();
  }

  async function remove(categorie) {
    const sure = await confirmDialog({title: `Supprimer la catégorie ${categorie.nom} ?`,
      message: 'Ses visiteurs passent dans la catégorie par défaut.', confirmLabel: 'Supprimer', danger: true});
    if (!sure) return;
    try {
      await api('DELETE', `/api/categories/${categorie.id}/`);
      toast(`Catégorie ${categorie.nom} supprimée.`);
      load();
    } catch (error) {
      toast(error.detail, 'error');
    }
  }

  load();
}
