// timer.test.js: the paid time runs out (test minutes of one second): both pages warn before the end,
// then show the time-up summary with the full price charged, and the database is settled; with the
// relay gone, the pages still learn of the end from the API.
'use strict';
const L = require('./lib');

const SUITE = 'timer';

L.main(SUITE, 120000, async (t) => {
  // No grace, so sessionctl expire ends a session the moment its paid time is over.
  const s = await L.stack({ SESSIONS_MINUTE_MS: '1000', SESSIONS_RETURN_URL: 'https://shop.example/account', SESSIONS_GRACE_SECONDS: '0' });
  const b = L.book(s, 'chat', 8, '16.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await L.waitState(user, 'prejoin');
  await L.waitState(astro, 'prejoin');
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);

  await t.check('both pages warn at 5 paid minutes left', async () => {
    await user.waitForFunction(() => /5 seconds left/.test(document.getElementById('warn').textContent), null, { timeout: 10000 });
    await astro.waitForFunction(() => /5 seconds left/.test(document.getElementById('warn').textContent), null, { timeout: 10000 });
  });
  await t.check('the timer turns to its last-minute look', () =>
    user.waitForFunction(() => document.getElementById('ac-timer').dataset.level === 'last'));
  await L.shot(user, SUITE, '01-warning-360');
  await t.check('both pages warn at 1 paid minute left, for screen readers too', async () => {
    for (const p of [user, astro]) {
      await p.waitForFunction(() => /1 second left/.test(document.getElementById('warn').textContent), null, { timeout: 10000 });
    }
    await user.waitForFunction(() => /1 second left/.test(document.getElementById('announce').textContent));
  });
  await t.check('at the deadline both pages show the time-up summary', async () => {
    for (const p of [user, astro]) {
      await L.waitState(p, 'ended', 10000);
      if (!/paid time is over/.test(await p.textContent('#en-reason'))) throw new Error(await p.textContent('#en-reason'));
    }
    const facts = await user.textContent('#en-facts');
    if (!/Charged16\.00/.test(facts) || !/Refunded to your wallet0\.00/.test(facts)) throw new Error(facts);
  });
  await t.check('the summary links back to the shop\'s configured address', async () => {
    for (const p of [user, astro]) {
      const href = await p.getAttribute('#en-return', 'href');
      if (href !== 'https://shop.example/account' || !(await p.isVisible('#en-return'))) throw new Error(String(href));
    }
  });
  await L.shot(user, SUITE, '02-time-up-360');
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.wallet.balance === '484.00' && money.ledgerOk, 'the database is settled: the full price charged, nothing frozen, the ledger balances', JSON.stringify(money));
  // Ending alone, before the astrologer ever joined: nothing is charged.
  const lone = L.book(s, 'chat', 30, '25.00');
  await user.goto(lone.userUrl);
  await L.waitState(user, 'prejoin');
  await user.click('#pj-join');
  await user.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'waiting');
  await user.click('#ac-end');
  await user.click('#ce-yes');
  await t.check('ending before the other side joined charges nothing and refunds the whole price', async () => {
    await L.waitState(user, 'ended');
    const facts = await user.textContent('#en-facts');
    if (!/Charged0\.00/.test(facts) || !/Refunded to your wallet25\.00/.test(facts)) throw new Error(facts);
    if (!/nothing was charged/.test(await user.textContent('#en-reason'))) throw new Error(await user.textContent('#en-reason'));
  });
  await L.shot(user, SUITE, '03-ended-alone-360');
  const w = L.settled(s, lone);
  t.ok(w.wallet.frozen === '0.00' && w.wallet.balance === '500.00' && w.ledgerOk, 'the lone end left nothing frozen and the whole balance back', JSON.stringify(w));

  // The relay dies mid-session, so no session-ended frame can come: the pages must ask the API.
  const quiet = L.book(s, 'chat', 6, '12.00');
  await user.goto(quiet.userUrl);
  await astro.goto(quiet.astrologerUrl);
  await L.waitState(user, 'prejoin');
  await L.waitState(astro, 'prejoin');
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('ac-timer').dataset.level !== 'idle');
  await s.killRelay();
  await t.check('with the relay gone, both pages reach the time-up summary through the API once the server ends the session', async () => {
    const { startedAt, paidMinutes } = s.ctl('show', quiet.sessionId);
    await L.waitFor(() => Date.now() > Date.parse(startedAt) + paidMinutes * 1000, 15000, 'the deadline');
    s.ctl('expire');
    for (const p of [user, astro]) {
      await L.waitState(p, 'ended', 10000);
      if (!/paid time is over/.test(await p.textContent('#en-reason'))) throw new Error(await p.textContent('#en-reason'));
    }
    const facts = await user.textContent('#en-facts');
    if (!/Charged12\.00/.test(facts)) throw new Error(facts);
  });
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
