// relay.js: the room's WebSocket; reconnects with backoff and resumes chat after the last seen seq.
import { FATAL } from './codes.js';

export class Relay {
  constructor(path, token, { onFrame, onStatus }) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = `${scheme}//${location.host}${path || '/ws'}`;
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;  // 'connecting' | 'open' | 'reconnecting' | 'closed'
    this.lastSeq = 0;          // highest chat seq seen: the resume point
    this.attempt = 0;
    this.ws = null;
    this.timer = 0;
    this.stopped = false;
    this.joined = false;
  }

  start() { this.connect('connecting'); }

  connect(status) {
    this.onStatus(status);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.joined = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'join-room', token: this.token, after: this.lastSeq }));
    ws.onmessage = (ev) => {
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
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.joined = false;
      if (this.stopped) { this.onStatus('closed'); return; }
      // 0.5 s, 1 s, 2 s ... capped at 8 s, with jitter so both sides do not retry in step.
      const base = Math.min(8000, 500 * 2 ** this.attempt++);
      this.onStatus('reconnecting');
      this.timer = setTimeout(() => this.connect('reconnecting'), base * (0.75 + Math.random() * 0.5));
    };
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
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this.onStatus('closed');
  }
}
