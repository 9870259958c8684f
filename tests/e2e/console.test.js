// console.test.js: the shop console in Chromium over the real API: a bad key, sign-in, booking with its
// two links, a session going live as the participants join, rotate, cancel, earnings, the ledger, a phone.
'use strict';
const WebSocket = require('ws');
const L = require('./lib');
const { themeProblems } = require('./theme');

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
  const s = await L.stack({ SESSIONS_API_RATE: '100r/s', SESSIONS_API_BURST: '200' });
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
  s.ctl('end', sid, '--reason', 'completed');
  await p.click('#earn-form button[type=submit]');
  await t.check('earnings per astrologer over the days, with a bar', async () => {
    await p.waitForSelector('#earnings li');
    const text = await p.textContent('#earnings');
    if (!/Vega/.test(text) || !/2 sessions/.test(text) || await p.locator('#earnings .fill').count() !== 1) throw new Error(text);
  });
  await p.click('#ledger-check');
  await t.check('the ledger check says the money adds up', () => p.waitForFunction(() => /adds up/.test(document.getElementById('ledger-result').textContent)));
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
