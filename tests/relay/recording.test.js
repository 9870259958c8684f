// recording.test.js: recording with consent through real nginx, relay and API programs: the consent frames and
// their stored events, chunk uploads into the file, the caps at their boundaries, playback rights and the purge.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Stack, join, run, assert, eq, bin } = require('./lib');

const KIB = 1024;
const CAP = 64 * KIB;          // recording_max_bytes of the capped stack
const STORE = 100 * KIB;       // recordings_max_bytes of the capped stack
let s, capped, tight;
const open = [];
const joinT = async (st, token) => { const c = await join(st, token); open.push(c); return c; };

const sql = (st, q) => execFileSync('sqlite3', [st.db, q], { encoding: 'utf8' }).trim();
const events = (st, sid) => sql(st, `SELECT kind || '|' || coalesce(participant, '') || '|' || coalesce(detail, '') || '|' || at_ms
  FROM session_events WHERE session_id = '${sid}' AND kind LIKE 'recording%' ORDER BY id`).split('\n').filter(Boolean)
  .map((l) => { const [kind, who, detail, at] = l.split('|'); return { kind, who, detail, at: Number(at) }; });
const dir = (st) => path.join(st.var, 'sessions-recordings');
const files = (st) => (fs.existsSync(dir(st)) ? fs.readdirSync(dir(st)) : []);
const fileOf = (st, id) => sql(st, `SELECT file FROM recordings WHERE id = ${id}`);
const sizeOf = (st, id) => fs.statSync(path.join(dir(st), fileOf(st, id))).size;

const url = (st, rest = '') => `http://127.0.0.1:${st.port}/api/sessions/recording${rest}`;
async function upload(st, token, id, seq, bytes, type = 'video/webm') {
  const headers = { 'Content-Type': type, 'X-Recording-Id': String(id), 'X-Recording-Seq': String(seq) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url(st), { method: 'POST', headers, body: bytes });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
async function get(st, token, rest = '') {
  const res = await fetch(url(st, rest), { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
const chunk = (n, fill = 1) => Buffer.alloc(n, fill);

// Both joined, so the session is active; the user asks and the astrologer accepts: the recording runs.
async function running(st, type = 'video') {
  const b = st.book(type);
  const u = await joinT(st, b.userToken);
  const a = await joinT(st, b.astrologerToken);
  u.send({ type: 'recording', action: 'ask' });
  await u.next('recording'); await a.next('recording');
  a.send({ type: 'recording', action: 'accept' });
  const f = await u.next('recording');
  await a.next('recording');
  return { b, u, a, id: f.recordingId };
}

const checks = [
  ['a chat session refuses every recording frame, and a frame needs a known action', async () => {
    const b = s.book('chat');
    const u = await joinT(s, b.userToken);
    const a = await joinT(s, b.astrologerToken);
    for (const action of ['ask', 'accept', 'decline', 'stop']) {
      u.send({ type: 'recording', action });
      eq((await u.next('error')).code, 'media_not_allowed', `${action} in chat`);
    }
    for (const action of ['record', '', 1, null]) {
      u.send({ type: 'recording', action });
      eq((await u.next('error')).code, 'invalid_field', `action ${JSON.stringify(action)}`);
    }
    eq((await a.within('recording', 200)).length, 0, 'the other side heard nothing');
    eq(events(s, b.sessionId), [], 'no event stored');
  }],

  ['before both have joined an ask is refused (no one to ask), and nothing is stored', async () => {
    const b = s.book('voice');
    const u = await joinT(s, b.userToken);
    u.send({ type: 'recording', action: 'ask' });
    eq((await u.next('error')).code, 'peer_absent', 'asking alone');
    eq(events(s, b.sessionId), [], 'no event stored');
  }],

  ['one consent never starts a recording: the ask is stored and shown, no chunk is taken, no file is made', async () => {
    const b = s.book('video');
    const u = await joinT(s, b.userToken);
    const a = await joinT(s, b.astrologerToken);
    const t0 = Date.now();
    u.send({ type: 'recording', action: 'ask' });
    eq([(await u.next('recording')).state, (await a.next('recording')).by], ['asked', 'user'], 'both hear the ask, by the user');
    const ev = events(s, b.sessionId);
    eq(ev.map((e) => [e.kind, e.who]), [['recording_consent', 'user']], "the asker's consent alone is stored");
    assert(ev[0].at >= t0 - 5 && ev[0].at <= Date.now(), 'with the time it was given');
    u.send({ type: 'recording', action: 'accept' });
    eq((await u.next('error')).code, 'conflict', 'the asker cannot accept their own ask');
    a.send({ type: 'recording', action: 'ask' });
    eq((await a.next('error')).code, 'conflict', 'a second ask while one is pending is refused');
    eq(sql(s, `SELECT count(*) FROM recordings WHERE session_id = '${b.sessionId}'`), '0', 'no recording row');
    for (const id of [1, 2, 99]) {
      const r = await upload(s, b.astrologerToken, id, 0, chunk(1000));
      eq([r.status, r.body.error.code], [409, 'recording_not_running'], `a chunk for recording ${id} is refused`);
    }
    eq(files(s).length, 0, 'no file was written');
    eq(events(s, b.sessionId).length, 1, 'and nothing more was stored');
  }],

  ['a declined ask records nothing; either side may ask again afterwards', async () => {
    const b = s.book('voice');
    const u = await joinT(s, b.userToken);
    const a = await joinT(s, b.astrologerToken);
    a.send({ type: 'recording', action: 'ask' });
    await a.next('recording'); await u.next('recording');
    u.send({ type: 'recording', action: 'decline' });
    const d = await a.next('recording');
    eq([d.state, d.by], ['declined', 'user'], 'the asker hears the decline');
    eq((await u.next('recording')).state, 'declined', 'and so does the one who declined');
    eq(events(s, b.sessionId).map((e) => [e.kind, e.who]),
      [['recording_consent', 'astrologer'], ['recording_declined', 'user']], 'consent and refusal stored');
    eq(sql(s, `SELECT count(*) FROM recordings WHERE session_id = '${b.sessionId}'`), '0', 'no recording');
    u.send({ type: 'recording', action: 'decline' });
    eq((await u.next('error')).code, 'conflict', 'nothing left to decline');
    u.send({ type: 'recording', action: 'ask' });
    eq((await a.next('recording')).state, 'asked', 'a new ask after a decline');
  }],

  ['both consents start it: both hear it, each consent is an event with its time, chunks append in order to one file', async () => {
    const t0 = Date.now();
    const { b, u, a, id } = await running(s);
    assert(Number.isInteger(id) && id > 0, 'the recording has an id');
    const ev = events(s, b.sessionId);
    eq(ev.map((e) => [e.kind, e.who]), [['recording_consent', 'user'], ['recording_consent', 'astrologer'],
      ['recording_started', 'astrologer']], 'both consents, then the start');
    assert(ev.every((e) => e.at >= t0 - 5 && e.at <= Date.now()), 'each at its time');
    const r0 = await upload(s, b.astrologerToken, id, 0, chunk(3000, 7));
    eq([r0.status, r0.body.stored, r0.body.nextSeq, r0.body.bytes], [200, true, 1, 3000], 'chunk 0 stored');
    eq(sizeOf(s, id), 3000, 'the file holds it');
    const again = await upload(s, b.astrologerToken, id, 0, chunk(3000, 7));
    eq([again.status, again.body.stored, again.body.bytes], [200, false, 3000], 'a repeated chunk is taken once');
    const ahead = await upload(s, b.astrologerToken, id, 2, chunk(10));
    eq([ahead.status, ahead.body.error.code, ahead.body.error.nextSeq], [400, 'invalid_field', 1], 'a gap is refused, naming the next');
    const r1 = await upload(s, b.astrologerToken, id, 1, chunk(2000, 9));
    eq([r1.status, r1.body.nextSeq, r1.body.bytes], [200, 2, 5000], 'chunk 1 stored');
    eq(sizeOf(s, id), 5000, 'the file grew by it');
    const mine = await upload(s, b.userToken, id, 2, chunk(10));
    eq([mine.status, mine.body.error.code], [403, 'forbidden'], "only the astrologer's page uploads");
    const json = await fetch(url(s), { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${b.astrologerToken}`, 'X-Recording-Id': String(id), 'X-Recording-Seq': '2' }, body: '{}' });
    eq(json.status, 415, 'a chunk is webm, not JSON');
    const big = await upload(s, b.astrologerToken, id, 2, chunk(2050 * KIB + 1));
    eq([big.status, big.body.error.code], [413, 'body_too_large'], 'nginx refuses a chunk over 2 MiB unread');
    eq(sizeOf(s, id), 5000, 'nothing appended by the refusals');
    u.close(); a.close();
  }],

  ['either side stops it; a disconnect stops it too; chunks are refused once it stopped (after the tail)', async () => {
    const { b, u, a, id } = await running(s, 'voice');
    u.send({ type: 'recording', action: 'stop' });
    const st = await a.next('recording');
    eq([st.state, st.by], ['stopped', 'user'], 'the astrologer hears the user stopped it');
    eq((await u.next('recording')).state, 'stopped', 'and the user too');
    u.send({ type: 'recording', action: 'stop' });
    eq((await u.next('error')).code, 'conflict', 'nothing left to stop');
    const late = await upload(s, b.astrologerToken, id, 0, chunk(500));
    eq(late.status, 200, "the recorder's last piece, just after the stop, is still kept");
    sql(s, `UPDATE recordings SET stopped_ms = stopped_ms - 16000 WHERE id = ${id}`);
    const later = await upload(s, b.astrologerToken, id, 1, chunk(500));
    eq([later.status, later.body.error.code], [409, 'recording_not_running'], 'past the tail it is refused');
    eq(sizeOf(s, id), 500, 'and not appended');

    a.send({ type: 'recording', action: 'ask' });
    await u.next('recording'); await a.next('recording');
    u.send({ type: 'recording', action: 'accept' });
    const on = await a.next('recording');
    eq([on.state, on.media], ['recording', 'audio'], 'a second recording, audio in a voice session');
    eq((await u.next('recording')).state, 'recording', 'both hear it runs');
    a.close();
    const gone = await u.next('recording');
    eq([gone.state, gone.by], ['stopped', 'astrologer'], "the astrologer's disconnect stops it");
    const last = events(s, b.sessionId).pop();
    eq([last.kind, last.who, last.detail], ['recording_stopped', 'astrologer', 'left'], 'stored as a stop on leaving');
    assert(sql(s, `SELECT stopped_ms IS NOT NULL FROM recordings WHERE id = ${on.recordingId}`) === '1', 'the row is closed');
    u.close();
  }],

  ['a session that ends stops its recording: the stop is stored as its connections close', async () => {
    const { b, u, a, id } = await running(s);
    s.ctl('end', b.sessionId);
    await u.next('session-ended');
    await u.waitClose();
    let last;
    for (let i = 0; i < 40 && (!last || last.kind !== 'recording_stopped'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = events(s, b.sessionId).pop();
    }
    eq([last.kind, last.detail], ['recording_stopped', 'left'], 'the stop is stored as the connections go');
    assert(sql(s, `SELECT stopped_ms IS NOT NULL FROM recordings WHERE id = ${id}`) === '1', 'the row is closed');
    a.close();
  }],

  ['both sides list and fetch it with its type, never sniffed, as an attachment; a third party gets nothing', async () => {
    const { b, u, a, id } = await running(s);
    const bytes = Buffer.from('\x1aE\xdf\xa3 not really webm <html>', 'binary');
    eq((await upload(s, b.astrologerToken, id, 0, bytes)).status, 200, 'a chunk stored');
    for (const token of [b.userToken, b.astrologerToken]) {
      const list = await get(s, token);
      const got = JSON.parse(list.bytes).recordings;
      eq(got.map((r) => [r.id, r.type, r.bytes]), [[id, 'video/webm', bytes.length]], 'the list');
      const f = await get(s, token, `/${id}`);
      eq(f.status, 200, 'fetched');
      assert(f.bytes.equals(bytes), 'the bytes as uploaded');
      eq([f.headers.get('content-type'), f.headers.get('x-content-type-options')], ['video/webm', 'nosniff'], 'stored type, nosniff');
      assert(/^attachment; filename="recording-\d+\.webm"; filename\*=UTF-8''recording-\d+\.webm$/.test(f.headers.get('content-disposition')), 'an attachment');
      eq(f.headers.get('cache-control'), 'no-store', 'never cached');
    }
    eq((await get(s, null, `/${id}`)).status, 401, 'no token: refused');
    const other = s.book('video');
    const o = await get(s, other.userToken, `/${id}`);
    eq([o.status, o.bytes.includes(bytes)], [404, false], "another session's token: nothing");
    eq(JSON.parse((await get(s, other.userToken)).bytes).recordings, [], 'and its list is empty');
    const direct = await fetch(`http://127.0.0.1:${s.port}/_recordings/${fileOf(s, id)}`);
    assert(direct.status === 404 && !Buffer.from(await direct.arrayBuffer()).includes(bytes), 'the internal location is not reachable from outside');
    eq((await fetch(url(s, `/${id}`), { method: 'POST', headers: { Authorization: `Bearer ${b.userToken}` } })).status, 405, 'POST on a recording: 405');
    u.close(); a.close();
  }],

  ['caps at their boundary: a chunk that would pass recording_max_bytes is refused with its code and nothing appended', async () => {
    const { b, u, a, id } = await running(capped);
    eq((await upload(capped, b.astrologerToken, id, 0, chunk(CAP - 1000))).status, 200, 'under the cap');
    const over = await upload(capped, b.astrologerToken, id, 1, chunk(1001));
    eq([over.status, over.body.error.code], [413, 'recording_limit'], 'one byte over: refused');
    eq(sizeOf(capped, id), CAP - 1000, 'nothing appended');
    const at = await upload(capped, b.astrologerToken, id, 1, chunk(1000));
    eq([at.status, at.body.bytes], [200, CAP], 'exactly at the cap: stored');
    eq(sizeOf(capped, id), CAP, 'the file is at the cap');
    u.close(); a.close();
    const two = await running(capped);
    eq((await upload(capped, two.b.astrologerToken, two.id, 0, chunk(STORE - CAP))).status, 200, 'the store fills to its cap');
    const full = await upload(capped, two.b.astrologerToken, two.id, 1, chunk(1));
    eq([full.status, full.body.error.code], [507, 'recording_storage_full'], 'one byte past recordings_max_bytes');
    eq(sizeOf(capped, two.id), STORE - CAP, 'nothing appended');
    two.u.close(); two.a.close();
  }],

  ['a chunk that would leave less than recordings_min_free_mb on the disk is refused, nothing appended', async () => {
    const { b, u, a, id } = await running(tight);
    const r = await upload(tight, b.astrologerToken, id, 0, chunk(1000));
    eq([r.status, r.body.error.code], [507, 'recording_storage_full'], 'a disk that cannot keep 1 TiB free takes no chunk');
    eq(files(tight).length, 0, 'no file was written');
    eq(sql(tight, `SELECT bytes FROM recordings WHERE id = ${id}`), '0', 'the row counts nothing');
    u.close(); a.close();
  }],

  ['purge at the retention boundary: files and rows past it go, newer stay, the events stay', async () => {
    const DAY = 86400000;
    const { b, u, a, id } = await running(s);
    await upload(s, b.astrologerToken, id, 0, chunk(100));
    const state = (want) => (f) => f.type === 'recording' && f.state === want;
    u.send({ type: 'recording', action: 'stop' });
    await a.next(state('stopped'));
    await u.next(state('stopped'));
    a.send({ type: 'recording', action: 'ask' });
    await u.next(state('asked'));
    u.send({ type: 'recording', action: 'accept' });
    const id2 = (await a.next((f) => f.type === 'recording' && f.state === 'recording')).recordingId;
    await upload(s, b.astrologerToken, id2, 0, chunk(200));
    const now = Date.now();
    sql(s, `UPDATE recordings SET started_ms = ${now - 30 * DAY - 1000} WHERE id = ${id}`);
    sql(s, `UPDATE recordings SET started_ms = ${now - 30 * DAY + 60000} WHERE id = ${id2}`);
    const eventsBefore = events(s, b.sessionId);
    const [f1, f2] = [fileOf(s, id), fileOf(s, id2)];
    const out = JSON.parse(execFileSync(path.join(bin, 'sessionctl'), ['--db', s.db, 'recordings', 'purge'], { encoding: 'utf8' }));
    eq([out.recordings, out.bytes], [1, 100], 'one recording purged, its bytes counted');
    eq([fs.existsSync(path.join(dir(s), f1)), fs.existsSync(path.join(dir(s), f2))], [false, true], 'its file is gone, the newer one stays');
    eq(sql(s, `SELECT group_concat(id) FROM recordings WHERE session_id = '${b.sessionId}'`), String(id2), 'its row too');
    eq(events(s, b.sessionId), eventsBefore, 'the consent events stay');
    eq((await get(s, b.userToken, `/${id}`)).status, 404, 'the purged one is gone for the link');
    eq(JSON.parse((await get(s, b.userToken)).bytes).recordings.map((r) => r.id), [id2], 'the list shows the kept one');
    sql(s, `UPDATE recordings SET started_ms = ${now - 30 * DAY - 1000} WHERE id = ${id2}`);
    eq((await get(s, b.userToken, `/${id2}`)).status, 404, 'past retention it is not served even before the purge');
    u.close(); a.close();
  }],
];

run(checks, {
  before: async () => {
    s = await Stack.start();
    capped = await Stack.start({ SESSIONS_RECORDING_MAX_BYTES: String(CAP), SESSIONS_RECORDINGS_MAX_BYTES: String(STORE) });
    tight = await Stack.start({ SESSIONS_RECORDINGS_MIN_FREE_MB: '1048576' });
  },
  after: async () => {
    open.forEach((c) => c.close());
    for (const st of [s, capped, tight]) if (st) await st.stop();
  },
  timeoutMs: 120000,
});
