// page.js: time to the pre-join on a slow phone, join-to-video time of the session page over N runs, the bytes the page weighs, and what a chat customer's page loads of it.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const L = require('../tests/e2e/lib');

const RUNS = Math.max(1, Math.min(50, Number(process.argv[2]) || 10));

async function weight(base) {
  const files = ['/session.html', '/css/session.css', ...fs.readdirSync(path.join(L.ROOT, 'html/js')).filter((f) => f.endsWith('.js')).map((f) => `/js/${f}`)];
  let bytes = 0, gz = 0;
  for (const f of files) {
    const res = await fetch(base + f);
    if (!res.ok) throw new Error(`${f}: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    bytes += body.length;
    gz += zlib.gzipSync(body, { level: 6 }).length;
  }
  return { files: files.length, bytes, gz };
}

// What a chat customer's page really fetches, up to the room with its chat: the modules a session may
// never use load only when used, so this is less than the whole page's weight.
async function chatLoads(s, browser) {
  const b = L.book(s, 'chat', 20, '10.00');
  const p = await L.page(browser);
  const got = [];
  p.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/v/') || u.pathname.startsWith('/session/')) got.push(r.body().catch(() => Buffer.alloc(0)));
  });
  await p.goto(b.userUrl);
  await L.waitState(p, 'prejoin');
  await p.click('#pj-join');
  await L.waitState(p, 'active');
  await p.waitForLoadState('networkidle');
  const bodies = await Promise.all(got);
  await p.context().close();
  return {
    files: bodies.length,
    bytes: bodies.reduce((n, x) => n + x.length, 0),
    gz: bodies.reduce((n, x) => n + zlib.gzipSync(x, { level: 6 }).length, 0),
  };
}

// Slow 4G as Lighthouse's mobile runs define it (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up),
// on a phone whose CPU is 4 times slower than this machine's.
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const PREJOIN_TARGET_MS = 1200;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

// From the start of navigation to the pre-join on screen, as the page itself times it: a first visit (empty
// cache) and a visit again (the versioned files kept).
async function toPrejoin(s, browser) {
  const first = [], again = [];
  for (let i = 0; i < RUNS; i++) {
    const b = L.book(s, 'video', 20, '10.00');
    const ctx = await browser.newContext(PHONE);
    const p = await ctx.newPage();
    await p.addInitScript(() => {
      new MutationObserver(() => {
        const app = document.getElementById('app');
        if (app && app.dataset.state === 'prejoin' && !window.__prejoinAt) window.__prejoinAt = performance.now();
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
    });
    const cdp = await ctx.newCDPSession(p);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    for (const times of [first, again]) {
      await p.goto(b.userUrl);
      await p.waitForFunction(() => window.__prejoinAt, null, { timeout: 30000 });
      times.push(await p.evaluate(() => window.__prejoinAt));
    }
    await ctx.close();
  }
  return { first: median(first), again: median(again) };
}

async function run() {
  const s = await L.stack();
  const media = L.makeMedia(s.dir);
  const args = (y4m) => [...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`, `--use-file-for-fake-video-capture=${y4m}`];
  const userBrowser = await L.browser(args(media.userVideo));
  const astroBrowser = await L.browser(args(media.astrologerVideo));
  const pj = await toPrejoin(s, userBrowser);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const b = L.book(s, 'video', 20, '10.00');
    const user = await L.page(userBrowser);
    const astro = await L.page(astroBrowser);
    await Promise.all([user.goto(b.userUrl), astro.goto(b.astrologerUrl)]);
    // The device check is done (previews play) before the clock starts: only the join is timed.
    for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0);
    const t0 = performance.now();
    await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
    // A remote frame is on screen: the element has the picture's size and current data to show.
    const frames = (p) => p.waitForFunction(() => {
      const v = document.getElementById('vi-remote');
      return v.videoWidth > 0 && v.readyState >= 2;
    }, null, { timeout: 30000, polling: 10 });
    await Promise.all([frames(user), frames(astro)]);
    times.push(performance.now() - t0);
    await user.context().close();
    await astro.context().close();
  }
  const w = await weight(s.base);
  const chat = await chatLoads(s, userBrowser);
  times.sort((a, b) => a - b);
  const med = median(times);
  console.log(`page: to the pre-join on a 390x844 phone, slow 4G (150 ms, 1.6 Mbit/s) and 4x CPU: median ${Math.round(pj.first)} ms on a first visit (target ${PREJOIN_TARGET_MS}), ${Math.round(pj.again)} ms again, over ${RUNS} runs`);
  console.log(`page: join to remote video on both sides: median ${Math.round(med)} ms over ${RUNS} runs (min ${Math.round(times[0])}, max ${Math.round(times[times.length - 1])})`);
  console.log(`page: weight ${w.bytes} bytes uncompressed in ${w.files} files (limit 60000), ${w.gz} bytes gzipped`);
  console.log(`page: a chat customer's page loads ${chat.bytes} bytes uncompressed in ${chat.files} files, ${chat.gz} bytes gzipped`);
  return w.bytes < 60000 && pj.first < PREJOIN_TARGET_MS;
}

L.isolate(600000);
run().then(async (ok) => { await L.cleanup(); process.exit(ok ? 0 : 1); },
  async (e) => { console.log(`page: failed: ${e.message}`); await L.cleanup(); process.exit(1); });
