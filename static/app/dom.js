/* Building the page: elements from plain values, never from HTML strings (so no data is ever
 * interpreted as markup). */

/** h('button', {class: 'primary', onclick: f}, 'Texte', child…) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  setProps(el, props);   // after the children: a <select>'s value needs its options
  return el;
}

/** An SVG element (charts): attributes only. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, value);
  }
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'value' || (name in el && !name.includes('-') && typeof value !== 'string')) {
      el[name] = value;            // booleans and numbers: checked, disabled, value…
    } else {
      el.setAttribute(name, value === true ? '' : value);
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Calls `fn` once typing has paused for `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A page heading that takes focus when a screen opens, so screen readers announce it. */
export function pageTitle(text, ...extra) {
  return h('div', {class: 'page-head'}, h('h1', {tabindex: '-1', class: 'page-title'}, text), ...extra);
}

let uniqueCounter = 0;
export function uid(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}
