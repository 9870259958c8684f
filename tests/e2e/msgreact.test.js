// msgreact.test.js: emoji reactions on chat messages through the real page in Chromium: picked from the set,
// toggled by their chips, counted on both sides, stored, and shown again after a reload and after a reconnect.
'use strict';
const { execFileSync } = require('child_process');
const L = require('./lib');
const { themeProblems, focusVisible } = require('./theme');

const SUITE = 'msgreact';

// The chips of the message with this text: [emoji, count, mine] each, in the page's order.
const chips = (p, text) => p.$$eval('#msgs li.msg', (els, t) => {
  const li = els.find((e) => e.querySelector('.text').textContent === t);
  return li ? [...li.querySelectorAll('.chip')].map((c) => [c.dataset.emoji, Number(c.textContent.split(' ')[1]),
    c.getAttribute('aria-pressed') === 'true']) : null;
}, text);
const msg = (text) => `#msgs li.msg:has(.text:text-is("${text}"))`;
const waitChips = (p, text, want) => L.waitFor(async () => JSON.stringify(await chips(p, text)) === JSON.stringify(want),
  8000, `chips ${JSON.stringify(want)} on "${text}"`);

async function send(p, text) {
  await p.fill('#msg-input', text);
  await p.press('#msg-input', 'Enter');
  await p.waitForFunction((t) => [...document.querySelectorAll('#msgs li.msg[data-seq]')]
    .some((e) => e.querySelector('.text').textContent === t && !e.classList.contains('pending')), text);
}

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'chat', 30, '60.00');
  const rows = () => execFileSync('sqlite3', [s.db.replace(/\.db$/, '-chat.db'),
    `SELECT seq, sender, emoji FROM chat_reactions x JOIN chat_rooms r ON r.id = x.room WHERE r.session_id = '${b.sessionId}' ORDER BY seq, sender, emoji`],
  { encoding: 'utf8' }).trim();
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await t.check('both are in the chat', async () => {
    await L.waitState(user, 'active');
    await L.waitState(astro, 'active');
  });
  await send(user, 'My chart is ready');
  await send(astro, 'Thank you, reading it now');
  await astro.waitForFunction(() => document.querySelectorAll('#msgs li.msg[data-seq]').length === 2);
  await user.waitForFunction(() => document.querySelectorAll('#msgs li.msg[data-seq]').length === 2);

  // The astrologer reacts to the customer's message with the mouse: React, then the thumbs up.
  await astro.hover(msg('My chart is ready'));
  await astro.click(`${msg('My chart is ready')} .react-btn`);
  t.ok(await astro.isVisible(`${msg('My chart is ready')} .emoji-panel`) &&
    await astro.getAttribute(`${msg('My chart is ready')} .react-btn`, 'aria-expanded') === 'true', 'React opens the reactions of that message');
  const offered = await astro.$$eval(`${msg('My chart is ready')} .emoji-panel button`, (els) => els.map((e) => e.textContent));
  t.ok(JSON.stringify(offered) === JSON.stringify(['👍', '❤️', '😂', '😮', '🙏', '👏']), 'the picker offers the set and nothing else', offered.join(' '));
  await L.shot(astro, SUITE, '01-picker-desktop');
  await astro.click(`${msg('My chart is ready')} .emoji-panel button[aria-label="thumbs up"]`);
  await t.check("the astrologer's thumbs up shows on both sides, pressed on the astrologer's", async () => {
    await waitChips(astro, 'My chart is ready', [['👍', 1, true]]);
    await waitChips(user, 'My chart is ready', [['👍', 1, false]]);
  });
  t.ok(!(await astro.isVisible(`${msg('My chart is ready')} .emoji-panel`)), 'the picker closes once one is picked');

  // The customer, on a phone, taps the chip: the same emoji from both counts 2.
  await user.click(`${msg('My chart is ready')} .chip[data-emoji="👍"]`);
  await t.check('a tap on the chip adds the customer\'s: 2 on both sides', async () => {
    await waitChips(user, 'My chart is ready', [['👍', 2, true]]);
    await waitChips(astro, 'My chart is ready', [['👍', 2, true]]);
  });
  t.ok(rows() === `1|astrologer|👍\n1|user|👍`, 'the chat file holds one row each', rows());

  // By keyboard, on the astrologer's message: Tab to React, Enter, arrows, Enter.
  t.ok(await focusVisible(user, '#msgs li.msg:not(.mine) .react-btn'), 'Tab reaches the React control of the astrologer\'s message, which shows its focus');
  await user.keyboard.press('Enter');
  await user.keyboard.press('ArrowRight');
  const box = await user.$eval('#msgs li.msg:not(.mine) .emoji-panel', (e) => { const r = e.getBoundingClientRect(); return [r.left, r.right, innerWidth, r.height]; });
  t.ok(box[0] >= 0 && box[1] <= box[2] && box[3] < 80, 'the picker fits on a 360 px phone, in one row', box.join(' '));
  await L.shot(user, SUITE, '02-picker-360');
  await user.keyboard.press('Enter');
  await t.check('a heart picked by keyboard reaches the astrologer', async () => {
    await waitChips(astro, 'Thank you, reading it now', [['❤️', 1, false]]);
    await waitChips(user, 'Thank you, reading it now', [['❤️', 1, true]]);
  });
  await t.check('the astrologer\'s screen reader hears who reacted with what', () =>
    astro.waitForFunction(() => /reacted red heart$/.test(document.getElementById('announce').textContent), null, { timeout: 3000 }));
  await L.shot(user, SUITE, '03-chips-360');
  t.ok((await themeProblems(user)).length === 0, 'the chat with reactions at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  // Toggled off: a second tap on one's own chip takes it back, on both sides.
  await user.click(`${msg('My chart is ready')} .chip[data-emoji="👍"]`);
  await t.check('a second tap takes it back: 1 on both sides, not pressed for the customer', async () => {
    await waitChips(user, 'My chart is ready', [['👍', 1, false]]);
    await waitChips(astro, 'My chart is ready', [['👍', 1, true]]);
  });
  t.ok(rows() === `1|astrologer|👍\n2|user|❤️`, 'and its row is gone', rows());

  // From the reload on, the test can cut the customer's page off the relay: its socket closes, and while cut
  // every new one asks for a path the relay does not serve, so the page keeps reconnecting in vain.
  await user.context().addInitScript(() => {
    const Orig = window.WebSocket;
    window.__sockets = [];
    window.__cut = false;
    window.WebSocket = class extends Orig {
      constructor(url, ...rest) {
        super(window.__cut ? `${url}-cut` : url, ...rest);
        window.__sockets.push(this);
      }
    };
  });
  await user.reload();
  await L.waitState(user, 'active');
  await t.check('after a reload the customer sees every reaction, its own pressed', async () => {
    await waitChips(user, 'My chart is ready', [['👍', 1, false]]);
    await waitChips(user, 'Thank you, reading it now', [['❤️', 1, true]]);
  });
  await L.shot(user, SUITE, '04-after-reload-360');

  // While the customer's page is away, the astrologer takes back the thumbs up and laughs instead.
  await user.evaluate(() => { window.__stayed = true; window.__cut = true; window.__sockets.at(-1).close(); });
  await user.waitForSelector('#banner:not([hidden])');
  await astro.click(`${msg('My chart is ready')} .chip[data-emoji="👍"]`);
  await waitChips(astro, 'My chart is ready', []);
  await astro.click(`${msg('My chart is ready')} .react-btn`);
  await astro.click(`${msg('My chart is ready')} .emoji-panel button[aria-label="laughing"]`);
  await waitChips(astro, 'My chart is ready', [['😂', 1, true]]);
  await user.evaluate(() => { window.__cut = false; });
  await t.check('reconnected without a reload, the customer sees the reactions changed while it was away', async () => {
    await user.waitForSelector('#banner', { state: 'hidden', timeout: 20000 });
    await waitChips(user, 'My chart is ready', [['😂', 1, false]]);
    await waitChips(user, 'Thank you, reading it now', [['❤️', 1, true]]);
    if (!await user.evaluate(() => window.__stayed)) throw new Error('the page was reloaded');
    const n = await user.$$eval('#msgs li.msg', (els) => els.length);
    if (n !== 2) throw new Error(`${n} messages shown, not 2`);
  });
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
