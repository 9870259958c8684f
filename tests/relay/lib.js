// lib.js: what the relay suites share: a real stack (or a bare relay) in a temp dir, bookings, WebSocket clients.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');

const root = process.env.SESSIONS_TEST_ROOT || path.resolve(__dirname, '../..');
const bin = path.join(root, 'build/bin');

const { freePort } = require('../lib/net.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A running nginx + API + relay from deploy/stack.sh, or the relay alone on a unix socket.
class Stack {
  constructor(env) {
    this.var = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-test-'));
    this.db = path.join(this.var, 'sessions.db');
    this.env = { ...process.env, ...env };
    this.names = 0;
    this.dbArgs = ['--db', this.db];
  }

  static async start(env = {}) {
    const s = new Stack(env);
    s.port = await freePort();
    s.origin = `http://127.0.0.1:${s.port}`;
    s.url = `ws://127.0.0.1:${s.port}/ws`;
    execFileSync('sh', [path.join(root, 'deploy/stack.sh'), 'start', s.var, String(s.port)],
      { env: s.env, stdio: ['ignore', 'ignore', 'inherit'] });
    s.mode = 'stack';
    return s;
  }

  // The relay by itself, for what nginx would hide (its own flags, exact socket buffers).
  // setup(stack), when given, runs before the relay starts (to write its configuration).
  static async bare(args = [], env = {}, setup = null) {
    const s = new Stack(env);
    s.origin = 'http://127.0.0.1:9';
    s.socket = path.join(s.var, 'relay.sock');
    s.url = `ws+unix:${s.socket}:/ws`;
    s.mode = 'bare';
    s.relayArgs = args;
    if (setup) setup(s);
    await s.startRelay();
    return s;
  }

  async startRelay() {
    try { fs.unlinkSync(this.socket); } catch (e) { /* not there */ }
    // SESSIONS_RELAY_BIN runs another build of the relay (the sanitized one) in its place.
    this.relay = spawn(this.env.SESSIONS_RELAY_BIN || path.join(bin, 'relay'), [...this.dbArgs, '--socket', this.socket,
      '--origin', this.origin, ...this.relayArgs], { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.relayLog = '';
    this.relay.stderr.on('data', (d) => { this.relayLog += d; });
    for (let i = 0; i < 100 && !fs.existsSync(this.socket); i++) await sleep(50);
    if (!fs.existsSync(this.socket)) throw new Error('relay did not start: ' + this.relayLog);
  }

  // Stops the relay with SIGTERM and waits for it; resolves to its exit code.
  stopRelay() {
    const p = this.relay;
    if (!p || p.exitCode !== null) return Promise.resolve(p ? p.exitCode : null);
    return new Promise((resolve) => { p.once('exit', (code) => resolve(code)); p.kill('SIGTERM'); });
  }

  relayPid() {
    if (this.mode === 'bare') return this.relay.pid;
    return Number(fs.readFileSync(path.join(this.var, 'relay.pid'), 'utf8').trim());
  }

  ctl(...args) {
    const out = execFileSync(path.join(bin, 'sessionctl'), ['--db', this.db, ...args],
      { env: this.env, encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : null;
  }

  // A booking between fresh people; the link opens now.
  book(type, minutes = 30) {
    const n = ++this.names;
    this.ctl('user', 'add', `user${n}`, '--balance', '1000.00');
    this.ctl('astrologer', 'add', `astro${n}`);
    return this.ctl('book', '--user', `user${n}`, '--astrologer', `astro${n}`, '--type', type,
      '--minutes', String(minutes), '--price', '60.00');
  }

  async api(endpoint, token) {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/sessions/${endpoint}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: '{}',
    });
    return { status: res.status, body: await res.json() };
  }

  async stop() {
    if (this.mode === 'stack') {
      try {
        execFileSync('sh', [path.join(root, 'deploy/stack.sh'), 'stop', this.var], { stdio: 'ignore' });
      } catch (e) { /* stopped already */ }
    } else {
      await this.stopRelay();
    }
    fs.rmSync(this.var, { recursive: true, force: true });
  }
}

// A WebSocket client that keeps every frame it gets, so a test can wait for one.
class Client {
  constructor(stack, opts = {}) {
    const headers = { Origin: opts.origin === undefined ? stack.origin : opts.origin };
    if (opts.origin === null) delete headers.Origin;
    const o = { headers, ...(opts.ws || {}) };
    this.ws = new WebSocket(stack.url, o);
    this.frames = [];
    this.waiters = [];
    this.closeCode = null;
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => {
      this.closeCode = code;
      resolve(code);
      this.poke();
    }));
    this.ws.on('error', () => {});
    this.ws.on('message', (data, binary) => {
      this.frames.push(binary ? { type: '(binary)' } : JSON.parse(data.toString()));
      this.poke();
    });
  }

  poke() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  // Resolves to the first unconsumed frame matching pred (a type name or a function).
  next(pred, ms = 3000) {
    const match = typeof pred === 'string' ? (f) => f.type === pred : pred;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${typeof pred === 'string' ? pred : 'matching'} frame in ${ms} ms; got ${JSON.stringify(this.frames).slice(0, 400)}`)), ms);
      const look = () => {
        const i = this.frames.findIndex(match);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(this.frames.splice(i, 1)[0]);
        } else if (this.closeCode !== null) {
          clearTimeout(timer);
          reject(new Error(`closed (${this.closeCode}) before a ${typeof pred === 'string' ? pred : 'matching'} frame; got ${JSON.stringify(this.frames).slice(0, 400)}`));
        } else {
          this.waiters.push(look);
        }
      };
      look();
    });
  }

  // Frames of a type that arrive within ms (consumed).
  async within(type, ms) {
    await sleep(ms);
    const got = this.frames.filter((f) => f.type === type);
    this.frames = this.frames.filter((f) => f.type !== type);
    return got;
  }

  waitClose(ms = 3000) {
    return Promise.race([this.closed, sleep(ms).then(() => { throw new Error(`not closed within ${ms} ms`); })]);
  }

  close() { try { this.ws.terminate(); } catch (e) { /* gone */ } }
}

async function join(stack, token, extra = {}, opts = {}) {
  const c = new Client(stack, opts);
  await c.opened;
  c.send({ type: 'join-room', token, ...extra });
  c.joined = await c.next((f) => f.type === 'joined' || f.type === 'error');
  if (c.joined.type === 'error') throw new Error('join refused: ' + JSON.stringify(c.joined));
  return c;
}

// A tiny TAP-like runner: one "ok - name" or "not ok - name" per check; cleanup always runs.
async function run(checks, { before, after, timeoutMs = 90000 }) {
  let failed = 0;
  const guard = setTimeout(async () => {
    console.log('not ok - the suite finished within its time limit');
    try { await after(); } catch (e) { /* exiting anyway */ }
    process.exit(1);
  }, timeoutMs);
  try {
    await before();
    for (const [name, fn] of checks) {
      try {
        await fn();
        console.log(`ok - ${name}`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${name}`);
        console.log(`#   ${String(e && e.stack || e).split('\n').slice(0, 3).join('\n#   ')}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`not ok - the suite's setup: ${e && e.message}`);
  } finally {
    clearTimeout(guard);
    await after();
  }
  process.exit(failed ? 1 : 0);
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }
function eq(a, b, msg) {
  const x = JSON.stringify(a), y = JSON.stringify(b);
  if (x !== y) throw new Error(`${msg}: expected ${y}, got ${x}`);
}

// SDP the way browsers write it, trimmed to what the relay reads.
function sdp({ audio = true, video = false, videoPort = 9, bundleOnly = false, data = false } = {}) {
  const lines = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'a=group:BUNDLE 0 1'];
  if (audio) lines.push('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=mid:0',
    'a=sendrecv', 'a=rtpmap:111 opus/48000/2');
  if (video) lines.push(`m=video ${videoPort} UDP/TLS/RTP/SAVPF 96`, 'c=IN IP4 0.0.0.0', 'a=mid:1',
    ...(bundleOnly ? ['a=bundle-only'] : []), 'a=sendrecv', 'a=rtpmap:96 VP8/90000');
  if (data) lines.push('m=application 0 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0',
    'a=bundle-only', 'a=mid:2', 'a=sctp-port:5000');
  return lines.join('\r\n') + '\r\n';
}

module.exports = { Stack, Client, join, run, assert, eq, sleep, sdp, root, bin };
