// error.js: the error state: what went wrong in plain words, what happened to the money, what to do next,
// a retry where one can help, and a countdown that opens a link that is not open yet by itself.
import { $, show, text, setState, localTime, clock, plural } from './ui.js';
import { FATAL, RETRY, errorPage, moneyLine } from './codes.js';

let countdown = 0;

// e is a code, an ApiError or a relay error frame; ctx.v is validate's answer when there was one.
export function showError(ctx, e) {
  const err = typeof e === 'string' ? { code: e } : e;
  const [title, what, next] = errorPage(err.code, err.message);
  text('err-title', title);
  text('err-text', what);
  text('err-money', moneyLine(err.code, ctx.me));
  show($('err-money'), !!$('err-money').textContent);
  text('err-next', next);
  const detail = err.detail || {};
  const opens = detail.linkOpensAt || (ctx.v && ctx.v.linkOpensAt);
  clearInterval(countdown);
  if (err.code === 'not_open' && opens) {
    const offset = detail.serverTime ? Date.parse(detail.serverTime) - Date.now() : ctx.offset;
    countDown(opens, offset);
  }
  show($('err-retry'), RETRY.has(err.code) || !FATAL.has(err.code));
  text('err-retry', err.code === 'replaced' ? 'Use this tab' : 'Try again');
  document.title = title;
  setState('error', 'err-title');
}

// Counted on the server's clock (offset: server minus this device); at the moment the server says the link
// opens, the page loads again and so asks it anew. Redrawn every second, so it is no live region.
function countDown(opens, offset) {
  const at = Date.parse(opens);
  const tick = () => {
    const left = Math.ceil((at - (Date.now() + offset)) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      location.reload();
      return;
    }
    const wait = left >= 86400 ? plural(Math.floor(left / 86400), 'day') : clock(left);
    text('err-text', `This link opens at ${localTime(opens, true)}, in ${wait}.`);
  };
  countdown = setInterval(tick, 1000);
  tick();
}
