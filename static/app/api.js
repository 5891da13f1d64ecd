/* Calls to the appliance's REST API: JSON in and out, the staff token, and French messages for
 * every failure (ApiError carries the server's `detail` and per-field `errors`). */
import {accessToken, end, ENDED_MESSAGE, refresh} from './auth.js';

const FALLBACK = {
  0: 'Le boîtier ne répond pas. Vérifiez le réseau puis réessayez.',
  400: 'Saisie refusée : vérifiez les champs signalés.',
  401: 'Authentification requise.',
  403: 'Vous n’avez pas le droit de faire cela.',
  404: 'Introuvable.',
  409: 'Action impossible dans l’état actuel.',
  413: 'Envoi trop volumineux.',
  429: 'Trop de tentatives : patientez un peu.',
  500: 'Erreur du serveur. Réessayez ; si cela continue, prévenez un administrateur.',
};

export class ApiError extends Error {
  constructor(status, data, retryAfter) {
    const detail = (data && typeof data.detail === 'string' && data.detail) ||
      FALLBACK[status] || FALLBACK[Math.floor(status / 100) * 100] || `Erreur ${status}.`;
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = (data && data.errors) || {};
    this.data = data;                 // the whole body: some refusals carry more (`doublons`)
    this.retryAfter = retryAfter;
  }
}

/** api('GET', '/api/postes/') → parsed JSON (null for 204). Throws ApiError. */
export async function api(method, path, body, {blob = false, raw = false} = {}) {
  let response = await send(method, path, body);
  if (response.status === 401 && accessToken()) {
    // The access token may have just expired: refresh once and try again.
    if (await refresh()) response = await send(method, path, body);
  }
  if (response.status === 401) end(ENDED_MESSAGE);   // refused even after a refresh
  if (!response.ok) {
    throw new ApiError(response.status, await readJson(response), response.headers.get('Retry-After'));
  }
  if (raw) return response;       // the caller reads headers and body itself
  if (blob) return response.blob();
  return response.status === 204 ? null : readJson(response);
}

async function send(method, path, body) {
  const headers = {};
  const token = accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = {method, headers};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, null);
  }
}

async function readJson(response) {
  try {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== '' && value !== null && value !== undefined) search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Every result of a paginated list, page after page (200 at a time). */
export async function allPages(path, params = {}) {
  const results = [];
  for (let page = 1; ; page += 1) {
    const data = await api('GET', path + query({...params, page, page_size: 200}));
    results.push(...data.results);
    if (!data.next) return results;
  }
}
