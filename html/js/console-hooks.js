// console-hooks.js: the console's webhooks: adding an endpoint (its secret shown once), the endpoints, and recent deliveries with failures marked and a retry.
import { api, show } from './console.js';

const $ = (id) => document.getElementById(id);
const RECENT = 20;

const time = (iso) => new Date(iso).toLocaleString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', day: 'numeric', month: 'short' });

// Why the last try did not deliver: the deliverer's words for it (which name the receiver's status), else the status.
const why = (d) => d.lastError || (d.lastStatus ? `HTTP ${d.lastStatus}` : 'no answer');

// What happened to a delivery, in words; a failure says so in text, not by colour alone.
function stateOf(d) {
  if (d.status === 'delivered') return `Delivered ${time(d.doneAt)}${d.attempts > 1 ? ` after ${d.attempts} tries` : ''}`;
  if (d.status === 'failed') return `Failed after ${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'} (${why(d)})`;
  if (d.attempts) return `Retrying: try ${d.attempts} failed (${why(d)}), next ${time(d.nextAttemptAt)}`;
  return 'Waiting to be sent';
}

function deliveryItem(d, retry) {
  const li = document.createElement('li');
  li.dataset.delivery = d.id;
  li.dataset.status = d.status;
  li.className = d.status === 'failed' || (d.status === 'pending' && d.attempts) ? 'failing' : '';
  const what = document.createElement('p');
  what.className = 'who';
  what.textContent = `${d.type} · #${d.sequence} of ${d.subject.startsWith('user:') ? 'a wallet' : `session ${d.subject.slice(0, 8)}`}`;
  const state = document.createElement('p');
  state.className = 'state';
  state.textContent = stateOf(d);
  li.append(what, state);
  if (d.status === 'failed') {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'retry';
    b.textContent = 'Send again';
    b.addEventListener('click', () => retry(d.id));
    li.append(b);
  }
  return li;
}

function endpointItem(w) {
  const li = document.createElement('li');
  li.dataset.endpoint = w.id;
  li.className = w.enabled ? '' : 'failing';
  const url = document.createElement('p');
  url.className = 'who';
  url.textContent = w.url;
  const state = document.createElement('p');
  state.className = 'state';
  state.textContent = `${w.enabled ? 'Enabled' : `Disabled (${w.disabledReason})`} · ${w.delivered} delivered, ${w.pending} pending, ${w.failed} failed`;
  li.append(url, state);
  return li;
}

async function retry(id) {
  show('hook-error', '');
  try {
    await api(`/webhooks/deliveries/${id}/retry`, { idem: crypto.randomUUID() });
    await refreshHooks();
  } catch (e) {
    show('hook-error', e.message);
  }
}

export async function refreshHooks() {
  const [w, d] = await Promise.all([api('/webhooks'), api(`/webhooks/deliveries?limit=${RECENT}`)]);
  $('hook-endpoints').replaceChildren(...w.webhooks.map(endpointItem));
  $('deliveries').replaceChildren(...d.deliveries.map((x) => deliveryItem(x, retry)));
  show('hooks-note', w.webhooks.length ? '' : 'No endpoint yet: add your site\'s address to hear of every booking and session.');
  show('deliveries-note', d.deliveries.length ? '' : 'None yet.');
}

export function setupHooks() {
  const form = $('hook-form');
  let idem = null;
  form.addEventListener('input', () => { idem = null; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    idem = idem || crypto.randomUUID();
    show('hook-error', '');
    try {
      const r = await api('/webhooks', { body: { url: form.elements.url.value.trim() }, idem });
      idem = null;
      form.reset();
      $('hook-secret-value').value = r.secret;
      $('hook-secret').hidden = false;
      await refreshHooks();
    } catch (err) {
      show('hook-error', err.message);
    }
  });
  $('hook-secret-done').addEventListener('click', () => {
    $('hook-secret-value').value = '';
    $('hook-secret').hidden = true;
  });
}
