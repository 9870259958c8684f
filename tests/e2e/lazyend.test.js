// lazyend.test.js: with the relay gone, nobody tells the page the paid time ran out: the page asks the
// API from the deadline on, and the server ends the session on that read, so the time-up summary follows.
'use strict';
const L = require('./lib');

const SUITE = 'lazyend';

L.main(SUITE, 90000, async (t) => {
  const s = await L.stack({ SESSIONS_MINUTE_MS: '1000' });
  const b = L.book(s, 'chat', 6, '12.00');
  const browser = await L.browser();
  const user = await L.page(browser);
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await L.waitState(user, 'prejoin');
  await L.waitState(astro, 'prejoin');
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('ac-timer').dataset.level !== 'idle');
  await s.killRelay();
  const { startedAt, paidMinutes } = s.ctl('show', b.sessionId);
  const deadline = Date.parse(startedAt) + paidMinutes * 1000;
  await t.check('with the relay gone, both pages reach the time-up summary within a few seconds of the deadline', async () => {
    for (const p of [user, astro]) {
      await L.waitState(p, 'ended', Math.max(0, deadline - Date.now()) + 8000);
      if (!/paid time is over/.test(await p.textContent('#en-reason'))) throw new Error(await p.textContent('#en-reason'));
    }
    const facts = await user.textContent('#en-facts');
    if (!/Charged12\.00/.test(facts)) throw new Error(facts);
  });
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.ledgerOk, 'the session was settled by the read that ended it', JSON.stringify(money));
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
