// files.test.js: a file uploaded through the API is announced by a message frame with its id: stored once, shown to both with its name, size and type, in history; other files are refused and change nothing.
'use strict';
const { execFileSync } = require('child_process');
const { Stack, join, run, assert, eq } = require('./lib');

let s;
const open = [];
const track = (c) => { open.push(c); return c; };
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 1)]);

async function upload(token, name) {
  const res = await fetch(`${s.origin}/api/sessions/files`, {
    method: 'POST', body: PNG,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png', 'X-File-Name': encodeURIComponent(name) },
  });
  return res.json();
}

async function say(c, frame) {
  c.send({ type: 'message', ...frame });
  return c.next((f) => (f.type === 'message' && f.clientId === frame.clientId) || f.type === 'error', 10000);
}

const messages = (b) => execFileSync('sqlite3', [s.db.replace(/\.db$/, '-chat.db'),
  `SELECT count(*) FROM chat_messages m JOIN chat_rooms r ON r.id = m.room WHERE r.session_id = '${b.sessionId}'`], { encoding: 'utf8' }).trim();

const checks = [
  ['a file announced by its uploader reaches both with its name, size and type, and lands once', async () => {
    const b = s.book('voice');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    const file = await upload(b.userToken, 'birth chart.png');
    const got = await say(u, { file: file.id, clientId: 'f1' });
    eq([got.type, got.kind, got.message, got.senderType], ['message', 'file', 'birth chart.png', 'user'],
      'the sender gets the stored message of kind file');
    eq(got.file, { id: file.id, name: 'birth chart.png', bytes: PNG.length, type: 'image/png', available: true },
      'with the file as the upload stored it');
    const other = await a.next((f) => f.type === 'message' && f.kind === 'file', 5000);
    eq(other.file.id, file.id, 'the astrologer gets the same message');
    const again = await say(u, { file: file.id, clientId: 'f1' });
    eq([again.seq, again.file.id], [got.seq, file.id], 'a resend with the same clientId answers the first copy');
    const twice = await say(u, { file: file.id, clientId: 'f2' });
    eq([twice.type, twice.code], ['error', 'not_found'], 'a file is announced once');
    const late = track(await join(s, b.astrologerToken));
    const h = late.joined.history.filter((m) => m.kind === 'file');
    eq(h.length, 1, 'the history holds the file message once');
    eq(h[0].file, got.file, 'as it was sent');
    eq(messages(b), '1', 'one message stored');
    u.close(); a.close(); late.close();
  }],

  ["refused announcements change nothing: another's file, another session's, a bad id, text beside it", async () => {
    const b = s.book('chat');
    const c = s.book('chat');
    const u = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    const mine = await upload(b.userToken, 'mine.png');
    const elsewhere = await upload(c.userToken, 'elsewhere.png');
    let r = await say(a, { file: mine.id, clientId: 'x1' });
    eq([r.type, r.code], ['error', 'not_found'], "the other participant cannot announce the uploader's file");
    r = await say(u, { file: elsewhere.id, clientId: 'x2' });
    eq([r.type, r.code], ['error', 'not_found'], "nor anyone another session's file");
    r = await say(u, { file: 'one', clientId: 'x3' });
    eq([r.type, r.code], ['error', 'bad_message'], 'an id that is not a number is a bad message');
    r = await say(u, { file: mine.id, message: 'and text', clientId: 'x4' });
    eq([r.type, r.code], ['error', 'bad_message'], 'a file with a message beside it is a bad message');
    eq(messages(b), '0', 'nothing was stored');
    r = await say(u, { file: mine.id, clientId: 'x5' });
    eq(r.kind, 'file', 'the uploader still announces it afterwards');
    u.close(); a.close();
  }],

  ["a refused message's error names its clientId, text or file, from the frame's checks or the writer's; none when it had none", async () => {
    const b = s.book('chat');
    const u = track(await join(s, b.userToken));
    const refusal = async (frame) => {
      u.send({ type: 'message', ...frame });
      return u.next((f) => f.type === 'error' || f.type === 'message', 10000);
    };
    let r = await refusal({ message: '   ', clientId: 't-1' });
    eq([r.code, r.clientId], ['bad_message', 't-1'], 'an empty text');
    r = await refusal({ file: 'one', clientId: 'f-1' });
    eq([r.code, r.clientId], ['bad_message', 'f-1'], 'a file id that is not a number');
    r = await refusal({ file: 999999, clientId: 'f-2' });
    eq([r.code, r.clientId], ['not_found', 'f-2'], 'a file the sender never uploaded (refused by the writer)');
    r = await refusal({ message: 'x'.repeat(4001), clientId: 't-2' });
    eq([r.code, r.clientId], ['bad_message', 't-2'], 'a text over its length');
    r = await refusal({ message: '   ' });
    eq([r.code, 'clientId' in r], ['bad_message', false], 'an empty text without a clientId: none in the error');
    r = await refusal({ file: 999999 });
    eq([r.code, 'clientId' in r], ['not_found', false], 'an unknown file without a clientId: none');
    r = await refusal({ message: 'hi', clientId: 'bad id!' });
    eq([r.code, 'clientId' in r], ['bad_client_id', false], 'a clientId that is not one is not echoed');
    u.send({ type: 'message-reaction', seq: 1, emoji: '👍', on: true });
    r = await u.next((f) => f.type === 'error', 10000);
    eq([r.code, 'clientId' in r], ['not_found', false], 'a refused reaction names no clientId');
    eq(messages(b), '0', 'nothing was stored');
    u.close();
  }],
];

run(checks, {
  before: async () => {
    s = await Stack.start({ SESSIONS_API_RATE: '10000r/s' });
  },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
  },
  timeoutMs: 90000,
});
