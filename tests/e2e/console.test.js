// console.test.js: the shop console in Chromium over the real API: a bad key, sign-in, booking with its
// two links, a session going live as the participants join, rotate, cancel, earnings, the ledger, a webhook
// endpoint with its deliveries (a failure marked, then retried), a phone.
'use strict';
const WebSocket = require('ws');
const L = require('./lib');
const { themeProblems } = require('./theme');
const { Receiver } = require('../lib/receiver.js');

const SUITE = 'console';

// A participant in the room: a WebSocket through nginx to the relay, joined with the link's token.
function joinRoom(s, url) {
  const token = url.split('/session/')[1];
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`, { headers: { Origin: s.base } });
  L.onCleanup(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'join-room', token })));
    ws.on('message', (d) => { if (JSON.parse(d).type === 'joined') resolve(ws); });
    ws.once('error', reject);
  });
}

L.main(SUITE, 180000, async (t) => {
  // Webhooks to a receiver on this machine, with the retry schedule shortened to about ten seconds.
  const s = await L.stack({ SESSIONS_API_RATE: '100r/s', SESSIONS_API_BURST: '200', SESSIONS_WEBHOOK_ALLOW_PRIVATE: '1',
    SESSIONS_WEBHOOK_RETRY_DIVISOR: '10000', SESSIONS_WEBHOOK_TIMEOUT_SECONDS: '1' });
  const rx = new Receiver();
  await rx.start();
  L.onCleanup(() => rx.stop());
  const key = s.ctl('apikey', 'add', 'console').key;
  s.ctl('user', 'add', 'Asha Rao', '--balance', '200.00');
  s.ctl('astrologer', 'add', 'Vega');
  const browser = await L.browser();
  const p = await L.page(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const stateOf = (sid) => p.textContent(`li[data-session="${sid}"] .state`);

  await p.goto(`${s.base}/console`);
  await p.fill('#key', `sk_${'A'.repeat(43)}`);
  await p.click('#signin-form button[type=submit]');
  await t.check('a bad key shows a clear error and nothing else', async () => {
    await p.waitForSelector('#signin-error:not([hidden])');
    const text = await p.textContent('#signin-error');
    if (!/API key does not work|revoked/.test(text) || await p.isVisible('#app')) throw new Error(text);
  });
  await L.shot(p, SUITE, 'bad-key-360');

  await p.fill('#key', key);
  await p.click('#signin-form button[type=submit]');
  await t.check('the right key signs in', () => p.waitForSelector('#app:not([hidden])'));
  const storage = await p.evaluate(() => ({ s: sessionStorage.length, l: localStorage.length, c: document.cookie }));
  t.ok(storage.s === 1 && storage.l === 0 && storage.c === '', 'the key is kept in sessionStorage only', JSON.stringify(storage));

  // The shop's site as a webhook endpoint: the secret is shown once, with a copy button.
  await p.fill('#hook-form [name=url]', rx.url());
  await p.click('#hook-form button[type=submit]');
  await t.check('adding an endpoint shows its whsec_ secret once, with a copy button, and lists it', async () => {
    await p.waitForSelector('#hook-secret:not([hidden])');
    rx.secrets = [await p.inputValue('#hook-secret-value')];
    if (!/^whsec_[A-Za-z0-9+/]{43}=$/.test(rx.secrets[0])) throw new Error(rx.secrets[0]);
    if (await p.locator('#hook-secret button.copy').count() !== 1) throw new Error('no copy button');
    await L.waitFor(async () => (await p.locator('#hook-endpoints li').count()) === 1, 10000, 'endpoint listed');
    if (!(await p.textContent('#hook-endpoints')).includes(rx.url())) throw new Error(await p.textContent('#hook-endpoints'));
  });
  await L.shot(p, SUITE, 'webhook-secret-360');
  await p.click('#hook-secret-done');
  t.ok(await p.inputValue('#hook-secret-value') === '' && !(await p.isVisible('#hook-secret')), 'the secret is gone from the page once kept');

  // Book through the form: the two links, each with a copy button.
  await p.fill('#book-form [name=user]', 'Asha Rao');
  await p.fill('#book-form [name=astrologer]', 'Vega');
  await p.selectOption('#book-form [name=type]', 'chat');
  await p.fill('#book-form [name=minutes]', '30');
  await p.fill('#book-form [name=price]', '40.00');
  await p.click('#book-form button[type=submit]');
  let links = {};
  await t.check('booking shows the customer\'s and the astrologer\'s links', async () => {
    await p.waitForSelector('#booked:not([hidden])');
    links = { user: await p.inputValue('#link-user'), astrologer: await p.inputValue('#link-astrologer') };
    if (!links.user.startsWith(`${s.base}/session/`) || !links.astrologer.startsWith(`${s.base}/session/`) ||
      links.user === links.astrologer) throw new Error(JSON.stringify(links));
    if (await p.locator('#booked button.copy').count() !== 2) throw new Error('no copy buttons');
  });
  await L.shot(p, SUITE, 'booked-360');
  const sid = (await p.getAttribute('#sessions li', 'data-session'));
  await t.check('the booking is in today\'s list, waiting', async () => {
    await L.waitFor(async () => /Waiting|Starts/.test(await stateOf(sid)), 10000, 'waiting');
  });

  // The participants join the room: the list follows within its refresh.
  await joinRoom(s, links.user);
  await t.check('the customer joins: the console shows them here', async () => {
    await L.waitFor(async () => /Asha Rao is here/.test(await stateOf(sid)), 10000, 'customer here');
  });
  await joinRoom(s, links.astrologer);
  await t.check('the astrologer joins: the session shows as live with its time left', async () => {
    await L.waitFor(async () => /Live: both joined, about \d+ min left/.test(await stateOf(sid)), 10000, 'live');
    if (!(await p.getAttribute(`li[data-session="${sid}"]`, 'class')).includes('live')) throw new Error('not marked live');
  });
  await L.shot(p, SUITE, 'live-360');
  t.ok(!(await p.isVisible(`li[data-session="${sid}"] button.danger`)), 'a live session offers no cancel');

  // A second booking: rotate its customer link, then cancel it.
  const other = s.ctl('book', '--user', 'Asha Rao', '--astrologer', 'Vega', '--type', 'voice', '--minutes', '10', '--price', '15.00',
    '--starts', new Date(Date.now() + 600000).toISOString());
  const row = `li[data-session="${other.sessionId}"]`;
  await p.waitForSelector(row, { timeout: 10000 });
  await p.click(`${row} >> text=New customer's link`);
  await t.check('rotate: the new link is shown and the old one stops working', async () => {
    await p.waitForSelector('#rotated:not([hidden])');
    const url = await p.inputValue('#rotated-url');
    const oldv = await fetch(`${s.base}/api/sessions/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: other.userToken }) });
    const newv = await fetch(`${s.base}/api/sessions/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: url.split('/session/')[1] }) });
    if (oldv.status !== 404 || newv.status !== 200) throw new Error(`${oldv.status} ${newv.status}`);
  });
  await p.click(`${row} button.danger`);
  await t.check('cancel: the session shows as cancelled and the price is back', async () => {
    await L.waitFor(async () => /Ended: cancelled/.test(await p.textContent(`${row} .state`)), 10000, 'cancelled');
    if (s.ctl('wallet', 'show', 'Asha Rao').frozen !== '40.00') throw new Error('not refunded');
  });

  // Customers: the wallet and a top-up.
  await p.fill('#user-form [name=name]', 'Asha Rao');
  await p.click('#user-form button[type=submit]');
  await t.check('a customer\'s wallet: balance and what is held', async () => {
    await p.waitForSelector('#wallet:not([hidden])');
    if (await p.textContent('#wallet-balance') !== '160.00' || await p.textContent('#wallet-frozen') !== '40.00') throw new Error(await p.textContent('#wallet'));
  });
  await p.fill('#topup-form [name=amount]', '25.00');
  await p.fill('#topup-form [name=reference]', 'cash-17');
  await p.click('#topup-form button[type=submit]');
  await t.check('a top-up shows the new balance', () => p.waitForFunction(() => document.getElementById('wallet-balance').textContent === '185.00'));

  // Earnings after the live session ends.
  // The customer ends it from their page's API, with their link's token.
  const ended = await fetch(`${s.base}/api/sessions/end`, { method: 'POST', headers: { 'Content-Type': 'application/json',
    Authorization: `Bearer ${links.user.split('/session/')[1]}` }, body: JSON.stringify({ reason: 'user_ended' }) });
  t.ok(ended.status === 200, 'the customer ends the session through the API', String(ended.status));
  await p.click('#earn-form button[type=submit]');
  await t.check('earnings per astrologer over the days, with a bar', async () => {
    await p.waitForSelector('#earnings li');
    const text = await p.textContent('#earnings');
    if (!/Vega/.test(text) || !/2 sessions/.test(text) || await p.locator('#earnings .fill').count() !== 1) throw new Error(text);
  });
  await p.click('#ledger-check');
  await t.check('the ledger check says the money adds up', () => p.waitForFunction(() => /adds up/.test(document.getElementById('ledger-result').textContent)));
  // The session's events reached the receiver, signed, and the console lists them as delivered.
  const delivery = (type, status) => p.locator(`#deliveries li[data-status="${status}"]`, { hasText: type });
  await t.check('the booked session\'s events show as delivered: created, joined, started, ended', async () => {
    for (const type of ['booking.created', 'participant.joined', 'session.started', 'session.ended']) {
      await L.waitFor(async () => (await delivery(type, 'delivered').count()) > 0, 15000, `${type} delivered`);
    }
  });
  // The first five: a participant.left may follow when the relay closes the room.
  const got = rx.got.filter((r) => r.event.data && r.event.data.session && r.event.data.session.id === sid).slice(0, 5);
  t.ok(rx.badSignatures === 0 && got.map((r) => r.event.type).join(' ') ===
    'booking.created participant.joined participant.joined session.started session.ended' &&
    got.every((r, i) => r.event.sequence === i + 1) && got[4].event.data.session.settlement.endedBy === 'user',
    'the receiver got them in order, each signed with the secret, the end with its settlement by the customer',
    `${rx.badSignatures} bad; ${got.map((r) => `${r.event.sequence}:${r.event.type}`).join(' ')}`);
  await L.shot(p, SUITE, 'deliveries-360');

  // The receiver answers 500: the top-up's delivery is retried, then marked failed with a way to send it again.
  rx.mode = '500';
  await p.fill('#topup-form [name=amount]', '5.00');
  await p.fill('#topup-form [name=reference]', 'cash-18');
  await p.click('#topup-form button[type=submit]');
  const failedRow = p.locator('#deliveries li.failing[data-status="failed"]', { hasText: 'wallet.topped_up' });
  await t.check('a delivery the receiver refused is marked failed, with its status and a retry button', async () => {
    await L.waitFor(async () => (await failedRow.count()) === 1, 45000, 'failed delivery');
    const text = await failedRow.textContent();
    if (!/Failed after 8 tries \(HTTP 500\)/.test(text)) throw new Error(text);
    if (await failedRow.locator('button.retry').count() !== 1) throw new Error('no retry button');
  });
  await L.shot(p, SUITE, 'delivery-failed-360');
  const failedProblems = await themeProblems(p);
  t.ok(failedProblems.length === 0, 'a failure marked at 360 px: AA contrast, no sideways scroll', failedProblems.join('; '));
  const failedId = await failedRow.getAttribute('data-delivery');
  rx.mode = 'ok';
  await failedRow.locator('button.retry').click();
  await t.check('sent again once the receiver is back: delivered', async () => {
    await L.waitFor(async () => await p.getAttribute(`#deliveries li[data-delivery="${failedId}"]`, 'data-status') === 'delivered', 15000, 'redelivered');
    if (!rx.got.some((r) => r.event.type === 'wallet.topped_up' && r.event.data.amount === '5.00' && r.signers.length === 1)) throw new Error('not received');
  });
  await L.shot(p, SUITE, 'delivery-retried-360');

  await L.shot(p, SUITE, 'console-360');
  const problems = await themeProblems(p);
  t.ok(problems.length === 0, 'the console at 360 px: AA contrast, no dark blue, no sideways scroll', problems.join('; '));
  t.ok(p.__errors.length === 0, 'no script errors', p.__errors.join('; '));

  // A key revoked while signed in: the next refresh signs out with the reason.
  s.ctl('apikey', 'revoke', 'console');
  await t.check('a revoked key signs the console out with a clear error', async () => {
    await p.waitForSelector('#signin:not([hidden])', { timeout: 10000 });
    if (!/revoked/.test(await p.textContent('#signin-error'))) throw new Error(await p.textContent('#signin-error'));
  });
});
