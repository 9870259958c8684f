// notes.test.js: session notes through the real page in Chromium: the astrologer's notes autosave during a chat
// and survive a reload, earlier versions can be looked at, a published summary reaches the customer's ended page
// and the link opened later, and the customer's page never has the notes.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'notes';

const sql = (s, q) => execFileSync('sqlite3', [s.db, q], { encoding: 'utf8', timeout: 10000 }).trim();
const status = (p) => p.textContent('#nt-status');
const saved = (p) => p.waitForFunction(() => /^Saved/.test(document.getElementById('nt-status').textContent));
const visible = (p, sel) => p.isVisible(sel);

async function join(p, url) {
  await p.goto(url);
  await L.waitState(p, 'prejoin');
  await p.click('#pj-join');
  await L.waitState(p, 'active');
}

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'chat', 30, '60.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);

  await join(user, b.userUrl);
  await join(astro, b.astrologerUrl);
  await t.check("the astrologer's room has a Notes button; the customer's has none and no panel", async () => {
    // The notes code loads when the astrologer's room opens, so its button shows a moment after the room.
    await astro.waitForSelector('#ac-notes', { state: 'visible', timeout: 5000 })
      .catch(() => { throw new Error('no Notes button for the astrologer'); });
    if (await visible(user, '#ac-notes') || await visible(user, '#notes')) throw new Error('the customer sees notes');
  });

  await astro.click('#ac-notes');
  await astro.type('#nt-text', 'Sun in Leo, Moon in Cancer. Worried about a job change.');
  await t.check('typed notes save by themselves a moment after typing stops, shown as Saved', async () => {
    await saved(astro);
    const n = sql(s, `SELECT count(*) FROM note_versions WHERE session_id = '${b.sessionId}'`);
    if (n !== '1') throw new Error(`${n} versions stored`);
  });
  await L.shot(astro, SUITE, '01-room-notes-desktop');

  await astro.type('#nt-text', ' Suggested spring.');
  await astro.reload();
  await L.waitState(astro, 'active');
  await astro.click('#ac-notes');
  await t.check('notes typed just before leaving are saved as the page goes, and are back after a reload', async () => {
    await astro.waitForFunction(() => document.getElementById('nt-text').value.endsWith('Suggested spring.'));
    if (!/^Saved/.test(await status(astro))) throw new Error(await status(astro));
  });

  await t.check('earlier versions are listed and one can be read', async () => {
    await astro.click('#nt-versions summary');
    await astro.waitForFunction(() => document.querySelectorAll('#nt-list button').length === 2);
    await astro.click('#nt-list li:last-child button');
    await astro.waitForFunction(() => document.getElementById('nt-view').textContent === 'Sun in Leo, Moon in Cancer. Worried about a job change.');
  });

  await astro.fill('#nt-summary', 'A good year for work. Wait for spring before moving.');
  await astro.click('#nt-publish');
  await t.check('the astrologer publishes a summary for the customer', () =>
    astro.waitForFunction(() => /^Published/.test(document.getElementById('nt-pub-status').textContent)));

  await astro.setViewportSize({ width: 360, height: 740 });
  await L.shot(astro, SUITE, '02-room-notes-360');
  t.ok((await themeProblems(astro)).length === 0, 'the notes panel at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(astro)).join('; '));
  await astro.setViewportSize({ width: 1000, height: 760 });

  await astro.click('#ac-end');
  await astro.click('#ce-yes');
  await L.waitState(astro, 'ended');
  await L.waitState(user, 'ended', 10000);
  await t.check("the customer's ended page shows the published summary, and no notes", async () => {
    await user.waitForFunction(() => !document.getElementById('pub-summary').hidden);
    if ((await user.textContent('#ps-text')) !== 'A good year for work. Wait for spring before moving.') throw new Error(await user.textContent('#ps-text'));
    if (await visible(user, '#notes')) throw new Error('notes panel shown');
    if ((await user.inputValue('#nt-text')) !== '') throw new Error('the notes reached the customer page');
  });
  await L.shot(user, SUITE, '03-ended-customer-360');
  t.ok((await themeProblems(user)).length === 0, "the customer's ended page at 360 px: AA contrast, no sideways scroll", (await themeProblems(user)).join('; '));
  await t.check("the astrologer's ended page keeps the notes, still to be written", async () => {
    await astro.waitForFunction(() => !document.getElementById('notes').hidden && document.getElementById('nt-text').value.endsWith('spring.'));
    await astro.type('#nt-text', ' Follow up in May.');
    await astro.waitForFunction(() => /^Saved/.test(document.getElementById('nt-status').textContent)
      && !document.getElementById('nt-status').textContent.includes('Saving'));
    await L.waitFor(() => sql(s, `SELECT count(*) FROM note_versions WHERE session_id = '${b.sessionId}'`) === '3', 5000, 'a third version');
  });
  await L.shot(astro, SUITE, '04-ended-astrologer-desktop');

  await user.reload();
  await t.check('the customer opening the link later sees the summary, read-only, and no notes', async () => {
    await L.waitState(user, 'error');
    await user.waitForFunction(() => !document.getElementById('pub-summary').hidden);
    if (!(await user.textContent('#s-error')).includes('A good year for work.')) throw new Error('no summary in the ended link');
    if (await visible(user, '#notes') || await user.$('#s-error textarea')) throw new Error('something to write or the notes');
  });
  await L.shot(user, SUITE, '05-link-later-customer-360');
  await astro.reload();
  await t.check('the astrologer opening the link later has the notes', async () => {
    await L.waitState(astro, 'error');
    await astro.waitForFunction(() => !document.getElementById('notes').hidden && document.getElementById('nt-text').value.endsWith('Follow up in May.'));
  });
  await L.shot(astro, SUITE, '06-link-later-astrologer-desktop');
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
