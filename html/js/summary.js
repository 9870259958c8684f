// summary.js: the ended state: why the session ended, how long it ran, and the money for this side.
import { $, show, text, setState, durationWords, money } from './ui.js';

const REASONS = {
  user_ended: { user: 'You ended the session.', astrologer: 'The customer ended the session.' },
  astrologer_ended: { user: 'The astrologer ended the session.', astrologer: 'You ended the session.' },
  time_up: 'The paid time is over.',
  completed: 'The session is complete.',
  no_show: 'The session ended because not everyone joined.',
  cancelled: 'The session was cancelled before it started.',
  disconnected: 'The session ended after the connection was lost.',
};

// res: the end API's answer, or null when it failed (problem says why) and only the relay's word is known.
export function showSummary(ctx, res, reason, secs, problem) {
  const rs = REASONS[reason];
  let why = (rs && (typeof rs === 'string' ? rs : rs[ctx.me])) || 'The session has ended.';
  if (res && res.status === 'cancelled') why += ' It ended before both of you had joined, so nothing was charged.';
  text('en-reason', why);
  const facts = [['Duration', secs === null || secs === undefined ? 'Not known' : durationWords(secs)]];
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
}
