// drop.test.js: the network goes silent (the loopback interface down: nothing is closed, packets just stop)
// in a video call and a chat at once: each page says "Reconnecting…" within 5 s, the call shows no
// connection and a paused picture, a chat message written meanwhile says it is not sent yet; once the
// network is back everything comes back and the message lands once.
'use strict';
const { spawnSync } = require('child_process');
const L = require('./lib');

const SUITE = 'drop';

const link = (how) => {
  const r = spawnSync('ip', ['link', 'set', 'lo', how], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`ip link set lo ${how}: ${r.stderr}`);
};

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const video = L.book(s, 'video', 20, '40.00');
  const chat = L.book(s, 'chat', 20, '20.00');
  const browser = await L.browser();
  const vu = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const va = await L.page(browser);
  const cu = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const ca = await L.page(browser);
  L.onCleanup(() => spawnSync('ip', ['link', 'set', 'lo', 'up']));

  for (const [p, url] of [[vu, video.userUrl], [va, video.astrologerUrl], [cu, chat.userUrl], [ca, chat.astrologerUrl]]) await p.goto(url);
  for (const p of [vu, va]) await p.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0 && !document.getElementById('pj-join').disabled);
  for (const p of [cu, ca]) await L.waitState(p, 'prejoin');
  await Promise.all([vu, va, cu, ca].map((p) => p.click('#pj-join')));
  await t.check('the call and the chat are up', async () => {
    await L.pcState(vu, 'connected');
    await L.pcState(va, 'connected');
    await L.waitFor(async () => (await L.rising(vu, 'framesDecoded', 800)).up, 10000, 'frames');
    await vu.waitForFunction(() => /\d+ ms/.test(document.getElementById('ac-net-text').textContent));
    for (const p of [cu, ca]) await p.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined');
  });

  link('down');
  const cut = Date.now();
  await t.check('within 5 s of the silent drop both the call and the chat say "Reconnecting…"', async () => {
    for (const p of [vu, cu]) {
      await p.waitForSelector('#banner:not([hidden])', { timeout: Math.max(1, 5000 - (Date.now() - cut)) });
      if ((await p.textContent('#ac-presence')) !== 'Reconnecting…') throw new Error(await p.textContent('#ac-presence'));
    }
  });
  console.log(`# noticed after ${Date.now() - cut} ms`);
  await t.check('the call\'s quality says "No connection" instead of the last round trip', () =>
    vu.waitForFunction(() => document.getElementById('ac-net').dataset.q === 'lost'
      && document.getElementById('ac-net-text').textContent === 'No connection', null, { timeout: 10000 }));
  await t.check('the frozen picture is marked as paused', () => vu.waitForSelector('#vi-remote-frozen:not([hidden])', { timeout: 10000 }));
  await cu.fill('#msg-input', 'Written while offline');
  await cu.press('#msg-input', 'Enter');
  await t.check('a chat message written meanwhile says it is not sent yet', () =>
    cu.waitForFunction(() => [...document.querySelectorAll('#msgs li.msg.pending')].some((e) =>
      e.querySelector('.text').textContent === 'Written while offline' && /^Not sent yet/.test(e.querySelector('.st').textContent))));
  await L.shot(vu, SUITE, '01-video-dropped-360');
  await L.shot(cu, SUITE, '02-chat-dropped-360');

  link('up');
  await t.check('the network back: the banners go and the message lands once on both sides', async () => {
    for (const p of [vu, va, cu, ca]) await p.waitForSelector('#banner', { state: 'hidden', timeout: 30000 });
    for (const p of [cu, ca]) {
      await p.waitForFunction(() => [...document.querySelectorAll('#msgs li.msg')].filter((e) =>
        e.querySelector('.text').textContent === 'Written while offline' && !e.classList.contains('pending')).length === 1);
    }
    if ((await cu.textContent('#msgs li.msg.mine .st')) !== 'Sent') throw new Error('not marked sent');
  });
  await t.check('the call comes back: frames flow, the overlay goes, quality is measured again', async () => {
    await L.pcState(vu, 'connected', 30000);
    await L.waitFor(async () => (await L.rising(vu, 'framesDecoded', 800)).up, 15000, 'frames');
    await vu.waitForSelector('#vi-remote-frozen', { state: 'hidden', timeout: 10000 });
    await vu.waitForFunction(() => /\d+ ms/.test(document.getElementById('ac-net-text').textContent), null, { timeout: 10000 });
  });
  t.ok([vu, va, cu, ca].every((p) => p.__errors.length === 0), 'no script errors', [vu, va, cu, ca].flatMap((p) => p.__errors).join('; '));
});
