// ui.js: small DOM and formatting helpers shared by the page's modules.
export const $ = (id) => document.getElementById(id);

export function show(el, on = true) { el.hidden = !on; }

export function text(id, s) { $(id).textContent = s; }

const STATES = ['loading', 'error', 'prejoin', 'active', 'ended'];

// One state shows at a time; #app's data-state names it for styles and tests. A state that ends the
// visit (error, ended) gives its heading the focus, so a screen reader starts reading there.
export function setState(name, heading) {
  for (const s of STATES) show($(`s-${s}`), s === name);
  $('app').dataset.state = name;
  if (heading) {
    $(heading).tabIndex = -1;
    $(heading).focus();
  }
}

// Cleared first, then set a moment later, so a screen reader speaks the same words twice in a row too.
export function announce(msg) {
  const a = $('announce');
  a.textContent = '';
  setTimeout(() => { a.textContent = msg; }, 50);
}

let warnTimer = 0;
export function warn(msg) {
  const w = $('warn');
  w.textContent = msg;
  show(w);
  clearTimeout(warnTimer);
  warnTimer = setTimeout(() => show(w, false), 8000);
}

export function initials(name) {
  // Words that start with a letter: "Ravi Shankar 2" is RS.
  const words = String(name || '').trim().split(/\s+/);
  const parts = words.filter((w) => /^\p{L}/u.test(w)).length ? words.filter((w) => /^\p{L}/u.test(w)) : words.filter(Boolean);
  const first = parts[0] ? [...parts[0]][0] : '?';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

export function plural(n, word) { return `${n} ${word}${n === 1 ? '' : 's'}`; }

// Whole seconds as m:ss, or h:mm:ss past an hour.
export function clock(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const p = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${p(m)}:${p(r)}` : `${p(m)}:${p(r)}`;
}

export function durationWords(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  const m = Math.floor(s / 60), r = s % 60;
  if (!m) return plural(r, 'second');
  return `${plural(m, 'minute')}${r ? ` ${plural(r, 'second')}` : ''}`;
}

// Time left as a person would say it: rounded to whole minutes from one minute up, in seconds below.
export function timeLeftWords(totalSeconds) {
  const n = Math.max(0, Math.round(totalSeconds));
  return n >= 60 ? plural(Math.round(n / 60), 'minute') : plural(n, 'second');
}

export function localTime(iso, withDate = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return withDate
    ? d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// The API sends money as decimal strings; a figure it left out shows as a dash.
export const money = (a) => (a === undefined || a === null ? '—' : a);

export const typeName = { chat: 'Chat', voice: 'Voice call', video: 'Video call' };
export const roleName = { user: 'Customer', astrologer: 'Astrologer' };
export const otherRole = { user: 'astrologer', astrologer: 'user' };
