// relay.js: the room's WebSocket; a heartbeat notices a silent drop, it reconnects with backoff and resumes chat a few messages before the last seen seq.
import { FATAL } from './codes.js';

// A network can vanish without closing anything: the page pings the relay, and silence means it is gone.
const PING_MS = 2000;
const SILENT_MS = 4000;
// A connection not joined by then is as good as gone too (the relay itself waits 10 s for join-room).
const JOIN_MS = 8000;
const TICK_MS = 500;
// A rejoin asks again for this many messages already seen: reactions on them may have changed while the page
// was away, and the history carries them as stored. Older ones show such changes after a reload.
const RECHECK = 50;

export class Relay {
  constructor(path, token, { onFrame, onStatus }) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}${path || '/ws'}`;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;  // 'connecting' | 'open' | 'reconnecting' | 'closed'
    this.lastSeq = 0;          // highest chat seq seen: the resume point (less RECHECK)
    this.attempt = 0;
    this.ws = null;
    this.timer = 0;
    this.stopped = false;
    this.joined = false;
    this.beat = 0;
    this.heard = 0;            // when the current connection last sent anything (or began)
    this.pinged = 0;           // when the last ping went out
  }

  start() { this.connect('connecting'); }

  connect(status) {
    this.onStatus(status);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.joined = false;
    this.heard = Date.now();
    this.pinged = 0;
    clearInterval(this.beat);
    this.beat = setInterval(() => this.pulse(ws), TICK_MS);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join-room', token: this.token, after: Math.max(0, this.lastSeq - RECHECK) }));
    ws.onmessage = (ev) => {
      this.heard = Date.now();
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (!f || typeof f.type !== 'string') return;
      if (f.type === 'joined') {
        this.joined = true;
        this.attempt = 0;
        this.onStatus('open');
      }
      // After these, trying again cannot help: the link or the session is gone.
      if (f.type === 'error' && FATAL.has(f.code)) this.stopped = true;
      if (f.type === 'session-ended') this.stopped = true;
      this.onFrame(f);
    };
    ws.onclose = () => this.lost(ws);
  }

  // Silence counts only once a ping has gone unanswered: timers of a hidden tab may fire late, and a
  // late tick alone must not pass for a dead network.
  pulse(ws) {
    const now = Date.now();
    const quiet = now - this.heard;
    if (this.joined ? quiet >= SILENT_MS && this.pinged > this.heard : quiet >= JOIN_MS) {
      // Closed without waiting for a close handshake that cannot arrive; whatever it still says is not heard.
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
      this.lost(ws);
      return;
    }
    if (this.joined && now - this.pinged >= PING_MS && this.send({ type: 'ping' })) this.pinged = now;
  }

  lost(ws) {
    if (this.ws !== ws) return;
    clearInterval(this.beat);
    this.ws = null;
    this.joined = false;
    if (this.stopped) { this.onStatus('closed'); return; }
    // 0.5 s, 1 s, 2 s ... capped at 8 s, with jitter so both sides do not retry in step.
    const base = Math.min(8000, 500 * 2 ** this.attempt++);
    this.onStatus('reconnecting');
    this.timer = setTimeout(() => this.connect('reconnecting'), base * (0.75 + Math.random() * 0.5));
  }

  // Sends a frame when the room is joined; false tells the caller to keep it for later.
  send(frame) {
    if (!this.ws || !this.joined || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.beat);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this.onStatus('closed');
  }
}
