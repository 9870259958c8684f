// error.js: the error state: what went wrong in plain words, what to do next, and a retry where one can help.
import { $, show, text, setState, localTime } from './ui.js';
import { FATAL, RETRY, errorPage } from './codes.js';

// e is a code, an ApiError or a relay error frame; ctx.v is validate's answer when there was one.
export function showError(ctx, e) {
  const err = typeof e === 'string' ? { code: e } : e;
  const [title, what, next] = errorPage(err.code, err.message);
  text('err-title', title);
  text('err-text', what);
  text('err-next', next);
  const opens = (err.detail && err.detail.linkOpensAt) || (ctx.v && ctx.v.linkOpensAt);
  if (err.code === 'not_open' && opens) text('err-text', `This link opens at ${localTime(opens, true)}.`);
  show($('err-retry'), RETRY.has(err.code) || !FATAL.has(err.code));
  text('err-retry', err.code === 'replaced' ? 'Use this tab' : 'Try again');
  document.title = title;
  setState('error', 'err-title');
}
