// diskfull.test.js: the disk holding the database fills up during book, join, end and chat: clear errors, nothing written, and service back once space is freed.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { isolateMounts, snapshot, integrityOk, ledgerOk } = require('./lib');

isolateMounts(120000);

const { bin, check, failed, onExit, sleep, Stack } = require('../api/stack');
const { Client, join } = require('../relay/lib');

const watchdog = setTimeout(() => {
  console.log('not ok - the suite finished within 120 s');
  process.exit(1);
}, 120000);

const MINUTE_MS = 1000;
const table = []; // the fault table: operation, what the client saw, what the database held
const note = (op, saw, held) => table.push(`# disk full | ${op} | ${saw} | ${held}`);

// The API's JSON error for a full disk: 503 (come back later), saying so.
const fullError = (r) => r.status === 503 && r.json && r.json.error &&
  r.json.error.code === 'storage_full' && typeof r.json.error.message === 'string';

async function main() {
  // A paid minute lasts a second, so a session runs out while the disk is full.
  const stack = new Stack('full', { SESSIONS_MINUTE_MS: String(MINUTE_MS) });
  // The state dir (database, its WAL, logs) on a file system of its own, small enough to fill.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', stack.dir]);
  onExit(() => spawnSync('umount', ['-l', stack.dir]));
  await stack.start();
  stack.url = `ws://127.0.0.1:${stack.port}/ws`;
  stack.origin = stack.base;
  const relayPid = Number(fs.readFileSync(path.join(stack.dir, 'relay.pid'), 'utf8'));
  const filler = path.join(stack.dir, 'filler');
  const ctl = (...args) => spawnSync(bin('sessionctl'), ['--db', stack.db, ...args], { env: stack.env, encoding: 'utf8', timeout: 10000 });

  // Set up while there is room: one booking per case.
  const toJoin = stack.book('chat');
  const toEnd = stack.book('voice');
  for (const t of [toEnd.userToken, toEnd.astrologerToken]) {
    const r = await stack.req('/api/sessions/join', { body: { token: t } });
    if (r.status !== 200) throw new Error(`join before the fault: ${r.status}`);
  }
  const chat = stack.book('chat');
  const u = await join(stack, chat.userToken);
  const a = await join(stack, chat.astrologerToken);
  const toRelayJoin = stack.book('chat');
  const call = stack.book('voice');
  const cu = await join(stack, call.userToken);
  const ca = await join(stack, call.astrologerToken);
  // Last, so its two paid minutes run out while the disk is full.
  const due = stack.book('chat', { minutes: 2, price: '4.00' });
  const du = await join(stack, due.userToken);
  const da = await join(stack, due.astrologerToken);
  const deadline = Date.parse(du.joined.deadline || da.joined.deadline);
  const bookArgs = ['book', '--user', toJoin.userName, '--astrologer', toJoin.astrologerName,
    '--type', 'video', '--minutes', '10', '--price', '5.00'];

  // The disk fills: whatever the database appends next finds no room.
  spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4096'], { timeout: 30000 });
  const df = spawnSync('df', ['--output=avail', '-B1', stack.dir], { encoding: 'utf8' }).stdout.trim().split('\n').pop();
  check('the database\'s file system is full', Number(df) === 0, df);
  const before = snapshot(stack.db);

  const book = ctl(...bookArgs);
  check('disk full: sessionctl book exits non-zero and says why on stderr (storage_full)',
    book.status !== 0 && /full.*\(storage_full\)/i.test(book.stderr) && book.stdout === '', `${book.status} ${book.stderr}`);
  check('... and wrote nothing', snapshot(stack.db) === before);
  note('book (sessionctl)', `exit ${book.status}: ${book.stderr.trim()}`, 'unchanged');

  const cend = ctl('end', toEnd.sessionId);
  check('disk full: sessionctl end exits non-zero and says why (storage_full)',
    cend.status !== 0 && /full.*\(storage_full\)/i.test(cend.stderr),
    `${cend.status} ${cend.stderr}`);
  check('... and wrote nothing', snapshot(stack.db) === before);
  note('end (sessionctl)', `exit ${cend.status}: ${cend.stderr.trim()}`, 'unchanged');

  const joinFull = await stack.req('/api/sessions/join', { body: { token: toJoin.userToken } });
  check('disk full: POST /api/sessions/join answers 503 JSON storage_full', fullError(joinFull), joinFull.text);
  check('... and wrote nothing', snapshot(stack.db) === before);
  note('join (API)', `${joinFull.status} ${joinFull.text.trim()}`, 'unchanged');

  const endFull = await stack.req('/api/sessions/end', { body: { token: toEnd.userToken } });
  check('disk full: POST /api/sessions/end answers 503 JSON storage_full', fullError(endFull), endFull.text);
  check('... and wrote nothing: no end, no settlement', snapshot(stack.db) === before);
  note('end (API)', `${endFull.status} ${endFull.text.trim()}`, 'unchanged');

  u.send({ type: 'message', message: 'sent while the disk was full', clientId: 'full-1' });
  const chatFull = await u.next((f) => f.type === 'error' || f.type === 'message', 10000);
  check('disk full: a chat message is answered with an error frame storage_full',
    chatFull.type === 'error' && chatFull.code === 'storage_full', JSON.stringify(chatFull));
  // The other side had the message while its commit ran; the failed commit takes it back.
  const early = await a.within('message', 500);
  const withdrawn = await a.next('message-withdrawn', 2000).catch((e) => ({ error: e.message }));
  check('... the other participant, which had it before the commit, has it withdrawn (message-withdrawn, same seq)',
    early.length === 1 && withdrawn.type === 'message-withdrawn' && withdrawn.seq === early[0].seq,
    JSON.stringify([early, withdrawn]));
  check('... and nothing was stored', snapshot(stack.db) === before);
  note('chat (relay)', JSON.stringify(chatFull), 'unchanged');

  const rj = new Client(stack);
  await rj.opened;
  rj.send({ type: 'join-room', token: toRelayJoin.userToken });
  const rjFull = await rj.next((f) => f.type === 'joined' || f.type === 'error', 10000);
  check('disk full: a first join-room is answered with an error frame storage_full',
    rjFull.type === 'error' && rjFull.code === 'storage_full', JSON.stringify(rjFull).slice(0, 200));
  await rj.waitClose(5000).catch(() => {});
  check('... and wrote nothing', snapshot(stack.db) === before);
  note('join-room (relay)', `${JSON.stringify(rjFull)}, close ${rj.closeCode}`, 'unchanged');

  // A departure the relay cannot store: billing counts the time both were there, so it must not be lost.
  ca.close();
  const left = await cu.next('participant-left', 5000).catch((e) => ({ error: e.message }));
  const leftAt = Date.now();
  check('disk full: the one still in the call hears that the other left', left.type === 'participant-left', left.error);
  check('... and nothing was stored yet', snapshot(stack.db) === before);
  note('leave (relay, presence)', 'participant-left to the other side', 'unchanged until there is room');

  // The relay's timer cannot end a session whose paid time ran out: it tries again each second.
  await sleep(Math.max(0, deadline + 1500 - Date.now()));
  check('disk full: a session whose paid time ran out is not ended yet (nobody is told it ended)',
    !du.frames.concat(da.frames).some((f) => f.type === 'session-ended'));
  check('... and nothing was stored', snapshot(stack.db) === before);
  note('end when the paid time runs out (relay timer)', 'no session-ended yet; the relay tries again each second',
    'unchanged until there is room');
  const expire = ctl('expire');
  check('disk full: sessionctl expire (cron) exits non-zero and says why (storage_full)',
    expire.status !== 0 && /\(storage_full\)/.test(expire.stderr), `${expire.status} ${expire.stderr}`);
  check('... and wrote nothing', snapshot(stack.db) === before);
  note('expire (sessionctl, cron)', `exit ${expire.status}: ${expire.stderr.trim()}`, 'unchanged');

  check('the database is whole while the disk is full (integrity_check)', integrityOk(stack.db));
  check('the money adds up while the disk is full (ledger check)', ledgerOk(stack.db));

  // Space is freed: every operation goes through, once.
  fs.rmSync(filler);
  const bookAgain = ctl(...bookArgs);
  check('space freed: the same sessionctl book succeeds', bookAgain.status === 0 && JSON.parse(bookAgain.stdout).sessionId,
    bookAgain.stderr);
  const joinAgain = await stack.req('/api/sessions/join', { body: { token: toJoin.userToken } });
  check('space freed: the same join succeeds (200, first join)', joinAgain.status === 200 && joinAgain.json.alreadyJoined === false,
    joinAgain.text);
  const endAgain = await stack.req('/api/sessions/end', { body: { token: toEnd.userToken } });
  check('space freed: the same end settles (200, not ended before)', endAgain.status === 200 &&
    endAgain.json.alreadyEnded === false && endAgain.json.status === 'completed', endAgain.text);
  u.send({ type: 'message', message: 'sent while the disk was full', clientId: 'full-1' });
  const resent = await u.next('message', 10000).catch((e) => ({ error: e.message }));
  const got = await a.next('message', 5000).catch((e) => ({ error: e.message }));
  check('space freed: the resent message is stored and reaches the other participant',
    resent.seq === 1 && got.seq === 1 && got.message === 'sent while the disk was full', JSON.stringify([resent, got]));
  const back = await join(stack, chat.userToken);
  check('a reconnecting page sees that message in its history once',
    back.joined.history.filter((m) => m.message === 'sent while the disk was full').length === 1 &&
    back.joined.history.length === 1, JSON.stringify(back.joined.history));
  const rj2 = await join(stack, toRelayJoin.userToken).catch((e) => ({ error: e.message }));
  check('space freed: the first join-room that failed now joins', rj2.joined && rj2.joined.type === 'joined', rj2.error);
  const ends = await Promise.all([du, da].map((c) => c.next('session-ended', 5000).catch((e) => ({ error: e.message }))));
  check('space freed: the relay ends the session that ran out (time_up), telling both',
    ends.every((f) => f.type === 'session-ended' && f.reason === 'time_up'), JSON.stringify(ends));
  const dueShow = JSON.parse(ctl('show', due.sessionId).stdout);
  check('... billed for its paid minutes and no more, though it ended late',
    dueShow.settlement && dueShow.settlement.billedMinutes === 2 && dueShow.settlement.charged === '4.00' && dueShow.settlement.durationSeconds === 2,
    JSON.stringify(dueShow.settlement));
  const open = (p) => p.filter((i) => i.participant === 'astrologer' && i.leftAt === null).length;
  let pres = [];
  for (let i = 0; i < 40; i++) {
    pres = JSON.parse(ctl('show', call.sessionId, '--presence').stdout).presence;
    if (!open(pres)) break;
    await sleep(100);
  }
  const gone = pres.filter((i) => i.participant === 'astrologer').pop();
  check('space freed: the departure is stored at the moment it happened, not left open for the heartbeat to extend',
    !open(pres) && gone && Date.parse(gone.leftAt) <= leftAt, JSON.stringify(pres));
  check('... while the one who stayed is still connected', pres.some((i) => i.participant === 'user' && i.leftAt === null));
  check('the relay lived through it (same process)', fs.existsSync(`/proc/${relayPid}`));
  check('the database is whole after the fault (integrity_check)', integrityOk(stack.db));
  check('the money adds up after the fault (ledger check)', ledgerOk(stack.db));
  for (const c of [u, a, back, rj2, cu]) if (c.close) c.close();
  console.log(table.join('\n'));
  clearTimeout(watchdog);
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
  console.log(`not ok - the suite ran to its end # ${e && e.stack}`);
  process.exit(1);
});
