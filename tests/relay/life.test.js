// life.test.js: the paid timer (warnings, time_up) and ends and starts made by the API or sessionctl, through nginx.
'use strict';
const { Stack, join, run, assert, eq, sleep } = require('./lib');

let s;
const open = [];
const track = (c) => { open.push(c); return c; };
const joinT = async (...a) => track(await join(s, ...a));
const session = (id) => { const x = s.ctl('show', id); return x.session || x; };

const checks = [
  ['time warnings at 5 and 1 minutes left, then time_up ends the session for both (1 minute = 1 s)', async () => {
    const b = s.book('voice', 7);
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    const started = await u.next('session-started');
    const deadline = Date.parse(started.deadline);
    const w5 = await u.next('time-warning', 4000);
    eq(w5.remainingSeconds, 5, '5 minutes (5 s) left');
    assert(Math.abs(Date.now() - (deadline - 5000)) < 700, 'the first warning comes on time');
    const w1 = await a.next((f) => f.type === 'time-warning' && f.remainingSeconds === 1, 6000);
    assert(w1, 'the astrologer gets the 1-minute warning');
    eq((await u.next('time-warning', 6000)).remainingSeconds, 1, 'the user gets it too');
    const end = await u.next('session-ended', 3000);
    const endA = await a.next('session-ended', 1000);
    assert(Math.abs(Date.now() - deadline) < 700, 'the end comes at the deadline');
    eq([end.reason, endA.reason], ['time_up', 'time_up'], 'both hear time_up');
    eq(end.durationSeconds, 7, 'durationSeconds is the paid time');
    eq(await u.waitClose(), 1000, 'closed normally');
    await a.waitClose();
    const row = session(b.sessionId);
    eq([row.status, row.endReason], ['completed', 'time_up'], 'the database has it ended time_up');
    const v = await s.api('validate', b.userToken);
    eq([v.status, v.body.error && v.body.error.code], [410, 'session_ended'], 'the API agrees');
  }],

  ['session-started reaches a connected participant when the other joins through the API', async () => {
    const b = s.book('video');
    const u = await joinT(b.userToken);
    const t0 = Date.now();
    const r = await s.api('join', b.astrologerToken);
    eq([r.status, r.body.sessionActive], [200, true], 'the API join starts the session');
    const st = await u.next('session-started', 1500);
    assert(Date.now() - t0 < 1100, `session-started within a second (${Date.now() - t0} ms)`);
    eq(st.deadline, r.body.deadline, 'the same deadline as the API said');
    u.close();
  }],

  ['an end through the API reaches both participants within a second', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    await u.next('session-started');
    u.send({ type: 'message', message: 'bye' });
    await a.next('message');
    const t0 = Date.now();
    const r = await s.api('end', b.userToken);
    eq(r.status, 200, 'the API ends it');
    const e1 = await a.next('session-ended', 1500);
    const e2 = await u.next('session-ended', 1500);
    assert(Date.now() - t0 < 1100, `within a second (${Date.now() - t0} ms)`);
    eq([e1.reason, e2.reason], ['user_ended', 'user_ended'], 'the reason says who ended it');
    eq(e1.durationSeconds, r.body.durationSeconds, 'the same duration as the API');
    eq(await a.waitClose(), 1000, 'closed normally');
    const late = track(new (require('./lib').Client)(s));
    await late.opened;
    late.send({ type: 'join-room', token: b.astrologerToken });
    eq((await late.next('error')).code, 'session_ended', 'no joining after the end');
  }],

  ['a cancel (the shop ends it before both joined) closes the one waiting in the room within a second', async () => {
    const b = s.book('video');
    const u = await joinT(b.userToken);
    const t0 = Date.now();
    const r = s.ctl('end', b.sessionId);
    eq(r.status, 'cancelled', 'sessionctl cancels it while the customer waits');
    await u.next('session-ended', 1500);
    assert(Date.now() - t0 < 1100, `within a second (${Date.now() - t0} ms)`);
    eq(await u.waitClose(), 1000, 'and its connection is closed');
    const u2 = track(new (require('./lib').Client)(s));
    await u2.opened;
    u2.send({ type: 'join-room', token: b.userToken });
    eq((await u2.next('error')).code, 'session_ended', 'no joining a cancelled session');
  }],

  ['a message sent in the moment after an end is refused, not stored, and never reaches the other side', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    await u.next('session-started');
    const r = await s.api('end', b.astrologerToken);
    eq(r.status, 200, 'the API ends it');
    u.send({ type: 'message', message: 'too late', clientId: 'late-1' });
    const answer = await u.next((f) => (f.type === 'message' && f.clientId === 'late-1') || f.type === 'error');
    eq([answer.type, answer.code], ['error', 'session_ended'], 'the sender is told the session has ended');
    await a.next('session-ended', 1500);
    eq(a.frames.filter((f) => f.type === 'message').length, 0, 'the other side never got it');
  }],

  ['an end by sessionctl reaches the room within a second; a link nobody else came to ends when it runs out', async () => {
    const b = s.book('voice');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    let t0 = Date.now();
    s.ctl('end', b.sessionId, '--reason', 'astrologer_ended');
    eq((await u.next('session-ended', 1500)).reason, 'astrologer_ended', 'sessionctl end');
    await a.next('session-ended', 1500);
    assert(Date.now() - t0 < 1100, `within a second (${Date.now() - t0} ms)`);

    // Links here stay valid 0 minutes after the paid time: a 2-minute booking lapses in 2 s,
    // and the relay's timer ends it then, through the call cron makes.
    const x = s.book('chat', 2);
    const lone = await joinT(x.userToken);
    const until = Date.parse(x.linkValidUntil);
    const ended = await lone.next('session-ended', until - Date.now() + 1500);
    assert(Math.abs(Date.now() - until) < 700, `when the link runs out (${Date.now() - until} ms)`);
    eq(ended.reason, 'no_show', 'an expired link is a no-show');
    eq(s.ctl('expire').expired, 0, 'cron finds nothing left to do');
    eq(session(x.sessionId).status, 'expired', 'the database agrees');
  }],
];

checks.push(['a rotated link cuts off the connection that joined with the old one within a second; the new link joins', async () => {
  const b = s.book('chat');
  const u = await joinT(b.userToken);
  const a = await joinT(b.astrologerToken);
  await u.next('session-started');
  const t0 = Date.now();
  const fresh = s.ctl('link', b.sessionId, '--role', 'user', '--rotate');
  const err = await u.next('error', 1500);
  assert(Date.now() - t0 < 1100, `within a second (${Date.now() - t0} ms)`);
  eq([err.code, await u.waitClose()], ['unknown_link', 1008], 'the old link is told and closed');
  eq((await a.next('participant-left', 1000)).participantType, 'user', 'the other side sees it leave');
  u.send({ type: 'message', message: 'still here?' });
  eq((await a.within('message', 300)).length, 0, 'nothing more gets through on it');
  const u2 = await joinT(fresh.token);
  eq(u2.joined.participantType, 'user', 'the new link joins');
  u2.close(); a.close();
}]);

run(checks, {
  before: async () => {
    s = await Stack.start({ SESSIONS_MINUTE_MS: '1000', SESSIONS_VALID_AFTER_MINUTES: '0' });
  },
  after: async () => { open.forEach((c) => c.close()); if (s) await s.stop(); },
});
