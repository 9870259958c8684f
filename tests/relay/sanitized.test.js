// sanitized.test.js: the relay built with ASan+UBSan takes hostile frames from a joined link and leaves no memory error behind.
'use strict';
const fs = require('fs');
const path = require('path');
const { Stack, join, run, assert, eq, sdp, root } = require('./lib');

const SAN = path.join(root, 'build/tests/asan-relay');
let s;
const open = [];
const track = (c) => { open.push(c); return c; };

const checks = [
  ['empty fragments, an empty message, deep nesting, odd types and broken SDP are refused one by one', async () => {
    const b = s.book('voice');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    u.ws.send('');
    eq((await u.next('error')).code, 'invalid_json', 'an empty message');
    u.ws.send('', { fin: false });
    u.ws.send('', { fin: true });
    eq((await u.next('error')).code, 'invalid_json', 'an empty message in empty fragments');
    u.ws.send('['.repeat(5000) + ']'.repeat(5000));
    eq((await u.next('error')).code, 'invalid_json', 'nesting far past any frame');
    for (const f of [{ type: 5 }, { type: 'message', message: { a: 1 } }, { type: 'offer', offer: 'x' },
      { type: 'ice-candidate', candidate: { candidate: 1 } }, { type: 'history', after: -1 },
      { type: 'offer', offer: { type: 'offer', sdp: 'm=\r\n'.repeat(2000) } },
      { type: 'answer', answer: { type: 'offer', sdp: sdp() } }, { type: 'answer', answer: { type: 'answer', sdp: sdp({ video: true }) } }]) {
      u.send(f);
      assert((await u.next('error')).code, `refused: ${JSON.stringify(f).slice(0, 60)}`);
    }
    u.send({ type: 'ping' });
    await u.next('pong');
    u.close(); a.close();
  }],

  ['recording frames, odd ones among them, and a side leaving while it records', async () => {
    const b = s.book('video');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    for (const action of [null, 7, 'x'.repeat(5000), 'accept', 'stop']) {
      u.send({ type: 'recording', action });
      assert((await u.next('error')).code, `refused: ${String(action).slice(0, 20)}`);
    }
    u.send({ type: 'recording', action: 'ask' });
    await a.next('recording');
    a.send({ type: 'recording', action: 'accept' });
    eq((await u.next((f) => f.type === 'recording' && f.state === 'recording')).media, 'video', 'it runs');
    a.close();
    eq((await u.next((f) => f.type === 'recording' && f.state === 'stopped')).by, 'astrologer', 'a leave stops it');
    u.close();
  }],

  ['reactions on chat messages: put, put again, taken back, refused, read back in the history', async () => {
    const b = s.book('chat');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    u.send({ type: 'message', message: 'hi', clientId: 'h1' });
    await u.next('message');
    for (const [emoji, on] of [['👍', true], ['👍', true], ['❤️', true], ['👍', false], ['👍', false]]) {
      u.send({ type: 'message-reaction', seq: 1, emoji, on });
      eq([(await u.next('message-reaction')).emoji], [emoji], `${emoji} ${on ? 'put' : 'taken back'}`);
    }
    for (const f of [{ seq: 2, emoji: '👍', on: true }, { seq: 1, emoji: '👍\u0000', on: true },
      { seq: 2 ** 63, emoji: '👍', on: true }, { seq: 1, emoji: '👍'.repeat(5000), on: true }]) {
      u.send({ type: 'message-reaction', ...f });
      assert((await u.next('error')).code, `refused: ${JSON.stringify(f).slice(0, 60)}`);
    }
    const again = track(await join(s, b.userToken));
    eq(again.joined.history[0].reactions, [{ emoji: '❤️', by: 'user' }], 'the history carries what is left');
    again.close(); a.close();
  }],

  ['the sanitized relay stops cleanly with nothing reported', async () => {
    const code = await s.stopRelay();
    const log = s.relayLog;
    assert(!/runtime error|AddressSanitizer|LeakSanitizer/.test(log), `the sanitizers found something:\n${log.slice(0, 2000)}`);
    eq(code, 0, 'exit status');
  }],
];

if (!fs.existsSync(SAN)) {
  console.log('not ok - build/tests/asan-relay is built by make test');
  process.exit(1);
}
run(checks, {
  before: async () => {
    s = await Stack.bare([], { SESSIONS_RELAY_BIN: SAN, ASAN_OPTIONS: 'detect_leaks=1' });
  },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
  },
});
