// summary.js: the ended state: who ended the session and why, how long it ran, the talk time billed, the money for this side, the notes or published summary, and the recordings.
import { $, show, text, setState, durationWords, money } from './ui.js';

// Ends no participant asked for, in the words of the side reading them.
const REASONS = {
  time_up: () => 'The paid time is over.',
  completed: () => 'The session is complete.',
  no_show: (ctx) => `${ctx.otherName} did not come, so the session ended. Nothing was charged.`,
  cancelled: () => 'The session was cancelled before it started.',
  // The server ends a session the two have not both been in for a while, whoever was missing: the side
  // that stayed can name the one who was away; a side that learns of it on its return cannot tell.
  disconnected: (ctx, e) => (e.stayed ? `${ctx.otherName} was away for a few minutes, so the session ended.`
    : 'The session ended because you were not both connected for a few minutes.'),
};

const BY = { user: 'The customer', astrologer: 'The astrologer' };

// Who ended it: the server says so (endedBy); when only a reason is known (the end API failed), a
// participant's own <role>_ended names them.
function endedBy(e) {
  if (e.endedBy) return e.endedBy;
  const m = /^(user|astrologer)_ended$/.exec(e.reason || '');
  return m ? m[1] : 'system';
}

function why(ctx, e) {
  const by = endedBy(e);
  let s;
  if (by === ctx.me) s = 'You ended the session.';
  else if (BY[by]) s = `${BY[by]} ended the session.`;
  else s = REASONS[e.reason] ? REASONS[e.reason](ctx, e) : 'The session has ended.';
  if (e.status === 'cancelled' && e.reason !== 'no_show') s += ' It ended before both of you had joined, so nothing was charged.';
  return s;
}

// res: the end API's answer, or null when it failed (problem says why). known: what the page learnt
// otherwise ({ reason, endedBy, durationSeconds, billedSeconds, stayed: this side was there at the end and
// the other was not }); the API's answer wins where it has a figure.
export function showSummary(ctx, res, known, problem) {
  const e = { ...known, ...res };
  text('en-reason', why(ctx, e));
  const secs = e.durationSeconds;
  const facts = [['Duration', secs === null || secs === undefined ? 'Not known' : durationWords(secs)]];
  if (typeof e.billedSeconds === 'number') facts.push(['Talk time billed', durationWords(e.billedSeconds)]);
  if (res && ctx.me === 'user') facts.push(['Charged', money(res.amountCharged)], ['Refunded to your wallet', money(res.amountRefunded)]);
  if (res && ctx.me === 'astrologer') facts.push(['You earned', money(res.amountReleased)]);
  if (res && res.billedMinutes !== undefined) facts.push(['Minutes billed', String(res.billedMinutes)]);
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
  const back = ctx.v && typeof ctx.v.returnUrl === 'string' && /^https?:\/\//.test(ctx.v.returnUrl) ? ctx.v.returnUrl : '';
  if (back) {
    const a = $('en-return');
    a.href = back;
    a.textContent = 'Back to the shop';
    show(a);
  }
  document.title = 'Session ended';
  setState('ended', 'en-title');
  // The published summary's and the recordings' code loads only now, as on a link opened after the end.
  import('./notes.js').then((m) => m.showPublished(ctx.token, $('s-ended'), ctx.otherName), () => {});
  // The recorder's last piece may still be on its way: the list is read once it has had time to land.
  if (ctx.kind !== 'chat') {
    setTimeout(() => import('./recording.js').then((m) => m.showRecordings(ctx.token, $('s-ended')), () => {}), 1500);
  }
}
