// chat.test.js: a chat session through the real page in Chromium: messages both ways, history after a
// reload, the relay restarted mid-chat, the end with its summary and settled money; never any media.
'use strict';
const L = require('./lib');
const { themeProblems, focusVisible } = require('./theme');

const SUITE = 'chat';

const msgs = (p) => p.$$eval('#msgs li.msg', (els) => els.map((e) => ({
  who: e.querySelector('.meta b').textContent,
  time: e.querySelector('time').textContent,
  text: e.querySelector('.text').textContent,
  mine: e.classList.contains('mine'),
  pending: e.classList.contains('pending'),
  status: (e.querySelector('.st') || {}).textContent || '',
})));

const waitText = (p, text, n = 1) => p.waitForFunction(([t, count]) =>
  [...document.querySelectorAll('#msgs li.msg .text')].filter((e) => e.textContent === t).length === count && ![...document.querySelectorAll('#msgs li.msg.pending')].length,
[text, n]);

async function send(p, text) {
  await p.fill('#msg-input', text);
  await p.press('#msg-input', 'Enter');
}

L.main(SUITE, 240000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'chat', 30, '60.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);

  // Loading: the validate answer is held back (not changed) so the state can be seen.
  let release;
  const held = new Promise((r) => { release = r; });
  await user.route('**/api/sessions/validate', async (route) => { await held; await route.continue(); }, { times: 1 });
  await user.goto(b.userUrl);
  await t.check('loading state shows while the link is checked', () => L.waitState(user, 'loading'));
  await L.shot(user, SUITE, '01-loading-360');
  release();

  await t.check('pre-join shows the type, the other name and the paid minutes', async () => {
    await L.waitState(user, 'prejoin');
    const txt = await user.textContent('#s-prejoin');
    for (const want of ['Chat', b.astrologerName, '30 minutes']) if (!txt.includes(want)) throw new Error(`missing ${want}`);
  });
  await t.check('pre-join of a chat has no device check', async () => {
    if (await user.isVisible('#devcheck')) throw new Error('device check shown');
  });
  await L.shot(user, SUITE, '02-prejoin-360');
  t.ok((await themeProblems(user)).length === 0, 'pre-join at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));
  t.ok(await focusVisible(user, '#pj-join'), 'the Join button is reached by Tab and shows its focus');
  await user.keyboard.press('Enter');
  await t.check('Enter on the focused Join button joins: active, waiting for the other side', async () => {
    await L.waitState(user, 'active');
    await user.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'waiting');
  });
  await L.shot(user, SUITE, '03-active-waiting-360');

  await astro.goto(b.astrologerUrl);
  await L.waitState(astro, 'prejoin');
  await astro.click('#pj-join');
  await t.check('both pages show the other as joined', async () => {
    await L.waitState(astro, 'active');
    for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined');
  });
  const startedAt = Date.now();
  await t.check('the timer runs from the server start with the paid time left', async () => {
    for (const p of [user, astro]) {
      await p.waitForFunction(() => /^00:0[1-9]$/.test(document.getElementById('ac-elapsed').textContent), null, { timeout: 5000 });
      const left = await p.textContent('#ac-remaining');
      if (!/^(29:[0-5]\d|30:00) left$/.test(left)) throw new Error(`remaining "${left}"`);
    }
  });

  await send(user, 'Hello from Asha');
  await t.check('a message sent with Enter reaches the other side with sender and time', async () => {
    await waitText(astro, 'Hello from Asha');
    const m = (await msgs(astro)).find((x) => x.text === 'Hello from Asha');
    if (m.mine || m.who !== b.userName || !/\d{1,2}:\d{2}/.test(m.time)) throw new Error(JSON.stringify(m));
  });
  await t.check('the sender sees its own message apart, marked sent', async () => {
    await waitText(user, 'Hello from Asha');
    const m = (await msgs(user)).find((x) => x.text === 'Hello from Asha');
    if (!m.mine || m.who !== 'You' || m.status !== 'Sent') throw new Error(JSON.stringify(m));
  });
  await t.check('the new message is announced to screen readers on the other side', () =>
    astro.waitForFunction(() => document.getElementById('announce').textContent.includes('Hello from Asha')));
  await send(astro, 'Welcome, Asha. Shift+Enter makes\na new line');
  await t.check('messages go the other way too, Shift+Enter keeping a new line', () =>
    waitText(user, 'Welcome, Asha. Shift+Enter makes\na new line'));
  await L.shot(user, SUITE, '04-active-chat-360');
  await L.shot(astro, SUITE, '04-active-chat-desktop');
  t.ok((await themeProblems(user)).length === 0, 'active chat at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));
  t.ok((await themeProblems(astro)).length === 0, 'active chat on desktop: AA contrast, no dark blue', (await themeProblems(astro)).join('; '));

  // The relay dies mid-chat: a message written meanwhile waits, visibly, and lands once.
  await s.killRelay();
  await t.check('the relay gone, both pages show the reconnecting banner', async () => {
    for (const p of [user, astro]) await p.waitForSelector('#banner:not([hidden])', { timeout: 10000 });
  });
  await send(user, 'Sent while the relay was down');
  await t.check('a message written meanwhile shows as pending, not sent until the page is back', async () => {
    const m = (await msgs(user)).find((x) => x.text === 'Sent while the relay was down');
    if (!m || !m.pending || !/^Not sent yet/.test(m.status)) throw new Error(JSON.stringify(m));
  });
  await L.shot(user, SUITE, '05-reconnecting-360');
  await s.startRelay();
  await t.check('with the relay back both pages reconnect and the banner goes', async () => {
    for (const p of [user, astro]) await p.waitForSelector('#banner', { state: 'hidden', timeout: 20000 });
  });
  await t.check('the pending message lands once on both sides', async () => {
    await waitText(user, 'Sent while the relay was down');
    await waitText(astro, 'Sent while the relay was down');
  });
  await send(astro, 'And after the restart');
  await t.check('chat works after the restart', () => waitText(user, 'And after the restart'));
  const expected = ['Hello from Asha', 'Welcome, Asha. Shift+Enter makes\na new line', 'Sent while the relay was down', 'And after the restart'];
  for (const [name, p] of [['customer', user], ['astrologer', astro]]) {
    const got = (await msgs(p)).map((m) => m.text);
    t.ok(JSON.stringify(got) === JSON.stringify(expected), `the ${name} shows every message once, in order, after the restart`, JSON.stringify(got));
  }

  await astro.evaluate(() => {
    window.__presence = [];
    const el = document.getElementById('ac-presence');
    new MutationObserver(() => window.__presence.push(el.dataset.p)).observe(el, { attributes: true });
  });
  await user.reload();
  await t.check('after a reload the whole history is there once, in order, with own messages apart', async () => {
    await L.waitState(user, 'active');
    await user.waitForFunction((n) => document.querySelectorAll('#msgs li.msg').length === n, expected.length);
    const got = await msgs(user);
    if (JSON.stringify(got.map((m) => m.text)) !== JSON.stringify(expected)) throw new Error(JSON.stringify(got.map((m) => m.text)));
    if (got.map((m) => m.mine).join() !== 'true,false,true,false') throw new Error('own/other mixed up');
  });
  const secs = (txt) => txt.split(':').reduce((acc, x) => acc * 60 + Number(x), 0);
  await t.check('after the reload the timer goes on from the server\'s start, not from zero', async () => {
    const ran = Math.floor((Date.now() - startedAt) / 1000);
    const shown = secs(await user.textContent('#ac-elapsed'));
    if (Math.abs(shown - ran) > 2) throw new Error(`shows ${shown} s, ran ${ran} s`);
  });
  await t.check('the astrologer saw the customer leave and come back', () =>
    astro.waitForFunction(() => window.__presence.join().includes('left') && window.__presence[window.__presence.length - 1] === 'joined'));
  await send(user, 'After my reload');
  await t.check('chat works after the reload', () => waitText(astro, 'After my reload'));

  // The same link opened in a second tab takes the session over; the first tab says so.
  const second = await user.context().newPage();
  await second.goto(b.userUrl);
  await t.check('a second tab takes over and the first says the session is open elsewhere', async () => {
    await L.waitState(second, 'active');
    await L.waitState(user, 'error');
    if (!/open somewhere else/.test(await user.textContent('#err-title')) || (await user.textContent('#err-retry')) !== 'Use this tab') throw new Error(await user.textContent('#err-title'));
  });
  await L.shot(user, SUITE, '05b-replaced-360');
  await second.close();
  await user.click('#err-retry');
  await t.check('"Use this tab" takes the session back with its history', async () => {
    await L.waitState(user, 'active');
    await user.waitForFunction((n) => document.querySelectorAll('#msgs li.msg').length === n, expected.length + 1);
  });

  for (const [name, p] of [['customer', user], ['astrologer', astro]]) {
    const pr = await p.evaluate(() => ({ gum: window.__probe.gum.length, pcs: window.__probe.pcs.length }));
    t.ok(pr.gum === 0 && pr.pcs === 0, `the ${name}'s chat page asked for no camera or microphone and made no peer connection`, JSON.stringify(pr));
  }
  t.ok(!(await user.isVisible('#ac-net')) && !(await user.isVisible('#controls')), 'a chat shows no media controls');

  // The end, by the customer, after a first "Keep going".
  await user.click('#ac-end');
  await t.check('End asks for confirmation', () => user.waitForSelector('#confirm-end[open]'));
  await L.shot(user, SUITE, '06-confirm-end-360');
  await user.click('#confirm-end button[value="cancel"]');
  await t.check('"Keep going" keeps the session', async () => {
    await user.waitForSelector('#confirm-end:not([open])', { state: 'attached' });
    if ((await L.state(user)) !== 'active') throw new Error('left the room');
  });
  await user.click('#ac-end');
  await user.click('#ce-yes');
  await t.check('the customer sees the summary: duration, charged and refunded', async () => {
    await L.waitState(user, 'ended');
    const txt = await user.textContent('#en-facts');
    if (!/Duration/.test(txt) || !/Charged\d+\.\d\d/.test(txt) || !/Refunded to your wallet\d+\.\d\d/.test(txt)) throw new Error(txt);
    if (!/You ended the session/.test(await user.textContent('#en-reason'))) throw new Error('no reason');
  });
  await t.check('the astrologer gets the end and sees what was earned', async () => {
    await L.waitState(astro, 'ended', 10000);
    const txt = await astro.textContent('#en-facts');
    if (!/You earned\d+\.\d\d/.test(txt)) throw new Error(txt);
    if (!/The customer ended the session/.test(await astro.textContent('#en-reason'))) throw new Error('no reason');
  });
  t.ok(!(await user.isVisible('#en-return')), 'with no return address configured the summary shows no link back');
  await L.shot(user, SUITE, '07-ended-360');
  await L.shot(astro, SUITE, '07-ended-desktop');
  t.ok((await themeProblems(user)).length === 0, 'ended summary at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.ledgerOk, 'the database is settled: nothing frozen, the ledger balances', JSON.stringify(money));
  const charged = (await user.textContent('#en-facts')).match(/Charged(\d+\.\d\d)/)[1];
  const refunded = (await user.textContent('#en-facts')).match(/Refunded to your wallet(\d+\.\d\d)/)[1];
  t.ok(Math.round((Number(charged) + Number(refunded)) * 100) === 6000 && money.wallet.balance === (500 - Number(charged)).toFixed(2),
    'the summary agrees with the wallet: charged + refunded = price, balance = 500 - charged', `${charged} ${refunded} ${JSON.stringify(money.wallet)}`);

  await user.reload();
  await t.check('the link of an ended session shows the error state in plain words', async () => {
    await L.waitState(user, 'error');
    if (!/has ended/.test(await user.textContent('#err-title'))) throw new Error(await user.textContent('#err-title'));
  });
  await L.shot(user, SUITE, '08-error-ended-360');
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
