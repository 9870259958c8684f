// session.js: the session page: validate the link, pre-join (with a device check), the active room, the end.
import { $, show, text, initials, clock, durationWords, localTime, typeName, roleName } from './ui.js';
import { call, ApiError } from './api.js';
import { Relay } from './relay.js';
import { Chat } from './chat.js';
import { Call } from './call.js';
import { openMedia, openCamera, listDevices, helpFor, watchLevel, stopStream, audioContext } from './devices.js';

const S = {
  token: '', v: null, kind: '', me: '', other: '', names: {},
  offset: 0, startedAt: null, deadline: null,
  relay: null, chat: null, call: null, stream: null, remote: null,
  micId: '', camId: '', muted: false, camOff: false, stopLevel: [], stopRemote: () => {}, ending: false, ended: false,
  present: false, tick: 0, endTimer: 0,
};

const OTHER = { user: 'astrologer', astrologer: 'user' };
const ERRORS = {
  unknown_link: ['This link does not work', 'The link may be mistyped or cut short, or it was replaced by a newer one.', 'Open the link again from your booking message, or ask the shop to send a new link.'],
  link_expired: ['This link has expired', 'The time to join this session has passed.', 'Contact the shop to book a new session or to ask for a new link.'],
  session_ended: ['This session has ended', 'It is over, so the link cannot be used again.', 'If something went wrong, contact the shop with your booking details.'],
  not_open: ['It is too early to join', 'This link opens shortly before the session starts.', 'Come back at the time shown in your booking.'],
  replaced: ['This session is open somewhere else', 'The link was opened in another tab or on another device, which took the session over.', 'Close this tab, or reload it to bring the session back here.'],
  network: ['Cannot reach the server', 'Your device seems to be offline, or the server did not answer.', 'Check your connection, then try again.'],
};
ERRORS.missing_token = ERRORS.unknown_link;
const FATAL = new Set(['unknown_link', 'missing_token', 'link_expired', 'session_ended', 'forbidden', 'not_open', 'replaced']);
const RETRY = new Set(['replaced', 'network']);

function setState(name) {
  for (const s of ['loading', 'error', 'prejoin', 'active', 'ended']) show($(`s-${s}`), s === name);
  $('app').dataset.state = name;
}

function showError(e) {
  const code = e instanceof ApiError ? e.code : String(e);
  const [title, what, next] = ERRORS[code] || ['Something went wrong', (e && e.message) || 'The session could not be opened.', 'Try again in a moment. If it keeps failing, contact the shop.'];
  text('err-title', title);
  text('err-text', what);
  text('err-next', next);
  const opens = (e && e.detail && e.detail.linkOpensAt) || (S.v && S.v.linkOpensAt);
  if (code === 'not_open' && opens) text('err-text', `This link opens at ${localTime(opens, true)}.`);
  show($('err-retry'), RETRY.has(code) || !FATAL.has(code));
  text('err-retry', code === 'replaced' ? 'Use this tab' : 'Try again');
  document.title = title;
  setState('error');
  $('err-title').tabIndex = -1;
  $('err-title').focus();
}

async function boot() {
  const m = /^\/session\/([^/?#]+)/.exec(location.pathname);
  S.token = m ? decodeURIComponent(m[1]) : '';
  $('err-retry').addEventListener('click', () => location.reload());
  if (!S.token) { showError('unknown_link'); return; }
  setState('loading');
  let v;
  try { v = await call('validate', S.token); } catch (e) { showError(e); return; }
  if (!v.valid) { showError('unknown_link'); return; }
  S.v = v;
  S.kind = v.sessionType;
  S.me = v.participantType;
  S.other = v.otherParticipantName || 'the other participant';
  S.names = { [S.me]: v.participantName || 'You', [OTHER[S.me]]: S.other };
  timing(v);
  prejoin(v);
}

function timing(o) {
  if (o.serverTime) S.offset = Date.parse(o.serverTime) - Date.now();
  if (o.startedAt) S.startedAt = Date.parse(o.startedAt);
  if (o.deadline) S.deadline = Date.parse(o.deadline);
}

const now = () => Date.now() + S.offset;

function prejoin(v) {
  document.title = `${typeName[S.kind] || 'Session'} with ${S.other}`;
  text('pj-kind', typeName[S.kind] || S.kind);
  text('pj-other', S.other);
  text('pj-type', typeName[S.kind] || S.kind);
  text('pj-start', v.scheduledStartTime ? localTime(v.scheduledStartTime, true) : 'Any time');
  text('pj-minutes', `${v.paidDurationMinutes} minute${v.paidDurationMinutes === 1 ? '' : 's'}`);
  text('pj-me', `${v.participantName || ''} (${roleName[S.me] || S.me})`);
  const rejoin = v.joined && v.joined[S.me];
  text('pj-join', rejoin ? 'Rejoin session' : 'Join session');
  $('pj-join').addEventListener('click', join);
  setState('prejoin');
  if (S.kind === 'voice' || S.kind === 'video') deviceCheck();
  else if (rejoin && v.status === 'active') join();
}

async function deviceCheck() {
  show($('devcheck'));
  text('dc-what', S.kind === 'video' ? 'camera and microphone' : 'microphone');
  show($('dc-cam-row'), S.kind === 'video');
  show($('dc-preview-box'), S.kind === 'video');
  $('dc-retry').onclick = () => openDevices();
  $('dc-mic').onchange = (e) => { S.micId = e.target.value; openDevices(); };
  $('dc-cam').onchange = (e) => { S.camId = e.target.value; openDevices(); };
  await openDevices();
}

async function openDevices() {
  S.stopLevel.forEach((f) => f());
  S.stopLevel = [];
  stopStream(S.stream);
  S.stream = null;
  show($('dc-help'), false);
  show($('dc-devices'), false);
  text('pj-msg', `Asking for your ${S.kind === 'video' ? 'camera and microphone' : 'microphone'}…`);
  try {
    S.stream = await openMedia(S.kind, S.micId, S.camId);
  } catch (e) {
    const h = helpFor(e, S.kind);
    text('dc-help-title', h.title);
    text('dc-help-text', h.text);
    show($('dc-help'));
    text('pj-msg', 'You can still join and listen, but the other side will not hear you until this is fixed.');
    return;
  }
  text('pj-msg', '');
  show($('dc-devices'));
  if (S.kind === 'video') $('dc-preview').srcObject = S.stream;
  const meter = $('dc-meter');
  S.stopLevel.push(watchLevel(S.stream, (l) => {
    $('dc-level').style.width = `${Math.round(l * 100)}%`;
    meter.setAttribute('aria-valuenow', String(Math.round(l * 100)));
  }));
  try {
    const { mics, cams } = await listDevices();
    fillSelect($('dc-mic'), mics, S.stream.getAudioTracks()[0], 'Microphone');
    if (S.kind === 'video') fillSelect($('dc-cam'), cams, S.stream.getVideoTracks()[0], 'Camera');
  } catch { /* the lists are a convenience; the default devices already work */ }
}

function fillSelect(sel, devices, track, label) {
  const current = track ? track.getSettings().deviceId : '';
  sel.replaceChildren(...devices.map((d, i) => {
    const o = document.createElement('option');
    o.value = d.deviceId;
    o.textContent = d.label || `${label} ${i + 1}`;
    o.selected = d.deviceId === current;
    return o;
  }));
}

async function join() {
  const btn = $('pj-join');
  btn.disabled = true;
  text('pj-msg', 'Joining…');
  if (S.kind !== 'chat') audioContext();
  let j;
  try {
    j = await call('join', S.token);
  } catch (e) {
    if (FATAL.has(e.code)) { cleanupMedia(); showError(e); return; }
    text('pj-msg', `${e.message} Please try again.`);
    btn.disabled = false;
    return;
  }
  timing(j);
  S.stopLevel.forEach((f) => f());
  S.stopLevel = [];
  enterActive();
}

function enterActive() {
  setState('active');
  text('ac-type', typeName[S.kind] || S.kind);
  text('ac-other', S.other);
  $('ac-end').addEventListener('click', askEnd);
  $('confirm-end').addEventListener('close', () => { if ($('confirm-end').returnValue === 'end') endSession(); else $('ac-end').focus(); });
  presence('waiting');
  S.relay = new Relay(S.v.wsPath, S.token, { onFrame: frame, onStatus: relayStatus });
  if (S.kind === 'chat') {
    show($('v-chat'));
    S.chat = new Chat({ me: S.me, names: S.names, send: (f) => S.relay.send(f), announce });
    $('msg-input').focus();
  } else {
    setupMedia();
  }
  S.tick = setInterval(tick, 500);
  tick();
  S.relay.start();
  addEventListener('pagehide', () => { if (!S.ended) { S.relay.close(); if (S.call) S.call.stop(); } });
}

function announce(msg) {
  const a = $('announce');
  a.textContent = '';
  setTimeout(() => { a.textContent = msg; }, 50);
}

function presence(p) {
  const el = $('ac-presence');
  el.dataset.p = p;
  el.textContent = {
    waiting: `Waiting for ${S.other} to join`,
    joined: 'In the session',
    left: 'Left the session; they can come back',
    reconnecting: 'Reconnecting…',
  }[p];
}

function relayStatus(st) {
  const b = $('banner');
  if (st === 'reconnecting') {
    b.textContent = 'Connection lost. Reconnecting…';
    show(b);
    presence('reconnecting');
  } else if (st === 'open') {
    show(b, false);
  }
}

function frame(f) {
  const other = OTHER[S.me];
  switch (f.type) {
  case 'joined':
    timing(f);
    S.present = !!(f.present && f.present[other]);
    presence(S.present ? 'joined' : 'waiting');
    if (S.chat) history(f.history, f.more);
    if (S.call) {
      sendMediaState();
      if (S.call.offerer && S.present) S.call.start();
    }
    break;
  case 'participant-joined':
    if (f.participantType !== other) break;
    S.present = true;
    presence('joined');
    if (S.chat) S.chat.note(`${S.other} joined`);
    if (S.call) {
      sendMediaState();
      if (S.call.offerer) S.call.start();
    }
    break;
  case 'participant-left':
    if (f.participantType !== other) break;
    S.present = false;
    presence('left');
    if (S.chat) S.chat.note(`${S.other} left`);
    if (S.call) { S.call.stop(); remoteMedia({ audio: true, video: true }); }
    break;
  case 'session-started':
    timing(f);
    announce('The session has started. The timer is running.');
    break;
  case 'history':
    if (S.chat) history(f.messages, f.more);
    break;
  case 'message':
    if (S.chat) {
      S.chat.receive(f, true);
      seen(f);
    }
    break;
  case 'offer': case 'answer': case 'ice-candidate':
    if (S.call) {
      if (f.type === 'offer' && !S.call.pc) S.call.start();
      S.call.handle(f);
    }
    break;
  case 'media-state':
    if (f.participantType === other) remoteMedia(f);
    break;
  case 'time-warning':
    warnTime(f.remainingSeconds);
    break;
  case 'session-ended':
    finish(f.reason, f.durationSeconds);
    break;
  case 'error':
    if (FATAL.has(f.code) || S.relay.stopped) {
      if (f.code === 'session_ended') finish('', null);
      else { teardown(); showError(new ApiError(0, f.code, f.message)); }
    } else if (f.code === 'rate_limited' || f.code === 'server_error' || f.code === 'bad_message') {
      warn(f.message || 'The server refused that.');
    }
    break;
  default:
  }
}

function seen(m) {
  if (typeof m.seq === 'number') S.relay.lastSeq = Math.max(S.relay.lastSeq, m.seq);
}

// History comes in pages; only once it is all here do unconfirmed messages go out again.
function history(list, more) {
  (list || []).forEach((m) => { S.chat.receive(m, false); seen(m); });
  if (more) S.relay.send({ type: 'history', after: S.relay.lastSeq });
  else S.chat.resend();
}

function warn(msg) {
  const w = $('warn');
  w.textContent = msg;
  show(w);
  clearTimeout(warn.t);
  warn.t = setTimeout(() => show(w, false), 8000);
}

// The relay warns at 5 and at 1 paid minute left; the words come from the seconds it counts.
function warnTime(secs) {
  const n = Math.max(0, Math.round(secs));
  const left = n >= 90 ? `${Math.round(n / 60)} minutes` : n >= 60 ? '1 minute' : `${n} second${n === 1 ? '' : 's'}`;
  const msg = `${left} left in this session.`;
  warn(msg);
  announce(msg);
}

function tick() {
  const el = $('ac-timer');
  if (!S.startedAt || !S.deadline) {
    text('ac-elapsed', '00:00');
    text('ac-remaining', 'Starts when both have joined');
    el.dataset.level = 'idle';
    return;
  }
  const t = now();
  const left = Math.ceil((S.deadline - t) / 1000);
  text('ac-elapsed', clock((Math.min(t, S.deadline) - S.startedAt) / 1000));
  text('ac-remaining', left > 0 ? `${clock(left)} left` : 'Time is up');
  el.dataset.level = left <= 60 ? 'last' : left <= 300 ? 'warn' : 'run';
  // The relay closes the session at its deadline; should that word get lost, ask the API now and then.
  if (left <= -5 && !S.endTimer && !S.ending) S.endTimer = setTimeout(checkOver, 0);
}

async function checkOver() {
  try {
    await call('validate', S.token);
  } catch (e) {
    if (e.code === 'session_ended') { finish('time_up', null); return; }
  }
  S.endTimer = setTimeout(checkOver, 5000);
}

/* voice and video */

function setupMedia() {
  const video = S.kind === 'video';
  show($(video ? 'v-video' : 'v-voice'));
  show($('controls'));
  show($('ct-cam'), video);
  show($('ac-net'));
  text('vo-other-av', initials(S.other));
  text('vo-other-name', S.other);
  text('vo-me-av', initials(S.v.participantName));
  text('vi-remote-av', initials(S.other));
  const stream = S.stream || new MediaStream();
  S.stream = stream;
  S.call = new Call({
    offerer: S.me === 'astrologer',
    kinds: video ? ['audio', 'video'] : ['audio'],
    iceServers: S.v.iceServers,
    send: (f) => S.relay.send(f),
    onTrack: remoteTrack,
    onState: mediaState,
    onQuality: quality,
  });
  S.call.tracks.audio = stream.getAudioTracks()[0] || null;
  if (video) {
    S.call.tracks.video = stream.getVideoTracks()[0] || null;
    $('vi-local').srcObject = stream;
    show($('vi-local-off'), !S.call.tracks.video);
    S.camOff = !S.call.tracks.video;
    camButton();
  }
  if (!S.call.tracks.audio) { S.muted = true; }
  muteButton();
  S.stopLevel.push(watchLevel(stream, (l) => $('vo-me').classList.toggle('speaking', !S.muted && l > 0.04)));
  $('ct-mute').addEventListener('click', toggleMute);
  $('ct-cam').addEventListener('click', toggleCamera);
  $('vi-tap').addEventListener('click', () => { show($('vi-tap'), false); playRemote(); });
}

// The media path itself: while it heals (ICE restart) the other side shows as reconnecting.
function mediaState(st) {
  $('app').dataset.pc = st;
  if (st === 'failed' || st === 'disconnected') {
    quality({ level: 'poor', rttMs: null });
    if (S.present) presence('reconnecting');
  } else if (st === 'connected' && S.present) {
    presence('joined');
  }
}

// The element gets the stream once, when every kind has its track: assigning it again (or playing a
// video that has no sound yet) would abort or slip past the autoplay rules.
function remoteTrack(track, fresh) {
  if (fresh || !S.remote) S.remote = new MediaStream();
  S.remote.addTrack(track);
  if (S.remote.getTracks().length !== S.call.kinds.length) return;
  $(S.kind === 'video' ? 'vi-remote' : 'vo-remote').srcObject = S.remote;
  playRemote();
  watchRemote();
}

// One meter for the other side at a time: a new connection's stream replaces the old one's.
function watchRemote() {
  S.stopRemote();
  S.stopRemote = watchLevel(S.remote, (l) => $('vo-other').classList.toggle('speaking', l > 0.04));
}

function playRemote() {
  const el = $(S.kind === 'video' ? 'vi-remote' : 'vo-remote');
  const p = el.play();
  if (p) {
    p.catch((e) => {
      if (e.name !== 'NotAllowedError') return;
      if (S.kind === 'video') show($('vi-tap'));
      else showVoiceTap();
    });
  }
}

function showVoiceTap() {
  warn('Tap anywhere to hear the other side.');
  addEventListener('pointerdown', () => $('vo-remote').play().catch(() => {}), { once: true });
}

function remoteMedia(f) {
  show($('vi-remote-muted'), f.audio === false);
  show($('vo-other-muted'), f.audio === false);
  show($('vi-remote-off'), f.video === false);
}

function sendMediaState() {
  const st = { type: 'media-state', audio: !S.muted };
  st.video = S.kind === 'video' ? !S.camOff : false;
  S.relay.send(st);
}

function muteButton() {
  const b = $('ct-mute');
  b.textContent = !S.call.tracks.audio ? 'No microphone' : S.muted ? 'Unmute' : 'Mute';
  b.setAttribute('aria-pressed', String(S.muted));
  b.disabled = !S.call.tracks.audio;
  show($('vo-me-muted'), S.muted);
}

function camButton() {
  const b = $('ct-cam');
  b.textContent = S.camOff ? 'Camera on' : 'Camera off';
  b.setAttribute('aria-pressed', String(S.camOff));
}

function toggleMute() {
  const t = S.call.tracks.audio;
  if (!t) return;
  S.muted = !S.muted;
  t.enabled = !S.muted;
  muteButton();
  sendMediaState();
  announce(S.muted ? 'Microphone muted' : 'Microphone on');
}

async function toggleCamera() {
  const b = $('ct-cam');
  b.disabled = true;
  try {
    if (!S.camOff) {
      // Off means off: the camera is released (its light goes out) and no frames are sent.
      const t = S.call.tracks.video;
      await S.call.setTrack('video', null);
      if (t) { t.stop(); S.stream.removeTrack(t); }
      S.camOff = true;
    } else {
      const cam = await openCamera(S.camId);
      const t = cam.getVideoTracks()[0];
      S.stream.addTrack(t);
      $('vi-local').srcObject = S.stream;
      await S.call.setTrack('video', t);
      S.camOff = false;
    }
  } catch (e) {
    const h = helpFor(e, 'video');
    warn(`${h.title}. ${h.text}`);
  }
  b.disabled = false;
  show($('vi-local-off'), S.camOff);
  camButton();
  sendMediaState();
}

function quality(q) {
  const el = $('ac-net');
  el.dataset.q = q.level;
  const words = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection', none: 'Connecting' }[q.level];
  el.title = q.rttMs === null ? words : `${words}: ${q.rttMs} ms round trip, ${q.lossPct}% loss`;
  el.setAttribute('aria-label', el.title);
  text('ac-net-text', q.rttMs === null ? '' : `${q.rttMs} ms`);
}

/* the end */

function askEnd() {
  const d = $('confirm-end');
  d.returnValue = '';
  d.showModal();
}

function cleanupMedia() {
  S.stopRemote();
  S.stopLevel.forEach((f) => f());
  S.stopLevel = [];
  stopStream(S.stream);
  stopStream(S.remote);
}

function teardown() {
  clearInterval(S.tick);
  if (S.relay) S.relay.close();
  if (S.call) S.call.stop();
  cleanupMedia();
  for (const id of ['vi-remote', 'vi-local', 'vo-remote', 'dc-preview']) $(id).srcObject = null;
}

async function endSession() {
  if (S.ending || S.ended) return;
  S.ending = true;
  $('ac-end').disabled = true;
  teardown();
  let r = null;
  try {
    r = await call('end', S.token, { reason: `${S.me}_ended` });
  } catch (e) {
    summary(null, `${S.me}_ended`, null, e.message);
    return;
  }
  summary(r, r.reason, r.durationSeconds);
}

// The other side or the server ended it: the end API (already ended) gives this side's figures.
async function finish(reason, durationSeconds) {
  if (S.ending || S.ended) return;
  S.ending = true;
  teardown();
  let r = null;
  try { r = await call('end', S.token, {}); } catch { /* the summary then shows what the frame said */ }
  summary(r, (r && r.reason) || reason, r ? r.durationSeconds : durationSeconds);
}

const REASONS = {
  user_ended: { user: 'You ended the session.', astrologer: 'The customer ended the session.' },
  astrologer_ended: { user: 'The astrologer ended the session.', astrologer: 'You ended the session.' },
  time_up: 'The paid time is over.',
  completed: 'The session is complete.',
  no_show: 'The session ended because not everyone joined.',
  cancelled: 'The session was cancelled before it started.',
  disconnected: 'The session ended after the connection was lost.',
};

function summary(r, reason, secs, problem) {
  S.ended = true;
  const rs = REASONS[reason];
  let why = (rs && (typeof rs === 'string' ? rs : rs[S.me])) || 'The session has ended.';
  if (r && r.status === 'cancelled') why += ' It ended before both of you had joined, so nothing was charged.';
  text('en-reason', why);
  const facts = [['Duration', secs === null || secs === undefined ? 'Not known' : durationWords(secs)]];
  const money = (a) => (a === undefined || a === null ? '—' : a);
  if (r && S.me === 'user') facts.push(['Charged', money(r.amountCharged)], ['Refunded to your wallet', money(r.amountRefunded)]);
  if (r && S.me === 'astrologer') facts.push(['You earned', money(r.amountReleased)]);
  if (r && r.billedMinutes !== undefined) facts.push(['Minutes billed', String(r.billedMinutes)]);
  $('en-facts').replaceChildren(...facts.map(([k, val]) => {
    const d = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = val;
    d.append(dt, dd);
    return d;
  }));
  text('en-note', problem ? `The final figures could not be loaded (${problem}). They are in your account.` : '');
  // The link back to the shop's own site is configured on the server (return_url) and comes with validate.
  const back = S.v && typeof S.v.returnUrl === 'string' && /^https?:\/\//.test(S.v.returnUrl) ? S.v.returnUrl : '';
  if (back) {
    const a = $('en-return');
    a.href = back;
    a.textContent = 'Back to the shop';
    show(a);
  }
  document.title = 'Session ended';
  setState('ended');
  $('en-title').tabIndex = -1;
  $('en-title').focus();
}

boot();
