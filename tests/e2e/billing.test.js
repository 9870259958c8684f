// billing.test.js: the pages show the server's running charge (paused while one is away), the disconnected ends, and the no-show countdown.
'use strict';
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'billing';

// What the page shows of the running charge, and the figures it keeps for tests.
const billOf = (p) => p.$eval('#ac-bill', (e) => ({
  shown: !e.hidden,
  text: document.getElementById('ac-bill-text').textContent,
  secs: Number(e.dataset.billedSeconds),
  amount: e.dataset.amount,
  paused: e.dataset.paused === 'true',
  pausedTag: !document.getElementById('ac-bill-paused').hidden,
  at: Date.parse(e.dataset.serverTime),
}));

// The page's figures against sessionctl's at one moment: a running clock has moved on since the
// server's count (at serverTime); a paused one has not.
async function sameAsServer(s, p, b, amountKey) {
  const bill = await billOf(p);
  const now = Date.now();
  const show = s.ctl('show', b.sessionId);
  const expect = bill.paused ? bill.secs : bill.secs + (now - bill.at) / 1000;
  if (Math.abs(expect - show.billedSeconds) > 1 || bill.amount !== show[amountKey]) {
    throw new Error(`page ${JSON.stringify(bill)}, sessionctl ${show.billedSeconds} s ${show[amountKey]}`);
  }
  return bill;
}

const presenceIs = (p, re) => p.waitForFunction((src) => new RegExp(src).test(document.getElementById('ac-presence').textContent), re.source);

async function joinBoth(user, astro, b) {
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await L.waitState(user, 'prejoin');
  await L.waitState(astro, 'prejoin');
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined');
}

// A page whose relay socket the test can cut, and keep cut, while the page stays open.
async function cuttable(p) {
  const link = { cut: false, open: [] };
  await p.routeWebSocket((url) => url.pathname === '/ws', (ws) => {
    if (link.cut) { ws.close(); return; }
    link.open.push({ ws, server: ws.connectToServer() });
  });
  link.set = (cut) => {
    link.cut = cut;
    if (!cut) return;
    for (const c of link.open.splice(0)) { c.server.close(); c.ws.close(); }
  };
  return link;
}

L.main(SUITE, 180000, async (t) => {
  // Apart this long, the session ends: long enough for a tab to come back within it.
  const s = await L.stack({ SESSIONS_EMPTY_TIMEOUT_SECONDS: '10' });
  const browser = await L.browser();
  const phone = { viewport: { width: 320, height: 640 } };

  // 30 paid minutes for 60.00: a started minute costs 2.00, of which the astrologer earns 1.60.
  const b = L.book(s, 'chat', 30, '60.00');
  const user = await L.page(browser, phone);
  const astro = await L.page(browser);
  await joinBoth(user, astro, b);
  await t.check('both pages show the running charge from the server: the customer the billed time and charge, the astrologer the earnings', async () => {
    await user.waitForFunction(() => /^Billed so far: \d\d:\d\d · \d+\.\d\d$/.test(document.getElementById('ac-bill-text').textContent));
    await astro.waitForFunction(() => /^Earned so far: \d+\.\d\d$/.test(document.getElementById('ac-bill-text').textContent));
    for (const p of [user, astro]) {
      const bill = await billOf(p);
      if (!bill.shown || bill.paused || bill.pausedTag || !Number.isInteger(bill.secs)) throw new Error(JSON.stringify(bill));
    }
  });
  t.ok(!(await user.$eval('#ac-bill', (e) => e.closest('[aria-live], [role="status"], [role="alert"]'))), 'the running charge is no live region, so screen readers are not told of every count');
  await L.waitFor(() => s.ctl('show', b.sessionId).billedSeconds >= 3, 10000, 'some billed time');

  await astro.close();
  await t.check('the astrologer closes the tab: the customer reads that they left and the clock is paused', async () => {
    await presenceIs(user, new RegExp(`^${b.astrologerName} left — the clock is paused$`));
    await user.waitForFunction(() => document.getElementById('ac-bill').dataset.paused === 'true');
    if (!(await user.isVisible('#ac-bill-paused'))) throw new Error('no visible pause');
  });
  await t.check('... and when the session ends unless they are back: the empty timeout (10 s) from now', async () => {
    await user.waitForFunction(() => /^If you are not both back/.test(document.getElementById('ac-noshow').textContent) &&
      !document.getElementById('ac-noshow').hidden, null, { timeout: 3000 });
    const line = await user.textContent('#ac-noshow');
    const m = /^If you are not both back by .+ \(in 00:(\d\d)\), the session ends; only the time you were both here is billed\.$/.exec(line);
    // The page counts whole seconds up from the server's time, which it knows to within a second.
    if (!m || Number(m[1]) < 5 || Number(m[1]) > 11) throw new Error(line);
  });
  await t.check('the customer\'s billed time and charge are sessionctl\'s, while paused', () => sameAsServer(s, user, b, 'amountCharged'));
  t.ok((await themeProblems(user)).length === 0, 'the paused charge at 320 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));
  await L.shot(user, SUITE, '01-paused-320');

  const astro2 = await L.page(browser);
  const rejoined = Date.now();
  await astro2.goto(b.astrologerUrl);
  await t.check('the astrologer comes back: "In the session" again, the clock runs on both pages', async () => {
    await L.waitState(astro2, 'active');
    await presenceIs(user, /^In the session$/);
    for (const p of [user, astro2]) {
      await p.waitForFunction((since) => {
        const e = document.getElementById('ac-bill');
        return e.dataset.paused === 'false' && Date.parse(e.dataset.serverTime) >= since - 1000;
      }, rejoined);
    }
  });
  await t.check('with the clock running, both pages match sessionctl show at the same moment', async () => {
    await sameAsServer(s, user, b, 'amountCharged');
    await sameAsServer(s, astro2, b, 'amountReleased');
  });
  await L.shot(astro2, SUITE, '02-running-astrologer');

  await user.close();
  await t.check('the customer closes the tab: the astrologer reads that they left, and the billing says paused', async () => {
    await presenceIs(astro2, new RegExp(`^${b.userName} left — the clock is paused$`));
    await astro2.waitForFunction(() => document.getElementById('ac-bill').dataset.paused === 'true');
    if (!/^Earned so far: \d+\.\d\d$/.test((await billOf(astro2)).text)) throw new Error((await billOf(astro2)).text);
  });
  await t.check('the astrologer\'s earnings and billed time are sessionctl\'s, while paused', () => sameAsServer(s, astro2, b, 'amountReleased'));
  const paused = await billOf(astro2);
  await t.check('the customer stays away past the empty timeout: the astrologer\'s page ends on its own and says the customer was away', async () => {
    await L.waitState(astro2, 'ended', 20000);
    const why = await astro2.textContent('#en-reason');
    if (why !== `${b.userName} was away for a few minutes, so the session ended.`) throw new Error(why);
  });
  const over = s.ctl('show', b.sessionId);
  t.ok(over.status === 'completed' && over.endReason === 'disconnected' && over.endedBy === 'system', 'sessionctl show says the system ended it as disconnected', JSON.stringify(over));
  t.ok(Math.abs(over.billedSeconds - paused.secs) <= 1 && over.settlement && over.settlement.charged === over.amountCharged,
    'the settlement bills the time both were there, nothing of the time apart', JSON.stringify({ paused, billed: over.billedSeconds, settlement: over.settlement }));
  await t.check('the astrologer\'s summary shows the talk time billed and the earnings of the settlement', async () => {
    const facts = await astro2.textContent('#en-facts');
    if (!/Talk time billed\d+ seconds?/.test(facts) || !facts.includes(`You earned${over.amountReleased}`)) throw new Error(facts);
  });
  await L.shot(astro2, SUITE, '03-customer-away');
  await astro2.close();
  const third = await L.page(browser);
  await third.goto(b.astrologerUrl);
  await t.check('the astrologer\'s link opened again shows the session as ended', async () => {
    await L.waitState(third, 'error');
    if (!/has ended/.test(await third.textContent('#err-title'))) throw new Error(await third.textContent('#err-title'));
  });
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.ledgerOk, 'the database is settled: nothing frozen, the ledger balances', JSON.stringify(money));

  // Both pages stay open but lose the relay past the empty timeout: they come back to an ended session.
  const gone = L.book(s, 'chat', 30, '60.00');
  const u2 = await L.page(browser, phone);
  const a2 = await L.page(browser);
  const links = [await cuttable(u2), await cuttable(a2)];
  await joinBoth(u2, a2, gone);
  await L.waitFor(() => s.ctl('show', gone.sessionId).billedSeconds >= 2, 10000, 'some billed time');
  for (const l of links) l.set(true);
  await L.waitFor(() => s.ctl('show', gone.sessionId).endReason === 'disconnected', 20000, 'disconnected');
  for (const l of links) l.set(false);
  await t.check('the pages that were away come back to the summary: not both connected for a while, with the talk time billed', async () => {
    for (const p of [u2, a2]) {
      await L.waitState(p, 'ended', 20000);
      const why = await p.textContent('#en-reason');
      if (why !== 'The session ended because you were not both connected for a few minutes.') throw new Error(why);
      if (!/Talk time billed\d+ seconds?/.test(await p.textContent('#en-facts'))) throw new Error(await p.textContent('#en-facts'));
    }
    const { amountCharged } = s.ctl('show', gone.sessionId);
    if (!(await u2.textContent('#en-facts')).includes(`Charged${amountCharged}`)) throw new Error(await u2.textContent('#en-facts'));
  });
  t.ok((await themeProblems(u2)).length === 0, 'the disconnected summary at 320 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(u2)).join('; '));
  await L.shot(u2, SUITE, '04-disconnected-320');

  // The customer waits alone: the no-show countdown, and leaving with the whole price back.
  const lone = L.book(s, 'chat', 30, '25.00');
  const u3 = await L.page(browser, phone);
  await u3.goto(lone.userUrl);
  await L.waitState(u3, 'prejoin');
  await u3.click('#pj-join');
  const countdown = new RegExp(`^If ${lone.astrologerName} has not joined by [^(]+ \\(in (0[89]|10):\\d\\d\\), the session ends and your money goes back\\.$`);
  await t.check('the customer waiting alone sees when the session ends without the astrologer, counted down', async () => {
    await u3.waitForFunction((src) => new RegExp(src).test(document.getElementById('ac-noshow').textContent), countdown.source);
    const a = await u3.textContent('#ac-noshow');
    await u3.waitForFunction((was) => document.getElementById('ac-noshow').textContent !== was, a, { timeout: 3000 });
  });
  t.ok(!(await u3.$eval('#ac-noshow', (e) => e.closest('[aria-live], [role="status"], [role="alert"]'))), 'the countdown is no live region');
  t.ok((await u3.textContent('#ac-end')) === 'Leave', 'before both have joined the End button reads Leave', await u3.textContent('#ac-end'));
  t.ok((await themeProblems(u3)).length === 0, 'the waiting room with the countdown at 320 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(u3)).join('; '));
  await L.shot(u3, SUITE, '05-no-show-countdown-320');
  await u3.click('#ac-end');
  await t.check('leaving asks first and says the money goes back in full', async () => {
    await u3.waitForSelector('#confirm-end[open]');
    const q = await u3.textContent('#ce-text');
    if (q !== `${lone.astrologerName} has not joined yet, so the session ends and your money goes back to your wallet in full.`) throw new Error(q);
    if ((await u3.textContent('#ce-yes')) !== 'Leave') throw new Error(await u3.textContent('#ce-yes'));
  });
  await u3.click('#ce-yes');
  await t.check('after leaving, the summary says nothing was charged', async () => {
    await L.waitState(u3, 'ended');
    if (!/nothing was charged/.test(await u3.textContent('#en-reason'))) throw new Error(await u3.textContent('#en-reason'));
    if (!/Charged0\.00/.test(await u3.textContent('#en-facts'))) throw new Error(await u3.textContent('#en-facts'));
  });
  const w = L.settled(s, lone);
  t.ok(w.wallet.frozen === '0.00' && w.wallet.balance === '500.00' && w.ledgerOk, 'leaving alone refunds the whole price: nothing frozen, the balance whole', JSON.stringify(w));

  // The astrologer waiting alone is told the customer gets their money back.
  const early = L.book(s, 'chat', 30, '25.00');
  const a3 = await L.page(browser, phone);
  await a3.goto(early.astrologerUrl);
  await L.waitState(a3, 'prejoin');
  await a3.click('#pj-join');
  await t.check('the astrologer waiting alone sees the countdown and that the customer would be refunded', () =>
    a3.waitForFunction((name) => {
      const txt = document.getElementById('ac-noshow').textContent;
      return txt.startsWith(`If ${name} has not joined by `) && txt.endsWith('the session ends and the customer is refunded.')
        && document.getElementById('ac-end').textContent === 'Leave';
    }, early.userName));

  const pages = [user, astro, astro2, third, u2, a2, u3, a3];
  const errors = pages.flatMap((p) => p.__errors);
  t.ok(errors.length === 0, 'no script errors on any page', errors.join('; '));
});
