// session.js: the page's start: read the link's token, validate it, and hand the session to the pre-join.
import { $, setState, otherRole } from './ui.js';
import { call } from './api.js';
import { showError } from './error.js';
import { prejoin } from './prejoin.js';

// What every state shares, made once here and handed on: the link, who is who, and the server's clock.
function newSession(token) {
  return {
    token,
    v: null,          // validate's answer
    kind: '',         // chat | voice | video
    me: '',           // user | astrologer
    otherRole: '',
    otherName: '',
    names: {},        // role -> display name
    offset: 0,        // server time minus this device's time
    startedAt: null,
    deadline: null,
    noShowAt: null,   // while the other has not joined: when the session ends without them (a full refund)
    // Any API answer or relay frame may carry the times; the latest one wins. noShowAt turns null once
    // both have joined, so only its absence leaves it as it was.
    times(o) {
      if (o.serverTime) this.offset = Date.parse(o.serverTime) - Date.now();
      if (o.startedAt) this.startedAt = Date.parse(o.startedAt);
      if (o.deadline) this.deadline = Date.parse(o.deadline);
      if (o.noShowAt !== undefined) this.noShowAt = o.noShowAt ? Date.parse(o.noShowAt) : null;
    },
    now() { return Date.now() + this.offset; },
  };
}

async function boot() {
  const m = /^\/session\/([^/?#]+)/.exec(location.pathname);
  const ctx = newSession(m ? decodeURIComponent(m[1]) : '');
  $('err-retry').addEventListener('click', () => location.reload());
  if (!ctx.token) { showError(ctx, 'unknown_link'); return; }
  setState('loading');
  let v;
  try { v = await call('validate', ctx.token); } catch (e) {
    showError(ctx, e);
    // A link opened after the end still shows what the astrologer published, the astrologer's notes and the recordings;
    // their code loads only then, so the pre-join stays as small as it was.
    if (e.code === 'session_ended' || e.code === 'link_expired') {
      import('./notes.js').then((m) => m.showPublished(ctx.token, $('s-error')), () => {});
      import('./recording.js').then((m) => m.showRecordings(ctx.token, $('s-error')), () => {});
    }
    return;
  }
  if (!v.valid) { showError(ctx, 'unknown_link'); return; }
  ctx.v = v;
  ctx.kind = v.sessionType;
  ctx.me = v.participantType;
  ctx.otherRole = otherRole[ctx.me];
  ctx.otherName = v.otherParticipantName || 'the other participant';
  ctx.names = { [ctx.me]: v.participantName || 'You', [ctx.otherRole]: ctx.otherName };
  ctx.times(v);
  prejoin(ctx);
}

boot();
