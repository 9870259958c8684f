// console-forms.js: the console's forms: booking with the two links, customers' wallets and top-ups, earnings with bars, the ledger check.
import { api, refresh, show } from './console.js';

const $ = (id) => document.getElementById(id);

// A form's submit with one Idempotency-Key per filled-in form: a double click or a retry books once.
function onSubmit(id, errId, fn) {
  const form = $(id);
  let idem = null;
  form.addEventListener('input', () => { idem = null; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    idem = idem || crypto.randomUUID();
    show(errId, '');
    try {
      await fn(Object.fromEntries(new FormData(form)), idem);
      idem = null;
    } catch (err) {
      show(errId, err.message);
    }
  });
}

function wallet(w) {
  $('wallet-user').textContent = w.user;
  $('wallet-balance').textContent = w.balance;
  $('wallet-frozen').textContent = w.frozen;
  $('wallet').hidden = false;
  $('topup-form').hidden = false;
}

function bar(row, max) {
  const li = document.createElement('li');
  const name = document.createElement('div');
  name.className = 'name';
  name.textContent = row.astrologer;
  const track = document.createElement('div');
  track.className = 'track';
  const fill = document.createElement('div');
  fill.className = 'fill';
  fill.style.width = `${max > 0 ? (Number(row.earnings) / max) * 100 : 0}%`;
  track.append(fill);
  const nums = document.createElement('div');
  nums.className = 'nums';
  nums.textContent = `earned ${row.earnings} of ${row.charged} charged (commission ${row.commission}) · ${row.sessions} sessions, ${row.billedMinutes} billed min`;
  li.append(name, track, nums);
  return li;
}

export function setupForms() {
  onSubmit('book-form', 'book-error', async (f, idem) => {
    const body = { user: f.user, astrologer: f.astrologer, type: f.type, minutes: Number(f.minutes), price: f.price };
    if (f.startsAt) body.startsAt = new Date(f.startsAt).toISOString();
    const b = await api('/bookings', { body, idem });
    $('link-user').value = b.userUrl;
    $('link-astrologer').value = b.astrologerUrl;
    $('booked').hidden = false;
    await refresh();
  });

  onSubmit('user-form', 'user-error', async (f) => wallet(await api(`/users/${encodeURIComponent(f.name)}`)));
  $('user-add').addEventListener('click', async () => {
    show('user-error', '');
    try {
      wallet(await api('/users', { body: { name: $('user-form').elements.name.value }, idem: crypto.randomUUID() }));
    } catch (err) {
      show('user-error', err.message);
    }
  });
  onSubmit('topup-form', 'user-error', async (f, idem) => {
    wallet(await api(`/users/${encodeURIComponent($('wallet-user').textContent)}/topups`,
      { body: { amount: f.amount, reference: f.reference }, idem }));
    $('topup-form').reset();
  });

  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  $('earn-form').elements.from.value = iso(new Date(today.getFullYear(), today.getMonth(), 1));
  $('earn-form').elements.to.value = iso(today);
  onSubmit('earn-form', 'earn-error', async (f) => {
    // The range is whole local days: from the first day's midnight to the midnight after the last.
    const from = new Date(`${f.from}T00:00`);
    const to = new Date(`${f.to}T00:00`);
    to.setDate(to.getDate() + 1);
    const r = await api(`/reports/earnings?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
    const max = Math.max(0, ...r.astrologers.map((a) => Number(a.earnings)));
    $('earnings').replaceChildren(...r.astrologers.map((a) => bar(a, max)));
    if (!r.astrologers.length) show('earn-error', 'No sessions ended in these days.');
  });

  $('ledger-check').addEventListener('click', async () => {
    try {
      const r = await api('/ledger/check');
      $('ledger-result').textContent = r.ok ? 'The money adds up.' : `Problems: ${r.problems.join('; ')}`;
    } catch (err) {
      $('ledger-result').textContent = err.message;
    }
  });
}
