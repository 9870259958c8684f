// autoplay.test.js: where the browser blocks playback until a tap (as iOS does), the video room says
// so with a button, and a tap starts the other participant's video and sound.
'use strict';
const L = require('./lib');

const SUITE = 'autoplay';

L.main(SUITE, 120000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'video', 20, '20.00');
  // Chromium lets a page that captures camera or microphone autoplay; this customer shares neither
  // (permission not given), so only the policy decides. Without that permission Chromium would hide its
  // address behind an mDNS name nothing resolves in this namespace: the flag keeps it plain.
  const strict = await L.browser(['--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection',
    '--autoplay-policy=user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns']);
  const user = await L.page(strict, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(await L.browser());
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await user.waitForSelector('#dc-help:not([hidden])');
  await astro.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
  // Playwright's own calls count as user activation; the page clicks Join itself once that has worn
  // off, so the join (and the remote stream that follows) happens with no gesture at all.
  await user.evaluate(() => {
    const later = () => (navigator.userActivation.isActive ? setTimeout(later, 100) : document.getElementById('pj-join').click());
    later();
  });
  await astro.click('#pj-join');
  // Waiting on the customer's page would lend it activation again: wait on the astrologer's side,
  // which connects only after the customer has its remote stream.
  await L.pcState(astro, 'connected');
  await t.check('blocked playback shows the tap-to-play button', () => user.waitForSelector('#vi-tap:not([hidden])'));
  t.ok(await user.$eval('#vi-remote', (v) => v.paused), 'the remote video is really paused by the browser');
  await L.shot(user, SUITE, '01-tap-to-play-360');
  await user.click('#vi-tap');
  await t.check('a tap plays the other participant\'s video and hides the button', async () => {
    await user.waitForFunction(() => !document.getElementById('vi-remote').paused && document.getElementById('vi-remote').videoWidth > 0);
    await user.waitForSelector('#vi-tap', { state: 'hidden' });
  });
  t.ok(user.__errors.length === 0, 'no script errors', user.__errors.join('; '));
});
