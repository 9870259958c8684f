// chatfile.test.js: chat lives in its own file: filled up or locked, it leaves joins and settlement alone.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Stack, join, run, assert, eq, sleep, bin } = require('./lib');

let s;
const open = [];
const track = (c) => { open.push(c); return c; };
const FSIZE_KB = 1024; // the relay may write no file past 1 MiB

// The stack's relay again, now under a file size limit: the chat file fills up at 1 MiB.
async function relayWithFileLimit() {
  const pidFile = path.join(s.var, 'relay.pid');
  const old = Number(fs.readFileSync(pidFile, 'utf8'));
  const sock = path.join(s.var, 'relay.sock');
  process.kill(old, 'SIGTERM');
  for (let i = 0; i < 100 && fs.existsSync(sock); i++) await sleep(50);
  // The limit is meant for the chat file: the database's WAL, grown by the checks before, starts empty.
  execFileSync('sqlite3', [s.db, 'PRAGMA wal_checkpoint(TRUNCATE)'], { stdio: 'ignore' });
  const log = fs.openSync(path.join(s.var, 'relay.log'), 'a');
  const relay = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${FSIZE_KB}; exec "$0" "$@"`,
    path.join(bin, 'relay'), '--db', s.db, '--socket', sock,
    '--origin', s.origin, '--rate', '100000', '--burst', '100000'],
  { env: s.env, stdio: ['ignore', log, log], detached: true });
  relay.unref();
  fs.writeFileSync(pidFile, `${relay.pid}\n`);
  for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await sleep(50);
  assert(fs.existsSync(sock), 'the relay came back under the limit');
}

function ledgerOk() {
  try {
    execFileSync(path.join(bin, 'sessionctl'), ['--db', s.db, 'ledger', 'check'], { env: s.env, stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}

// Sends one message and waits for its answer: the stored message, or an error.
async function say(c, text, clientId) {
  c.send({ type: 'message', message: text, clientId });
  return c.next((f) => (f.type === 'message' && f.clientId === clientId) || f.type === 'error', 10000);
}

const checks = [
  ['a chat file locked by another process: the end settles while the lock is held, chat waits and is refused', async () => {
    const b = s.book('chat');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    const chatFile = s.db.replace(/\.db$/, '-chat.db');
    const holder = spawn('sqlite3', [chatFile], { stdio: ['pipe', 'pipe', 'ignore'] });
    let said = '';
    holder.stdout.on('data', (d) => { said += d; });
    holder.stdin.write('PRAGMA busy_timeout = 5000;\nBEGIN IMMEDIATE;\nSELECT \'held\';\n');
    for (let i = 0; i < 100 && !said.includes('held'); i++) await sleep(50);
    try {
      assert(said.includes('held'), 'the test holds the chat file\'s write lock');
      u.send({ type: 'message', message: 'while locked', clientId: 'L1' });
      const a2 = track(await join(s, b.astrologerToken));
      eq(a2.joined.status, 'active', 'a join (with its history) is served while the chat file is locked');
      const answer = await u.next((f) => f.type === 'error' || f.type === 'message', 10000);
      eq([answer.type, answer.code], ['error', 'busy'], 'the message that waited for the lock is refused as busy');
      const r = await s.api('end', b.userToken);
      eq(r.status, 200, 'the end through the API is answered while the lock is held');
      eq(r.body.reason, 'user_ended', 'and settled');
      assert(ledgerOk(), 'the ledger check holds');
      assert(holder.exitCode === null, 'all of it while the lock was still held');
      a.close(); a2.close(); u.close();
    } finally {
      holder.stdin.end('ROLLBACK;\n');
    }
    await new Promise((resolve) => (holder.exitCode !== null ? resolve() : holder.once('exit', resolve)));
    const c = s.book('chat');
    const u3 = track(await join(s, c.userToken));
    eq((await say(u3, 'unlocked', 'U1')).type, 'message', 'once the lock is gone chat is stored again');
    u3.close();
  }],

  ['the other side gets a message while its commit runs; its sender hears only once the commit is on disk', async () => {
    const b = s.book('chat');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    const tasks = `/proc/${s.relayPid()}/task`;
    const writer = fs.readdirSync(tasks).find((t) => fs.readFileSync(`${tasks}/${t}/comm`, 'utf8').trim() === 'chat-writer');
    assert(writer, 'the relay has its chat writer thread');
    // strace holds the writer's fdatasync for 2 s: the commit's, which makes the message durable.
    const tracer = spawn('strace', ['-qq', '-p', writer, '-e', 'trace=fdatasync',
      '-e', 'inject=fdatasync:delay_enter=2000000', '-o', '/dev/null'], { stdio: 'ignore' });
    const traced = () => /^TracerPid:\s+[1-9]/m.test(fs.readFileSync(`${tasks}/${writer}/status`, 'utf8'));
    try {
      for (let i = 0; i < 100 && !traced(); i++) await sleep(50);
      assert(traced(), 'strace holds the relay');
      u.send({ type: 'message', message: 'early', clientId: 'E1' });
      const got = await a.next('message', 1800);
      eq([got.message, got.clientId], ['early', 'E1'], 'the other side has the message while the commit waits');
      assert(!u.frames.some((f) => f.type === 'message'), 'its sender has no acknowledgement yet');
      const ack = await u.next('message', 10000);
      eq([ack.seq, ack.clientId], [got.seq, 'E1'], 'the sender is answered once the commit is done, with the same seq');
      assert(!a.frames.some((f) => f.type === 'message'), 'and the other side got it once');
    } finally {
      // SIGINT: strace detaches and lets the relay go on (SIGKILL could leave a thread stopped).
      await new Promise((resolve) => { tracer.once('exit', resolve); tracer.kill('SIGINT'); });
    }
    const kept = execFileSync('sqlite3', [s.db.replace(/\.db$/, '-chat.db'),
      "SELECT count(*) FROM chat_messages WHERE client_id = 'E1'"], { encoding: 'utf8' }).trim();
    eq(kept, '1', 'the chat file keeps it once');
    u.close(); a.close();
  }],

  ['a full chat file: chat is refused with a clear error, yet the other side joins (with the history) and the end settles', async () => {
    await relayWithFileLimit();
    const b = s.book('chat');
    const u = track(await join(s, b.userToken));
    const body = 'x'.repeat(4000);
    const stored = [];
    let refused = null;
    for (let i = 0; i < 600 && !refused; i++) {
      const f = await say(u, body, `f${i}`);
      if (f.type === 'error') refused = f;
      else stored.push(f.seq);
    }
    assert(refused, `the chat file filled up within 600 messages of 4000 bytes (${stored.length} stored)`);
    eq(refused.code, 'internal', 'the sender is told it was not stored');
    assert(stored.length >= 10, `some were stored before it filled (${stored.length})`);
    const a = track(await join(s, b.astrologerToken));
    eq(a.joined.status, 'active', 'the second join starts the session: its write went to the database');
    eq(a.joined.history.slice(0, 5).map((m) => m.seq), stored.slice(0, 5), 'the history is read from the full chat file');
    await sleep(1100);
    const r = await s.api('end', b.astrologerToken);
    eq(r.status, 200, 'the end through the API is answered');
    eq([r.body.reason, r.body.billedMinutes], ['astrologer_ended', 1], 'and settled for the time both were there');
    assert(ledgerOk(), 'the ledger check holds');
    eq(s.ctl('show', b.sessionId).status, 'completed', 'the session is completed');
    u.close(); a.close();
  }],

  ['the chat is in the chat file, the database has none', async () => {
    const chatFile = s.db.replace(/\.db$/, '-chat.db');
    const n = Number(execFileSync('sqlite3', [chatFile, 'SELECT count(*) FROM chat_messages'], { encoding: 'utf8' }));
    const tables = execFileSync('sqlite3', [s.db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'chat%'"],
      { encoding: 'utf8' }).trim();
    assert(n >= 11, `the chat file holds the messages (${n})`);
    eq(tables, '0', 'no chat tables in the database');
  }],
];

run(checks, {
  before: async () => {
    s = await Stack.start({
      SESSIONS_CHAT_MAX_BYTES: '67108864', SESSIONS_CHAT_MAX_MESSAGES: '100000',
      SESSIONS_CHAT_BEFORE_START_MESSAGES: '1000',
    });
  },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
  },
  timeoutMs: 120000,
});
