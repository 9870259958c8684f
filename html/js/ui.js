// ui.js: small DOM and formatting helpers shared by the page's modules.
export const $ = (id) => document.getElementById(id);

export function show(el, on = true) { el.hidden = !on; }

export function text(id, s) { $(id).textContent = s; }

export function initials(name) {
  // Words that start with a letter: "Ravi Shankar 2" is RS.
  const words = String(name || '').trim().split(/\s+/);
  const parts = words.filter((w) => /^\p{L}/u.test(w)).length ? words.filter((w) => /^\p{L}/u.test(w)) : words.filter(Boolean);
  const first = parts[0] ? [...parts[0]][0] : '?';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

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
  if (!m) return `${r} second${r === 1 ? '' : 's'}`;
  return `${m} minute${m === 1 ? '' : 's'}${r ? ` ${r} second${r === 1 ? '' : 's'}` : ''}`;
}

export function localTime(iso, withDate = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return withDate
    ? d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export const typeName = { chat: 'Chat', voice: 'Voice call', video: 'Video call' };
export const roleName = { user: 'Customer', astrologer: 'Astrologer' };
