// limits.test.js: size, fragments, malformed and pre-join frames, floods, laggards, pings, origin — the relay keeps serving.
'use strict';
const { Stack, Client, join, run, assert, eq, sleep, sdp } = require('./lib');

let s;      // the real stack, through nginx
let bare;   // the relay alone, with short pings and a high rate limit
const open = [];
const track = (c) => { open.push(c); return c; };

// The relay still answers a fresh join: it survived whatever came before.
async function stillServes(stack) {
  const b = stack.book('chat');
  const c = track(await join(stack, b.userToken));
  c.send({ type: 'message', message: 'alive' });
  eq((await c.next('message')).message, 'alive', 'the relay still serves');
  c.close();
}

async function connected(stack, opts) {
  const c = track(new Client(stack, opts));
  await c.opened;
  return c;
}

const checks = [
  ['a message over 64 KiB closes the connection with 1009', async () => {
    const b = s.book('chat');
    const c = track(await join(s, b.userToken));
    c.send({ type: 'message', message: 'x'.repeat(70000) });
    eq(await c.waitClose(), 1009, 'close code');
    await stillServes(s);
  }],

  ['a message of just under 64 KiB is read whole (and refused for its chat length, not its size)', async () => {
    const b = s.book('chat');
    const c = track(await join(s, b.userToken));
    c.send({ type: 'message', message: 'y'.repeat(65000) });
    eq((await c.next('error')).code, 'bad_message', 'an over-long chat text is a bad_message');
    eq(c.closeCode, null, 'still open');
    c.close();
  }],

  ['an empty message in empty fragments is refused as invalid JSON, and the connection keeps working', async () => {
    const b = s.book('chat');
    const c = track(await connected(s));
    c.ws.send(JSON.stringify({ type: 'join-room', token: b.userToken }));
    await c.next('joined');
    c.ws.send('', { fin: false });
    c.ws.send('', { fin: true });
    eq((await c.next('error')).code, 'invalid_json', 'nothing is not a frame');
    c.send({ type: 'ping' });
    await c.next('pong');
    await stillServes(s);
  }],

  ['fragmented messages are reassembled; fragments over 64 KiB in total close with 1009', async () => {
    const b = s.book('chat');
    const c = track(await connected(s));
    const text = JSON.stringify({ type: 'join-room', token: b.userToken });
    const cut = [0, 7, 19, text.length];
    for (let i = 0; i < 3; i++) c.ws.send(text.slice(cut[i], cut[i + 1]), { fin: i === 2 });
    eq((await c.next('joined')).participantType, 'user', 'a join in three fragments');
    const msg = JSON.stringify({ type: 'message', message: 'z'.repeat(3000) });
    for (let i = 0; i < msg.length; i += 1000) c.ws.send(msg.slice(i, i + 1000), { fin: i + 1000 >= msg.length });
    eq((await c.next('message')).message.length, 3000, 'a message in four fragments');
    const part = 'a'.repeat(8192);
    for (let i = 0; i < 9; i++) c.ws.send(part, { fin: false });
    eq(await c.waitClose(), 1009, 'too much in fragments');
    await stillServes(s);
  }],

  ['malformed frames after join get invalid_json and the connection keeps working', async () => {
    const b = s.book('chat');
    const c = track(await join(s, b.userToken));
    for (const f of ['not json', '[1,2,3]', '{"type":5}', '{"type":"message"', '"join-room"', '{} {}']) {
      c.send(f);
      eq((await c.next('error')).code, 'invalid_json', f);
    }
    c.send({ type: 'message', message: 'after the junk' });
    eq((await c.next('message')).message, 'after the junk', 'still serving this connection');
    c.close();
  }],

  ['a frame before join-room is refused and closes; so does a malformed or binary first frame', async () => {
    const b = s.book('chat');
    const c1 = await connected(s);
    c1.send({ type: 'message', message: 'hi', roomId: b.roomId });
    eq((await c1.next('error')).code, 'not_joined', 'message before join');
    eq(await c1.waitClose(), 1008, 'closed');
    const c2 = await connected(s);
    c2.send('{{{');
    eq((await c2.next('error')).code, 'invalid_json', 'junk before join');
    eq(await c2.waitClose(), 1008, 'closed');
    const c3 = await connected(s);
    c3.ws.send(Buffer.from([1, 2, 3]));
    eq((await c3.next('error')).code, 'bad_frame', 'binary frame');
    eq(await c3.waitClose(), 1003, 'closed 1003');
    const other = track(await join(s, b.astrologerToken));
    eq(other.joined.history.length, 0, 'nothing was stored by the refused frames');
    other.close();
    await stillServes(s);
  }],

  ['a connection without an Origin, or with a foreign one, is refused', async () => {
    for (const origin of [null, 'http://127.0.0.1:1', 'https://example.com']) {
      const c = await connected(s, { origin });
      eq((await c.next('error')).code, 'forbidden', String(origin));
      eq(await c.waitClose(), 1008, 'closed');
    }
    const ok = await connected(s, { origin: `http://localhost:${s.port}` });
    ok.send({ type: 'join-room', token: s.book('chat').userToken });
    eq((await ok.next('joined')).type, 'joined', 'localhost on the same port is the same page');
    ok.close();
  }],

  ['a connection that never joins is closed after 10 s', async () => {
    const c = await connected(s);
    const t0 = Date.now();
    await c.waitClose(14000);
    const took = Date.now() - t0;
    assert(took >= 9000 && took < 13500, `closed after ${took} ms`);
  }],

  ['a flood is rate-limited: some frames refused with rate_limited, then the connection closed', async () => {
    const b = s.book('chat');
    const c = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    const t0 = Date.now();
    for (let i = 0; i < 400; i++) c.send({ type: 'message', message: `f${i}`, clientId: `f-${i}` });
    assert(await c.next((f) => f.type === 'error' && f.code === 'rate_limited'), 'the flooder is told');
    eq(await c.waitClose(), 1008, 'the flooder is closed');
    // the bucket: a burst of 100 frames, refilled at 50 a second while the flood arrived
    const allowed = 100 + Math.ceil(50 * (Date.now() - t0) / 1000);
    await sleep(300);
    const got = a.frames.filter((f) => f.type === 'message').length;
    // of those the room's queue to the writer (64) may have refused some as busy
    assert(got >= 60 && got <= allowed, `the burst passed and the rest did not: ${got} delivered, ${allowed} allowed`);
    const errors = c.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited').length;
    assert(errors <= 2, `one rate_limited error per run of drops, not one per frame: ${errors + 1}`);
    a.close();
    await stillServes(s);
  }],

  ['reactions on messages count in the same frame rate: a flood of them is refused, then closed', async () => {
    const b = s.book('chat');
    const c = track(await join(s, b.userToken));
    const a = track(await join(s, b.astrologerToken));
    c.send({ type: 'message', message: 'react to me', clientId: 'r-0' });
    await a.next('message');
    const t0 = Date.now();
    for (let i = 0; i < 400; i++) c.send({ type: 'message-reaction', seq: 1, emoji: '👍', on: i % 2 === 0 });
    assert(await c.next((f) => f.type === 'error' && f.code === 'rate_limited'), 'the flooder is told');
    eq(await c.waitClose(), 1008, 'the flooder is closed');
    const allowed = 100 + Math.ceil(50 * (Date.now() - t0) / 1000);
    await sleep(300);
    // each toggle changes the state, so each stored one reaches the other side; the room's queue may refuse some as busy
    const got = a.frames.filter((f) => f.type === 'message-reaction').length;
    assert(got >= 30 && got <= allowed, `the burst passed and the rest did not: ${got} delivered, ${allowed} allowed`);
    a.close();
    await stillServes(s);
  }],

  ["the rate is the participant's, not the connection's: reconnecting buys no fresh burst", async () => {
    // Candidates go to the other side one for one, so what the peer receives is what the bucket let through.
    const b = s.book('video');
    const a = track(await join(s, b.astrologerToken));
    const c = track(await join(s, b.userToken));
    const cand = (i) => ({ type: 'ice-candidate',
      candidate: { candidate: `candidate:${i} 1 udp 2122260223 192.0.2.1 ${10000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } });
    for (let i = 0; i < 160; i++) c.send(cand(i));
    await c.next('error');
    c.close();
    const c2 = track(await join(s, b.userToken));
    await sleep(100);
    const before = a.frames.filter((f) => f.type === 'ice-candidate').length;
    for (let i = 0; i < 60; i++) c2.send(cand(1000 + i));
    await sleep(400);
    const passed = a.frames.filter((f) => f.type === 'ice-candidate').length - before;
    assert(passed > 0, 'the new connection is served as the bucket refills');
    assert(passed < 30, `the new connection finds the bucket as the old one left it: ${passed} of 60 reached the peer, not a fresh burst`);
    c2.close(); a.close();
  }],

  ['a link that reconnects in a loop is held off after 10 joins a minute, with the wait in the message; the other side is unaffected', async () => {
    const b = s.book('chat');
    const a = track(await join(s, b.astrologerToken));
    for (let i = 0; i < 9; i++) (await join(s, b.userToken)).close(); // 10 with the first join below
    const last = track(await join(s, b.userToken));
    const c = track(new Client(s));
    await c.opened;
    c.send({ type: 'join-room', token: b.userToken });
    const refused = await c.next('error');
    eq(refused.code, 'rate_limited', 'the 11th join is refused');
    assert(/try again in \d+ s/.test(refused.message), refused.message);
    eq(await c.waitClose(), 1008, 'and closed');
    a.send({ type: 'ping' });
    await a.next('pong');
    last.close(); a.close();
  }],

  ['one room cannot starve another: its own queue to the writer is capped, the next room still gets its chat stored', async () => {
    const small = await Stack.bare(['--chat-queue', '100', '--rate', '100000', '--burst', '100000']);
    try {
      const x = small.book('chat');
      const y = small.book('chat');
      const xu = track(await join(small, x.userToken));
      track(await join(small, x.astrologerToken));
      const yu = track(await join(small, y.userToken));
      const ya = track(await join(small, y.astrologerToken));
      for (let i = 0; i < 300; i++) xu.send({ type: 'message', message: `flood ${i}`, clientId: `x-${i}` });
      yu.send({ type: 'message', message: 'an ordinary word', clientId: 'y-1' });
      eq((await ya.next('message', 5000)).message, 'an ordinary word', "the other room's message is stored and delivered");
      assert(!yu.frames.some((f) => f.type === 'error'), `no busy for the quiet room: ${JSON.stringify(yu.frames.filter((f) => f.type === 'error'))}`);
      assert(xu.frames.some((f) => f.type === 'error' && f.code === 'busy') || (await xu.next('error', 3000)).code === 'busy',
        'the flooding room is the one told to wait');
    } finally {
      await small.stop();
    }
  }],

  ['before both have joined a participant may store only a little chat (chat_before_start_messages)', async () => {
    const small = await Stack.bare([], { SESSIONS_CHAT_BEFORE_START_MESSAGES: '3' });
    try {
      const b = small.book('chat');
      const u = track(await join(small, b.userToken));
      for (let i = 0; i < 4; i++) u.send({ type: 'message', message: `waiting ${i}`, clientId: `w-${i}` });
      for (let i = 0; i < 3; i++) await u.next('message', 3000);
      eq((await u.next('error', 3000)).code, 'limit_reached', 'the fourth is refused, and says why');
    } finally {
      await small.stop();
    }
  }],

  ['chat waiting to be stored is capped (--chat-queue): beyond it the sender gets busy and nothing is stored', async () => {
    const small = await Stack.bare(['--chat-queue', '2', '--rate', '100000', '--burst', '100000']);
    try {
      const b = small.book('chat');
      const u = track(await join(small, b.userToken));
      const a = track(await join(small, b.astrologerToken));
      for (let i = 0; i < 60; i++) u.send({ type: 'message', message: `q${i}`, clientId: `q-${i}` });
      const answered = () => u.frames.filter((f) => f.type === 'message' ||
        (f.type === 'error' && f.code === 'busy')).length;
      for (let t = 0; t < 250 && answered() < 60; t++) await sleep(20);
      const busy = u.frames.filter((f) => f.type === 'error' && f.code === 'busy').length;
      const stored = a.frames.filter((f) => f.type === 'message').map((f) => f.message);
      eq(answered(), 60, 'every message is answered: stored or refused');
      assert(busy > 0, 'a burst beyond the cap is refused with busy');
      eq(stored.length + busy, 60, 'what was not refused was delivered');
      u.send({ type: 'message', message: 'later', clientId: 'q-later' });
      eq((await a.next((f) => f.type === 'message' && f.message === 'later')).message, 'later',
        'once the writer catches up chat flows again');
      const again = track(await join(small, b.userToken));
      eq(again.joined.history.map((m) => m.message), [...stored, 'later'], 'refused messages were not stored');
    } finally {
      await small.stop();
    }
  }],

  ['a client that stops reading is dropped when its queue is full; the other side sees it leave', async () => {
    const b = bare.book('video');
    const slow = track(await join(bare, b.userToken));
    const fast = track(await join(bare, b.astrologerToken));
    slow.ws._socket.pause(); // reads nothing from now on
    const big = sdp({ video: true }) + 'a=x-pad:' + 'p'.repeat(60000) + '\r\n';
    let sent = 0;
    while (fast.frames.every((f) => f.type !== 'participant-left') && sent < 400) {
      fast.send({ type: 'offer', offer: { type: 'offer', sdp: big } });
      sent++;
      if (sent % 20 === 0) await sleep(20);
    }
    const left = await fast.next('participant-left', 5000);
    eq(left.participantType, 'user', 'the laggard left');
    assert(sent * big.length < 40e6, `dropped after ${sent} offers (${Math.round(sent * big.length / 1e6)} MB)`);
    slow.ws._socket.resume();
    await slow.waitClose(5000);
    await stillServes(bare);
  }],

  ['the relay pings idle connections and drops a peer that never answers', async () => {
    const b = bare.book('chat');
    const alive = track(await join(bare, b.userToken));
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    const dead = track(await join(bare, b.astrologerToken, {}, { ws: { autoPong: false } }));
    const t0 = Date.now();
    await dead.waitClose(6000);
    const took = Date.now() - t0;
    // --ping-secs 1: a ping after 1 s of silence, the drop 2 s after the peer was last heard from
    assert(took >= 1000 && took < 6000, `the silent peer was dropped after ${took} ms`);
    assert(pings >= 1, `the live peer got ${pings} pings`);
    eq((await alive.next('participant-left')).participantType, 'astrologer', 'the other side is told');
    eq(alive.closeCode, null, 'a peer that answers pings stays');
  }],

  ['SIGTERM: goodbye (1001) to every client, waiting chat stored, exit 0; a restart loses no chat', async () => {
    const b = bare.book('chat');
    const u = track(await join(bare, b.userToken));
    const a = track(await join(bare, b.astrologerToken));
    for (let i = 1; i <= 20; i++) u.send({ type: 'message', message: `m${i}`, clientId: `r-${i}` });
    await a.next((f) => f.type === 'message' && f.seq === 20);
    const code = await bare.stopRelay();
    eq(code, 0, 'the relay exits 0');
    eq(await u.waitClose(), 1001, 'clients hear going-away');
    await bare.startRelay();
    const u2 = track(await join(bare, b.userToken, { after: 10 }));
    eq(u2.joined.history.map((m) => m.message), Array.from({ length: 10 }, (_, i) => `m${i + 11}`), 'history resumes after 10');
    u2.send({ type: 'message', message: 'after restart', clientId: 'r-5' });
    eq((await u2.next('message')).seq, 5, 'a resend from before the restart lands once');
    u2.close();
  }],

  ['SIGKILL: every message the sender saw acknowledged survives', async () => {
    const b = bare.book('chat');
    const u = track(await join(bare, b.userToken));
    track(await join(bare, b.astrologerToken)); // in session: the full allowance
    for (let i = 1; i <= 30; i++) u.send({ type: 'message', message: `k${i}` });
    const acked = [];
    for (let i = 0; i < 30; i++) acked.push((await u.next('message')).seq);
    bare.relay.kill('SIGKILL');
    await u.waitClose();
    await bare.startRelay();
    const u2 = track(await join(bare, b.userToken));
    eq(u2.joined.history.map((m) => m.seq), acked, 'all acknowledged messages are there');
    u2.close();
  }],
];

run(checks, {
  before: async () => {
    s = await Stack.start();
    bare = await Stack.bare(['--ping-secs', '1', '--rate', '100000', '--burst', '100000']);
  },
  after: async () => {
    open.forEach((c) => c.close());
    if (s) await s.stop();
    if (bare) await bare.stop();
  },
});
