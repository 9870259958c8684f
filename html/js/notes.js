// notes.js: the astrologer's private notes on a session (autosaved, with earlier versions to look at) and the
// summary published for the customer; the customer's page shows only that summary, read-only.
import { $, show, text, localTime } from './ui.js';
import { call } from './api.js';

// Long enough that a pause between words does not save, short enough that a closed laptop loses little.
const SAVE_AFTER_MS = 1500;

// One panel a page: the link's token, what the server holds, and a save waiting or running.
let nt = null;

function status(msg) { text('nt-status', msg); }

async function save(keepalive = false) {
  clearTimeout(nt.timer);
  nt.timer = 0;
  const body = $('nt-text').value;
  if (body === nt.saved) return;
  // One save at a time, so versions land in the order they were typed; the next one follows it.
  if (nt.saving) { nt.again = true; return; }
  nt.saving = true;
  status('Saving…');
  try {
    const res = await call('notes', nt.token, { text: body }, { keepalive });
    nt.saved = body;
    status(`Saved ${localTime(res.savedAt)}`);
    if ($('nt-versions').open) listVersions();
  } catch (e) {
    status(`Not saved: ${e.message}`);
  }
  nt.saving = false;
  if (nt.again) { nt.again = false; save(); }
}

function typed() {
  clearTimeout(nt.timer);
  status('');
  nt.timer = setTimeout(save, SAVE_AFTER_MS);
}

async function listVersions() {
  let res;
  try { res = await call('notes', nt.token, {}); } catch (e) { status(e.message); return; }
  $('nt-list').replaceChildren(...res.versions.slice().reverse().map((v) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `Version ${v.version} · ${localTime(v.savedAt, true)}`;
    b.addEventListener('click', () => viewVersion(v.version));
    li.append(b);
    return li;
  }));
  if (!res.versions.length) $('nt-list').textContent = 'Nothing saved yet.';
}

async function viewVersion(n) {
  try {
    const res = await call('notes', nt.token, { version: n });
    $('nt-view').textContent = res.text || '(empty)';
    show($('nt-view'));
    $('nt-view').focus();
  } catch (e) { status(e.message); }
}

async function publish() {
  const body = $('nt-summary').value.trim();
  if (!body) { text('nt-pub-status', 'Write the summary first.'); return; }
  $('nt-publish').disabled = true;
  try {
    const res = await call('summary', nt.token, { text: body });
    text('nt-pub-status', `Published ${localTime(res.publishedAt)}. The customer sees it on their link.`);
  } catch (e) {
    text('nt-pub-status', `Not published: ${e.message}`);
  }
  $('nt-publish').disabled = false;
}

async function load() {
  try {
    const [n, s] = await Promise.all([call('notes', nt.token, {}), call('summary', nt.token, {})]);
    // What was typed before the answer came stays: it is newer than what is stored.
    if (!$('nt-text').value) $('nt-text').value = n.text;
    nt.saved = n.text;
    if (n.version) status(`Saved ${localTime(n.savedAt)}`);
    if (s.summary && !$('nt-summary').value) $('nt-summary').value = s.summary;
    if ($('nt-text').value !== nt.saved) typed();
  } catch (e) {
    status(`The notes could not be loaded: ${e.message}`);
  }
}

function setUp(token) {
  nt = { token, saved: null, timer: 0, saving: false, again: false };
  $('nt-text').addEventListener('input', typed);
  $('nt-publish').addEventListener('click', publish);
  $('nt-versions').addEventListener('toggle', () => { if ($('nt-versions').open) listVersions(); });
  // Leaving the page, or the tab going to the background on a phone, saves what is waiting.
  const flush = () => { if (nt.timer) save(true); };
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
  load();
}

// Into a card above its buttons, or at the end of the room.
function place(host, el) {
  host.insertBefore(el, host.querySelector(':scope > #en-return, :scope > #err-retry'));
}

// The astrologer's panel inside host: in the room it opens and closes from the header; in a card it stays open.
export function showNotes(token, host, inRoom = false) {
  if (!nt) setUp(token);
  const panel = $('notes');
  place(host, panel);
  panel.classList.toggle('in-room', inRoom);
  show($('nt-close'), inRoom);
  show(panel, !inRoom);
  if (inRoom) {
    const btn = $('ac-notes');
    const toggle = (open) => {
      show(panel, open);
      btn.setAttribute('aria-expanded', String(open));
      (open ? $('nt-text') : btn).focus();
    };
    show(btn);
    btn.addEventListener('click', () => toggle(panel.hidden));
    $('nt-close').addEventListener('click', () => toggle(false));
  }
}

// The customer's ended page (and a link opened after the end): the summary, when one was published.
export async function showPublished(token, host, from) {
  let s;
  try { s = await call('summary', token, {}); } catch { return null; }
  if (s.participantType === 'astrologer') {
    showNotes(token, host);
  } else if (s.summary) {
    if (from) text('ps-from', from);
    text('ps-text', s.summary);
    place(host, $('pub-summary'));
    show($('pub-summary'));
  }
  return s;
}
