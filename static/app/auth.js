/* The staff member's login: tokens kept in memory only (never in storage: closing or reloading the
 * tab logs out), refreshed a minute before the access token expires (sooner for short-lived ones). */

const REFRESH_MARGIN_MS = 60_000;
export const ENDED_MESSAGE = 'Votre session de travail a pris fin (expirée ou fermée). Reconnectez-vous.';

const state = {access: null, refresh: null, user: null, timer: null, refreshing: null};
const listeners = new Set();

/** `listener(kind, detail)`: kind is 'login', 'refresh' or 'ended' (detail: the message to show). */
export function onAuth(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(kind, detail) {
  for (const listener of listeners) listener(kind, detail);
}

export function accessToken() {
  return state.access;
}

export function currentUser() {
  return state.user;
}

export function isAdmin() {
  return state.user?.role === 'admin';
}

/** POST JSON without a token; resolves to {status, data}. Network failures reject. */
async function postJson(path, body, token) {
  const headers = {'Content-Type': 'application/json'};
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {method: 'POST', headers, body: JSON.stringify(body)});
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return {status: response.status, data, headers: response.headers};
}

/** Logs in; resolves to the user, or to {status, data, headers} of the refusal. */
export async function login(username, password) {
  const answer = await postJson('/api/auth/login/', {username, password});
  if (answer.status !== 200) return {refused: answer};
  state.user = answer.data.user;
  keep(answer.data);
  emit('login', state.user);
  return {user: state.user};
}

function keep(tokens) {
  state.access = tokens.access;
  state.refresh = tokens.refresh;
  clearTimeout(state.timer);
  // The token's own lifetime (exp − iat) counted from now: right even if this computer's clock is off.
  const claims = decode(tokens.access);
  const lifetimeMs = claims && claims.exp && claims.iat ? (claims.exp - claims.iat) * 1000 : 15 * 60_000;
  state.timer = setTimeout(() => refresh(), lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 4));
}

function decode(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

/** Gets new tokens; one request at a time (presenting an old refresh token twice ends the login).
 * Resolves to true, or ends the login and resolves to false. */
export function refresh() {
  if (!state.refresh) return Promise.resolve(false);
  if (!state.refreshing) {
    state.refreshing = postJson('/api/token/refresh/', {refresh: state.refresh})
      .then((answer) => {
        if (answer.status === 200) {
          keep(answer.data);
          emit('refresh');
          return true;
        }
        end(ENDED_MESSAGE);
        return false;
      })
      .catch(() => {
        // The box did not answer: try again shortly; the access token may still be valid.
        clearTimeout(state.timer);
        state.timer = setTimeout(() => refresh(), 10_000);
        return false;
      })
      .finally(() => {
        state.refreshing = null;
      });
  }
  return state.refreshing;
}

export async function logout() {
  const {access, refresh: refreshToken} = state;
  forget();
  if (access && refreshToken) {
    try {
      await postJson('/api/auth/logout/', {refresh: refreshToken}, access);
    } catch {
      // Offline: the tokens are gone from this page anyway and expire on their own.
    }
  }
  emit('ended', 'Vous êtes déconnecté.');
}

/** Ends the login on this page with a message for the login screen. */
export function end(message) {
  if (!state.access && !state.refresh) return;
  forget();
  emit('ended', message);
}

function forget() {
  clearTimeout(state.timer);
  Object.assign(state, {access: null, refresh: null, user: null, timer: null});
}
