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
    // The relay connections come back on the heartbeat's backoff (up to 8 s a try).
    await astro.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined', null, { timeout: 40000 });
  });
  // The pages' heartbeat gave up their relay connections while the path was down. Once they are back the
  // offering side renews the restart on the connection it has; the relay may first tell it the other
  // side left (that side's old connection closes when the network returns), and then a new connection is
  // negotiated instead. Either way both sides end on the same credentials.
  const newest = (p, which) => p.evaluate((w) => {
    const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
    const d = pc[w];
    return { ufrag: (/a=ice-ufrag:(\S+)/.exec(d ? d.sdp : '') || [])[1], sig: pc.signalingState };
  }, which);
  await t.check('the relay connections come back and both sides agree on the credentials', async () => {
    for (const p of [user, astro]) await p.waitForSelector('#banner', { state: 'hidden', timeout: 40000 });
    await L.waitFor(async () => {
      const [a, u] = [await newest(astro, 'localDescription'), await newest(user, 'remoteDescription')];
      return a.sig === 'stable' && a.ufrag === u.ufrag;
    }, 15000, 'the same credentials');
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
  });
});
