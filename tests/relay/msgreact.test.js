// msgreact.test.js: emoji reactions on chat messages: toggled, one of each per person per message, stored, in history; refusals store nothing.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Stack, Client, join, run, assert, eq, sleep, bin, root } = require('./lib');

let s;
const open = [];
const track = (c) => { open.push(c); return c; };
const joinT = async (...a) => track(await join(s, ...a));
const chatFile = () => s.db.replace(/\.db$/, '-chat.db');

// The stored reactions of a session, as "seq sender emoji" lines in key order.
const stored = (sid) => execFileSync('sqlite3', [chatFile(),
  `SELECT seq, sender, emoji FROM chat_reactions x JOIN chat_rooms r ON r.id = x.room WHERE r.session_id = '${sid}' ORDER BY seq, sender, emoji`],
{ encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('|').join(' '));
const total = () => Number(execFileSync('sqlite3', [chatFile(), 'SELECT count(*) FROM chat_reactions'],
  { encoding: 'utf8' }));

// A chat booking with both joined and one message from each: seqs 1 (user) and 2 (astrologer).
async function room(type = 'chat') {
  const b = s.book(type);
  const u = await joinT(b.userToken);
  const a = await joinT(b.astrologerToken);
  u.send({ type: 'message', message: 'first', clientId: 'u1' });
  await a.next('message');
  await u.next('message');
  a.send({ type: 'message', message: 'second', clientId: 'a1' });
  await u.next('message');
  await a.next('message');
  return { b, u, a };
}

const react = (c, seq, emoji, on = true) => c.send({ type: 'message-reaction', seq, emoji, on });
const answer = (c) => c.next((f) => f.type === 'message-reaction' || f.type === 'error', 5000);

const checks = [
  ["the page's reaction set is the library's, emoji for emoji", async () => {
    const lib = execFileSync(path.join(root, 'build/tests/reaction_set'), { encoding: 'utf8' }).trim().split('\n');
    const page = fs.readFileSync(path.join(root, 'html/js/emoji.js'), 'utf8');
    const set = JSON.parse(/export const REACTIONS = (\[[^\]]*\])/.exec(page)[1].replace(/'/g, '"'));
    eq(set, lib, 'html/js/emoji.js REACTIONS and db_reactions');
  }],

  ['a reaction reaches both sides once stored; taking it back too; one row a person an emoji', async () => {
    const { b, u, a } = await room();
    react(u, 2, '👍');
    const mine = await answer(u);
    eq(mine, { type: 'message-reaction', seq: 2, emoji: '👍', by: 'user', on: true }, 'the sender hears it stored');
    eq(await answer(a), mine, 'the other side gets the same frame');
    eq(stored(b.sessionId), ['2 user 👍'], 'one row in the chat file');
    react(u, 2, '👍');
    eq(await answer(u), mine, 'the same again answers the sender with the state');
    eq((await a.within('message-reaction', 300)).length, 0, 'and tells the other side nothing: nothing changed');
    eq(stored(b.sessionId), ['2 user 👍'], 'still one row: one of each emoji per person per message');
    react(a, 2, '👍');
    eq(await answer(u), { type: 'message-reaction', seq: 2, emoji: '👍', by: 'astrologer', on: true }, 'both may put the same emoji');
    await answer(a);
    react(a, 2, '❤️');
    await answer(u); await answer(a);
    eq(stored(b.sessionId), ['2 astrologer ❤️', '2 astrologer 👍', '2 user 👍'], 'two people, two 👍; and a ❤️');
    react(u, 2, '👍', false);
    const off = await answer(a);
    eq(off, { type: 'message-reaction', seq: 2, emoji: '👍', by: 'user', on: false }, 'taking it back reaches the other side');
    eq(await answer(u), off, 'and the sender');
    eq(stored(b.sessionId), ['2 astrologer ❤️', '2 astrologer 👍'], "only the user's row went");
    react(u, 2, '👍', false);
    eq(await answer(u), off, 'taking back what is not there answers the sender with the state');
    eq((await a.within('message-reaction', 300)).length, 0, 'and tells the other side nothing');
    u.close(); a.close();
  }],

  ['every emoji of the set, on a message of either side, in voice and video rooms too', async () => {
    const lib = execFileSync(path.join(root, 'build/tests/reaction_set'), { encoding: 'utf8' }).trim().split('\n');
    for (const type of ['voice', 'video']) {
      const { b, u, a } = await room(type);
      for (const emoji of lib) {
        react(u, 1, emoji);
        eq((await answer(a)).emoji, emoji, `${type}: ${emoji} on one's own message reaches the other side`);
        await answer(u);
      }
      eq(stored(b.sessionId).length, lib.length, `${type}: one row each`);
      u.close(); a.close();
    }
  }],

  ['the history on join and on request carries each message its reactions', async () => {
    const { b, u, a } = await room();
    react(u, 1, '🙏'); await answer(u); await answer(a);
    await sleep(20); // a later millisecond: the order is by time
    react(a, 1, '🙏'); await answer(u); await answer(a);
    react(a, 2, '😂'); await answer(u); await answer(a);
    u.close();
    await a.next('participant-left');
    const u2 = await joinT(b.userToken);
    eq(u2.joined.history.map((m) => [m.seq, m.reactions]),
      [[1, [{ emoji: '🙏', by: 'user' }, { emoji: '🙏', by: 'astrologer' }]], [2, [{ emoji: '😂', by: 'astrologer' }]]],
      'a reload sees who put what, oldest first');
    u2.send({ type: 'history', after: 1 });
    const h = await u2.next('history');
    eq(h.messages.map((m) => [m.seq, m.reactions]), [[2, [{ emoji: '😂', by: 'astrologer' }]]], 'and so does a history frame');
    u2.send({ type: 'message', message: 'third', clientId: 'u2' });
    const live = await u2.next('message');
    assert(!('reactions' in live), 'a new message carries no reactions field');
    a.send({ type: 'message-reaction', seq: 2, emoji: '😂', on: false });
    await answer(a);
    const u3 = await joinT(b.userToken);
    assert(!('reactions' in u3.joined.history[1]), 'a message whose reactions were all taken back has none');
    u2.close(); u3.close(); a.close();
  }],

  ['refused with invalid_field, nothing stored: unknown emoji, bad seq, bad on', async () => {
    const { b, u, a } = await room();
    const before = total();
    const bad = [
      [{ seq: 1, emoji: '🦄', on: true }, 'an emoji outside the set'],
      [{ seq: 1, emoji: 'hello', on: true }, 'text'],
      [{ seq: 1, emoji: '👍👍', on: true }, 'two emoji'],
      [{ seq: 1, emoji: '👍 ', on: true }, 'an emoji and a blank'],
      [{ seq: 1, emoji: '', on: true }, 'an empty emoji'],
      [{ seq: 1, emoji: 42, on: true }, 'a number for emoji'],
      [{ seq: 1, emoji: null, on: true }, 'a null emoji'],
      [{ seq: 1, on: true }, 'no emoji'],
      [{ seq: '1', emoji: '👍', on: true }, 'seq as a string'],
      [{ seq: 0, emoji: '👍', on: true }, 'seq 0'],
      [{ seq: -1, emoji: '👍', on: true }, 'a negative seq'],
      [{ seq: 1.5, emoji: '👍', on: true }, 'a fractional seq'],
      [{ seq: null, emoji: '👍', on: true }, 'a null seq'],
      [{ emoji: '👍', on: true }, 'no seq'],
      [{ seq: 1, emoji: '👍', on: 'yes' }, 'on as a string'],
      [{ seq: 1, emoji: '👍', on: 1 }, 'on as a number'],
      [{ seq: 1, emoji: '👍' }, 'no on'],
    ];
    for (const [fields, what] of bad) {
      u.send({ type: 'message-reaction', ...fields });
      const e = await u.next('error');
      eq(e.code, 'invalid_field', `${what} is refused`);
    }
    await sleep(200);
    eq(a.frames.filter((f) => f.type === 'message-reaction').length, 0, 'the other side heard of none');
    eq(total(), before, 'nothing was stored');
    eq(stored(b.sessionId), [], 'this session has no reactions');
    u.close(); a.close();
  }],

  ["refused with not_found, nothing stored: a seq this session does not have, another session's message", async () => {
    const one = await room();
    const two = await room();
    two.u.send({ type: 'message', message: 'only in two', clientId: 'u3' });
    eq((await two.u.next('message')).seq, 3, 'the other session has a message 3');
    const before = total();
    react(one.u, 3, '👍');
    const e = await answer(one.u);
    eq([e.type, e.code], ['error', 'not_found'], "a seq of another session's message is refused");
    assert(/no message with that seq/.test(e.message), `the error says why (${e.message})`);
    react(one.u, 99, '👍');
    eq((await answer(one.u)).code, 'not_found', 'a seq no message has is refused');
    react(one.u, 3, '👍', false);
    eq((await answer(one.u)).code, 'not_found', 'taking back on a missing message too');
    await sleep(200);
    eq(one.a.frames.filter((f) => f.type === 'message-reaction').length, 0, 'the other side heard of none');
    eq(two.a.frames.filter((f) => f.type === 'message-reaction').length, 0, "the other session's people heard nothing");
    eq(total(), before, 'nothing was stored');
    for (const c of [one.u, one.a, two.u, two.a]) c.close();
  }],

  ['before joining a reaction is refused with not_joined and the connection closed', async () => {
    const c = track(new Client(s));
    await c.opened;
    const before = total();
    react(c, 1, '👍');
    eq((await c.next('error')).code, 'not_joined', 'refused');
    eq(await c.waitClose(), 1008, 'closed 1008');
    eq(total(), before, 'nothing was stored');
  }],

  ['a reaction sent in the moment after an end is refused with session_ended, nothing stored', async () => {
    const { b, u, a } = await room();
    react(u, 1, '👍'); await answer(u); await answer(a);
    // Sent before the relay's watch sees the end: the library's check in the write's transaction refuses it.
    s.ctl('end', b.sessionId, '--reason', 'completed');
    react(u, 2, '👍');
    const e = await answer(u);
    eq([e.type, e.code], ['error', 'session_ended'], 'the sender is told the session has ended');
    eq((await u.next('session-ended', 1500)).reason, 'completed', 'then the relay sees the end');
    eq(a.frames.filter((f) => f.type === 'message-reaction').length, 0, 'the other side never heard of it');
    eq(stored(b.sessionId), ['1 user 👍'], 'what was put before the end stays; nothing after');
    u.close(); a.close();
  }],

  ['a chat file locked by another process: the reaction is refused as busy, nothing stored', async () => {
    const { b, u, a } = await room();
    const holder = spawn('sqlite3', [chatFile()], { stdio: ['pipe', 'pipe', 'ignore'] });
    let said = '';
    holder.stdout.on('data', (d) => { said += d; });
    holder.stdin.write('PRAGMA busy_timeout = 5000;\nBEGIN IMMEDIATE;\nSELECT \'held\';\n');
    try {
      for (let i = 0; i < 100 && !said.includes('held'); i++) await sleep(50);
      assert(said.includes('held'), "the test holds the chat file's write lock");
      react(u, 1, '👏');
      const e = await u.next((f) => f.type === 'error' || f.type === 'message-reaction', 10000);
      eq([e.type, e.code], ['error', 'busy'], 'refused as chat is');
    } finally {
      holder.stdin.end('ROLLBACK;\n');
    }
    await new Promise((r) => (holder.exitCode !== null ? r() : holder.once('exit', r)));
    eq(stored(b.sessionId), [], 'nothing was stored');
    eq(a.frames.filter((f) => f.type === 'message-reaction').length, 0, 'the other side heard nothing');
    react(u, 1, '👏');
    eq((await answer(u)).on, true, 'once the lock is gone it is stored');
    u.close(); a.close();
  }],
];

run(checks, {
  before: async () => { s = await Stack.bare(['--rate', '1000', '--burst', '1000']); },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
  },
  timeoutMs: 90000,
});
