// video.test.js: a video session between two Chromium processes with different fake cameras: frames
// decoded on both sides (and from the right peer), camera off stops them, mute, the customer ends.
'use strict';
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'video';

// The colour of the remote picture's top-left corner, where each fake camera has its own box.
const corner = (p) => p.evaluate(() => {
  const v = document.getElementById('vi-remote');
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const [r, gr, b] = g.getImageData(Math.floor(c.width * 0.06), Math.floor(c.height * 0.08), 1, 1).data;
  return r > 150 && gr < 100 ? 'red' : gr > 150 && r < 100 ? 'green' : `rgb(${r},${gr},${b})`;
});

L.main(SUITE, 240000, async (t) => {
  // A configured STUN server (nothing answers it here; host candidates on lo still connect).
  const ice = [{ urls: 'stun:127.0.0.1:3478' }];
  const s = await L.stack({ SESSIONS_ICE_SERVERS: JSON.stringify(ice) });
  const media = L.makeMedia(s.dir);
  const b = L.book(s, 'video', 20, '80.00');
  const args = (y4m) => [...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`, `--use-file-for-fake-video-capture=${y4m}`];
  const user = await L.page(await L.browser(args(media.userVideo)), { viewport: { width: 360, height: 740 } });
  const astro = await L.page(await L.browser(args(media.astrologerVideo)));

  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await t.check('pre-join shows the camera preview and both device lists', async () => {
    for (const p of [user, astro]) {
      await p.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
      await p.waitForFunction(() => document.getElementById('dc-cam').options.length > 0 && document.getElementById('dc-mic').options.length > 0);
    }
  });
  await L.shot(user, SUITE, '01-prejoin-360');
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);

  await t.check('both peer connections connect', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
  });
  for (const [name, p, from] of [['customer', user, 'green'], ['astrologer', astro, 'red']]) {
    await t.check(`the ${name} decodes the other's video frames`, async () => {
      await p.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0);
      await L.waitFor(async () => (await L.rising(p, 'framesDecoded', 800)).up, 10000, 'frames');
    });
    const c = await corner(p);
    t.ok(c === from, `the ${name}'s big picture is the other participant's camera`, c);
    await t.check(`the ${name} receives audio packets`, () => L.waitFor(async () => (await L.rising(p, 'inAudio', 800)).up, 10000, 'audio'));
    const v = await p.$eval('#vi-remote', (e) => ({ playsinline: e.hasAttribute('playsinline'), paused: e.paused }));
    t.ok(v.playsinline && !v.paused, `the ${name}'s remote video is inline and playing`, JSON.stringify(v));
  }
  const used = await user.evaluate(() => window.__probe.pcs[0].getConfiguration().iceServers);
  t.ok(JSON.stringify(used.map((x) => x.urls).flat()) === JSON.stringify(['stun:127.0.0.1:3478']), 'the peer connection uses the ICE servers the API configured', JSON.stringify(used));
  await t.check('the network indicator shows the round trip', () =>
    astro.waitForFunction(() => /\d+ ms/.test(document.getElementById('ac-net-text').textContent)));
  await L.shot(user, SUITE, '02-active-360');
  await L.shot(astro, SUITE, '02-active-desktop');
  t.ok((await themeProblems(user)).length === 0, 'video room at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  await user.click('#ct-cam');
  await t.check('camera off: the customer\'s camera is released', () =>
    user.waitForFunction(() => window.__probe.streams.flatMap((st) => st.getVideoTracks()).every((tr) => tr.readyState === 'ended')));
  await t.check('camera off: the astrologer sees "Camera is off" and no more frames arrive', async () => {
    await astro.waitForSelector('#vi-remote-off:not([hidden])');
    await new Promise((r) => setTimeout(r, 500));
    const r = await L.rising(astro, 'framesDecoded', 1500);
    if (r.up) throw new Error(`frames still rising ${r.a} -> ${r.b}`);
  });
  await t.check('camera off: the customer\'s own preview says so', () => user.waitForSelector('#vi-local-off:not([hidden])'));
  await L.shot(astro, SUITE, '03-other-camera-off-desktop');
  await L.shot(user, SUITE, '03-camera-off-360');
  await user.click('#ct-cam');
  await t.check('camera on: frames flow again and the notice goes', async () => {
    await astro.waitForSelector('#vi-remote-off', { state: 'hidden' });
    await L.waitFor(async () => (await L.rising(astro, 'framesDecoded', 800)).up, 10000, 'frames');
  });

  await astro.click('#ct-mute');
  await t.check('mute: the customer sees the astrologer muted and hears nothing', async () => {
    await user.waitForSelector('#vi-remote-muted:not([hidden])');
    await L.waitFor(async () => (await L.remoteLevel(user, '#vi-remote')) < 0.0005, 8000, 'silence');
  });
  await L.shot(user, SUITE, '04-other-muted-360');
  await astro.click('#ct-mute');
  await t.check('unmute: sound is back', async () => {
    await user.waitForSelector('#vi-remote-muted', { state: 'hidden' });
    await L.waitFor(async () => (await L.remoteLevel(user, '#vi-remote')) > 0.003, 8000, 'the tone');
  });

  await user.click('#ac-end');
  await user.click('#ce-yes');
  await t.check('the customer ends: both pages show the summary', async () => {
    await L.waitState(user, 'ended');
    await L.waitState(astro, 'ended', 10000);
    if (!/You earned/.test(await astro.textContent('#en-facts'))) throw new Error('astrologer summary');
  });
  for (const [name, p] of [['customer', user], ['astrologer', astro]]) {
    const r = await L.released(p);
    t.ok(r.live === 0 && r.open === 0, `the ${name}'s camera and microphone are released and the peer connection closed`, JSON.stringify(r));
  }
  await L.shot(astro, SUITE, '05-ended-desktop');
  const money = L.settled(s, b);
  t.ok(money.wallet.frozen === '0.00' && money.ledgerOk, 'the database is settled: nothing frozen, the ledger balances', JSON.stringify(money));
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
