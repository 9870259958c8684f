// chat.js: the chat view: stored history, pending/sent own messages and files, reactions, links, the reader's place, and screen-reader announcements.
import { $, show, localTime, warn } from './ui.js';
import { emojiPicker, emojiName, REACTIONS } from './emoji.js';
import { line } from './codes.js';

// Most chats share no file: its code loads with the first file message or the first use of the attach button.
const files = () => import('./files.js');

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

// What a small reaction button shows; the button around it is the 44 px a finger needs.
function pill(text) {
  const s = document.createElement('span');
  s.className = 'pill';
  s.textContent = text;
  return s;
}

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
    this.bySeq = new Map(); // seq -> the message's li, for its reactions
    this.reactions = new Map(); // seq -> Map(emoji -> Set of roles), as the relay stored them
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
    const input = $('attach-input');
    // Loading starts while the file picker is open.
    $('attach-btn').addEventListener('click', () => { files().catch(() => {}); input.click(); });
    input.addEventListener('change', () => {
      const file = input.files[0];
      input.value = '';
      if (file) files().then((m) => m.upload(token, file, (f) => this.sendFile(f)), () => warn(line('unavailable')));
    });
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

  // The relay refused one of this page's messages: it shows why, with Retry and Remove, and is no longer pending,
  // so a rejoin does not send it again by itself. True when the error was about one of them.
  refused(f) {
    const p = typeof f.clientId === 'string' ? this.pending.get(f.clientId) : null;
    if (!p) return false;
    this.pending.delete(f.clientId);
    p.el.classList.remove('pending');
    p.el.classList.add('failed');
    p.el.querySelector('.st').textContent = `Not sent: ${line(f.code)}`;
    const retry = this.action(p.el, 'Retry', () => {
      this.pending.set(f.clientId, p);
      p.el.classList.replace('failed', 'pending');
      p.el.querySelector('.fail-acts').remove();
      this.post(f.clientId, p);
    });
    this.action(p.el, 'Remove', () => {
      p.el.remove();
      this.input.focus();
    });
    retry.focus();
    this.announce(`Your message was not sent: ${line(f.code)}`);
    return true;
  }

  // One of a refused message's buttons, in its own row below the message.
  action(li, label, fn) {
    let row = li.querySelector('.fail-acts');
    if (!row) {
      row = document.createElement('div');
      row.className = 'fail-acts';
      li.append(row);
    }
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', fn);
    row.append(b);
    return b;
  }

  // A stored message from the relay: live, or part of the history sent on join.
  receive(f, live) {
    if (typeof f.seq !== 'number') return;
    if (this.seen.has(f.seq)) {
      if (!live) this.restate(f);
      return;
    }
    this.seen.add(f.seq);
    const p = f.clientId && f.senderType === this.me ? this.pending.get(f.clientId) : null;
    // A message stored before a lost acknowledgement may have been reacted to meanwhile.
    for (const { emoji, by } of f.reactions || []) this.reacted(f.seq, emoji, by, true);
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

  // A message the relay passed on while storing it, whose storing then failed: it was never kept.
  withdrawn(f) {
    if (!this.seen.delete(f.seq)) return;
    this.bySeq.get(f.seq)?.remove();
    this.bySeq.delete(f.seq);
    this.reactions.delete(f.seq);
    this.announce('A message could not be stored and was removed.');
  }

  // A message seen before comes again in a history: its reactions are as stored now, whatever this page heard.
  restate(f) {
    this.reactions.delete(f.seq);
    for (const { emoji, by } of f.reactions || []) this.reacted(f.seq, emoji, by, true);
    this.chips(f.seq);
  }

  mark(el, f) {
    el.classList.remove('pending');
    el.querySelector('time').textContent = localTime(f.timestamp);
    el.querySelector('time').dateTime = f.timestamp;
    el.querySelector('.st').textContent = 'Sent';
    this.stored(el, f.seq);
  }

  // A message the relay stored can be reacted to: it gets its React button (in its meta line) and picker.
  // The picker is made on first use, so a long history costs no listeners.
  stored(li, seq) {
    li.dataset.seq = seq;
    this.bySeq.set(seq, li);
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'react-btn';
    btn.append(pill('☺+'));
    btn.setAttribute('aria-label', 'React to this message');
    btn.setAttribute('aria-expanded', 'false');
    const panel = document.createElement('div');
    panel.className = 'emoji-panel';
    panel.id = `react-${seq}`;
    panel.setAttribute('role', 'group');
    panel.setAttribute('aria-label', 'Reactions');
    panel.hidden = true;
    btn.setAttribute('aria-controls', panel.id);
    li.querySelector('.meta').append(btn);
    li.querySelector('.reacts').append(panel);
    // The picker handles the clicks after this one; this one it is made by, and opened.
    btn.addEventListener('click', () => emojiPicker(btn, panel, (e) => { this.toggle(seq, e); btn.focus(); }, REACTIONS)(),
      { once: true });
    this.chips(seq);
  }

  mine(seq, emoji) {
    const who = this.reactions.get(seq)?.get(emoji);
    return !!who && who.has(this.me);
  }

  // Puts or takes back this side's emoji; it shows once the relay says it is stored.
  toggle(seq, emoji) {
    if (!this.send({ type: 'message-reaction', seq, emoji, on: !this.mine(seq, emoji) }))
      this.announce('Not connected: the reaction was not sent.');
  }

  // A stored change from the relay (live, or in a message of the history).
  reaction(f, live) {
    if (typeof f.seq !== 'number' || !REACTIONS.includes(f.emoji)) return;
    this.reacted(f.seq, f.emoji, f.by, f.on);
    if (live && f.by !== this.me)
      this.announce(`${this.names[f.by] || f.by} ${f.on ? 'reacted' : 'took back'} ${emojiName(f.emoji)}`);
  }

  reacted(seq, emoji, by, on) {
    if (!this.reactions.has(seq)) this.reactions.set(seq, new Map());
    const m = this.reactions.get(seq);
    if (!m.has(emoji)) m.set(emoji, new Set());
    if (on) m.get(emoji).add(by);
    else m.get(emoji).delete(by);
    this.chips(seq);
  }

  // The message's chips, in the set's order: emoji and count, pressed when one of them is mine; a click toggles mine.
  chips(seq) {
    const li = this.bySeq.get(seq);
    if (!li) return;
    const box = li.querySelector('.reacts');
    box.querySelectorAll('.chip').forEach((c) => c.remove());
    const m = this.reactions.get(seq) || new Map();
    const chips = REACTIONS.filter((e) => m.get(e)?.size).map((e) => {
      const n = m.get(e).size;
      const mine = m.get(e).has(this.me);
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.dataset.emoji = e;
      b.setAttribute('aria-pressed', String(mine));
      b.setAttribute('aria-label', `${emojiName(e)}: ${n}${mine ? ', yours' : ''}`);
      b.append(pill(`${e} ${n}`));
      b.addEventListener('click', () => this.toggle(seq, e));
      return b;
    });
    box.prepend(...chips);
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
      // The name holds the place until the card's code is here.
      body = document.createElement('span');
      body.className = 'file-wait';
      body.textContent = f.file.name;
      const wait = body;
      files().then((m) => wait.replaceWith(m.fileCard(f, this.token)), () => {});
    } else {
      body = document.createElement('span');
      body.className = 'text';
      body.append(...withLinks(f.message));
    }
    const reacts = document.createElement('div');
    reacts.className = 'reacts';
    li.append(meta, body, reacts);
    if (f.seq !== undefined) this.stored(li, f.seq);
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
