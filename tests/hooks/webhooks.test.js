// webhooks.test.js: webhooks through the real stack: receivers started here verify every signature, see a full session in order, survive outages, retries, a killed deliverer, 410 and rotation.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Stack, join, run, assert, eq, sleep, bin } = require('../relay/lib.js');
const { Receiver, signedBy } = require('../lib/receiver.js');

const DIVISOR = 100; // the schedule's 5 s, 5 min, 30 min ... become 50 ms, 3 s, 18 s ...
let stack;
let names = 0;

async function waitFor(what, cond, ms = 10000) {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// sessionctl with the stack's settings, or with env changed; {code, out, err}.
function ctlRaw(args, env = stack.env) {
  const p = spawnSync(path.join(bin, 'sessionctl'), ['--db', stack.db, ...args], { env, encoding: 'utf8' });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

// A fresh endpoint for the receiver; those of earlier checks are removed, so events go to it alone.
async function endpoint(receiver) {
  for (const w of stack.ctl('webhook', 'list')) stack.ctl('webhook', 'remove', String(w.id));
  await receiver.start(receiver.port);
  const ep = stack.ctl('webhook', 'add', receiver.url());
  receiver.secrets = [ep.secret];
  receiver.endpointId = ep.id;
  return ep;
}

function deliveries(endpointId) {
  return stack.ctl('webhook', 'deliveries', '--limit', '10000').filter((d) => d.endpoint === endpointId);
}

async function done(receiver) {
  stack.ctl('webhook', 'remove', String(receiver.endpointId));
  await receiver.stop();
}

function person() {
  const n = ++names;
  stack.ctl('user', 'add', `hooked${n}`, '--balance', '500.00');
  stack.ctl('astrologer', 'add', `star${n}`);
  return { user: `hooked${n}`, astrologer: `star${n}` };
}

// A customer without money yet: the one top-up a check makes is its only event.
function payer() {
  const name = `payer${++names}`;
  stack.ctl('user', 'add', name);
  return name;
}

function book(p, minutes = 5) {
  return stack.ctl('book', '--user', p.user, '--astrologer', p.astrologer, '--type', 'voice',
    '--minutes', String(minutes), '--price', '60.00');
}

// Each subject's events in the order they first arrived.
function firstArrivals(receiver) {
  const seen = new Set(), bySubject = {};
  for (const r of receiver.got) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const s = r.event.data.session ? r.event.data.session.id : 'user:' + r.event.data.user;
    (bySubject[s] = bySubject[s] || []).push(r.event.sequence);
  }
  return bySubject;
}

const checks = [
  ['a full session arrives as booking.created, participant.joined x2, session.started, participant.left, session.ended with the settlement; every signature verifies', async () => {
    const r = new Receiver();
    await endpoint(r);
    const p = person();
    const b = book(p);
    const u = await join(stack, b.userToken);
    const a = await join(stack, b.astrologerToken);
    await sleep(1300); // both present: a little over one (1 s) paid minute
    u.close();
    await a.next('participant-left');
    const end = await stack.api('end', b.astrologerToken);
    eq(end.status, 200, 'the astrologer ended it');
    a.close();
    const mine = () => r.got.filter((x) => x.event.data.session && x.event.data.session.id === b.sessionId);
    await waitFor('six events of the session', () => mine().length >= 6);
    await sleep(300); // nothing more may come
    const seq = mine();
    for (const x of seq) {
      const d = x.event.data;
      console.log(`#   ${x.event.sequence} ${x.event.type}${d.participant ? ' ' + d.participant : ''}` +
        ` status=${d.session.status} present=${JSON.stringify(d.session.present)}` +
        (d.session.settlement ? ` settlement=${JSON.stringify(d.session.settlement)}` : ''));
    }
    eq(seq.map((x) => [x.event.sequence, x.event.type, x.event.data.participant || null]), [
      [1, 'booking.created', null], [2, 'participant.joined', 'user'],
      [3, 'participant.joined', 'astrologer'], [4, 'session.started', null],
      [5, 'participant.left', 'user'], [6, 'session.ended', null]], 'the sequence');
    const last = seq[5].event.data.session;
    const st = last.settlement;
    const b2 = end.body;
    eq([last.status, last.endReason, last.endedBy], ['completed', 'astrologer_ended', 'astrologer'], 'how it ended');
    eq([st.billedMinutes, st.charged, st.refunded, st.earnings, st.reason, st.endedBy],
      [b2.billedMinutes, b2.amountCharged, b2.amountRefunded, b2.amountReleased, 'astrologer_ended', 'astrologer'],
      'the settlement is the one the end answered');
    assert(st.billedMinutes >= 1, `billed minutes ${st.billedMinutes}`);
    const cents = (s) => Math.round(Number(s) * 100);
    eq(cents(st.charged) - cents(st.commission), cents(st.earnings), 'commission + earnings = charge');
    eq(cents(st.charged) + cents(st.refunded), 6000, 'charge + refund = price');
    const started = seq[3].event.data.session;
    assert(started.userJoinedAt && started.astrologerJoinedAt && started.startedAt === started.astrologerJoinedAt,
      `started: ${JSON.stringify(started)}`);
    eq(Date.parse(started.deadline) - Date.parse(started.startedAt), 5 * 1000, 'deadline: 5 paid minutes of 1 s');
    eq(seq.map((x) => x.event.data.session.present), [{ user: false, astrologer: false },
      { user: true, astrologer: false }, { user: true, astrologer: true }, { user: true, astrologer: true },
      { user: false, astrologer: true }, { user: false, astrologer: false }], 'who is present at each event');
    assert(seq.every((x) => /^msg_[0-9a-f]{24}$/.test(x.id) && x.id === x.event.id), 'ids');
    eq(r.badSignatures, 0, 'requests whose signature did not verify');
    await done(r);
  }],

  ['a receiver down for a while gets everything once it is back, each session in order', async () => {
    const r = new Receiver();
    await endpoint(r);
    await r.stop(); // down: connections are refused
    const sessions = [];
    for (let i = 0; i < 3; i++) {
      const p = person();
      const b = book(p);
      stack.ctl('join', b.sessionId, '--role', 'user');
      stack.ctl('join', b.sessionId, '--role', 'astrologer');
      stack.ctl('wallet', 'topup', p.user, '1.00');
      sessions.push(b.sessionId);
    }
    await sleep(1000);
    const failedTries = deliveries(r.endpointId).filter((d) => d.attempts >= 1 && d.status === 'pending');
    assert(failedTries.length >= 3, `tries that failed while it was down: ${failedTries.length}`);
    await r.start(r.port);
    const all = deliveries(r.endpointId).length;
    await waitFor('every delivery', () => deliveries(r.endpointId).every((d) => d.status === 'delivered'), 15000);
    eq(new Set(r.ids()).size, all, 'distinct events received');
    const order = firstArrivals(r);
    for (const s of sessions) eq(order[s], [1, 2, 3, 4], `session ${s}'s sequence as it arrived`);
    eq(r.badSignatures, 0, 'bad signatures');
    await done(r);
  }],

  ['the deliverer killed with -9 mid-batch: nothing lost, a duplicate only with the same webhook-id and body', async () => {
    const r = new Receiver();
    r.mode = 'hold'; // answers after 600 ms, so a batch is in flight
    await endpoint(r);
    const people = [];
    for (let i = 0; i < 6; i++) people.push(person());
    for (let k = 0; k < 3; k++) for (const p of people) stack.ctl('wallet', 'topup', p.user, '2.00');
    await waitFor('a batch in flight', () => r.got.length >= 6);
    const pidFile = path.join(stack.var, 'webhooks.pid');
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const inFlight = r.got.length;
    r.mode = 'ok';
    await sleep(200);
    const again = spawn(path.join(bin, 'sessions-webhooks'), ['--db', stack.db],
      { env: stack.env, stdio: 'ignore', detached: false });
    fs.writeFileSync(pidFile, `${again.pid}\n`); // stack.sh stop ends it
    await waitFor('every delivery', () => deliveries(r.endpointId).every((d) => d.status === 'delivered'), 15000);
    const expected = deliveries(r.endpointId).map((d) => d.eventId).sort();
    eq([...new Set(r.ids())].sort(), expected, 'the events received are exactly the outbox');
    const bodies = {};
    for (const x of r.got) {
      if (bodies[x.id] !== undefined) assert(bodies[x.id] === x.body, `${x.id} came back with another body`);
      bodies[x.id] = x.body;
    }
    const dups = r.got.length - expected.length;
    console.log(`#   ${expected.length} events, ${r.got.length} requests, ${inFlight} in flight at the kill, ${dups} sent twice`);
    assert(dups >= 1, 'the kill caught requests in flight (else this proved nothing)');
    eq(r.badSignatures, 0, 'bad signatures');
    await done(r);
  }],

  ['a receiver answering 500 is retried on the schedule: soon, then after the next, longer wait', async () => {
    const r = new Receiver();
    r.mode = '500';
    await endpoint(r);
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('two tries', () => r.got.length >= 2, 5000);
    const gap1 = r.got[1].at - r.got[0].at;
    assert(gap1 < 1000, `second try ${gap1} ms after the first (the schedule says 5 s / ${DIVISOR})`);
    // Results are recorded together, up to a tenth of a second after they came back.
    await waitFor('the second try recorded', () => deliveries(r.endpointId)[0].attempts === 2, 2000);
    const d = deliveries(r.endpointId)[0];
    eq([d.status, d.attempts, d.lastStatus], ['pending', 2, 500], 'the delivery after two tries');
    const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt);
    assert(wait >= 3000 && wait <= 3600 + 1000, `next try ${wait} ms after the last (5 min / ${DIVISOR} + jitter)`);
    await waitFor('a third try', () => r.got.length >= 3, 6000);
    const gap2 = r.got[2].at - r.got[1].at;
    assert(gap2 >= 2900, `third try ${gap2} ms after the second`);
    eq(new Set(r.ids()).size, 1, 'one event, tried again with the same webhook-id');
    await done(r);
  }],

  ['Retry-After is honoured over a shorter scheduled wait', async () => {
    const r = new Receiver();
    r.mode = 'retry-after';
    await endpoint(r);
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('two tries', () => r.got.length >= 2, 5000);
    const gap = r.got[1].at - r.got[0].at;
    assert(gap >= 1900 && gap < 4000, `second try ${gap} ms after a Retry-After: 2`);
    await done(r);
  }],

  ['a redirect is not followed: it is a failed try', async () => {
    const r = new Receiver();
    r.mode = 'redirect';
    await endpoint(r);
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('two tries', () => r.got.length >= 2, 5000);
    eq(r.got.map((x) => x.path), ['/hook', '/hook'], 'the paths requested');
    const d = deliveries(r.endpointId)[0];
    eq([d.status, d.lastStatus], ['pending', 302], 'the delivery');
    await done(r);
  }],

  ['a receiver that never answers times out (webhook_timeout_seconds = 1) and is retried later', async () => {
    const r = new Receiver();
    r.mode = 'timeout';
    await endpoint(r);
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('two tries', () => r.got.length >= 2, 5000);
    const gap = r.got[1].at - r.got[0].at;
    assert(gap >= 950, `second try ${gap} ms after the first: it waited for the timeout`);
    const d = deliveries(r.endpointId)[0];
    assert(d.status === 'pending' && d.lastStatus === null && /time/i.test(d.lastError),
      `after a timeout: ${JSON.stringify(d)}`);
    await done(r);
  }],

  ['410 Gone disables the endpoint and fails its delivery; webhook retry sends it again with the same id', async () => {
    const r = new Receiver();
    r.mode = '410';
    await endpoint(r);
    const p = payer();
    stack.ctl('wallet', 'topup', p, '1.00');
    await waitFor('one try', () => r.got.length >= 1, 5000);
    await waitFor('the endpoint disabled', () => !stack.ctl('webhook', 'list').find((w) => w.id === r.endpointId).enabled);
    const w = stack.ctl('webhook', 'list').find((x) => x.id === r.endpointId);
    eq([w.enabled, w.disabledReason, w.failed], [false, '410 Gone', 1], 'the endpoint');
    const failed = stack.ctl('webhook', 'deliveries', '--failed').filter((d) => d.endpoint === r.endpointId);
    eq(failed.map((d) => [d.status, d.lastStatus]), [['failed', 410]], 'webhook deliveries --failed');
    stack.ctl('wallet', 'topup', p, '1.00');
    await sleep(800);
    eq(r.got.length, 1, 'requests to a disabled endpoint');
    r.mode = 'ok';
    stack.ctl('webhook', 'retry', String(failed[0].id));
    await waitFor('the re-sent delivery', () => r.got.length >= 2, 5000);
    eq(r.got[1].id, r.got[0].id, 'the re-sent webhook-id');
    eq(stack.ctl('webhook', 'list').find((x) => x.id === r.endpointId).enabled, true, 'enabled again');
    await done(r);
  }],

  ['an answer that comes after its endpoint was removed is not recorded on a newer delivery that took the same id', async () => {
    const a = new Receiver();
    a.mode = 'timeout'; // the attempt lasts webhook_timeout_seconds (1 s)
    await endpoint(a);
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('the attempt in flight', () => a.got.length >= 1, 5000);
    const b = new Receiver();
    await endpoint(b); // removes a's endpoint and its delivery, the newest: its id is free again
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('the delivery to the new endpoint', () => {
      const d = deliveries(b.endpointId);
      return d.length === 1 && d[0].status === 'delivered';
    }, 5000);
    const d = deliveries(b.endpointId)[0];
    eq([d.attempts, d.lastStatus, b.got.length], [1, 200, 1], "the new endpoint's delivery: attempts, status, requests");
    await a.stop();
    await done(b);
  }],

  ['after webhook rotate, deliveries carry two signatures: one by the new secret, one by the old', async () => {
    const r = new Receiver();
    await endpoint(r);
    const old = r.secrets[0];
    const rot = stack.ctl('webhook', 'rotate', String(r.endpointId));
    assert(/^whsec_[A-Za-z0-9+/]{43}=$/.test(rot.secret) && rot.secret !== old, 'a new secret');
    r.secrets = [old, rot.secret];
    stack.ctl('wallet', 'topup', payer(), '1.00');
    await waitFor('a delivery', () => r.got.length >= 1, 5000);
    const x = r.got[0];
    eq(x.signature.split(' ').length, 2, 'signatures');
    eq(x.signers.sort(), [old, rot.secret].sort(), 'secrets that verify');
    eq(signedBy([rot.secret], x).length, 1, 'the new secret alone verifies');
    await done(r);
  }],

  ['endpoints on private, loopback or link-local addresses are refused without webhook_allow_private, unchanged', async () => {
    const strict = { ...stack.env };
    delete strict.SESSIONS_WEBHOOK_ALLOW_PRIVATE;
    const before = stack.ctl('webhook', 'list');
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://10.1.2.3/',
      'http://172.16.0.1/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data',
      'http://100.64.0.1/', 'http://0.0.0.0/', 'http://[::1]/', 'http://[fe80::1]/', 'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/', 'http://224.0.0.1/']) {
      const res = ctlRaw(['webhook', 'add', url], strict);
      assert(res.code !== 0 && /private, loopback or link-local/.test(res.err), `${url}: ${res.code} ${res.err}`);
    }
    for (const url of ['ftp://example.com/', 'http://user:pw@example.com/', 'http://exa mple.com/',
      'http:///x', 'http://example.com:0/', 'http://example.com:70000/', `https://e.com/${'a'.repeat(500)}`]) {
      const res = ctlRaw(['webhook', 'add', url]);
      assert(res.code !== 0 && /endpoint URL/.test(res.err), `${url}: ${res.code} ${res.err}`);
    }
    eq(stack.ctl('webhook', 'list'), before, 'the endpoints');
  }],

  ['the deliverer checks the address again: without webhook_allow_private it posts nothing to a private one', async () => {
    const r = new Receiver();
    await endpoint(r); // added while the setting allowed it
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hooks-strict-'));
    const strict = { ...stack.env, SESSIONS_WEBHOOK_ALLOW_PRIVATE: '0' };
    // The stack's deliverer is paused; one without the setting runs instead.
    const pid = Number(fs.readFileSync(path.join(stack.var, 'webhooks.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    try {
      stack.ctl('wallet', 'topup', payer(), '1.00');
      const p = spawn(path.join(bin, 'sessions-webhooks'), ['--db', stack.db], { env: strict, stdio: 'ignore' });
      await sleep(1000);
      p.kill('SIGTERM');
      await new Promise((resolve) => (p.exitCode !== null ? resolve() : p.once('exit', resolve)));
      eq(r.got.length, 0, 'requests that reached the private receiver');
      const d = deliveries(r.endpointId)[0];
      assert(d.attempts >= 1 && /private/.test(d.lastError), `the delivery: ${JSON.stringify(d)}`);
    } finally {
      process.kill(pid, 'SIGCONT');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await done(r);
  }],

  ['a relay killed with -9 and started again reports the connections it had as participant.left; a return is participant.joined', async () => {
    const bare = await Stack.bare([], { SESSIONS_WEBHOOK_ALLOW_PRIVATE: '1' });
    try {
      bare.ctl('webhook', 'add', 'http://127.0.0.1:9/hook');
      bare.ctl('user', 'add', 'u', '--balance', '10.00');
      bare.ctl('astrologer', 'add', 'a');
      const b = bare.ctl('book', '--user', 'u', '--astrologer', 'a', '--type', 'chat', '--minutes', '5', '--price', '1.00');
      const u = await join(bare, b.userToken);
      process.kill(bare.relay.pid, 'SIGKILL');
      await u.closed;
      await bare.startRelay();
      const types = () => bare.ctl('webhook', 'deliveries').filter((d) => d.subject === b.sessionId)
        .sort((x, y) => x.sequence - y.sequence).map((d) => d.type);
      eq(types(), ['booking.created', 'participant.joined', 'participant.left'], 'after the restart');
      (await join(bare, b.userToken)).close();
      await waitFor('the event of the return', () => types().length >= 4);
      eq(types().slice(3, 4), ['participant.joined'], 'the return');
    } finally {
      await bare.stop();
    }
  }],

  ['a later event of a subject waits behind the one being retried, and the deliverer sleeps meanwhile instead of looking again and again', async () => {
    const r = new Receiver();
    r.mode = '500';
    await endpoint(r);
    const user = payer();
    stack.ctl('wallet', 'topup', user, '1.00');
    await waitFor('two tries', () => r.got.length >= 2, 5000); // the third is 3 s (5 min / DIVISOR) away
    stack.ctl('wallet', 'topup', user, '2.00');
    const pid = Number(fs.readFileSync(path.join(stack.var, 'webhooks.pid'), 'utf8'));
    const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
    const cpu = () => {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / hz;
    };
    await sleep(300);
    const before = cpu();
    await sleep(1500);
    const used = cpu() - before;
    eq(new Set(r.ids()).size, 1, 'events received while the first is retried');
    assert(used < 0.3, `the deliverer used ${used.toFixed(2)} s of CPU in 1.5 s with nothing it could send`);
    await done(r);
  }],

  ['at most 16 endpoints; remove forgets one; unknown ids are refused', async () => {
    for (const w of stack.ctl('webhook', 'list')) stack.ctl('webhook', 'remove', String(w.id));
    const ids = [];
    for (let i = 0; i < 16; i++) ids.push(stack.ctl('webhook', 'add', `http://127.0.0.1:9/e${i}`).id);
    const more = ctlRaw(['webhook', 'add', 'http://127.0.0.1:9/e16']);
    assert(more.code !== 0 && /at most 16/.test(more.err), `the 17th: ${more.code} ${more.err}`);
    for (const id of ids) stack.ctl('webhook', 'remove', String(id));
    eq(stack.ctl('webhook', 'list'), [], 'the endpoints after removing them');
    for (const args of [['remove', '999'], ['rotate', '999'], ['retry', '999999']]) {
      const res = ctlRaw(['webhook', ...args]);
      assert(res.code !== 0 && /no webhook/.test(res.err), `${args}: ${res.code} ${res.err}`);
    }
  }],
];

run(checks, {
  before: async () => {
    stack = await Stack.start({
      SESSIONS_MINUTE_MS: '1000', SESSIONS_WEBHOOK_ALLOW_PRIVATE: '1',
      SESSIONS_WEBHOOK_RETRY_DIVISOR: String(DIVISOR), SESSIONS_WEBHOOK_TIMEOUT_SECONDS: '1',
    });
  },
  after: async () => { if (stack) await stack.stop(); },
  timeoutMs: 120000,
});
