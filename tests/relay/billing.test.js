// billing.test.js: the bill is the time both were in the room: drops, a closed tab, a relay killed mid-session, no-shows, the running charge.
'use strict';
const { Stack, join, run, assert, eq, sleep } = require('./lib');

let s;     // nginx + API + relay: a paid minute is a second, the empty timeout 2 s
let bare;  // the relay alone, to be killed and restarted
const open = [];
const track = (c) => { open.push(c); return c; };

// The time both were connected, from the stored intervals, as the test reads them.
function overlapMs(presence, now = Date.now()) {
  const side = (who) => presence.filter((p) => p.participant === who)
    .map((p) => [Date.parse(p.joinedAt), p.leftAt ? Date.parse(p.leftAt) : now]);
  let sum = 0;
  for (const [a0, a1] of side('user')) {
    for (const [b0, b1] of side('astrologer')) sum += Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  }
  return sum;
}

const checks = [
  ['a customer who drops and comes back is billed only the time both were there, to the second', async () => {
    const b = s.book('chat', 60);
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    await u.next('session-started');
    await sleep(1500);
    u.close();
    const left = await a.next('participant-left', 2000);
    const paused = await a.next((f) => f.type === 'billing' && f.paused, 2000);
    assert(left && paused, 'the astrologer hears the customer left and the clock is paused');
    await sleep(1200);
    const u2 = track(await join(s, b.userToken));
    const back = await a.next((f) => f.type === 'billing' && !f.paused, 2000);
    assert(back, 'the clock runs again when the customer is back');
    await sleep(1500);
    const r = await s.api('end', b.userToken);
    const shown = s.ctl('show', b.sessionId, '--presence');
    const both = overlapMs(shown.presence);
    eq(r.status, 200, 'the end is answered');
    eq(r.body.billedSeconds, Math.floor(both / 1000), `billed the overlap of the stored intervals (${both} ms)`);
    assert(both >= 2500 && both < 4500, `about 3 s of the 4.2 s were together (${both} ms)`);
    eq([r.body.billedMinutes, r.body.amountCharged], [Math.ceil(both / 1000), (Math.ceil(both / 1000)).toFixed(2)],
      'billed minutes are the started minutes of the overlap; 60.00 for 60 minutes is 1.00 a minute');
    eq([r.body.endedBy, r.body.reason], ['user', 'user_ended'], 'who ended it and why');
    eq(shown.presence.filter((p) => p.participant === 'user').length, 2, 'two stored connections of the customer');
    u2.close(); a.close();
  }],

  ['a customer who closes the tab: the astrologer sees the clock paused, and the session ends disconnected after the empty timeout', async () => {
    const b = s.book('voice', 60);
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    await u.next('session-started');
    await sleep(1000);
    u.close();
    const t0 = Date.now();
    await a.next('participant-left', 2000);
    const end = await a.next('session-ended', 5000);
    const waited = Date.now() - t0;
    assert(waited > 1500 && waited < 3500, `it ends the empty timeout (2 s) after the customer left (${waited} ms)`);
    eq([end.reason, end.endedBy], ['disconnected', 'system'], 'disconnected, by the system');
    const shown = s.ctl('show', b.sessionId, '--presence');
    const both = overlapMs(shown.presence);
    eq(shown.billedSeconds, Math.floor(both / 1000), `charged for the overlap only (${both} ms)`);
    eq([shown.status, shown.reason, shown.endedBy], ['completed', 'disconnected', 'system'], 'sessionctl show agrees');
  }],

  ['an empty-room end racing an API end and sessionctl expire settles once, and all agree how', async () => {
    const b = s.book('chat', 60);
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    await u.next('session-started');
    await sleep(500);
    u.close();
    await a.next('participant-left', 2000);
    await sleep(1990); // the relay's own timer fires at 2 s
    const [api, cron, frame] = await Promise.all([
      s.api('end', b.astrologerToken),
      Promise.resolve().then(() => s.ctl('expire')),
      a.next('session-ended', 3000),
    ]);
    const shown = s.ctl('show', b.sessionId);
    const n = Number(require('child_process').execFileSync('sqlite3',
      [s.db, `SELECT count(*) FROM settlements WHERE session_id = '${b.sessionId}'`], { encoding: 'utf8' }));
    eq(n, 1, 'one settlement');
    eq([api.status, api.body.reason, frame.reason], [200, shown.reason, shown.reason],
      `the API, the relay and sessionctl show agree (${shown.reason}, by ${shown.endedBy})`);
    assert(['disconnected', 'astrologer_ended'].includes(shown.reason) && cron.timedOut <= 1, 'an end the rules or the astrologer gave');
    eq(s.ctl('ledger', 'check').ok, true, 'the ledger holds');
  }],

  ['the running charge each side sees matches sessionctl show at the same moment', async () => {
    const b = s.book('video', 60);
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    await u.next('session-started');
    await sleep(2200);
    // Leaving and coming back is a presence change: both get the charge as it is now.
    await u.within('billing', 0);
    a.close();
    const a2 = track(await join(s, b.astrologerToken));
    const ub = await u.next((f) => f.type === 'billing' && !f.paused, 2000);
    const ab = await a2.next((f) => f.type === 'billing' && !f.paused, 2000);
    const shown = s.ctl('show', b.sessionId);
    assert(Math.abs(ub.billedSeconds - shown.billedSeconds) <= 1, `customer ${ub.billedSeconds} s, sessionctl ${shown.billedSeconds} s`);
    eq(ub.amountCharged, (ub.billedMinutes * 1).toFixed(2), 'the customer sees the charge so far');
    assert(ub.earnings === undefined && ab.amountCharged === undefined, 'each sees only their own side');
    eq(ab.earnings, (Math.floor(ab.billedMinutes * 100 * 0.8) / 100).toFixed(2), 'the astrologer sees the earnings so far (80 %)');
    u.close(); a2.close();
  }],

  ['no-shows both ways: the one who waited is refunded in full and the event names who did not come; leaving early refunds too', async () => {
    const x = s.book('chat', 5);  // the astrologer does not come
    const y = s.book('chat', 5);  // the customer does not come
    const ux = track(await join(s, x.userToken));
    const ay = track(await join(s, y.astrologerToken));
    const noShowAt = Date.parse(ux.joined.noShowAt);
    assert(Math.abs(noShowAt - (Date.now() + 60000)) < 3000, `the waiting side is told when (${ux.joined.noShowAt})`);
    const z = s.book('voice', 5); // the customer gives up early
    track(await join(s, z.userToken));
    const early = await s.api('end', z.userToken);
    eq([early.status, early.body.status, early.body.amountRefunded], [200, 'cancelled', '60.00'], 'leaving while waiting refunds in full');
    const [ex, ey] = await Promise.all([ux.next('session-ended', 70000), ay.next('session-ended', 70000)]);
    eq([ex.reason, ey.reason], ['no_show', 'no_show'], 'both waits end as no-shows');
    for (const [b, absent] of [[x, 'astrologer'], [y, 'user']]) {
      const shown = s.ctl('show', b.sessionId);
      eq([shown.status, shown.amountRefunded, shown.amountCharged], ['expired', '60.00', '0.00'], 'refunded in full');
      const ev = shown.events.find((e) => e.kind === 'expired');
      eq(ev && [ev.detail, ev.participant], ['no_show', absent], `the event says the ${absent} did not come`);
    }
  }],

  ['a relay killed with -9 mid-session: the bill counts to its last heartbeat and resumes after the pages come back', async () => {
    const b = bare.book('chat', 60);
    const u = track(await join(bare, b.userToken));
    const a = track(await join(bare, b.astrologerToken));
    await u.next('session-started');
    await sleep(10600); // one heartbeat (10 s) lands
    bare.relay.kill('SIGKILL');
    await new Promise((r) => bare.relay.once('exit', r));
    const killedAt = Date.now();
    await sleep(1000);
    await bare.startRelay();
    const u2 = track(await join(bare, b.userToken));
    const a2 = track(await join(bare, b.astrologerToken));
    await sleep(1500);
    const shown = bare.ctl('show', b.sessionId, '--presence');
    const first = shown.presence.filter((p) => Date.parse(p.joinedAt) < killedAt);
    assert(first.length === 2 && first.every((p) => p.leftAt === p.lastSeenAt),
      `the connections the dead relay left open end at its last heartbeat: ${JSON.stringify(first)}`);
    assert(first.every((p) => Date.parse(p.leftAt) <= killedAt && killedAt - Date.parse(p.leftAt) < 10000),
      'which came before the kill, within a heartbeat');
    const end = bare.ctl('end', b.sessionId, '--reason', 'completed');
    const both = overlapMs(bare.ctl('show', b.sessionId, '--presence').presence);
    eq(end.billedSeconds, Math.floor(both / 1000),
      `billed ${end.billedSeconds} s: the overlap up to the heartbeat and after the return (${both} ms)`);
    const after = overlapMs(bare.ctl('show', b.sessionId, '--presence').presence
      .filter((p) => Date.parse(p.joinedAt) >= killedAt));
    assert(after >= 1400, `the time after the pages came back counts (${after} ms)`);
    u.close(); a.close(); u2.close(); a2.close();
  }],
];

run(checks, {
  before: async () => {
    const env = { SESSIONS_MINUTE_MS: '1000', SESSIONS_EMPTY_TIMEOUT_SECONDS: '2', SESSIONS_NO_SHOW_MINUTES: '1' };
    s = await Stack.start(env);
    bare = await Stack.bare([], { SESSIONS_MINUTE_MS: '1000' });
  },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
    if (bare) await bare.stop();
  },
  timeoutMs: 150000,
});
