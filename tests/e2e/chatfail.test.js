// chatfail.test.js: a message or a shared file the relay refuses shows, in the real page in Chromium, as not sent
// with the reason and a way to retry or remove it, never as "Sending…" for ever.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync, spawn } = require('child_process');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'chatfail';

// The customer's own messages: text (or file name), status line, classes, and the buttons below it.
const mine = (p) => p.$$eval('#msgs li.msg.mine', (els) => els.map((e) => ({
  text: (e.querySelector('.text') || e.querySelector('.fname') || e.querySelector('.file-wait')).textContent,
  st: e.querySelector('.st').textContent,
  failed: e.classList.contains('failed'),
  pending: e.classList.contains('pending'),
  buttons: [...e.querySelectorAll('.fail-acts button')].map((b) => b.textContent),
})));
const last = async (p) => (await mine(p)).pop();

async function send(p, text) {
  await p.fill('#msg-input', text);
  await p.press('#msg-input', 'Enter');
}

L.main(SUITE, 180000, async (t) => {
  // Two messages each before both have joined, so the third is refused.
  const s = await L.stack({ SESSIONS_CHAT_BEFORE_START_MESSAGES: '2' });
  const b = L.book(s, 'chat', 30, '60.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 390, height: 760 } });
  const astro = await L.page(browser);
  const sql = (q) => execFileSync('sqlite3', [s.db.replace(/\.db$/, '-chat.db'), q], { encoding: 'utf8', timeout: 10000 }).trim();

  await user.goto(b.userUrl);
  await user.click('#pj-join');
  await L.waitState(user, 'active');
  await send(user, 'Hello');
  await send(user, 'Are you there?');
  await user.waitForFunction(() => document.querySelectorAll('#msgs li.msg[data-seq]').length === 2);
  await send(user, 'A third one');
  await t.check('a text over the allowance shows as not sent with the reason, Retry and Remove', async () => {
    await L.waitFor(async () => (await last(user)).failed, 8000, 'the message marked failed');
    const m = await last(user);
    if (m.text !== 'A third one' || m.pending || m.st !== 'Not sent: You cannot send more messages in this session.' ||
      m.buttons.join() !== 'Retry,Remove') throw new Error(JSON.stringify(m));
  });
  await L.shot(user, SUITE, '01-text-refused-390');
  t.ok((await themeProblems(user)).length === 0, 'a refused message at 390 px: AA contrast, no dark blue, no sideways scroll',
    (await themeProblems(user)).join('; '));
  await t.check('Retry sends it again with its id: refused again, it shows failed again', async () => {
    await user.click('#msgs li.msg.failed .fail-acts button:text-is("Retry")');
    await L.waitFor(async () => { const m = await last(user); return m.failed && m.buttons.join() === 'Retry,Remove'; }, 8000, 'failed again');
  });
  await t.check('Remove takes it off the page; the stored two stay', async () => {
    await user.click('#msgs li.msg.failed .fail-acts button:text-is("Remove")');
    const texts = (await mine(user)).map((m) => m.text);
    if (texts.join('|') !== 'Hello|Are you there?') throw new Error(texts.join('|'));
    if (sql(`SELECT count(*) FROM chat_messages m JOIN chat_rooms r ON r.id = m.room WHERE r.session_id = '${b.sessionId}'`) !== '2') throw new Error('a third was stored');
  });

  await astro.goto(b.astrologerUrl);
  await astro.click('#pj-join');
  await L.waitState(astro, 'active');

  // The other side gets a message while its commit runs. strace holds the chat writer's fdatasync for
  // 1.5 s and then fails it, as a dying disk would: the commit fails after the astrologer had the message.
  const tasks = `/proc/${s.relayPid()}/task`;
  const writer = fs.readdirSync(tasks).find((x) => fs.readFileSync(`${tasks}/${x}/comm`, 'utf8').trim() === 'chat-writer');
  const tracer = spawn('strace', ['-qq', '-p', writer, '-e', 'trace=fdatasync',
    '-e', 'inject=fdatasync:error=EIO:delay_enter=1500000', '-o', '/dev/null'], { stdio: 'ignore' });
  await L.waitFor(async () => /^TracerPid:\s+[1-9]/m.test(fs.readFileSync(`${tasks}/${writer}/status`, 'utf8')), 5000, 'strace holding the chat writer');
  const theirs = () => astro.$$eval('#msgs li.msg', (els) => els.map((e) => e.querySelector('.text')?.textContent || ''));
  await send(user, 'Lost to the disk');
  await t.check('the astrologer sees the message while it is being stored', async () => {
    await L.waitFor(async () => (await theirs()).some((x) => x.includes('Lost to the disk')), 1400, 'the message on the astrologer\'s page');
  });
  await t.check('its commit fails: the astrologer\'s page removes it, the user\'s shows it not sent', async () => {
    await L.waitFor(async () => !(await theirs()).some((x) => x.includes('Lost to the disk')), 8000, 'the message removed');
    await L.waitFor(async () => { const m = await last(user); return m.text === 'Lost to the disk' && m.failed; }, 8000, 'not sent');
  });
  await new Promise((resolve) => { tracer.once('exit', resolve); tracer.kill('SIGINT'); });
  await t.check('Retry once the disk is back: both see it once', async () => {
    await user.click('#msgs li.msg.failed .fail-acts button:text-is("Retry")');
    await L.waitFor(async () => (await theirs()).filter((x) => x.includes('Lost to the disk')).length === 1 &&
      !(await last(user)).failed && !(await last(user)).pending, 8000, 'stored and shown once');
  });

  // A file uploaded while the relay is away, then purged before the page can announce it.
  const work = fs.mkdtempSync(path.join(s.dir, 'chatfail-'));
  const png = path.join(work, 'chart.png');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', png]);
  await s.killRelay();
  await user.waitForSelector('#banner:not([hidden])');
  await user.setInputFiles('#attach-input', png);
  await t.check('a file uploaded while the relay is away waits to be announced', async () => {
    await L.waitFor(async () => /Not sent yet/.test((await last(user)).st), 8000, 'the file waiting');
  });
  const id = sql("SELECT id FROM chat_files WHERE name = 'chart.png'");
  // Never announced for two days: the purge takes it, as cron would.
  sql(`UPDATE chat_files SET created_ms = created_ms - 2 * 86400000 WHERE id = ${Number(id)}`);
  s.ctl('files', 'purge');
  await s.startRelay();
  await t.check('once back, the purged file shows as not sent with the reason, not "Sending…"', async () => {
    await L.waitFor(async () => (await last(user)).failed, 20000, 'the file marked failed');
    const m = await last(user);
    if (m.text !== 'chart.png' || m.st !== 'Not sent: This file is no longer available.' || m.buttons.join() !== 'Retry,Remove') {
      throw new Error(JSON.stringify(m));
    }
    if ((await astro.$$('#msgs .file')).length) throw new Error('the astrologer saw a file');
  });
  await L.shot(user, SUITE, '02-file-refused-390');
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
