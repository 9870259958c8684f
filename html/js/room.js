// room.js: the active state: the relay's frames, presence, chat or media, the timer, the running charge, and the end (or leaving).
import { $, show, text, setState, announce, warn, clock, timeLeftWords, localTime, money, typeName } from './ui.js';
import { call } from './api.js';
import { FATAL, WARN, line } from './codes.js';
import { Relay } from './relay.js';
import { Chat } from './chat.js';
import { Media } from './media.js';
import { Reactions } from './reactions.js';
import { showError } from './error.js';
import { showSummary } from './summary.js';

// How often, once the deadline has passed, the page asks the API whether the session is over.
const POLL_MS = 3000;
// How long after a busy or rate-limited answer the page sends its pending chat again.
const BUSY_RETRY_MS = 1500;

// devices: what the device check opened and chose (see Media), handed over to a voice or video room.
export function enterRoom(ctx, devices) {
  // billing: the server's latest running charge; started: whether the End button last read as ending (not leaving).
  const r = { ctx, relay: null, chat: null, media: null, reactions: null, recording: null, recordingLoad: null, present: false, billing: null, started: null, ticker: 0, endTimer: 0, busyTimer: 0, ending: false };
  setState('active');
  text('ac-type', typeName[ctx.kind] || ctx.kind);
  text('ac-other', ctx.otherName);
  $('ac-end').addEventListener('click', askEnd);
  // Closed by the page because the session ended meanwhile, the question has no answer to act on.
  $('confirm-end').addEventListener('close', () => {
    if (r.ending) return;
    if ($('confirm-end').returnValue === 'end') endSession(r);
    else $('ac-end').focus();
  });
  fitToViewport();
  presence(r, 'waiting');
  r.relay = new Relay(ctx.v.wsPath, ctx.token, { onFrame: (f) => onFrame(r, f), onStatus: (st) => relayStatus(r, st) });
  const send = (f) => r.relay.send(f);
  r.chat = new Chat({ me: ctx.me, names: ctx.names, send, announce, token: ctx.token });
  if (ctx.kind === 'chat') {
    show($('v-chat'));
    $('msg-input').focus();
  } else {
    r.media = new Media(ctx, devices, { send, onPath: (st) => mediaPath(r, st) });
    r.reactions = new Reactions(send, ctx.otherName);
    callChat();
    loadRecording(r, send);
    r.media.focus();
  }
  // Only the astrologer keeps notes: the customer's page never loads their code.
  if (ctx.me === 'astrologer') import('./notes.js').then((m) => m.showNotes(ctx.token, $('s-active'), true), () => {});
  r.ticker = setInterval(() => tick(r), 500);
  tick(r);
  r.relay.start();
  addEventListener('pagehide', () => { if (!r.ending) { r.relay.close(); if (r.media) r.media.call.stop(); } });
}

// Recording's code loads as the call's room opens, apart from the join; what the room asks of it before it
// is here (a rejoin's reset, the relay's recording frames) waits for it, in order. Should it not load, the
// call goes on without its Record button.
function loadRecording(r, send) {
  r.recordingLoad = import('./recording.js').then(({ Recording }) => {
    if (!r.relay.stopped) r.recording = new Recording(r.ctx, send, r.media);
  }, () => {});
}

function withRecording(r, fn) {
  if (r.recordingLoad) r.recordingLoad.then(() => { if (r.recording) fn(r.recording); });
}

// In a call the chat, and the files shared in it, opens beside the picture from a Chat button: the
// bar's, or on a narrow phone's video the one over the picture.
const CHAT_BUTTONS = ['ac-chat', 'vi-chat'];
function callChat() {
  const panel = $('v-chat');
  panel.classList.add('in-call');
  show($('ac-chat'));
  const toggle = () => {
    const open = panel.hidden;
    // The call's buttons stay in reach below it, however many rows they wrap to.
    panel.style.bottom = `${$('controls').offsetHeight}px`;
    show(panel, open);
    for (const id of CHAT_BUTTONS) {
      $(id).setAttribute('aria-expanded', String(open));
      delete $(id).dataset.unread;
    }
    if (open) $('msg-input').focus();
  };
  for (const id of CHAT_BUTTONS) $(id).addEventListener('click', toggle);
}

// Once the session runs, the server bills only the time both are connected: an absence pauses the clock.
function presence(r, p) {
  const el = $('ac-presence');
  const name = r.ctx.otherName;
  const running = !!r.ctx.startedAt;
  el.dataset.p = p;
  el.textContent = {
    waiting: running ? `Waiting for ${name} — the clock is paused` : `Waiting for ${name} to join`,
    joined: 'In the session',
    left: running ? `${name} left — the clock is paused` : 'Left the session; they can come back',
    reconnecting: 'Reconnecting…',
  }[p];
}

function relayStatus(r, st) {
  const b = $('banner');
  if (st === 'reconnecting') {
    b.textContent = 'Connection lost. Reconnecting…';
    show(b);
    presence(r, 'reconnecting');
    if (r.chat) r.chat.offline();
  } else if (st === 'open') {
    show(b, false);
  }
}

function mediaPath(r, st) {
  if (!r.present) return;
  if (st === 'failed' || st === 'disconnected') presence(r, 'reconnecting');
  else if (st === 'connected') presence(r, 'joined');
}

// One handler per relay frame type; a type the page does not know is ignored.
const FRAMES = {
  joined(r, f) {
    r.ctx.times(f);
    r.present = !!(f.present && f.present[r.ctx.otherRole]);
    presence(r, r.present ? 'joined' : 'waiting');
    if (r.chat) addHistory(r, f.history, f.more);
    // A recording never outlives this page's connection: the relay stopped it when the connection went.
    withRecording(r, (rec) => rec.reset());
    if (r.media) {
      if (r.present) r.media.peerHere();
      else r.media.sendState();
    }
  },
  'participant-joined': (r, f) => peerMoved(r, f, true),
  'participant-left': (r, f) => peerMoved(r, f, false),
  'session-started'(r, f) {
    r.ctx.times(f);
    announce('The session has started. The timer is running.');
  },
  billing: bill,
  history(r, f) {
    if (r.chat) addHistory(r, f.messages, f.more);
  },
  message(r, f) {
    if (!r.chat) return;
    r.chat.receive(f, true);
    seen(r, f);
    if ($('v-chat').hidden && f.senderType !== r.ctx.me) for (const id of CHAT_BUTTONS) $(id).dataset.unread = 'true';
  },
  'message-reaction'(r, f) {
    if (r.chat) r.chat.reaction(f, true);
  },
  'message-withdrawn'(r, f) {
    if (r.chat) r.chat.withdrawn(f);
  },
  offer: signal,
  answer: signal,
  'ice-candidate': signal,
  'media-state'(r, f) {
    if (r.media && f.participantType === r.ctx.otherRole) r.media.remoteState(f);
  },
  reaction(r, f) {
    if (r.reactions && f.from === r.ctx.otherRole) r.reactions.receive(f);
  },
  recording(r, f) {
    withRecording(r, (rec) => rec.frame(f));
  },
  // The relay warns at 5 and at 1 paid minute left; the words come from the seconds it counts.
  'time-warning'(r, f) {
    const msg = `${timeLeftWords(f.remainingSeconds)} left in this session.`;
    warn(msg);
    announce(msg);
  },
  'session-ended'(r, f) {
    // Heard live, so this side was there; if the other was not, the end is about their absence.
    finish(r, { reason: f.reason, endedBy: f.endedBy, durationSeconds: f.durationSeconds, stayed: !r.present });
  },
  error(r, f) {
    // Chat the server could not take yet stays pending; it goes again, with the same ids, a moment later.
    const later = f.code === 'busy' || f.code === 'rate_limited';
    if (f.code === 'session_ended') finish(r, {});
    else if (FATAL.has(f.code)) { teardown(r); showError(r.ctx, f); }
    // A refused message of this page's says so where it is, not in a banner.
    else if (!later && r.chat && r.chat.refused(f)) return;
    else if (WARN.has(f.code) || (r.recording && (f.code === 'conflict' || f.code === 'peer_absent'))) warn(line(f.code, f.message));
    if (later && r.chat) {
      clearTimeout(r.busyTimer);
      r.busyTimer = setTimeout(() => r.chat.resend(), BUSY_RETRY_MS);
    }
  },
};

// The other participant came or went; frames about this participant's own other tabs are not news.
function peerMoved(r, f, here) {
  if (f.participantType !== r.ctx.otherRole) return;
  r.present = here;
  presence(r, here ? 'joined' : 'left');
  if (r.chat) r.chat.note(`${r.ctx.otherName} ${here ? 'joined' : 'left'}`);
  if (r.media) {
    if (here) r.media.peerHere();
    else r.media.peerGone();
  }
}

// The running charge as the server counts it; the page never adds time of its own between two counts.
// Screen readers are not told of each count: the element is no live region.
function bill(r, b) {
  const { me } = r.ctx;
  const amount = me === 'user' ? b.amountCharged : b.earnings;
  const el = $('ac-bill');
  r.billing = b;
  el.dataset.billedSeconds = String(b.billedSeconds);
  el.dataset.amount = money(amount);
  el.dataset.paused = String(!!b.paused);
  el.dataset.serverTime = b.serverTime || '';
  text('ac-bill-text', me === 'user' ? `Billed so far: ${clock(b.billedSeconds)} · ${money(amount)}` : `Earned so far: ${money(amount)}`);
  show($('ac-bill-paused'), !!b.paused);
  show(el);
}

function onFrame(r, f) {
  if (Object.hasOwn(FRAMES, f.type)) FRAMES[f.type](r, f);
}

function signal(r, f) {
  if (r.media) r.media.signal(f);
}

function seen(r, m) {
  if (typeof m.seq === 'number') r.relay.lastSeq = Math.max(r.relay.lastSeq, m.seq);
}

// History comes in pages; only once it is all here do unconfirmed messages go out again.
function addHistory(r, list, more) {
  (list || []).forEach((m) => { r.chat.receive(m, false); seen(r, m); });
  if (more) r.relay.send({ type: 'history', after: r.relay.lastSeq });
  else r.chat.resend();
}

function tick(r) {
  const { ctx } = r;
  const el = $('ac-timer');
  const t = ctx.now();
  const started = !!(ctx.startedAt && ctx.deadline);
  endWords(r, started);
  noShow(r, t, started);
  if (!started) {
    text('ac-elapsed', '00:00');
    text('ac-remaining', 'Starts when both have joined');
    el.dataset.level = 'idle';
    return;
  }
  const left = Math.ceil((ctx.deadline - t) / 1000);
  text('ac-elapsed', clock((Math.min(t, ctx.deadline) - ctx.startedAt) / 1000));
  text('ac-remaining', left > 0 ? `${clock(left)} left` : 'Time is up');
  el.dataset.level = left <= 60 ? 'last' : left <= 300 ? 'warn' : 'run';
  // The relay says when the session ends; should that word get lost, the API knows from the deadline on:
  // its rules answer session_ended on every read from then.
  if (t >= ctx.deadline && !r.endTimer && !r.ending) r.endTimer = setTimeout(() => checkOver(r), 0);
}

async function checkOver(r) {
  try {
    await call('validate', r.ctx.token);
  } catch (e) {
    if (e.code === 'session_ended') { finish(r, { reason: 'time_up' }); return; }
  }
  if (!r.ending) r.endTimer = setTimeout(() => checkOver(r), POLL_MS);
}

// While the other has not joined yet: when the session ends without them, counted down on the server's
// clock and shown in this device's time. Redrawn every tick, so it is no live region either.
// Once it runs and the two are apart, the server's billing frame says when it ends unless both are back.
function noShow(r, t, started) {
  const { ctx } = r;
  const el = $('ac-noshow');
  const apartEnd = started && r.billing && r.billing.paused && r.billing.disconnectAt
    ? Date.parse(r.billing.disconnectAt) : 0;
  show(el, (!started && !!ctx.noShowAt) || apartEnd > 0);
  const by = (at) => `by ${localTime(at - ctx.offset)} (in ${clock(Math.max(0, Math.ceil((at - t) / 1000)))})`;
  if (apartEnd) {
    el.textContent = `If you are not both back ${by(apartEnd)}, the session ends; only the time you were both here is billed.`;
    return;
  }
  if (started || !ctx.noShowAt) return;
  const then = ctx.me === 'user' ? 'your money goes back' : 'the customer is refunded';
  el.textContent = `If ${ctx.otherName} has not joined ${by(ctx.noShowAt)}, the session ends and ${then}.`;
}

// Before both have joined, ending is leaving, and the server gives the whole price back; the button and
// its question say so, and change (an open question too) the moment the session starts.
function endWords(r, started) {
  if (r.started === started) return;
  r.started = started;
  const { ctx } = r;
  const back = ctx.me === 'user' ? 'your money goes back to your wallet in full' : 'the customer gets their money back in full';
  text('ac-end', started ? 'End session' : 'Leave');
  text('ce-title', started ? 'End the session now?' : 'Leave the session?');
  text('ce-text', started ? 'This ends it for both of you and cannot be undone.'
    : `${ctx.otherName} has not joined yet, so the session ends and ${back}.`);
  text('ce-yes', started ? 'End session' : 'Leave');
}

function askEnd() {
  const d = $('confirm-end');
  d.returnValue = '';
  d.showModal();
}

// Phones shrink the visible area under the on-screen keyboard, which dvh does not follow everywhere:
// the room takes the visible height, so its header and composer stay on screen.
function fitToViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  const fit = () => document.documentElement.style.setProperty('--view-h', `${Math.round(vv.height)}px`);
  vv.addEventListener('resize', fit);
  fit();
}

// However the session ends (the other side, the server, an error), a question about ending it is moot.
function teardown(r) {
  for (const id of ['confirm-end', 'rec-ask']) if ($(id).open) $(id).close('');
  clearInterval(r.ticker);
  clearTimeout(r.endTimer);
  r.relay.close();
  // Before the media go, so the recorder's last piece is still the call's.
  if (r.recording) r.recording.stop();
  if (r.media) r.media.stop();
  for (const id of ['vi-remote', 'vi-local', 'vo-remote', 'dc-preview']) $(id).srcObject = null;
}

async function endSession(r) {
  if (r.ending) return;
  r.ending = true;
  $('ac-end').disabled = true;
  teardown(r);
  const reason = `${r.ctx.me}_ended`;
  const known = { reason, billedSeconds: billedSoFar(r) };
  let res;
  try {
    res = await call('end', r.ctx.token, { reason });
  } catch (e) {
    showSummary(r.ctx, null, known, e.message);
    return;
  }
  showSummary(r.ctx, res, known);
}

// The other side or the server ended it: the end API (already ended) gives this side's figures.
// known: what the relay said of the end, for when the API cannot be asked.
async function finish(r, known) {
  if (r.ending) return;
  r.ending = true;
  teardown(r);
  let res = null;
  try { res = await call('end', r.ctx.token, {}); } catch { /* the summary then shows what the frame said */ }
  showSummary(r.ctx, res, { ...known, billedSeconds: billedSoFar(r) });
}

const billedSoFar = (r) => (r.billing ? r.billing.billedSeconds : undefined);
