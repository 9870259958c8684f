// screen.test.js: screen sharing in a video session between two Chromium processes: the shared screen
// replaces the camera on the other side, whole and marked, and the camera comes back; voice and chat rooms
// have no such control.
'use strict';
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'screen';

const remoteSize = (p) => p.$eval('#vi-remote', (v) => `${v.videoWidth}x${v.videoHeight}`);
const fit = (p) => p.$eval('#vi-remote', (v) => getComputedStyle(v).objectFit);

L.main(SUITE, 240000, async (t) => {
  const s = await L.stack();
  const media = L.makeMedia(s.dir);
  const b = L.book(s, 'video', 20, '80.00');
  const args = (y4m) => [...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`, `--use-file-for-fake-video-capture=${y4m}`];
  const user = await L.page(await L.browser(args(media.userVideo)), { viewport: { width: 360, height: 740 } });
  const astro = await L.page(await L.browser(args(media.astrologerVideo)));
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await t.check('both peer connections connect and show the cameras', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
    for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0);
  });
  const camera = await remoteSize(user);
  t.ok(await astro.isVisible('#ct-screen') && await astro.textContent('#ct-screen') === 'Share screen',
    'a video room offers "Share screen"');

  await astro.click('#ct-screen');
  await t.check('the customer sees the astrologer\'s screen in place of the camera, marked as shared', async () => {
    await user.waitForSelector('#vi-remote-screen:not([hidden])');
    await L.waitFor(async () => (await remoteSize(user)) !== camera, 10000, `a picture other than the camera's ${camera}`);
    await L.waitFor(async () => (await L.rising(user, 'framesDecoded', 800)).up, 10000, 'frames');
  });
  const shared = await remoteSize(user);
  t.ok(await fit(user) === 'contain', 'on the phone the shared screen is shown whole, not cropped as a face is', await fit(user));
  // Visible means in view and not under the header or the controls.
  const uncovered = await user.$eval('#vi-remote-screen', (tag) => {
    const r = tag.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return top === tag || tag.contains(top);
  });
  t.ok(uncovered, 'on the phone the "Sharing their screen" mark is in view, not under the header');
  const btn = await astro.$eval('#ct-screen', (e) => [e.textContent, e.getAttribute('aria-pressed')]);
  t.ok(btn[0] === 'Stop sharing' && btn[1] === 'true', 'the sharer\'s button says "Stop sharing" and is pressed', btn.join(' '));
  t.ok(await astro.$eval('#ct-cam', (e) => e.disabled), 'the camera button waits while the screen is shared');
  await L.shot(user, SUITE, '01-screen-seen-360');
  await L.shot(astro, SUITE, '01-sharing-desktop');
  t.ok((await themeProblems(user)).length === 0, 'the shared-screen view at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  await astro.click('#ct-screen');
  await t.check('stop sharing: the camera comes back for the customer and the mark goes', async () => {
    await user.waitForSelector('#vi-remote-screen', { state: 'hidden' });
    await L.waitFor(async () => (await remoteSize(user)) === camera, 10000, `the camera's ${camera} again (${shared} while shared)`);
    await L.waitFor(async () => (await L.rising(user, 'framesDecoded', 800)).up, 10000, 'frames');
  });
  t.ok(await astro.$eval('#ct-screen', (e) => e.textContent) === 'Share screen' && !(await astro.$eval('#ct-cam', (e) => e.disabled)),
    'the sharer\'s controls are back as they were');
  t.ok(await astro.evaluate(() => window.__probe.streams.flatMap((st) => st.getVideoTracks())
    .filter((tr) => /screen|window|tab/.test(tr.label)).every((tr) => tr.readyState === 'ended')), 'the screen capture is released');

  await user.click('#ct-screen');
  await t.check('the customer can share too: the astrologer sees it', () => astro.waitForSelector('#vi-remote-screen:not([hidden])'));
  await user.click('#ct-screen');
  await t.check('... and stop', () => astro.waitForSelector('#vi-remote-screen', { state: 'hidden' }));

  for (const type of ['voice', 'chat']) {
    const other = L.book(s, type, 10, '10.00');
    await user.goto(other.userUrl);
    await user.click('#pj-join');
    await L.waitState(user, 'active');
    t.ok(!(await user.isVisible('#ct-screen')), `a ${type} room has no "Share screen"`);
  }
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
