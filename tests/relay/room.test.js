// room.test.js: joining, presence, chat with history and dedup, takeover, isolation, session types — through nginx.
'use strict';
const fs = require('fs');
const path = require('path');
const { Stack, Client, join, run, assert, eq, sleep, sdp } = require('./lib');

let s;
const open = [];
const track = (c) => { open.push(c); return c; };
const joinT = async (...a) => track(await join(s, ...a));

const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 };

const checks = [
  ['ping is answered with pong to the sender only, with the server time', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'ping' });
    const pong = await u.next('pong', 1000);
    assert(Math.abs(Date.parse(pong.serverTime) - Date.now()) < 2000, 'the server time rides along');
    eq((await a.within('pong', 300)).length, 0, 'the other side hears nothing of it');
    u.close(); a.close();
  }],

  ['join-room gives joined with the state; the other side sees participant-joined and both get session-started', async () => {
    const b = s.book('video');
    const u = await joinT(b.userToken);
    eq([u.joined.participantType, u.joined.sessionType, u.joined.status], ['user', 'video', 'scheduled'], 'user joined');
    eq(u.joined.present, { user: true, astrologer: false }, 'present before the astrologer');
    eq([u.joined.startedAt, u.joined.deadline, u.joined.lastSeq, u.joined.history], [null, null, 0, []], 'nothing started');
    assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(u.joined.serverTime), 'serverTime is ISO with ms');
    const a = await joinT(b.astrologerToken);
    eq(a.joined.present, { user: true, astrologer: true }, 'present after both');
    eq(a.joined.status, 'active', 'the second join starts the session');
    const pj = await u.next('participant-joined');
    eq(pj.participantType, 'astrologer', 'participant-joined names the astrologer');
    assert(pj.timestamp, 'participant-joined has a timestamp');
    const st = await u.next('session-started');
    const st2 = await a.next('session-started');
    eq(st.deadline, a.joined.deadline, 'session-started carries the deadline');
    eq(st2.startedAt, st.startedAt, 'both get the same start');
    const shown = s.ctl('show', b.sessionId);
    eq((shown.session || shown).status, 'active', 'the database has the session active');
    u.close();
    const pl = await a.next('participant-left');
    eq(pl.participantType, 'user', 'participant-left names the user');
    a.close();
  }],

  ['every event reaches the other side: message, offer, answer, ice-candidate, media-state', async () => {
    const b = s.book('video');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'message', message: 'Namaste 🙏 "quoted" \\ back', clientId: 'm-1' });
    const m = await a.next('message');
    eq([m.seq, m.senderType, m.message, m.clientId], [1, 'user', 'Namaste 🙏 "quoted" \\ back', 'm-1'], 'message to the other side');
    const echo = await u.next('message');
    eq(echo.seq, 1, 'the sender gets its message back with its seq');
    const offerSdp = sdp({ video: true });
    u.send({ type: 'offer', offer: { type: 'offer', sdp: offerSdp } });
    const o = await a.next('offer');
    eq([o.offer.type, o.offer.sdp, o.from], ['offer', offerSdp, 'user'], 'offer relayed as sent');
    a.send({ type: 'answer', answer: { type: 'answer', sdp: offerSdp } });
    const an = await u.next('answer');
    eq([an.answer.sdp, an.from], [offerSdp, 'astrologer'], 'answer relayed');
    a.send({ type: 'ice-candidate', candidate });
    const ic = await u.next('ice-candidate');
    eq([ic.candidate.candidate, ic.candidate.sdpMid, ic.candidate.sdpMLineIndex, ic.from],
      [candidate.candidate, '0', 0, 'astrologer'], 'ice-candidate relayed');
    a.send({ type: 'ice-candidate', candidate: null });
    eq((await u.next('ice-candidate')).candidate, null, 'end of candidates relayed');
    u.send({ type: 'media-state', audio: false, video: true });
    const ms = await a.next('media-state');
    eq([ms.participantType, ms.audio, ms.video, ms.screen], ['user', false, true, false], 'media-state relayed');
    u.send({ type: 'media-state', audio: true, video: true, screen: true });
    eq((await a.next('media-state')).screen, true, 'a shared screen is relayed as such');
    u.send({ type: 'media-state', audio: true, video: false, screen: true });
    eq((await u.next('error')).code, 'invalid_field', 'a screen without video is refused');
    u.send({ type: 'media-state', audio: true, video: true, screen: 'yes' });
    eq((await u.next('error')).code, 'invalid_field', 'screen must be a boolean');
    a.send({ type: 'message', message: 'second' });
    const m2 = await u.next('message');
    eq([m2.seq, m2.senderType, m2.clientId], [2, 'astrologer', null], 'a message without clientId');
    const sent = u.frames.filter((f) => ['offer', 'answer', 'ice-candidate', 'media-state'].includes(f.type));
    eq(sent.length, 0, 'the sender does not get its own signaling back');
    u.close(); a.close();
  }],

  ['history on rejoin: every message after `after`, in order, exactly once', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    for (let i = 1; i <= 5; i++) u.send({ type: 'message', message: `u${i}`, clientId: `u-${i}` });
    for (let i = 1; i <= 5; i++) await a.next('message');
    u.close();
    for (let i = 1; i <= 3; i++) a.send({ type: 'message', message: `a${i}`, clientId: `a-${i}` });
    for (let i = 1; i <= 3; i++) await a.next('message');
    const u2 = await joinT(b.userToken, { after: 5 });
    eq(u2.joined.history.map((m) => [m.seq, m.message]), [[6, 'a1'], [7, 'a2'], [8, 'a3']], 'history after 5');
    eq(u2.joined.lastSeq, 8, 'lastSeq is the newest seq');
    eq(u2.joined.more, false, 'nothing more');
    const u3 = await joinT(b.userToken);
    eq(u3.joined.history.map((m) => m.message), ['u1', 'u2', 'u3', 'u4', 'u5', 'a1', 'a2', 'a3'], 'whole history from 0');
    eq(new Set(u3.joined.history.map((m) => m.seq)).size, 8, 'each message once');
    u2.close(); u3.close(); a.close();
  }],

  ['a long history comes in pages through history frames, each message once', async () => {
    const b = s.book('chat');
    const a = await joinT(b.astrologerToken);
    (await joinT(b.userToken)).close(); // both have joined: the full chat allowance
    const total = 260;
    let sent = 0;
    while (sent < total) { // within the rate limit: 50 frames a second
      for (let i = 0; i < 40 && sent < total; i++, sent++) a.send({ type: 'message', message: `n${sent}` });
      await sleep(850);
    }
    for (let i = 0; i < total; i++) await a.next('message');
    const u = await joinT(b.userToken);
    eq(u.joined.history.length, 200, 'the first page holds 200');
    eq(u.joined.more, true, 'more is said');
    u.send({ type: 'history', after: u.joined.history[199].seq });
    const h = await u.next('history');
    eq(h.more, false, 'the second page is the last');
    const all = u.joined.history.concat(h.messages).map((m) => m.message);
    eq(all, Array.from({ length: total }, (_, i) => `n${i}`), 'all messages in order once');
    u.close(); a.close();
  }],

  ['a resend with the same clientId is stored once and not delivered twice', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'message', message: 'once', clientId: 'dup-1' });
    const first = await u.next('message');
    await a.next('message');
    u.close();
    const u2 = await joinT(b.userToken, { after: first.seq });
    u2.send({ type: 'message', message: 'once', clientId: 'dup-1' });
    const again = await u2.next('message');
    eq([again.seq, again.message], [first.seq, 'once'], 'the resend answers with the stored message');
    eq((await a.within('message', 400)).length, 0, 'the other side does not get it twice');
    const u3 = await joinT(b.userToken);
    eq(u3.joined.history.length, 1, 'history holds it once');
    u2.close(); u3.close(); a.close();
  }],

  ["each side's clientIds are its own: the same id from the other side is another message", async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'message', message: 'from the customer', clientId: 'same-1' });
    eq((await a.next('message')).message, 'from the customer', 'the astrologer gets the first');
    a.send({ type: 'message', message: 'from the astrologer', clientId: 'same-1' });
    const reply = await u.next((f) => f.type === 'message' && f.senderType === 'astrologer');
    eq(reply.message, 'from the astrologer', 'the customer gets the reply, not swallowed as a resend');
    const u2 = await joinT(b.userToken);
    eq(u2.joined.history.map((m) => m.message), ['from the customer', 'from the astrologer'], 'history holds both');
    u.close(); u2.close(); a.close();
  }],

  ['a second connection with the same token takes over; the first is told and closed', async () => {
    const b = s.book('chat');
    const first = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    const second = await joinT(b.userToken);
    const err = await first.next('error');
    eq(err.code, 'replaced', 'the old connection hears it was replaced');
    eq(await first.waitClose(), 1008, 'the old connection is closed');
    eq((await a.next('participant-joined')).participantType, 'user', 'the other side sees the new page join');
    eq((await a.within('participant-left', 300)).length, 0, 'a takeover is not a leave');
    a.send({ type: 'message', message: 'to the new tab' });
    eq((await second.next('message')).message, 'to the new tab', 'the new connection gets messages');
    second.close(); a.close();
  }],

  ['rooms are isolated: a foreign roomId or senderType in a frame changes nothing', async () => {
    const b1 = s.book('chat');
    const b2 = s.book('chat');
    const u1 = await joinT(b1.userToken, { roomId: b2.roomId, participantType: 'astrologer', sessionType: 'video' });
    eq([u1.joined.participantType, u1.joined.sessionType], ['user', 'chat'], 'the token decides, not the frame');
    const a1 = await joinT(b1.astrologerToken);
    const u2 = await joinT(b2.userToken);
    const a2 = await joinT(b2.astrologerToken);
    u1.send({ type: 'message', message: 'room one', roomId: b2.roomId, senderType: 'astrologer' });
    const m = await a1.next('message');
    eq([m.message, m.senderType], ['room one', 'user'], 'stored in the sender\'s own room as the sender');
    eq((await u2.within('message', 400)).concat(await a2.within('message', 1)).length, 0, 'the other room hears nothing');
    const h = await joinT(b2.userToken);
    eq(h.joined.history.length, 0, 'the other room\'s history is empty');
    [u1, a1, u2, a2, h].forEach((c) => c.close());
  }],

  ['a chat room refuses offer, answer, ice-candidate and media-state; nothing reaches the other side', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp() } });
    eq((await u.next('error')).code, 'media_not_allowed', 'offer refused');
    u.send({ type: 'answer', answer: { type: 'answer', sdp: sdp() } });
    eq((await u.next('error')).code, 'media_not_allowed', 'answer refused');
    u.send({ type: 'ice-candidate', candidate });
    eq((await u.next('error')).code, 'media_not_allowed', 'candidate refused');
    u.send({ type: 'media-state', audio: true, video: false });
    eq((await u.next('error')).code, 'media_not_allowed', 'media-state refused');
    await sleep(200);
    eq(a.frames.filter((f) => f.type !== 'session-started' && f.type !== 'billing').map((f) => f.type), [], 'the other side got nothing');
    u.send({ type: 'message', message: 'still chatting' });
    eq((await a.next('message')).message, 'still chatting', 'the connection still serves');
    u.close(); a.close();
  }],

  ["SDP as real Chromium writes it: each session type passes its own media and refuses the rest", async () => {
    const fixture = (name) => fs.readFileSync(path.join(__dirname, 'sdp', `chromium-${name}.sdp`), 'utf8');
    // A rejected-looking video section that a browser still uses: port 0 and one of the ways bundle-only may be written.
    const hidden = (mark) => fixture('voice-offer') + fixture('video-offer')
      .split(/(?=^m=)/m).find((sec) => sec.startsWith('m=video'))
      .replace(/^m=video 9 /, 'm=video 0 ').replace(/(a=mid:[^\r\n]*\r\n)/, `$1${mark}\r\n`);
    const cases = {
      voice: { pass: ['voice-offer', 'voice-answer'],
        refuse: [['video-offer', 'video_not_allowed'], ['video-answer', 'video_not_allowed'],
          ['datachannel-offer', 'media_not_allowed'], ['datachannel-answer', 'media_not_allowed']] },
      video: { pass: ['voice-offer', 'voice-answer', 'video-offer', 'video-answer'],
        refuse: [['datachannel-offer', 'media_not_allowed'], ['datachannel-answer', 'media_not_allowed']] },
    };
    for (const [type, { pass, refuse }] of Object.entries(cases)) {
      const b = s.book(type);
      const u = await joinT(b.userToken);
      const a = await joinT(b.astrologerToken);
      const send = (name, text) => {
        const kind = name.endsWith('answer') ? 'answer' : 'offer';
        u.send({ type: kind, [kind]: { type: kind, sdp: text } });
        return kind;
      };
      for (const name of pass) {
        const kind = send(name, fixture(name));
        eq((await a.next(kind)).from, 'user', `${type}: Chromium's ${name} reaches the other side`);
      }
      for (const [name, code] of refuse) {
        send(name, fixture(name));
        eq((await u.next('error')).code, code, `${type}: Chromium's ${name} is refused`);
      }
      if (type === 'voice')
        for (const mark of ['a=bundle-only', 'a=bundle-only ', 'a=bundle-only:1']) {
          send('offer', hidden(mark));
          eq((await u.next('error')).code, 'video_not_allowed', `voice: port-0 video marked ${JSON.stringify(mark)} is refused`);
        }
      await sleep(200);
      eq(a.frames.filter((f) => f.type === 'offer' || f.type === 'answer').length, 0, `${type}: nothing refused reached the astrologer`);
      u.close(); a.close();
    }
  }],

  ["quick reactions in a call: the page's few reach the other side and nothing else does; a chat room refuses them", async () => {
    const page = fs.readFileSync(path.join(__dirname, '../../html/js/emoji.js'), 'utf8');
    const quick = JSON.parse(/export const REACTIONS = (\[[^\]]*\])/.exec(page)[1].replace(/'/g, '"'));
    assert(quick.length >= 3, `the page offers a few (${quick.join(' ')})`);
    const b = s.book('voice');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    for (const emoji of quick) {
      u.send({ type: 'reaction', emoji });
      const f = await a.next('reaction');
      eq([f.emoji, f.from], [emoji, 'user'], `${emoji} reaches the astrologer`);
    }
    for (const emoji of ['🦄', 'hello', '👍👍', '', 42, null]) {
      u.send({ type: 'reaction', emoji });
      eq((await u.next('error')).code, 'invalid_field', `${JSON.stringify(emoji)} is refused`);
    }
    await sleep(200);
    eq(a.frames.filter((f) => f.type === 'reaction').length, 0, 'nothing refused reached the astrologer');
    eq(u.frames.filter((f) => f.type === 'reaction').length, 0, 'the sender gets no echo');
    const c = s.book('chat');
    const cu = await joinT(c.userToken);
    await joinT(c.astrologerToken);
    cu.send({ type: 'reaction', emoji: quick[0] });
    eq((await cu.next('error')).code, 'media_not_allowed', 'a chat room has no quick reactions');
    u.close(); a.close(); cu.close();
  }],

  ['a voice room refuses SDP with active video and passes audio SDP', async () => {
    const b = s.book('voice');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp({ video: true }) } });
    eq((await u.next('error')).code, 'video_not_allowed', 'video offer refused');
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp({ audio: false, video: true }) } });
    eq((await u.next('error')).code, 'video_not_allowed', 'video-only offer refused');
    u.send({ type: 'media-state', audio: true, video: true });
    eq((await u.next('error')).code, 'video_not_allowed', 'media-state with video refused');
    u.send({ type: 'media-state', audio: true, video: true, screen: true });
    eq((await u.next('error')).code, 'video_not_allowed', 'a shared screen is video: refused');
    await sleep(200);
    eq(a.frames.filter((f) => f.type === 'offer' || f.type === 'media-state').length, 0, 'no video offer reached the astrologer');
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp({ video: true, videoPort: 0 }) } });
    const rejected = await a.next('offer');
    assert(/m=video 0 /.test(rejected.offer.sdp), 'a rejected (port 0) video section passes');
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp({ video: true, videoPort: 0, bundleOnly: true }) } });
    eq((await u.next('error')).code, 'video_not_allowed', 'port 0 with a=bundle-only is live media to a browser: refused');
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp({ data: true }) } });
    eq((await u.next('error')).code, 'media_not_allowed', 'a bundle-only data channel is refused too');
    u.send({ type: 'offer', offer: { type: 'offer', sdp: sdp() } });
    const o = await a.next('offer');
    assert(/m=audio 9 /.test(o.offer.sdp) && !/m=video/.test(o.offer.sdp), 'the audio offer passed');
    a.send({ type: 'answer', answer: { type: 'answer', sdp: sdp({ video: true }) } });
    eq((await a.next('error')).code, 'video_not_allowed', 'a renegotiating answer with video is refused too');
    u.close(); a.close();
  }],

  ['malformed SDP and candidates are refused with the right code', async () => {
    const b = s.book('video');
    const u = await joinT(b.userToken);
    const a = await joinT(b.astrologerToken);
    const bad = [
      [{ type: 'offer', offer: { type: 'offer', sdp: 'hello' } }, 'bad_sdp'],
      [{ type: 'offer', offer: { type: 'offer', sdp: 'v=0\r\ns=-\r\n' } }, 'bad_sdp'],
      [{ type: 'offer', offer: { type: 'offer', sdp: 'v=0\r\nm=video x RTP 96\r\n' } }, 'bad_sdp'],
      [{ type: 'offer', offer: { type: 'answer', sdp: sdp() } }, 'bad_sdp'],
      [{ type: 'offer', offer: 'v=0' }, 'bad_sdp'],
      [{ type: 'offer', offer: { type: 'offer', sdp: sdp().replace('m=audio 9', 'm=application 9') } }, 'media_not_allowed'],
      [{ type: 'ice-candidate', candidate: { sdpMid: '0' } }, 'bad_candidate'],
      [{ type: 'ice-candidate', candidate: { candidate: 'x'.repeat(2000), sdpMid: '0' } }, 'bad_candidate'],
      [{ type: 'ice-candidate', candidate: { candidate: 'candidate:1', sdpMLineIndex: -1 } }, 'bad_candidate'],
      [{ type: 'ice-candidate', candidate: { candidate: 'candidate:1', sdpMid: 'm'.repeat(65) } }, 'bad_candidate'],
      [{ type: 'ice-candidate', candidate: { candidate: 'candidate:1', usernameFragment: 'u'.repeat(257) } }, 'bad_candidate'],
      [{ type: 'media-state', audio: 'yes', video: false }, 'invalid_field'],
    ];
    for (const [frame, code] of bad) {
      u.send(frame);
      eq((await u.next('error')).code, code, JSON.stringify(frame).slice(0, 60));
    }
    await sleep(200);
    eq(a.frames.filter((f) => ['offer', 'ice-candidate', 'media-state'].includes(f.type)).length, 0, 'nothing reached the other side');
    u.close(); a.close();
  }],

  ['bad chat frames are refused and change nothing', async () => {
    const b = s.book('chat');
    const u = await joinT(b.userToken);
    for (const [frame, code] of [
      [{ type: 'message', message: '' }, 'bad_message'],
      [{ type: 'message', message: '  \n ' }, 'bad_message'],
      [{ type: 'message', message: 'x'.repeat(4001) }, 'bad_message'],
      [{ type: 'message', message: 42 }, 'bad_message'],
      [{ type: 'message', message: 'ok', clientId: 'x'.repeat(65) }, 'bad_client_id'],
      [{ type: 'message', message: 'ok', clientId: 'has space' }, 'bad_client_id'],
      [{ type: 'join-room', token: b.userToken }, 'already_joined'],
      [{ type: 'no-such-thing' }, 'unknown_type'],
      [{ type: 'history', after: 'x' }, 'invalid_field'],
    ]) {
      u.send(frame);
      eq((await u.next('error')).code, code, JSON.stringify(frame).slice(0, 60));
    }
    u.send({ type: 'message', message: 'ü'.repeat(4000) });
    eq((await u.next('message')).message.length, 4000, '4000 characters (multi-byte) pass');
    const again = await joinT(b.userToken);
    eq(again.joined.history.length, 1, 'only the good message was stored');
    u.close(); again.close();
  }],

  ['refused joins: unknown token, missing token, wrong origin, ended session', async () => {
    const cases = [
      [{ type: 'join-room', token: 'A'.repeat(43) }, 'unknown_link'],
      [{ type: 'join-room' }, 'missing_token'],
      [{ type: 'join-room', token: 'x', after: -1 }, 'invalid_field'],
    ];
    for (const [frame, code] of cases) {
      const c = track(new Client(s));
      await c.opened;
      c.send(frame);
      eq((await c.next('error')).code, code, JSON.stringify(frame));
      eq(await c.waitClose(), 1008, `closed after ${code}`);
    }
    const b = s.book('chat');
    const c = track(new Client(s, { origin: 'http://evil.example' }));
    await c.opened;
    eq((await c.next('error')).code, 'forbidden', 'a foreign origin is refused');
    eq(await c.waitClose(), 1008, 'and closed');
    s.ctl('end', b.sessionId);
    const d = track(new Client(s));
    await d.opened;
    d.send({ type: 'join-room', token: b.userToken });
    eq((await d.next('error')).code, 'session_ended', 'an ended session refuses joins');
    await d.waitClose();
  }],
];

run(checks, {
  before: async () => { s = await Stack.start(); },
  after: async () => { open.forEach((c) => c.close()); if (s) await s.stop(); },
});
