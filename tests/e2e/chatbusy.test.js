// chatbusy.test.js: chat the server could not take yet (busy: the chat file locked by another process)
// goes again from the page on its own and lands once on both sides, without a reload or a reconnect.
'use strict';
const { spawn } = require('child_process');
const L = require('./lib');

const SUITE = 'chatbusy';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const count = (p, text) => p.$$eval('#msgs li.msg .text', (els, t) => els.filter((e) => e.textContent === t).length, text);

L.main(SUITE, 120000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'chat', 30, '60.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await Promise.all([L.waitState(user, 'active'), L.waitState(astro, 'active')]);
  await user.fill('#msg-input', 'before the lock');
  await user.press('#msg-input', 'Enter');
  await t.check('chat flows before the lock', () => L.waitFor(async () => (await count(astro, 'before the lock')) === 1, 10000, 'the first message'));

  // Another process holds the chat file's write lock: the relay's writer waits, then answers busy.
  const holder = spawn('sqlite3', [s.db.replace(/\.db$/, '-chat.db')], { stdio: ['pipe', 'pipe', 'ignore'] });
  L.onCleanup(() => holder.kill('SIGKILL'));
  let said = '';
  holder.stdout.on('data', (d) => { said += d; });
  holder.stdin.write('PRAGMA busy_timeout = 5000;\nBEGIN IMMEDIATE;\nSELECT \'held\';\n');
  await L.waitFor(() => said.includes('held'), 5000, 'the lock');
  await user.fill('#msg-input', 'while it was busy');
  await user.press('#msg-input', 'Enter');
  await t.check('while the lock is held the message stays pending and the page says the server is busy', async () => {
    await user.waitForFunction(() => /busy/i.test(document.getElementById('warn').textContent), null, { timeout: 10000 });
    if (!(await user.$eval('#msgs li.msg:last-child', (e) => e.classList.contains('pending')))) throw new Error('not pending');
  });
  t.ok(await count(astro, 'while it was busy') === 0, 'the astrologer has not got it while nothing was stored');
  await sleep(2500); // long enough for the page to try again once more while still busy
  holder.stdin.write('ROLLBACK;\n.quit\n');
  await t.check('once the lock is gone the page sends it again by itself: it lands once on both sides', () =>
    L.waitFor(async () => (await count(astro, 'while it was busy')) === 1 && (await count(user, 'while it was busy')) === 1 &&
      !(await user.$('#msgs li.msg.pending')), 15000, 'the message on both sides, nothing pending'));
  await sleep(1500);
  t.ok(await count(astro, 'while it was busy') === 1 && await count(user, 'while it was busy') === 1, 'and only once, after the retries');
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
