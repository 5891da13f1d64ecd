/* Form fields with their labels and error slots, and the API's errors shown where they belong:
 * `detail` at the top of the form, each message of `errors` under its field. Dates are typed
 * JJ/MM/AAAA in a text field (a browser's date picker would follow the browser's language). */
import {h, uid} from './dom.js';
import {dayField, fieldLabel, parseDay} from './format.js';

const BAD_DATE = 'Date invalide : saisissez-la en JJ/MM/AAAA, par exemple 04/05/2001.';

/** A labelled field. kind: text (default), email, tel, date, number, password, textarea, select,
 * checkbox. `options` for a select: [[value, label], …]; `nullable` select: '' reads as null. */
export function field({name, label, kind = 'text', value = '', options = [], hint = '', nullable = false,
  ...attrs}) {
  const id = uid(`f-${name}`);
  const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(' ');
  const common = {id, name, 'aria-describedby': describedBy, ...attrs};
  let control;
  if (kind === 'textarea') {
    control = h('textarea', {...common, rows: 3, value});
  } else if (kind === 'select') {
    control = h('select', {...common, value: value ?? '', dataset: nullable ? {nullable: '1'} : {}},
      options.map(([optionValue, text]) => h('option', {value: optionValue}, text)));
  } else if (kind === 'checkbox') {
    control = h('input', {...common, type: 'checkbox', checked: Boolean(value)});
  } else if (kind === 'date') {
    control = h('input', {...common, type: 'text', inputmode: 'numeric', placeholder: 'JJ/MM/AAAA', maxlength: 10,
      autocomplete: 'off', value: dayField(value), dataset: {date: '1'}});
  } else {
    control = h('input', {...common, type: kind, value: value ?? ''});
  }
  const hintEl = hint ? h('p', {class: 'hint', id: `${id}-hint`}, hint) : null;
  const errorEl = h('p', {class: 'field-error', id: `${id}-error`, dataset: {errorFor: name}});
  const labelEl = h('label', {for: id}, label, attrs.required ? h('span', {class: 'required', 'aria-hidden': 'true'}, ' *') : null);
  if (kind === 'checkbox') {
    return h('div', {class: 'field checkbox'}, h('div', {class: 'check-row'}, control, labelEl), hintEl, errorEl);
  }
  return h('div', {class: 'field'}, labelEl, control, hintEl, errorEl);
}

/** A form with an error summary slot first; `onsubmit(data, form)` gets the values read. */
export function form({onsubmit, className = 'form', label}, ...children) {
  const el = h('form', {class: className, novalidate: true, 'aria-label': label},
    h('div', {class: 'form-error', role: 'alert', hidden: true}), ...children);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(el);
    const badDates = [...el.querySelectorAll('input[data-date]')].filter((c) => !c.disabled && parseDay(c.value) === null);
    if (badDates.length) {
      showErrors(el, {detail: 'Une date est mal saisie.',
        errors: Object.fromEntries(badDates.map((c) => [c.name, [BAD_DATE]]))});
      return;
    }
    const buttons = el.querySelectorAll('button[type=submit]');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await onsubmit(readForm(el), el);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return el;
}

export function readForm(formEl) {
  const data = {};
  for (const control of formEl.elements) {
    if (!control.name || control.disabled) continue;
    if (control.type === 'checkbox') data[control.name] = control.checked;
    else if (control.type === 'number') data[control.name] = control.value === '' ? null : Number(control.value);
    else if (control.dataset.date) data[control.name] = parseDay(control.value) || null;
    else if (control.dataset.nullable) data[control.name] = control.value || null;
    else if (control.type === 'radio') { if (control.checked) data[control.name] = control.value; }
    else data[control.name] = control.value.trim();
  }
  return data;
}

export function clearErrors(formEl) {
  const summary = formEl.querySelector('.form-error');
  summary.hidden = true;
  summary.replaceChildren();
  for (const slot of formEl.querySelectorAll('.field-error')) slot.textContent = '';
  for (const control of formEl.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

/** Shows an ApiError (or any Error) on the form; returns nothing. */
export function showErrors(formEl, error) {
  const summary = formEl.querySelector('.form-error');
  const unplaced = [];
  let first = null;
  for (const [name, messages] of Object.entries(error.errors || {})) {
    const text = [].concat(messages).join(' ');
    const slot = formEl.querySelector(`.field-error[data-error-for="${CSS.escape(name)}"]`);
    const found = formEl.elements.namedItem(name);
    const control = found instanceof RadioNodeList ? found[0] : found;
    if (slot) {   // a slot may stand for a value with no control of its own (a choice of presets)
      slot.textContent = text;
      control?.setAttribute('aria-invalid', 'true');
      first = first || control;
    } else {
      const label = control?.labels?.[0]?.textContent.replace(/\s*\*$/, '') || fieldLabel(name);
      unplaced.push(`${label} : ${text}`);
    }
  }
  summary.replaceChildren(h('p', {}, error.detail || error.message));
  if (unplaced.length) summary.append(h('ul', {}, unplaced.map((t) => h('li', {}, t))));
  summary.hidden = false;
  if (first) {
    first.focus();
  } else {
    summary.tabIndex = -1;
    summary.focus();
  }
}

/** A message box for errors outside forms (a list that failed to load, an action refused). */
export function errorBox(error) {
  const box = h('div', {class: 'form-error', role: 'alert'}, h('p', {}, error.detail || error.message));
  const fields = Object.entries(error.errors || {});
  if (fields.length) box.append(h('ul', {}, fields.map(([k, v]) => h('li', {}, `${fieldLabel(k)} : ${[].concat(v).join(' ')}`))));
  return box;
}
