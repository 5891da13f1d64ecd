/* The kiosk page: the lock screen for terminals that only run a browser (docs/kiosk.md).
 *
 * The rules are in state.js (the same machine as the Tk kiosk's); this module does the rest: the
 * settings, the WebSocket with its backoff, localStorage, the DOM, and carrying out the effects
 * the state machine asks for.
 */
import {Action, RESTART, normaliseCode} from './protocol.js';
import {COMMAND, END_COMMAND, FORGET, KioskState, SAVE, SEND, formatRemaining} from './state.js';
import {NOT_CONFIGURED, OFFLINE} from './texts.js';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const SETTINGS_KEY = 'poste-public-kiosk';
const SESSION_KEY = 'poste-public-kiosk-session';

const $ = (id) => document.getElementById(id);
const clock = {monotonic: () => performance.now(), time: () => Date.now()};
const state = new KioskState(clock);
let settings = null;

// ---- settings: the URL fragment (never sent to the server), then localStorage

function readSettings() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  let stored = readJSON(SETTINGS_KEY);
  if (fragment.get('poste')) {
    stored = {
      poste: fragment.get('poste'),
      token: fragment.get('token') || '',
      bibliotheque: fragment.get('bibliotheque') || '',
      accueil: fragment.get('accueil') || '',
    };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(stored));
    // The token leaves the address bar (and the history) at once.
    history.replaceState(null, '', location.pathname + location.search);
  }
  return stored && stored.poste ? stored : null;
}

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

// ---- effects

function apply(effects) {
  for (const [kind, ...args] of effects) {
    if (kind === SEND) {
      send(args[0]);
    } else if (kind === SAVE) {
      localStorage.setItem(SESSION_KEY, JSON.stringify({code: args[0], deadline: args[1]}));
    } else if (kind === FORGET) {
      localStorage.removeItem(SESSION_KEY);
    } else if (kind === END_COMMAND) {
      $('home').removeAttribute('src');     // what was browsed goes with the session
    } else if (kind === COMMAND) {
      // A page cannot lock, log off or switch off its computer: the state machine shows the
      // desk's words on the lock screen; a restart reloads the page.
      if (args[0] === RESTART) setTimeout(() => location.reload(), 3000);
    }
  }
}

// ---- the link

let socket = null;
let failures = 0;

function backoff(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt - 1, 16));
  return base * (0.8 + 0.4 * Math.random());
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  // The protocol lets the token ride in the WebSocket address: a browser cannot set headers.
  const url = scheme + location.host + '/ws/poste/' + encodeURIComponent(settings.poste) + '/' +
              (settings.token ? '?token=' + encodeURIComponent(settings.token) : '');
  let heard = false;
  socket = new WebSocket(url);
  socket.onopen = () => {
    apply(state.connected());
    render();
  };
  socket.onmessage = (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    heard = true;
    if (msg && msg.action === Action.ERROR) console.warn('Le serveur signale :', msg.detail);
    apply(state.handleMessage(msg));
    render();
  };
  socket.onclose = (event) => {
    socket = null;
    apply(state.disconnected(event.code));
    // Refused before a word (4403, 4404) counts as a failure: a misconfigured page backs off.
    failures = heard ? 1 : failures + 1;
    setTimeout(connect, backoff(failures));
    render();
  };
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

// ---- drawing

const shown = {mode: null, notice: null, waiting: false, message: null, charter: null};

function render() {
  const mode = state.locked || state.paused ? 'lock' : 'session';
  if (mode !== shown.mode) {
    shown.mode = mode;
    $('lock').hidden = mode !== 'lock';
    $('session').hidden = mode !== 'session';
    $('code').value = '';
    showConfirm(false);
    if (mode === 'session') openHome();
  }
  showLibrary();
  if (mode === 'lock') {
    const feedback = state.feedback;
    const field = $('code');
    if (shown.waiting && !state.waitingAnswer) field.value = '';   // answered: ready for the next try
    shown.waiting = state.waitingAnswer;
    $('feedback').textContent = feedback.text;
    $('feedback').className = feedback.error ? 'error' : '';
    const enabled = state.canEnterCode;
    if (field.disabled === enabled) {
      field.disabled = !enabled;
      $('code-submit').disabled = !enabled;
      if (enabled) field.focus();
    }
    if (state.charter !== shown.charter) showCharter(state.charter);
    $('link').textContent = state.linkText || '';
    $('paused').hidden = !state.paused;
    if (state.paused) $('paused-left').textContent = formatRemaining(state.remaining());
    const time = new Date();
    $('clock').textContent = String(time.getHours()).padStart(2, '0') + ':' +
                             String(time.getMinutes()).padStart(2, '0');
  } else {
    const left = state.remaining();
    $('remaining').textContent = formatRemaining(left);
    $('timer').className = 'bar' + (left <= 60 ? ' very-soon' : left <= 300 ? ' soon' : '');
    $('offline').textContent = state.link === 'up' ? '' : OFFLINE;
    const home = homePage();
    $('home-button').hidden = !home;
    if (!home && !$('home').hidden) $('home').removeAttribute('src');
    $('home').hidden = !home;
    $('session-welcome').hidden = !!home;
    $('request').disabled = state.requestPending || state.link !== 'up';
    $('pause').disabled = state.link !== 'up';
  }
  if (state.message !== shown.message) {
    shown.message = state.message;
    $('desk-message').hidden = !state.message;
    $('desk-message-text').textContent = state.message || '';
  }
  const notice = mode === 'session' ? state.notice : null;
  if (notice !== shown.notice) {
    shown.notice = notice;
    $('notice').hidden = !notice;
    $('notice-text').textContent = notice || '';
  }
}

/** The charter in place of the code entry (null: the code entry again). */
function showCharter(charter) {
  shown.charter = charter;
  $('charter').hidden = !charter;
  $('code-form').hidden = !!charter;
  if (!charter) return;
  $('charter-title').textContent = `Charte d'utilisation des postes publics (version ${charter.version})`;
  $('charter-text').textContent = charter.texte;
  $('charter-text').scrollTop = 0;
  $('charter-accept').focus();
}

/** The library's name: the server's (sent in sync), else the page's own settings. */
function showLibrary() {
  const name = state.libraryName || settings.bibliotheque || 'Bibliothèque';
  if ($('library').textContent !== name) {
    $('library').textContent = name;
    $('session-library').textContent = name;
    document.title = name + ' — Poste Public';
  }
}

/** The page shown during a session: the server's, else the page's own settings ('' for none). */
function homePage() {
  return state.homePage !== null ? state.homePage : settings.accueil;
}

function openHome() {
  const home = homePage();
  if (home) $('home').src = home;    // from the start again: the visitor's "home" button
}

function showConfirm(visible) {
  $('confirm').hidden = !visible;
  $('end').hidden = visible;
}

// ---- start

function resumeKeptSession() {
  const kept = readJSON(SESSION_KEY);
  if (kept && typeof kept.code === 'string' && kept.code && typeof kept.deadline === 'number') {
    apply(state.resume(kept.code, kept.deadline));
  }
}

function start() {
  settings = readSettings();
  if (!settings) {
    $('feedback').textContent = NOT_CONFIGURED;
    $('link').textContent = '';
    return;
  }
  showLibrary();
  resumeKeptSession();

  $('code-form').addEventListener('submit', (event) => {
    event.preventDefault();
    apply(state.submitCode($('code').value));
    render();
  });
  $('code').addEventListener('input', function () {
    const clean = normaliseCode(this.value).slice(0, 8);
    if (clean !== this.value) this.value = clean;
  });
  $('end').addEventListener('click', () => showConfirm(true));
  $('end-no').addEventListener('click', () => showConfirm(false));
  $('end-yes').addEventListener('click', () => { apply(state.endSession()); render(); });
  $('notice-ok').addEventListener('click', () => { state.dismissNotice(); render(); });
  $('home-button').addEventListener('click', openHome);
  $('charter-accept').addEventListener('click', () => { apply(state.acceptCharter()); render(); });
  $('charter-decline').addEventListener('click', () => { apply(state.declineCharter()); render(); });
  $('pause').addEventListener('click', () => { apply(state.pause()); render(); });
  $('request').addEventListener('click', () => {
    apply(state.requestTime(Number($('request-seconds').value)));
    render();
  });
  $('desk-message-ok').addEventListener('click', () => { state.dismissNotice(); render(); });
  // Inactivity: the page sees its own input only (not what happens inside the home page's frame
  // from another origin: docs/kiosk.md).
  for (const kind of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart']) {
    document.addEventListener(kind, () => state.activity(), {passive: true, capture: true});
  }

  connect();
  setInterval(() => { apply(state.tick()); render(); }, 200);
  render();
}

start();
