// console.js: the shop console's shell: sign-in with an API key kept in this tab, the API client, and the live session list and webhook deliveries.
import { line } from './codes.js';
import { setupForms } from './console-forms.js';
import { refreshHooks, setupHooks } from './console-hooks.js';

const KEY = 'sessions.apiKey';
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

// A refusal from the API as one sentence; `code` is the API's.
export class ApiError extends Error {
  constructor(code, message) {
    super(line(code, message));
    this.code = code;
  }
}

// One call to /api/v1 with the key; POSTs carry an Idempotency-Key so a retried click cannot book twice.
export async function api(path, { body, idem, method } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idem) headers['Idempotency-Key'] = `"${idem}"`;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: method || (body !== undefined || idem ? 'POST' : 'GET'),
      headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError('network', 'The server did not answer. Check the connection and try again.');
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = json && json.error ? json.error : { code: 'internal' };
    if (err.code === 'invalid_api_key' || err.code === 'missing_api_key') signOut(line(err.code, err.message));
    throw new ApiError(err.code, err.message);
  }
  return json;
}

export function show(id, text) {
  const el = $(id);
  el.textContent = text || '';
  el.hidden = !text;
}

const time = (iso) => new Date(iso).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' });

// What a session is doing, in words: waiting, who is here, time left, or how it ended.
function stateOf(s) {
  if (s.status === 'active') {
    const left = Math.max(0, Math.round((Date.parse(s.startedAt) + s.paidMinutes * 60000 - Date.now()) / 60000));
    return `Live: both joined, about ${left} min left`;
  }
  if (s.status !== 'scheduled') return `Ended: ${s.status}${s.endReason ? ` (${s.endReason.replace('_', ' ')})` : ''}`;
  const here = [s.present.user && s.user, s.present.astrologer && s.astrologer].filter(Boolean);
  if (here.length) return `${here.join(' and ')} ${here.length > 1 ? 'are' : 'is'} here, waiting`;
  return Date.parse(s.scheduledStartTime) > Date.now() ? `Starts ${time(s.scheduledStartTime)}` : 'Waiting for both to join';
}

function button(text, onClick, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

async function act(fn) {
  show('app-error', '');
  try {
    await fn();
    await refresh();
  } catch (e) {
    show('app-error', e.message);
  }
}

function sessionItem(s) {
  const li = document.createElement('li');
  li.dataset.session = s.sessionId;
  li.className = s.status === 'active' || s.present.user || s.present.astrologer ? 'live' : s.endedAt ? 'over' : '';
  const who = document.createElement('p');
  who.className = 'who';
  who.textContent = `${s.user} with ${s.astrologer} · ${s.sessionType}, ${s.paidMinutes} min, ${s.price}`;
  const state = document.createElement('p');
  state.className = 'state';
  state.textContent = stateOf(s);
  li.append(who, state);
  if (!s.endedAt) {
    const actions = document.createElement('div');
    actions.className = 'actions';
    if (s.status === 'scheduled') {
      actions.append(button('Cancel and refund', () => act(() => api(`/bookings/${s.sessionId}/cancel`, { idem: crypto.randomUUID() })), 'danger'));
    }
    for (const role of ['user', 'astrologer']) {
      actions.append(button(role === 'user' ? "New customer's link" : "New astrologer's link", () => act(async () => {
        const r = await api(`/bookings/${s.sessionId}/links`, { body: { role }, idem: crypto.randomUUID() });
        $('rotated-url').value = r.url;
        $('rotated').hidden = false;
      })));
    }
    li.append(actions);
  }
  return li;
}

let timer = null;
export async function refresh() {
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  try {
    const r = await api(`/bookings?from=${encodeURIComponent(today.toISOString())}&limit=100`);
    $('sessions').replaceChildren(...r.bookings.map(sessionItem));
    show('sessions-note', r.bookings.length ? 'Refreshed every few seconds.' : 'No sessions today or later.');
    await refreshHooks();
  } catch (e) {
    show('app-error', e.message);
  }
}

function signOut(why) {
  sessionStorage.removeItem(KEY);
  clearInterval(timer);
  timer = null;
  $('app').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  show('signin-error', why);
}

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  // A cheap call proves the key before anything is shown.
  const r = await api('/astrologers');
  $('astrologer-names').replaceChildren(...r.astrologers.map((a) => new Option(a.astrologer)));
  $('signin').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = false;
  show('signin-error', '');
  await refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

function start() {
  $('signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = $('key').value.trim();
    $('key').value = '';
    try {
      await signIn(key);
    } catch (err) {
      signOut(err.message);
    }
  });
  $('signout').addEventListener('click', () => signOut(''));
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button.copy');
    if (!b) return;
    const input = $(b.dataset.for);
    input.select();
    (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).then(
      () => { b.textContent = 'Copied'; }, () => { document.execCommand('copy'); b.textContent = 'Copied'; });
  });
  setupForms();
  setupHooks();
  if (sessionStorage.getItem(KEY)) signIn(sessionStorage.getItem(KEY)).catch((err) => signOut(err.message));
}

start();
