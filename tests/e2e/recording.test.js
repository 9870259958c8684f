// recording.test.js: recording a video call with consent through the real page: the ask with its explanation,
// nothing recorded on one consent, the prompt and the red mark on both sides, chunks landing in the file as the
// astrologer's browser records, a stop by the customer, and both sides playing and downloading it afterwards.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'recording';

L.main(SUITE, 240000, async (t) => {
  const s = await L.stack();
  const media = L.makeMedia(s.dir, false);
  const b = L.book(s, 'video', 20, '40.00');
  const sql = (q) => execFileSync('sqlite3', [s.db, q], { encoding: 'utf8' }).trim();
  const kinds = () => sql(`SELECT group_concat(kind || ':' || participant, ' ') FROM session_events
    WHERE session_id = '${b.sessionId}' AND kind LIKE 'recording%' ORDER BY id`);
  const recDir = path.join(s.var, 'sessions-recordings');
  const fileBytes = () => {
    const f = sql(`SELECT file FROM recordings WHERE session_id = '${b.sessionId}' ORDER BY id LIMIT 1`);
    return f && fs.existsSync(path.join(recDir, f)) ? fs.statSync(path.join(recDir, f)).size : 0;
  };
  const browser = await L.browser([...L.FAKE, `--use-file-for-fake-audio-capture=${media.wav}`]);
  const user = await L.page(browser);
  const astro = await L.page(browser);
  await user.goto(b.userUrl);
  await astro.goto(b.astrologerUrl);
  for (const p of [user, astro]) await p.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([user.click('#pj-join'), astro.click('#pj-join')]);
  await t.check('both peer connections connect', async () => {
    await L.pcState(user, 'connected');
    await L.pcState(astro, 'connected');
  });
  await t.check('the remote pictures play on the astrologer\'s side', () =>
    astro.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0, null, { timeout: 15000 }));

  await user.click('#ct-rec');
  t.ok(await user.isVisible('#rec-ask'), 'Record asks first, with what it means');
  const explained = await user.textContent('#ra-text');
  t.ok(/consent/.test(explained) && /both voices and both pictures/.test(explained) && /stop it at any time/.test(explained),
    'the explanation says asking is consent, what is saved and that either side can stop', explained);
  await L.shot(user, SUITE, '01-ask');
  await user.click('#ra-yes');
  await t.check('the customer waits for the astrologer\'s answer', () =>
    user.waitForFunction(() => /Waiting for .* to agree/.test(document.getElementById('rec-status').textContent)));
  await t.check('the astrologer is asked on screen', () => astro.waitForSelector('#rec-prompt:not([hidden])', { timeout: 5000 }));
  await astro.waitForTimeout(1500);
  t.ok(!(await user.isVisible('#rec-mark')) && !(await astro.isVisible('#rec-mark')), 'with one consent no side shows the mark');
  t.ok(kinds() === 'recording_consent:user', 'only the customer\'s consent is stored', kinds());
  t.ok(sql(`SELECT count(*) FROM recordings WHERE session_id = '${b.sessionId}'`) === '0' && !fs.existsSync(recDir),
    'no recording and no file exist');
  await L.shot(astro, SUITE, '02-prompt');

  await astro.click('#rec-accept');
  await t.check('both pages show the red Recording mark', async () => {
    await user.waitForSelector('#rec-mark:not([hidden])', { timeout: 5000 });
    await astro.waitForSelector('#rec-mark:not([hidden])', { timeout: 5000 });
  });
  const red = await user.$eval('#rec-mark', (e) => getComputedStyle(e).backgroundColor);
  t.ok(red === 'rgb(180, 35, 24)', 'the mark is red', red);
  t.ok(kinds() === 'recording_consent:user recording_consent:astrologer recording_started:astrologer',
    'both consents and the start are stored, in order', kinds());
  await t.check('chunks arrive and the file grows while it records', async () => {
    await L.waitFor(() => fileBytes() > 0, 15000, 'a first chunk');
    const first = fileBytes();
    await L.waitFor(() => fileBytes() > first, 15000, 'a later chunk');
  });
  const f = sql(`SELECT file FROM recordings WHERE session_id = '${b.sessionId}'`);
  t.ok(fs.readFileSync(path.join(recDir, f)).subarray(0, 4).toString('hex') === '1a45dfa3', 'the file is WebM from its first byte');
  await L.shot(user, SUITE, '03-recording-customer');
  await L.shot(astro, SUITE, '04-recording-astrologer');
  t.ok((await themeProblems(astro)).length === 0, 'the room with the mark: AA contrast, no dark blue', (await themeProblems(astro)).join('; '));

  t.ok((await user.textContent('#ct-rec .label')).trim() === 'Stop recording', 'the customer has a Stop button');
  await user.click('#ct-rec');
  await t.check('the customer\'s stop takes the mark away on both sides', async () => {
    await user.waitForSelector('#rec-mark', { state: 'hidden', timeout: 5000 });
    await astro.waitForSelector('#rec-mark', { state: 'hidden', timeout: 5000 });
  });
  t.ok(/recording_stopped:user$/.test(kinds()), 'the stop is stored with who stopped it', kinds());
  await astro.waitForTimeout(2000);
  const size = fileBytes();

  await astro.click('#ac-end');
  await astro.click('#ce-yes');
  await L.waitState(astro, 'ended');
  await L.waitState(user, 'ended', 10000);
  for (const [p, who] of [[user, 'customer'], [astro, 'astrologer']]) {
    await t.check(`the ${who}'s ended page lists the recording`, () => p.waitForSelector('#recs:not([hidden]) #recs-list li', { timeout: 10000 }));
    await p.click('#recs-list button');
    await t.check(`the ${who} plays it in a player with its length known`, () => p.waitForFunction(() => {
      const v = document.querySelector('#recs-list video');
      return v && v.readyState >= 1 && v.videoWidth === 1280;
    }, null, { timeout: 10000 }));
    t.ok(await p.$eval('#recs-list a[download]', (a) => a.download === a.getAttribute('download') && a.href.startsWith('blob:')),
      `the ${who} has a Download link`);
  }
  t.ok(fileBytes() >= size, 'the file kept every chunk', `${fileBytes()} >= ${size}`);
  await L.shot(user, SUITE, '05-ended-playback');

  // A later visit to the link still offers it.
  await user.goto(b.userUrl);
  await t.check('a later visit to the link lists it too', () => user.waitForSelector('#recs:not([hidden]) #recs-list li', { timeout: 10000 }));
  t.ok(user.__errors.length === 0 && astro.__errors.length === 0, 'no script errors on either page', [...user.__errors, ...astro.__errors].join('; '));

  // A voice call: the astrologer asks, the customer declines on screen; asked again, agrees; the astrologer's
  // tab closes mid-recording and the customer's mark goes.
  const v = L.book(s, 'voice', 20, '40.00');
  const vEvents = () => sql(`SELECT group_concat(kind || ':' || participant || ':' || coalesce(detail, ''), ' ') FROM session_events
    WHERE session_id = '${v.sessionId}' AND kind LIKE 'recording%' ORDER BY id`);
  const vu = await L.page(browser, { viewport: { width: 360, height: 740 } });
  const va = await L.page(browser);
  await vu.goto(v.userUrl);
  await va.goto(v.astrologerUrl);
  for (const p of [vu, va]) await p.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([vu.click('#pj-join'), va.click('#pj-join')]);
  await t.check('the voice call connects', async () => { await L.pcState(vu, 'connected'); await L.pcState(va, 'connected'); });
  await va.click('#ct-rec');
  t.ok(/both voices on the server/.test(await va.textContent('#ra-text')), 'in a voice call the explanation names both voices only');
  await va.click('#ra-yes');
  await vu.waitForSelector('#rec-prompt:not([hidden])', { timeout: 5000 });
  await L.shot(vu, SUITE, '06-voice-prompt-360');
  await vu.click('#rec-decline');
  await t.check('a decline on screen reaches the astrologer', () =>
    va.waitForFunction(() => /declined recording/.test(document.getElementById('rec-status').textContent), null, { timeout: 5000 }));
  t.ok(!(await vu.isVisible('#rec-mark')) && !(await va.isVisible('#rec-mark')) &&
    sql(`SELECT count(*) FROM recordings WHERE session_id = '${v.sessionId}'`) === '0', 'declined: no mark, no recording');
  await va.click('#ct-rec');
  await va.click('#ra-yes');
  await vu.waitForSelector('#rec-prompt:not([hidden])', { timeout: 5000 });
  await vu.click('#rec-accept');
  await t.check('the voice recording runs with the mark on the phone too', () => vu.waitForSelector('#rec-mark:not([hidden])', { timeout: 5000 }));
  t.ok(await vu.$eval('#rec-mark', (e) => { const r = e.getBoundingClientRect(); return r.right <= innerWidth && r.width > 0; }), 'the mark fits on a 360 px phone');
  await t.check('mixed audio chunks land as audio/webm', () => L.waitFor(() =>
    Number(sql(`SELECT coalesce(sum(bytes), 0) FROM recordings WHERE session_id = '${v.sessionId}' AND media = 'audio'`)) > 0, 15000, 'an audio chunk'));
  await L.shot(vu, SUITE, '07-voice-recording-360');
  await va.close();
  await t.check('the astrologer\'s tab closing stops it: the customer\'s mark goes', () => vu.waitForSelector('#rec-mark', { state: 'hidden', timeout: 10000 }));
  t.ok(/recording_declined:user: .*recording_started:user: recording_stopped:astrologer:left$/.test(vEvents()),
    'the decline, the start and the stop on leaving are stored in order', vEvents());
  t.ok(vu.__errors.length === 0, 'no script errors on the phone', vu.__errors.join('; '));
});
