// voice.test.js: a voice session through the real page: audio both ways over a real peer connection,
// never video, mute silences what the other side hears, the astrologer ends and both see the summary.
'use strict';
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'voice';

L.main(SUITE, 240000, async (t) => {
  const s = await L.stack();
  const media = L.makeMedia(s.dir, false);
  const b = L.book(s, 'voice', 20, '40.00');
  const browser = await L.browser([...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`]);
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);

  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await t.check('pre-join checks the microphone only: level meter and microphone choice, no camera', async () => {
    await user.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
    if (await user.isVisible('#dc-cam-row') || await user.isVisible('#dc-preview')) throw new Error('camera shown');
    await user.waitForFunction(() => Number(document.getElementById('dc-meter').getAttribute('aria-valuenow')) > 3);
  });
  await L.shot(user, SUITE, '01-prejoin-360');
  await astro.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);

  await t.check('both peer connections connect', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
  });
  for (const [name, p] of [['customer', user], ['astrologer', astro]]) {
    await t.check(`the ${name} receives audio packets`, async () => {
      await L.waitFor(async () => (await L.rising(p, 'inAudio', 800)).up, 10000, 'audio packets');
    });
    const tot = await L.rtpTotals(p);
    const gum = await p.evaluate(() => window.__probe.gum);
    const kinds = await p.evaluate(() => window.__probe.pcs.flatMap((pc) => pc.getReceivers().map((r) => r.track.kind)));
    t.ok(gum.length > 0 && gum.every((c) => !c.video), `the ${name}'s page asked for audio only`, JSON.stringify(gum));
    t.ok(tot.inVideo === 0 && tot.outVideo === 0 && kinds.every((k) => k === 'audio'), `the ${name} neither sends nor receives video`, JSON.stringify({ tot, kinds }));
    t.ok(!(await p.isVisible('video')), `the ${name}'s voice room shows no video element`);
  }
  await t.check('each side sees the other\'s avatar with initials and the speaking indicator from the tone', async () => {
    if ((await user.textContent('#vo-other-av')) !== 'RS' || (await astro.textContent('#vo-other-av')) !== 'AR') throw new Error('initials');
    await user.waitForSelector('#vo-other.speaking', { timeout: 10000 });
    await astro.waitForSelector('#vo-other.speaking', { timeout: 10000 });
  });
  await t.check('the network indicator shows the round trip', () =>
    user.waitForFunction(() => /\d+ ms/.test(document.getElementById('ac-net-text').textContent) && document.getElementById('ac-net').dataset.q === 'good'));
  await t.check('the timer runs on both sides', async () => {
    for (const p of [user, astro]) await p.waitForFunction(() => /left$/.test(document.getElementById('ac-remaining').textContent));
  });
  await L.shot(user, SUITE, '02-active-360');
  await L.shot(astro, SUITE, '02-active-desktop');
  t.ok((await themeProblems(user)).length === 0, 'voice room at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  const before = await L.remoteLevel(astro, '#vo-remote');
  t.ok(before > 0.003, 'the astrologer hears the customer\'s tone', `level ${before}`);
  await user.click('#ct-mute');
  await t.check('mute: the astrologer sees the customer as muted and hears nothing', async () => {
    await astro.waitForSelector('#vo-other-muted:not([hidden])');
    await L.waitFor(async () => (await L.remoteLevel(astro, '#vo-remote')) < 0.0005, 8000, 'silence');
    await astro.waitForSelector('#vo-other:not(.speaking)');
  });
  t.ok((await user.getAttribute('#ct-mute', 'aria-pressed')) === 'true' && (await user.textContent('#ct-mute')) === 'Unmute', 'the mute button says it is pressed');
  await L.shot(astro, SUITE, '03-other-muted-desktop');
  const still = await L.remoteLevel(user, '#vo-remote');
  t.ok(still > 0.003, 'the customer still hears the astrologer while muted', `level ${still}`);
  await user.click('#ct-mute');
  await t.check('unmute: the tone is heard again and the muted tag goes', async () => {
    await astro.waitForSelector('#vo-other-muted', { state: 'hidden' });
    await L.waitFor(async () => (await L.remoteLevel(astro, '#vo-remote')) > 0.003, 8000, 'the tone');
  });

  // The relay restarts mid-call: the call itself is peer to peer and goes on; the pages reconnect.
  await s.killRelay();
  await t.check('relay gone: the reconnecting banner shows while audio keeps flowing', async () => {
    await user.waitForSelector('#banner:not([hidden])', { timeout: 10000 });
    await L.waitFor(async () => (await L.rising(astro, 'inAudio', 800)).up, 5000, 'audio');
  });
  await s.startRelay();
  await t.check('relay back: the banner goes and both sides hear each other again', async () => {
    for (const p of [user, astro]) await p.waitForSelector('#banner', { state: 'hidden', timeout: 20000 });
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
    for (const p of [user, astro]) await L.waitFor(async () => (await L.rising(p, 'inAudio', 800)).up, 10000, 'audio');
  });

  // The customer reloads: a fresh page rejoins and a fresh negotiation connects the call again.
  await user.reload();
  await t.check('after a reload the customer can rejoin the call', async () => {
    await L.waitState(user, 'prejoin');
    if ((await user.textContent('#pj-join')) !== 'Rejoin session') throw new Error(await user.textContent('#pj-join'));
    await user.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
    await user.click('#pj-join');
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
    for (const p of [user, astro]) await L.waitFor(async () => (await L.rising(p, 'inAudio', 800)).up, 10000, 'audio');
  });

  await astro.click('#ac-end');
  await astro.click('#ce-yes');
  await t.check('the astrologer ends: both pages show the summary', async () => {
    await L.waitState(astro, 'ended');
    await L.waitState(user, 'ended', 10000);
    if (!/You earned/.test(await astro.textContent('#en-facts'))) throw new Error('no earnings');
    if (!/Charged/.test(await user.textContent('#en-facts')) || !/The astrologer ended/.test(await user.textContent('#en-reason'))) throw new Error('user summary');
  });
  for (const [name, p] of [['customer', user], ['astrologer', astro]]) {
    const r = await L.released(p);
    t.ok(r.live === 0 && r.open === 0, `the ${name}'s microphone is released and the peer connection closed`, JSON.stringify(r));
  }
  await L.shot(user, SUITE, '04-ended-360');
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.ledgerOk, 'the database is settled: nothing frozen, the ledger balances', JSON.stringify(money));
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
