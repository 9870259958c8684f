// layout.test.js: the session page as people use it: a long chat on a phone, links and emoji, the end question when the other side ends, video on phones, links too early or too late, and the page's files on the wire.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'layout';
const PHONE = { isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

// Runs in the page: whether an element lies wholly inside the window as it is, without scrolling.
function inView(sel) {
  const r = document.querySelector(sel).getBoundingClientRect();
  return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5;
}

// Runs in the page: what a phone user would trip over: small tap targets, small text, a header on two lines.
function phoneProblems() {
  const out = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && !el.closest('[hidden], .sr-only') && getComputedStyle(el).visibility !== 'hidden';
  };
  for (const el of document.querySelectorAll('button, a, select, textarea, input')) {
    // Links inside a message's words are exempt (WCAG 2.5.8 "inline").
    if (!shown(el) || el.closest('.msg .text')) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) out.push(`tap target #${el.id || el.className} is ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
  }
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !shown(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 14) out.push(`text "${el.textContent.trim().slice(0, 20)}" is ${size}px`);
  }
  const bar = document.querySelector('#s-active:not([hidden]) .bar');
  if (bar) {
    const kids = [...bar.children].filter(shown).map((e) => e.getBoundingClientRect());
    if (Math.max(...kids.map((r) => r.top)) >= Math.min(...kids.map((r) => r.bottom))) out.push('the header wraps onto a second line');
    const name = document.getElementById('ac-other');
    if (name.scrollWidth > name.clientWidth + 1 && getComputedStyle(name).textOverflow !== 'ellipsis') out.push('a long name is cut without an ellipsis');
  }
  return out;
}

// A raw GET, so the test sees the encoding nginx chose rather than a decoded body.
function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

// A booking between accounts with the given names (long ones test the header).
let n = 0;
function bookNamed(s, type, userName, astroName, extra = []) {
  n++;
  const u = `${userName} ${n}`, a = `${astroName} ${n}`;
  s.ctl('user', 'add', u, '--balance', '500.00');
  s.ctl('astrologer', 'add', a);
  const b = s.ctl('book', '--user', u, '--astrologer', a, '--type', type, '--minutes', '10', '--price', '10.00', ...extra);
  return { ...b, userUrl: `${s.base}/session/${b.userToken}`, astrologerUrl: `${s.base}/session/${b.astrologerToken}` };
}

async function joinBoth(user, astro, b) {
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  for (const p of [user, astro]) { await L.waitState(p, 'prejoin'); await p.click('#pj-join'); }
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('ac-presence').dataset.p === 'joined');
}

const count = (p) => p.$$eval('#msgs li.msg', (els) => els.length);

async function send(p, text) {
  await p.fill('#msg-input', text);
  await p.press('#msg-input', 'Enter');
}

L.main(SUITE, 300000, async (t) => {
  // Links open at their start and last only their paid time, so a test can see both ends of that window.
  const s = await L.stack({ SESSIONS_OPENS_BEFORE_MINUTES: '0', SESSIONS_VALID_AFTER_MINUTES: '0' });
  const browser = await L.browser();

  // 3. A long chat on a phone.
  const cb = bookNamed(s, 'chat', 'Asha Rao', 'Ravi Shankar Venkataraman Subramaniam Iyer');
  const user = await L.page(browser, { viewport: { width: 390, height: 844 }, ...PHONE });
  const astro = await L.page(browser);
  await joinBoth(user, astro, cb);
  for (let i = 1; i <= 60; i++) await send(astro, `Line ${i} of a long reading about the planets and what they mean for this week`);
  await user.waitForFunction(() => document.querySelectorAll('#msgs li.msg').length === 60);
  await t.check('60 messages on a 390x844 phone: header and composer stay in view, only the list scrolls, the newest shows', async () => {
    for (const sel of ['.bar', '#composer', '#ac-end', '#msgs li.msg:last-child']) if (!(await user.evaluate(inView, sel))) throw new Error(`${sel} out of view`);
    const r = await user.evaluate(() => ({ page: document.documentElement.scrollHeight - innerHeight, list: document.getElementById('msgs').scrollHeight - document.getElementById('msgs').clientHeight }));
    if (r.page > 1 || r.list < 100) throw new Error(JSON.stringify(r));
  });
  await L.shot(user, SUITE, 'chat-60-390');
  await user.$eval('#msgs', (e) => { e.scrollTop = 200; });
  await send(astro, 'One more');
  await send(astro, 'And another');
  await user.waitForFunction(() => document.querySelectorAll('#msgs li.msg').length === 62);
  await t.check('a reader who scrolled up stays where they were, and a button says "2 new messages"', async () => {
    await user.waitForSelector('#msgs-new:not([hidden])');
    const top = await user.$eval('#msgs', (e) => e.scrollTop);
    if (Math.abs(top - 200) > 2) throw new Error(`scrolled to ${top}`);
    const label = await user.textContent('#msgs-new');
    if (!/^2 new messages/.test(label)) throw new Error(label);
    if (!(await user.evaluate(inView, '#msgs-new'))) throw new Error('button out of view');
  });
  await L.shot(user, SUITE, 'chat-unread-390');
  await t.check('the button takes the reader to the newest message and goes away', async () => {
    await user.click('#msgs-new', { timeout: 2000 });
    await user.waitForSelector('#msgs-new', { state: 'hidden' });
    if (!(await user.evaluate(inView, '#msgs li.msg:last-child'))) throw new Error('newest not in view');
  });
  for (const [w, h, what] of [[390, 420, 'with the on-screen keyboard up (390x420 visible)'], [320, 568, 'on a 320x568 phone'], [320, 300, 'on a 320x568 phone with the keyboard up']]) {
    await user.setViewportSize({ width: w, height: h });
    await t.check(`${what}: header, End and composer stay in view`, async () => {
      await user.waitForFunction(() => document.getElementById('composer').getBoundingClientRect().bottom <= innerHeight + 0.5);
      for (const sel of ['.bar', '#ac-end', '#composer', '#msg-input']) if (!(await user.evaluate(inView, sel))) throw new Error(`${sel} out of view`);
    });
  }
  await L.shot(user, SUITE, 'chat-keyboard-320');
  await user.setViewportSize({ width: 320, height: 568 });

  // 8. Links and emoji.
  const linkText = 'Your chart: https://example.com/chart?d=1&x=2, and javascript:alert(1) and <b>bold</b>';
  await send(astro, linkText);
  await t.check('an https address in a message is a link that opens apart (noopener noreferrer, new tab); javascript: and markup stay text', async () => {
    await user.waitForFunction(() => [...document.querySelectorAll('#msgs .text')].some((e) => e.textContent.startsWith('Your chart')));
    const got = await user.$$eval('#msgs li.msg', (els) => {
      const li = els.find((e) => e.querySelector('.text').textContent.startsWith('Your chart'));
      const links = [...li.querySelectorAll('a')];
      return { text: li.querySelector('.text').textContent, b: li.querySelectorAll('b').length,
        links: links.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.rel, target: a.target })) };
    });
    if (got.text !== linkText) throw new Error(`text ${got.text}`);
    if (got.b !== 1) throw new Error('markup became elements'); // the sender's name is the one <b>
    const want = [{ href: 'https://example.com/chart?d=1&x=2', text: 'https://example.com/chart?d=1&x=2', rel: 'noopener noreferrer', target: '_blank' }];
    if (JSON.stringify(got.links) !== JSON.stringify(want)) throw new Error(JSON.stringify(got.links));
  });
  await t.check('the emoji button opens a grid from the keyboard, with the focus in it', async () => {
    await user.focus('#emoji-btn', { timeout: 2000 });
    await user.keyboard.press('Enter');
    await user.waitForSelector('#emoji-panel:not([hidden])');
    if (!(await user.evaluate(() => document.activeElement.classList.contains('emoji')))) throw new Error('focus not in the grid');
    if ((await user.getAttribute('#emoji-btn', 'aria-expanded')) !== 'true') throw new Error('aria-expanded');
    if (!(await user.evaluate(inView, '#emoji-panel'))) throw new Error('grid out of view');
  });
  await L.shot(user, SUITE, 'emoji-320');
  await t.check('Escape closes it and gives the focus back to its button', async () => {
    await user.keyboard.press('Escape');
    await user.waitForSelector('#emoji-panel', { state: 'hidden' });
    if (await user.evaluate(() => document.activeElement.id) !== 'emoji-btn') throw new Error('focus lost');
  });
  await t.check('arrow and Enter insert the chosen emoji into the message and return to typing', async () => {
    await user.fill('#msg-input', 'Thanks ');
    await user.focus('#emoji-btn', { timeout: 2000 });
    await user.keyboard.press('Enter');
    await user.keyboard.press('ArrowRight');
    await user.keyboard.press('Enter');
    await user.waitForSelector('#emoji-panel', { state: 'hidden' });
    if ((await user.inputValue('#msg-input')) !== 'Thanks 😊') throw new Error(await user.inputValue('#msg-input'));
    if (await user.evaluate(() => document.activeElement.id) !== 'msg-input') throw new Error('focus not in the message');
  });
  await t.check('a tap inserts one too, and the message with emoji reaches the other side', async () => {
    await user.tap('#emoji-btn', { timeout: 2000 });
    await user.tap('#emoji-panel button.emoji >> nth=8');
    if ((await user.inputValue('#msg-input')) !== 'Thanks 😊👍') throw new Error(await user.inputValue('#msg-input'));
    await user.press('#msg-input', 'Enter');
    await astro.waitForFunction(() => [...document.querySelectorAll('#msgs .text')].some((e) => e.textContent === 'Thanks 😊👍'));
  });
  await t.check('chat on a 320x568 phone: tap targets of 44 px, text of 14 px or more, a one-line header with a long name', async () => {
    const p = await user.evaluate(phoneProblems);
    if (p.length) throw new Error(p.join('; '));
  });
  t.ok((await themeProblems(user)).length === 0, 'chat at 320 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  // 4. The end question, open while the other side ends the session.
  await user.click('#ac-end');
  await user.waitForSelector('#confirm-end[open]');
  await astro.click('#ac-end');
  await astro.click('#ce-yes');
  await t.check('the end question closes by itself when the other side ends the session', async () => {
    await L.waitState(user, 'ended');
    await user.waitForFunction(() => !document.getElementById('confirm-end').open);
  });
  await L.shot(user, SUITE, 'ended-under-dialog-320');

  // 5. Video on phones.
  const vb = bookNamed(s, 'video', 'Asha Rao', 'Ravi Shankar Venkataraman Subramaniam Iyer');
  const vu = await L.page(browser, { viewport: { width: 390, height: 844 }, ...PHONE });
  await vu.goto(vb.userUrl);
  await L.waitState(vu, 'prejoin');
  await vu.waitForFunction(() => document.getElementById('dc-preview').videoWidth > 0 && document.getElementById('dc-mic').options.length > 0);
  for (const [w, h] of [[390, 844], [320, 568], [360, 640], [844, 390], [568, 320]]) {
    await vu.setViewportSize({ width: w, height: h });
    await t.check(`video pre-join at ${w}x${h}: Join is in view without scrolling`, async () => {
      await vu.evaluate(() => scrollTo(0, 0));
      if (!(await vu.evaluate(inView, '#pj-join'))) throw new Error(JSON.stringify(await vu.$eval('#pj-join', (e) => e.getBoundingClientRect().toJSON())));
    });
  }
  await L.shot(vu, SUITE, 'video-prejoin-568x320');
  await vu.setViewportSize({ width: 320, height: 568 });
  await t.check('video pre-join at 320x568: tap targets of 44 px, text of 14 px or more', async () => {
    const p = await vu.evaluate(phoneProblems);
    if (p.length) throw new Error(p.join('; '));
  });
  await L.shot(vu, SUITE, 'video-prejoin-320');
  await vu.setViewportSize({ width: 390, height: 844 });
  const va = await L.page(browser);
  await vu.click('#pj-join');
  await va.goto(vb.astrologerUrl);
  await L.waitState(va, 'prejoin');
  await va.click('#pj-join');
  await vu.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0, null, { timeout: 30000 });
  for (const [w, h] of [[390, 844], [320, 568]]) {
    await vu.setViewportSize({ width: w, height: h });
    // The room follows the visible height on the next frame, as it does when a phone turns.
    await vu.waitForFunction(() => document.getElementById('s-active').getBoundingClientRect().height <= innerHeight + 0.5).catch(() => {});
    await t.check(`video at ${w}x${h} in portrait: the remote picture covers at least 90% of the screen, cropped not letterboxed`, async () => {
      const r = await vu.$eval('#vi-remote', (e) => ({ ...e.getBoundingClientRect().toJSON(), fit: getComputedStyle(e).objectFit }));
      const share = (r.width * r.height) / (w * h);
      if (share < 0.9 || r.fit !== 'cover') throw new Error(`${(share * 100).toFixed(0)}% ${r.fit}`);
    });
    await t.check(`video at ${w}x${h}: the self-view keeps off the centre of the remote picture and inside the screen`, async () => {
      const r = await vu.evaluate(() => {
        const a = document.getElementById('vi-remote').getBoundingClientRect();
        const b = document.querySelector('#v-video .local').getBoundingClientRect();
        const cx = a.left + a.width / 2, cy = a.top + a.height / 2;
        return { covers: cx >= b.left && cx <= b.right && cy >= b.top && cy <= b.bottom, b: b.toJSON(),
          overControls: b.bottom > document.getElementById('controls').getBoundingClientRect().top };
      });
      if (r.covers || r.overControls || r.b.top < 0 || r.b.bottom > h || r.b.width < 60) throw new Error(JSON.stringify(r));
    });
    await t.check(`video at ${w}x${h}: header, End and controls in view; tap targets of 44 px, text of 14 px or more, a one-line header with a long name`, async () => {
      for (const sel of ['.bar', '#ac-end', '#ct-mute', '#ct-cam']) if (!(await vu.evaluate(inView, sel))) throw new Error(`${sel} out of view`);
      const p = await vu.evaluate(phoneProblems);
      if (p.length) throw new Error(p.join('; '));
    });
    await L.shot(vu, SUITE, `video-active-${w}`);
    t.ok((await themeProblems(vu)).length === 0, `video at ${w} px: AA contrast, no dark blue, no sideways scroll`, (await themeProblems(vu)).join('; '));
  }
  await va.click('#ac-end');
  await va.click('#ce-yes');
  await L.waitState(vu, 'ended');

  // 6. Too early: the page counts down to the opening and opens by itself.
  const early = bookNamed(s, 'chat', 'Asha Rao', 'Ravi', ['--starts', iso(Date.now() + 7000)]);
  const ep = await L.page(browser, { viewport: { width: 390, height: 844 }, ...PHONE });
  await ep.goto(early.userUrl);
  await t.check('a link that is not open yet counts down to its opening', async () => {
    await L.waitState(ep, 'error');
    const a = await ep.textContent('#err-text');
    if (!/opens at .*, in 00:0\d\.$/.test(a)) throw new Error(a);
    await ep.waitForFunction((was) => document.getElementById('err-text').textContent !== was, a, { timeout: 3000 });
  });
  await L.shot(ep, SUITE, 'not-open-countdown-390');
  await t.check('... and opens by itself when the time comes: the pre-join shows with nothing clicked', () => L.waitState(ep, 'prejoin', 15000));

  // 6. Too late: what happened to the money, in each side's words.
  // Started 48 s ago with one paid minute: the link runs out 12 s from now.
  const runsOut = Date.now() + 12000;
  const late = bookNamed(s, 'chat', 'Asha Rao', 'Ravi', ['--starts', iso(runsOut - 60000), '--minutes', '1']);
  const lu = await L.page(browser, { viewport: { width: 390, height: 844 }, ...PHONE });
  const la = await L.page(browser);
  await lu.goto(late.userUrl);
  await la.goto(late.astrologerUrl);
  for (const p of [lu, la]) await L.waitState(p, 'prejoin');
  await new Promise((r) => setTimeout(r, runsOut + 1500 - Date.now()));
  for (const p of [lu, la]) await p.click('#pj-join');
  const money = async (p) => { await L.waitState(p, 'error'); return p.textContent('#err-money', { timeout: 2000 }); };
  await t.check('a link that ran out while the customer waited: nothing was charged, the full price is back in their wallet', async () => {
    const m = await money(lu);
    if (!/^Nothing was charged: the full price is back in your wallet/.test(m)) throw new Error(m);
  });
  await L.shot(lu, SUITE, 'expired-user-390');
  await t.check('... and the astrologer reads that the customer got the full price back', async () => {
    const m = await money(la);
    if (!/the customer got the full price back/.test(m)) throw new Error(m);
  });
  await lu.goto(late.userUrl);
  await t.check('the expired link opened afresh (whose it is unknown) says nothing was charged and the customer got it all back', async () => {
    const m = await money(lu);
    if (!/nothing was charged and the customer got the full price back/.test(m)) throw new Error(m);
  });

  for (const [leaver, stayer, want] of [['astrologer', 'user', /^You were charged only for the time you were both connected, and the rest is back in your wallet/],
    ['user', 'astrologer', /^The customer was charged only for the time you were both connected and got the rest back/]]) {
    const eb = bookNamed(s, 'chat', 'Asha Rao', 'Ravi');
    const url = (role) => (role === 'user' ? eb.userUrl : eb.astrologerUrl);
    const gone = await L.page(browser);
    const waiting = await L.page(browser, { viewport: { width: 390, height: 844 }, ...PHONE });
    await waiting.goto(url(stayer));
    await L.waitState(waiting, 'prejoin');
    await gone.goto(url(leaver));
    await L.waitState(gone, 'prejoin');
    await gone.click('#pj-join');
    await L.waitState(gone, 'active');
    await gone.click('#ac-end');
    await gone.click('#ce-yes');
    await L.waitState(gone, 'ended');
    await waiting.click('#pj-join');
    await t.check(`a session that ended while the ${stayer} was in the pre-join: the money in the ${stayer}'s words`, async () => {
      const m = await money(waiting);
      if (!want.test(m)) throw new Error(m);
    });
    await L.shot(waiting, SUITE, `ended-${stayer}-390`);
    t.ok((await themeProblems(waiting)).length === 0, `error state at 390 px (${stayer}): AA contrast, no dark blue, no sideways scroll`, (await themeProblems(waiting)).join('; '));
  }

  // 9. The page's files on the wire.
  const page = await get(cb.userUrl, { 'Accept-Encoding': 'gzip' });
  const html = (page.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(page.body) : page.body).toString();
  const version = execFileSync('sh', [path.join(L.ROOT, 'deploy/page-version.sh'), path.join(L.ROOT, 'html')], { encoding: 'utf8' }).trim();
  t.ok(page.headers['cache-control'] === 'no-store', 'the page itself is never cached', page.headers['cache-control']);
  const refs = [...html.matchAll(/(?:href|src)="(\/v\/[^"]+)"/g)].map((m) => m[1]);
  t.ok(refs.length > 0 && refs.every((r) => r.startsWith(`/v/${version}/`)), 'the page names its CSS and JavaScript under /v/<the version of those files>/', refs.join(' '));
  // What the pre-join needs: the static imports from session.js on. The room's modules come by import() after it shows.
  const needed = new Set();
  const walk = (f) => {
    for (const m of fs.readFileSync(path.join(L.ROOT, 'html/js', f), 'utf8').matchAll(/^import .* from '\.\/([^']+)';$/gm)) {
      if (!needed.has(m[1])) { needed.add(m[1]); walk(m[1]); }
    }
  };
  walk('session.js');
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/v\/[^/]+\/js\/([^"]+)">/g)].map((m) => m[1]);
  const missing = [...needed].filter((m) => !preloaded.includes(m));
  t.ok(missing.length === 0 && !needed.has('room.js'), 'every module the pre-join needs is preloaded, and the room is not among them', `missing: ${missing.join(' ')}; needed: ${[...needed].join(' ')}`);
  const wrong = [];
  for (const ref of refs) {
    const r = await get(s.base + ref, { 'Accept-Encoding': 'gzip' });
    if (r.status !== 200 || r.headers['content-encoding'] !== 'gzip' || r.headers['cache-control'] !== 'public, max-age=31536000, immutable') {
      wrong.push(`${ref}: ${r.status} ${r.headers['content-encoding']} ${r.headers['cache-control']}`);
    }
  }
  t.ok(refs.length && !wrong.length, `the page's CSS and JavaScript files (${refs.length}) are gzip-compressed and kept a year`, wrong.join('; '));
});
