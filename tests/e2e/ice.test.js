// ice.test.js: the network path breaks mid-call (loopback loses its address for a while): the page
// shows the other side as reconnecting, restarts ICE, and the call recovers with new credentials.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');

const SUITE = 'ice';
const ufrag = (p) => p.evaluate(() => {
  const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
  return (/a=ice-ufrag:(\S+)/.exec(pc.localDescription ? pc.localDescription.sdp : '') || [])[1];
});

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'voice', 20, '20.00');
  const browser = await L.browser();
  const user = await L.page(browser);
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await L.pcState(user, 'connected');
  await L.pcState(astro, 'connected');
  const before = await ufrag(astro);

  // Only ever inside the test's own namespace, where lo is the one interface.
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
  if (process.env.SESSIONS_E2E_NETNS !== '1' || links.length !== 1 || !/ lo:/.test(links[0])) throw new Error('not in a loopback-only namespace');
  execFileSync('ip', ['addr', 'del', '127.0.0.1/8', 'dev', 'lo']);
  let restored = false;
  const restore = () => { if (!restored) { restored = true; execFileSync('ip', ['addr', 'add', '127.0.0.1/8', 'dev', 'lo']); } };
  L.onCleanup(restore);
  await t.check('with the path gone the other side shows as reconnecting', () =>
    astro.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'reconnecting', null, { timeout: 40000 }));
  await L.shot(astro, SUITE, '01-reconnecting');
  await t.check('while the path is down the offering side restarts ICE with new credentials', () =>
    L.waitFor(async () => { const u = await ufrag(astro); return u && u !== before; }, 30000, 'a new ufrag'));
  restore();
  await t.check('with the path back the call connects again', async () => {
    await L.pcState(user, 'connected', 60000);
    await L.pcState(astro, 'connected', 60000);
    for (const p of [user, astro]) await L.waitFor(async () => (await L.rising(p, 'inAudio', 800)).up, 15000, 'audio');
    await astro.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined');
  });
  const theirs = await user.evaluate(() => {
    const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
    return { ufrag: (/a=ice-ufrag:(\S+)/.exec(pc.remoteDescription.sdp) || [])[1], pcs: window.__probe.pcs.length };
  });
  const pcs = await astro.evaluate(() => window.__probe.pcs.length);
  t.ok(theirs.ufrag === await ufrag(astro) && theirs.pcs === 1 && pcs === 1, 'the restart happened on the same peer connections, not new ones', JSON.stringify({ theirs, pcs }));
});
