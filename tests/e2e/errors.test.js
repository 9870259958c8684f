// errors.test.js: links that cannot be used show the error state in plain words, and a device check
// that fails (permission denied, no device) shows the specific help, then recovers.
'use strict';
const crypto = require('crypto');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'errors';

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const browser = await L.browser();
  const p = await L.page(browser, { viewport: { width: 360, height: 740 } });

  const cases = [
    ['an unknown link', `${s.base}/session/${crypto.randomBytes(32).toString('base64url')}`, /does not work/, 'unknown'],
    ['an expired link', L.book(s, 'chat', 10, '10.00', ['--starts', '2020-01-01T00:00:00Z']).userUrl, /has expired/, 'expired'],
    ['a link that does not open yet', L.book(s, 'video', 10, '10.00', ['--starts', '2030-01-01T10:00:00Z']).astrologerUrl, /too early/, 'not-open'],
  ];
  for (const [what, url, title, name] of cases) {
    await p.goto(url);
    await t.check(`${what} shows the error state with what to do next`, async () => {
      await L.waitState(p, 'error');
      const got = await p.textContent('#err-title');
      if (!title.test(got)) throw new Error(got);
      if (!(await p.textContent('#err-next')).trim()) throw new Error('no next step');
      if (await p.isVisible('#pj-join')) throw new Error('join offered');
    });
    await L.shot(p, SUITE, `error-${name}-360`);
  }
  t.ok(/opens at/.test(await p.textContent('#err-text')), 'the early link says when it opens');
  t.ok((await themeProblems(p)).length === 0, 'error state at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(p)).join('; '));

  // Permission denied: a fake device exists but nothing grants access to it.
  const denyBrowser = await L.browser(['--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection']);
  for (const type of ['voice', 'video']) {
    const b = L.book(s, type);
    const ctx = await denyBrowser.newContext({ viewport: { width: 360, height: 740 } });
    const q = await ctx.newPage();
    await q.goto(b.userUrl);
    await t.check(`${type}: denied permission shows how to allow it`, async () => {
      await L.waitState(q, 'prejoin');
      await q.waitForSelector('#dc-help:not([hidden])');
      const title = await q.textContent('#dc-help-title');
      const want = type === 'video' ? 'camera and microphone are blocked' : 'microphone is blocked';
      if (!title.includes(want) || !/Allow/.test(await q.textContent('#dc-help-text'))) throw new Error(title);
    });
    await L.shot(q, SUITE, `${type}-denied-360`);
    await ctx.grantPermissions(['camera', 'microphone']);
    await q.click('#dc-retry');
    await t.check(`${type}: once allowed, Try again clears the help and starts the check`, async () => {
      await q.waitForSelector('#dc-help', { state: 'hidden' });
      if (type === 'video') await q.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
      await q.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
    });
    await L.shot(q, SUITE, `${type}-prejoin-devices-360`);
    t.ok((await themeProblems(q)).length === 0, `${type} pre-join with devices at 360 px: AA contrast, no dark blue, no sideways scroll`, (await themeProblems(q)).join('; '));
    await ctx.close();
  }

  // Device choice: with two cameras and two microphones, picking others reopens the preview with them.
  const two = await L.browser(['--use-fake-device-for-media-stream=device-count=2', '--use-fake-ui-for-media-stream']);
  const vb = L.book(s, 'video');
  const v = await L.page(two, { viewport: { width: 360, height: 740 } });
  await v.goto(vb.userUrl);
  await t.check('video pre-join lists both cameras and both microphones', () =>
    v.waitForFunction(() => document.getElementById('dc-cam').options.length === 2 && document.getElementById('dc-mic').options.length >= 2));
  await t.check('choosing another camera and microphone switches the preview to them', async () => {
    const cam = await v.$eval('#dc-cam', (e) => [...e.options].find((o) => !o.selected).value);
    await v.selectOption('#dc-cam', cam);
    await v.waitForFunction((id) => {
      const st = document.getElementById('dc-preview').srcObject;
      return st && st.getVideoTracks()[0].getSettings().deviceId === id && document.getElementById('dc-cam').value === id;
    }, cam);
    const mic = await v.$eval('#dc-mic', (e) => [...e.options].find((o) => !o.selected).value);
    await v.selectOption('#dc-mic', mic);
    await v.waitForFunction((id) => {
      const st = document.getElementById('dc-preview').srcObject;
      return st && st.getAudioTracks()[0].getSettings().deviceId === id;
    }, mic);
  });
  await L.shot(v, SUITE, 'video-two-cameras-360');

  // No device at all: access would be granted, but there is nothing to open.
  const bare = await L.browser(['--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection']);
  const b = L.book(s, 'voice');
  const q = await L.page(bare, { viewport: { width: 360, height: 740 } });
  await q.goto(b.userUrl);
  await t.check('voice: no microphone shows how to connect one', async () => {
    await q.waitForSelector('#dc-help:not([hidden])');
    const title = await q.textContent('#dc-help-title');
    if (!/No microphone found/.test(title)) throw new Error(title);
  });
  await L.shot(q, SUITE, 'voice-no-device-360');
});
