// devices.test.js: the device check as people meet it: Join waits while the browser asks, a busy camera
// costs neither the microphone nor the call (Join without camera, then Retry camera in the room), the
// toggles chosen before joining hold in the call, and focus starts on the room's main control.
'use strict';
const L = require('./lib');

const SUITE = 'devices';

// In the page: every getUserMedia waits until the test opens the gate (as while a permission prompt is
// up), and a camera request fails as when another app holds the camera, until the test frees it.
function gate() {
  const md = navigator.mediaDevices;
  const orig = md.getUserMedia.bind(md);
  const g = { asked: 0, camBusy: true };
  g.opened = new Promise((r) => { g.open = r; });
  window.__gate = g;
  md.getUserMedia = async (c) => {
    g.asked++;
    await g.opened;
    if (c && c.video && g.camBusy) throw new DOMException('Could not start video source', 'NotReadableError');
    return orig(c);
  };
}

const focused = (p) => p.evaluate(() => document.activeElement && document.activeElement.id);

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const media = L.makeMedia(s.dir, false);
  const b = L.book(s, 'video', 20, '40.00');
  const browser = await L.browser([...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`]);
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);
  await user.context().addInitScript(gate);

  await user.goto(b.userUrl);
  await t.check('while the browser asks for the devices, Join cannot be pressed', async () => {
    await L.waitState(user, 'prejoin');
    await user.waitForFunction(() => window.__gate.asked > 0);
    if (!(await user.isDisabled('#pj-join'))) throw new Error('Join is enabled');
    await user.$eval('#pj-join', (e) => e.click());
    if ((await L.state(user)) !== 'prejoin') throw new Error('joined anyway');
  });
  await L.shot(user, SUITE, '01-asking-360');
  await user.evaluate(() => window.__gate.open());

  await t.check('a busy camera: its own message, the microphone still works, Join says "Join without camera"', async () => {
    await user.waitForFunction(() => !document.getElementById('pj-join').disabled);
    if ((await user.textContent('#pj-join')) !== 'Join without camera') throw new Error(await user.textContent('#pj-join'));
    const title = await user.textContent('#dc-help-title');
    if (title !== 'Your camera is busy') throw new Error(title);
    await user.waitForFunction(() => Number(document.getElementById('dc-meter').getAttribute('aria-valuenow')) > 3);
    if (await user.isVisible('#dc-cam-on')) throw new Error('a camera toggle for a camera that failed');
  });
  await L.shot(user, SUITE, '02-camera-busy-360');

  // The astrologer switches microphone and camera off before joining.
  await astro.goto(b.astrologerUrl);
  await astro.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
  await astro.click('#dc-mic-on');
  await astro.click('#dc-cam-on');
  await t.check('camera off before joining releases the camera and shows it off', async () => {
    await astro.waitForSelector('#dc-preview-off:not([hidden])');
    if ((await astro.getAttribute('#dc-mic-on', 'aria-checked')) !== 'false' || (await astro.textContent('#dc-cam-on')) !== 'Camera off') throw new Error('switches');
    await astro.waitForFunction(() => window.__probe.streams.flatMap((st) => st.getVideoTracks()).every((tr) => tr.readyState === 'ended'));
    await astro.waitForFunction(() => !document.getElementById('pj-join').disabled);
  });
  const outputs = await astro.evaluate(async () => ({
    sink: 'setSinkId' in HTMLMediaElement.prototype,
    n: (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput').length,
  }));
  const spk = await astro.isVisible('#dc-spk-row');
  t.ok(spk === (outputs.sink && outputs.n > 1), 'the speaker choice shows exactly when the browser can switch and has more than one', JSON.stringify({ spk, ...outputs }));
  let sinkId = '';
  if (spk) {
    sinkId = await astro.$eval('#dc-spk', (e) => e.options[e.options.length - 1].value);
    await astro.selectOption('#dc-spk', sinkId);
  }

  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await t.check('after joining, focus is on the mute button, and the first Tab does not reach End session', async () => {
    for (const p of [user, astro]) {
      await L.waitState(p, 'active');
      if ((await focused(p)) !== 'ct-mute') throw new Error(`focus on ${await focused(p)}`);
    }
    await user.keyboard.press('Tab');
    if ((await focused(user)) === 'ac-end') throw new Error('Tab went to End session');
  });
  await t.check('both connect; the customer\'s microphone reaches the astrologer without a camera', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
    await L.waitFor(async () => (await L.rising(astro, 'inAudio', 800)).up, 10000, 'audio');
    await astro.waitForSelector('#vi-remote-off:not([hidden])');
  });
  await t.check('the toggles chosen before joining hold: the astrologer starts muted, camera off', async () => {
    if ((await astro.getAttribute('#ct-mute', 'aria-pressed')) !== 'true' || (await astro.getAttribute('#ct-cam', 'aria-pressed')) !== 'true') throw new Error('not pressed');
    await user.waitForSelector('#vi-remote-muted:not([hidden])');
    await user.waitForSelector('#vi-remote-off:not([hidden])');
  });
  if (spk) t.ok((await astro.$eval('#vi-remote', (e) => e.sinkId)) === sinkId, 'the chosen speaker plays the other side');
  await t.check('in the room the failed camera has "Retry camera" in place of its toggle', async () => {
    await user.waitForSelector('#ct-retry-cam:not([hidden])');
    if (await user.isVisible('#ct-cam')) throw new Error('camera toggle shown');
  });
  await L.shot(user, SUITE, '03-room-retry-camera-360');

  await user.click('#ct-retry-cam');
  await t.check('Retry camera while the camera is still busy says so, and stays', async () => {
    await user.waitForSelector('#warn:not([hidden])');
    if (!/camera is busy.*Retry camera/.test(await user.textContent('#warn'))) throw new Error(await user.textContent('#warn'));
    await user.waitForSelector('#ct-retry-cam:not([hidden]):not([disabled])');
  });
  await user.evaluate(() => { window.__gate.camBusy = false; });
  await user.click('#ct-retry-cam');
  await t.check('once the camera is free, Retry camera sends video: the astrologer decodes frames', async () => {
    await astro.waitForSelector('#vi-remote-off', { state: 'hidden' });
    await astro.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0);
    await L.waitFor(async () => (await L.rising(astro, 'framesDecoded', 800)).up, 10000, 'frames');
    await user.waitForSelector('#ct-cam:not([hidden])');
    if ((await user.textContent('#ct-cam')) !== 'Camera off' || await user.isVisible('#ct-retry-cam')) throw new Error('controls');
  });
  t.ok((await L.rtpTotals(user)).pcs === 1, 'the camera came in on the same peer connection');
  await L.shot(user, SUITE, '04-camera-back-360');

  // A voice room: focus starts on the mute button there too (the other side need not be in yet).
  const v = L.book(s, 'voice', 20, '20.00');
  const solo = await L.page(browser);
  await solo.goto(v.userUrl);
  await solo.waitForFunction(() => !document.getElementById('pj-join').disabled && document.getElementById('pj-join').textContent === 'Join session');
  await solo.click('#pj-join');
  await t.check('a voice room starts with focus on the mute button', async () => {
    await L.waitState(solo, 'active');
    if ((await focused(solo)) !== 'ct-mute') throw new Error(`focus on ${await focused(solo)}`);
  });
  t.ok([user, astro, solo].every((p) => p.__errors.length === 0), 'no script errors', [...user.__errors, ...astro.__errors, ...solo.__errors].join('; '));
});
