/* The room, live: the staff WebSocket feed (/ws/staff/) keeps every poste, its running session and
 * the waiting codes up to date. Never polls; reconnects with a growing delay; a new `hello` after
 * a reconnection replaces the whole picture, so nothing missed while away stays wrong. */
import {api, query} from './api.js';
import {accessToken, refresh} from './auth.js';
import * as sites from './sites.js';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;
const UNAUTHORIZED = 4401;

export const room = {
  postes: new Map(),     // id → poste JSON; session_active gets `receivedAt` for the countdown
  pending: new Map(),    // session id → waiting session (code given, not typed yet)
  status: 'off',         // 'off', 'connecting', 'live', 'down'
};
const listeners = new Set();
let socket = null;
let delay = FIRST_DELAY_MS;
let retryTimer = null;
let running = false;

/** `listener(kind, data)` for 'room' (postes or codes changed), 'status' and 'log' (new entry). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(kind, data) {
  for (const listener of listeners) listener(kind, data);
}

/** Seconds left on a poste's running session, counted down here between updates. */
export function remaining(active) {
  if (active.statut === 'suspendue') return active.temps_restant;   // paused: the time stands still
  return active.temps_restant - (performance.now() - active.receivedAt) / 1000;
}

export function start() {
  running = true;
  delay = FIRST_DELAY_MS;
  connect();
}

export function stop() {
  running = false;
  clearTimeout(retryTimer);
  if (socket) socket.close(1000);
  socket = null;
  room.postes.clear();
  room.pending.clear();
  setStatus('off');
}

function setStatus(status) {
  room.status = status;
  emit('status', status);
}

function connect() {
  if (!running || !accessToken()) return;
  setStatus('connecting');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const token = accessToken();
  const ws = new WebSocket(`${scheme}://${location.host}/ws/staff/?token=${encodeURIComponent(token)}`);
  socket = ws;
  ws.addEventListener('message', (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    handle(message);
  });
  ws.addEventListener('close', async (event) => {
    if (socket !== ws || !running) return;
    socket = null;
    setStatus('down');
    if (event.code === UNAUTHORIZED) {
      // The feed checks the token it was opened with: once that expired, come back with the newer
      // one (refreshed meanwhile, or now).
      if (accessToken() === token && !(await refresh())) return;
      delay = FIRST_DELAY_MS;
    }
    retryTimer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  });
}

function handle(message) {
  switch (message.event) {
    case 'hello':
      delay = FIRST_DELAY_MS;
      room.postes.clear();
      for (const poste of message.postes) keepPoste(poste);
      setStatus('live');
      loadPending();
      break;
    case 'poste':
      keepPoste(message.poste);
      break;
    case 'poste_supprime':
      room.postes.delete(message.id);
      break;
    case 'session':
      keepSession(message.session);
      break;
    case 'log':
      emit('log', message.log);
      return;
    case 'demande':   // a request for more time, new or settled (app/control.js)
      emit('demande', message.demande);
      return;
    default:
      return;
  }
  emit('room');
}

function keepPoste(poste) {
  if (!sites.shows(poste.site)) {   // another site than the one an administrator chose
    room.postes.delete(poste.id);
    return;
  }
  if (poste.session_active) poste.session_active.receivedAt = performance.now();
  room.postes.set(poste.id, poste);
}

function keepSession(session) {
  if (session.statut === 'en_attente' && sites.shows(session.site)) room.pending.set(session.id, session);
  else room.pending.delete(session.id);
  const poste = room.postes.get(session.poste);
  if (!poste) return;
  if (session.statut === 'active' || session.statut === 'suspendue') {
    // Added time comes as a session event only: the tile takes its new figure from here.
    poste.session_active = {
      id: session.id, code_acces: session.code_acces, utilisateur_nom: session.utilisateur_nom,
      invite: session.invite, temps_restant: session.temps_restant, receivedAt: performance.now(),
      statut: session.statut,
    };
  } else if (poste.session_active?.id === session.id && session.statut !== 'suspendue') {
    poste.session_active = null;
  }
}

/** The waiting codes, once per (re)connection: the feed only tells what changes afterwards. */
async function loadPending() {
  try {
    const data = await api('GET', '/api/sessions/' + query({statut: 'en_attente', page_size: 200, ...sites.params()}));
    room.pending.clear();
    for (const session of data.results) room.pending.set(session.id, session);
    emit('room');
  } catch {
    // Not fatal: the codes still show up as they change.
  }
}
