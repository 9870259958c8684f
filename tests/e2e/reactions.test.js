// reactions.test.js: quick reactions in a voice call through the real page: picked by mouse or keyboard,
// floating on both sides for a few seconds, spoken to a screen reader on the receiving side, never stored.
'use strict';
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'reactions';

const floating = (p, side) => p.$$eval(`#reactions .reaction.${side}`, (els) => els.map((e) => e.textContent));

L.main(SUITE, 180000, async (t) => {
  const s = await L.stack();
  const media = L.makeMedia(s.dir, false);
  const b = L.book(s, 'voice', 20, '40.00');
  const browser = await L.browser([...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`]);
  const user = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await t.check('both peer connections connect', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
  });

  await user.click('#ct-react');
  t.ok(await user.isVisible('#react-panel') && await user.getAttribute('#ct-react', 'aria-expanded') === 'true', 'React opens the quick reactions');
  const box = await user.$eval('#react-panel', (e) => { const r = e.getBoundingClientRect(); return [r.left, r.right, innerWidth]; });
  t.ok(box[0] >= 0 && box[1] <= box[2], 'the picker fits on a 360 px phone', box.join(' '));
  await L.shot(user, SUITE, '01-picker-360');
  await user.click('#react-panel button[aria-label="thumbs up"]');
  await t.check('the customer\'s thumbs up floats on both sides', async () => {
    await user.waitForFunction(() => [...document.querySelectorAll('#reactions .reaction.mine')].some((e) => e.textContent === '👍'));
    await astro.waitForFunction(() => [...document.querySelectorAll('#reactions .reaction.theirs')].some((e) => e.textContent === '👍'));
  });
  t.ok(!(await user.isVisible('#react-panel')) && await user.evaluate(() => document.activeElement.id) === 'ct-react',
    'the picker closes and focus goes back to React');
  await t.check('the astrologer\'s screen reader hears who reacted with what', () =>
    astro.waitForFunction(() => /^Asha Rao \d+ reacted: thumbs up$/.test(document.getElementById('announce').textContent), null, { timeout: 3000 }));
  await L.shot(astro, SUITE, '02-received-desktop');
  t.ok((await themeProblems(user)).length === 0, 'the voice room with the picker at 360 px: AA contrast, no dark blue, no sideways scroll', (await themeProblems(user)).join('; '));

  // By keyboard: Enter opens, the arrows move, Enter sends.
  await astro.focus('#ct-react');
  await astro.keyboard.press('Enter');
  await astro.keyboard.press('ArrowRight');
  await astro.keyboard.press('Enter');
  await t.check('the astrologer\'s heart, sent by keyboard, reaches the customer', () =>
    user.waitForFunction(() => [...document.querySelectorAll('#reactions .reaction.theirs')].some((e) => e.textContent === '❤️')));
  await t.check('reactions fade away after a few seconds', () => L.waitFor(async () =>
    (await floating(user, 'mine')).length + (await floating(user, 'theirs')).length === 0, 6000, 'no reactions left'));

  await user.reload();
  await user.click('#pj-join');
  await t.check('after a reload the customer is back in the call', () => L.pcState(user, 'connected'));
  t.ok((await floating(user, 'theirs')).length === 0, 'reactions are not stored: a reloaded page shows none');
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));
});
