// chat.js: the chat view: stored history, pending/sent own messages and files, links, the reader's place, and screen-reader announcements.
import { $, show, localTime } from './ui.js';
import { emojiPicker } from './emoji.js';
import { attach, fileCard } from './files.js';

// Within this distance of the bottom a reader counts as following the conversation.
const NEAR_END = 80;

// Web addresses become links; the closing punctuation of a sentence stays outside them.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

// The text as DOM nodes: plain text, with http(s) addresses as links that open apart from this page.
function withLinks(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const raw = m[0].replace(TRAILING, '');
    let url = null;
    try { url = new URL(raw); } catch { /* not an address after all: stays text */ }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    if (m.index > at) out.push(text.slice(at, m.index));
    const a = document.createElement('a');
    a.href = url.href;
    a.textContent = raw;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    out.push(a);
    at = m.index + raw.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

const NOT_SENT = 'Not sent yet — will send when reconnected';

const newId = () => (crypto.randomUUID ? crypto.randomUUID()
  : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

export class Chat {
  constructor({ me, names, send, announce, token }) {
    this.me = me;          // 'user' | 'astrologer'
    this.token = token;    // the link's: uploads and downloads of shared files
    this.names = names;    // { user: 'Asha', astrologer: 'Ravi' }
    this.send = send;      // returns false while the socket is down
    this.announce = announce;
    this.seen = new Set(); // seqs already shown, so history and live frames never repeat
    this.pending = new Map(); // clientId -> { el, text } or { el, file } not yet confirmed by the relay
    this.list = $('msgs');
    this.input = $('msg-input');
    this.newBtn = $('msgs-new');
    this.unread = 0;
    this.newBtn.addEventListener('click', () => { this.toEnd(); this.input.focus(); });
    this.list.addEventListener('scroll', () => { if (this.atEnd()) this.clearUnread(); });
    emojiPicker($('emoji-btn'), $('emoji-panel'), (e) => {
      this.input.setRangeText(e, this.input.selectionStart, this.input.selectionEnd, 'end');
      this.grow();
      this.input.focus();
    });
    $('composer').addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
    });
    this.input.addEventListener('input', () => this.grow());
    attach(token, (file) => this.sendFile(file));
  }

  atEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < NEAR_END;
  }

  toEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.clearUnread();
  }

  clearUnread() {
    this.unread = 0;
    show(this.newBtn, false);
  }

  // A reader who scrolled up keeps their place; the button says how much came in below.
  addUnread() {
    this.unread++;
    this.newBtn.textContent = `${this.unread} new message${this.unread === 1 ? '' : 's'} ↓`;
    show(this.newBtn);
  }

  grow() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 128)}px`;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    const clientId = newId();
    const el = this.render({ senderType: this.me, message: text, timestamp: null }, true);
    this.pending.set(clientId, { el, text });
    this.input.value = '';
    this.grow();
    this.post(clientId, this.pending.get(clientId));
  }

  // An uploaded file is announced to both as a message that names it by id.
  sendFile(file) {
    const clientId = newId();
    const el = this.render({ senderType: this.me, kind: 'file', message: file.name, file: { ...file, available: true }, timestamp: null }, true);
    this.pending.set(clientId, { el, file });
    this.post(clientId, this.pending.get(clientId));
  }

  // A message the socket could not take says so; it goes out when the room is joined again.
  post(clientId, p) {
    const sent = this.send(p.file ? { type: 'message', file: p.file.id, clientId } : { type: 'message', message: p.text, clientId });
    p.el.querySelector('.st').textContent = sent ? 'Sending…' : NOT_SENT;
  }

  // After (re)joining: everything the relay did not confirm in the history goes out again.
  resend() {
    for (const [clientId, p] of this.pending) this.post(clientId, p);
  }

  // The connection is lost: what went out unconfirmed may not have arrived, and is sent again on return.
  offline() {
    for (const p of this.pending.values()) p.el.querySelector('.st').textContent = NOT_SENT;
  }

  // A stored message from the relay: live, or part of the history sent on join.
  receive(f, live) {
    if (typeof f.seq !== 'number' || this.seen.has(f.seq)) return;
    this.seen.add(f.seq);
    const p = f.clientId && f.senderType === this.me ? this.pending.get(f.clientId) : null;
    if (p) {
      this.pending.delete(f.clientId);
      this.mark(p.el, f);
      return;
    }
    this.render(f, false);
    if (live && f.senderType !== this.me) {
      this.announce(`${this.names[f.senderType] || 'Message'} ${f.kind === 'file' ? 'shared a file:' : 'says:'} ${f.message}`);
    }
  }

  mark(el, f) {
    el.classList.remove('pending');
    el.querySelector('time').textContent = localTime(f.timestamp);
    el.querySelector('time').dateTime = f.timestamp;
    el.querySelector('.st').textContent = 'Sent';
    el.dataset.seq = f.seq;
  }

  render(f, pending) {
    const mine = f.senderType === this.me;
    const li = document.createElement('li');
    li.className = `msg${mine ? ' mine' : ''}${pending ? ' pending' : ''}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const who = document.createElement('b');
    who.textContent = mine ? 'You' : (this.names[f.senderType] || f.senderType);
    const time = document.createElement('time');
    if (f.timestamp) { time.dateTime = f.timestamp; time.textContent = localTime(f.timestamp); }
    meta.append(who, ' · ', time);
    if (mine) {
      const st = document.createElement('span');
      st.className = 'st';
      st.textContent = pending ? 'Sending…' : 'Sent';
      meta.append(st);
    }
    let body;
    if (f.kind === 'file') {
      body = fileCard(f, this.token);
    } else {
      body = document.createElement('span');
      body.className = 'text';
      body.append(...withLinks(f.message));
    }
    li.append(meta, body);
    if (f.seq !== undefined) li.dataset.seq = f.seq;
    const following = this.atEnd();
    this.list.append(li);
    if (following || mine) this.toEnd();
    else this.addUnread();
    return li;
  }

  note(text) {
    const li = document.createElement('li');
    li.className = 'sysmsg';
    li.textContent = text;
    const following = this.atEnd();
    this.list.append(li);
    if (following) this.toEnd();
  }
}
