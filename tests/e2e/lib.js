// lib.js: what the browser tests share: a loopback-only network namespace, a real stack on a free
// port in a temp dir, bookings through sessionctl, Debian's Chromium, TAP lines, and a cleanup that
// runs whatever happens.
'use strict';
const { spawn, spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const CTL = path.join(ROOT, 'build/bin/sessionctl');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Runs the calling script again inside a namespace that has only lo, so nginx, the relay and Chromium
// (and its ICE candidates) see 127.0.0.1 alone. Returns only inside the namespace.
function isolate(limitMs) {
  if (process.env.SESSIONS_E2E_NETNS === '1') return;
  // As root a plain network namespace; otherwise a user namespace grants the right to make one.
  const flags = ['-n', '-rn'].find((f) => spawnSync('unshare', [f, 'true'], { timeout: 10000 }).status === 0);
  if (!flags) {
    console.log('not ok - the test can make a loopback-only network namespace (unshare -n failed)');
    process.exit(1);
  }
  const r = spawnSync('unshare', [flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, SESSIONS_E2E_NETNS: '1' }, timeout: limitMs + 30000, killSignal: 'SIGKILL',
  });
  if (r.error || r.status === null) console.log(`not ok - the test ended by itself (${r.error ? r.error.message : r.signal})`);
  process.exit(r.status === null ? 1 : r.status);
}

class Tap {
  constructor(name) {
    this.name = name;
    this.failed = 0;
    this.passed = 0;
  }

  ok(cond, what, why) {
    if (cond) this.passed++; else this.failed++;
    console.log(`${cond ? 'ok' : 'not ok'} - ${what}${!cond && why ? ` (${why})` : ''}`);
    return !!cond;
  }

  // One check that passes when fn resolves (fn waits on conditions, never on sleeps).
  async check(what, fn) {
    try {
      await fn();
      return this.ok(true, what);
    } catch (e) {
      return this.ok(false, what, String((e && e.message) || e).split('\n')[0].slice(0, 300));
    }
  }
}

const { freePort } = require('../lib/net.js');

const cleanups = [];
let cleaning = null;
function onCleanup(fn) { cleanups.push(fn); }
async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try { await fn(); } catch (e) { console.log(`# cleanup: ${e.message}`); }
    }
  })();
  return cleaning;
}

// Runs a suite: a hard time limit, cleanup on every way out, exit status from the checks.
function main(name, limitMs, body) {
  isolate(limitMs);
  const tap = new Tap(name);
  const finish = async (code) => {
    await cleanup();
    process.exit(code);
  };
  const timer = setTimeout(() => {
    tap.ok(false, `${name} finished within ${limitMs / 1000} s`);
    finish(1);
  }, limitMs);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => finish(1));
  process.on('unhandledRejection', (e) => { tap.ok(false, `${name}: no unexpected error`, e && e.message); });
  body(tap).then(
    () => { clearTimeout(timer); finish(tap.failed || !tap.passed ? 1 : 0); },
    (e) => { clearTimeout(timer); tap.ok(false, `${name} ran to the end`, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e); finish(1); },
  );
}

// A whole stack (nginx, API programs, relay) in a fresh temp dir on a free port.
async function stack(env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessions-e2e-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const varDir = path.join(dir, 'var');
  // SESSIONS_LISTEN_ADDR: nginx on another address of the namespace than loopback (deploy/stack.sh).
  const base = `http://${env.SESSIONS_LISTEN_ADDR || '127.0.0.1'}:${port}`;
  const fullEnv = { ...process.env, SESSIONS_PUBLIC_URL: base, ...env };
  const s = {
    dir, port, base, var: varDir, db: path.join(varDir, 'sessions.db'), env: fullEnv,
    ctl(...args) {
      const out = execFileSync(CTL, ['--db', s.db, ...args], { env: fullEnv, encoding: 'utf8', timeout: 10000 });
      return out.trim() ? JSON.parse(out) : null;
    },
    ctlStatus(...args) {
      return spawnSync(CTL, ['--db', s.db, ...args], { env: fullEnv, encoding: 'utf8', timeout: 10000 });
    },
    relayPid() {
      return Number(fs.readFileSync(path.join(varDir, 'relay.pid'), 'utf8').trim());
    },
    // Stops the relay alone (as a crash or a deploy would) and waits until it is gone.
    async killRelay() {
      const pid = s.relayPid();
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !fs.existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')), 5000);
    },
    // Starts the relay again exactly as deploy/stack.sh does, so stack.sh stop still ends it.
    async startRelay() {
      const log = fs.openSync(path.join(varDir, 'relay.log'), 'a');
      const sock = path.join(varDir, 'relay.sock');
      fs.rmSync(sock, { force: true });
      const child = spawn(path.join(ROOT, 'build/bin/relay'), ['--db', s.db, '--socket', sock,
        '--origin', base, '--origin', `http://localhost:${port}`], { env: fullEnv, stdio: ['ignore', log, log], detached: true });
      child.unref();
      fs.writeFileSync(path.join(varDir, 'relay.pid'), `${child.pid}\n`);
      await waitFor(() => fs.existsSync(sock), 10000);
    },
  };
  fs.mkdirSync(varDir);
  // The stack is stopped before its dir goes (cleanups run last-in first-out).
  onCleanup(() => spawnSync('sh', [path.join(ROOT, 'deploy/stack.sh'), 'stop', varDir], { env: fullEnv, stdio: 'inherit', timeout: 20000 }));
  execFileSync('sh', [path.join(ROOT, 'deploy/stack.sh'), 'start', varDir, String(port)], { env: fullEnv, stdio: 'inherit', timeout: 30000 });
  return s;
}

let booked = 0;
// A booking between two fresh accounts; returns sessionctl's JSON (tokens, urls, ids).
function book(s, type, minutes = 30, price = '60.00', extra = []) {
  booked++;
  const user = `Asha Rao ${booked}`;
  const astrologer = `Ravi Shankar ${booked}`;
  s.ctl('user', 'add', user, '--balance', '500.00');
  s.ctl('astrologer', 'add', astrologer);
  const b = s.ctl('book', '--user', user, '--astrologer', astrologer, '--type', type, '--minutes', String(minutes), '--price', price, ...extra);
  b.userName = user;
  b.astrologerName = astrologer;
  b.userUrl = `${s.base}/session/${b.userToken}`;
  b.astrologerUrl = `${s.base}/session/${b.astrologerToken}`;
  return b;
}

const FAKE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'];

// executablePath: another way to start Debian's Chromium (e.g. inside a network namespace of its own).
async function browser(args = FAKE, executablePath = CHROMIUM) {
  const { chromium } = require('playwright-core');
  const b = await chromium.launch({ executablePath, args, timeout: 30000 });
  onCleanup(() => b.close().catch(() => {}));
  return b;
}

// Records, without changing them, every getUserMedia call, every stream the page opens (screens too) and
// every RTCPeerConnection it makes.
function probe() {
  window.__probe = { gum: [], pcs: [], streams: [] };
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const orig = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => {
      window.__probe.gum.push(JSON.parse(JSON.stringify(c || {})));
      return orig(c).then((st) => { window.__probe.streams.push(st); return st; });
    };
  }
  if (md && md.getDisplayMedia) {
    const orig = md.getDisplayMedia.bind(md);
    md.getDisplayMedia = (c) => orig(c).then((st) => { window.__probe.streams.push(st); return st; });
  }
  const Orig = window.RTCPeerConnection;
  if (Orig) {
    window.RTCPeerConnection = class extends Orig {
      constructor(...a) { super(...a); window.__probe.pcs.push(this); }
    };
  }
}

// device: a phone's isMobile, hasTouch and deviceScaleFactor, for Chromium to emulate.
async function page(b, { viewport = { width: 1000, height: 760 }, permissions, ...device } = {}) {
  const ctx = await b.newContext({ viewport, permissions, ...device });
  await ctx.addInitScript(probe);
  const p = await ctx.newPage();
  p.setDefaultTimeout(15000);
  p.__errors = [];
  p.on('pageerror', (e) => p.__errors.push(e.message));
  // The browser's own network notes (a refused socket while the relay is down, a 410 answer) are not
  // script errors.
  p.on('console', (m) => {
    if (m.type() === 'error' && !/^(WebSocket connection|Failed to load resource)/.test(m.text())) p.__errors.push(m.text());
  });
  return p;
}

const ARTIFACTS = path.join(ROOT, 'build/artifacts');
async function shot(p, suite, name) {
  fs.mkdirSync(path.join(ARTIFACTS, suite), { recursive: true });
  await p.screenshot({ path: path.join(ARTIFACTS, suite, `${name}.png`), fullPage: true });
}

async function waitFor(fn, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The page's state: loading, error, prejoin, active or ended.
const state = (p) => p.$eval('#app', (e) => e.dataset.state);
const waitState = (p, s, ms = 15000) => p.waitForFunction((want) => document.getElementById('app').dataset.state === want, s, { timeout: ms });

// Totals of the page's newest peer connection, from getStats: what actually crossed the network.
function rtpTotals(p) {
  return p.evaluate(async () => {
    const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
    const out = { state: pc ? pc.connectionState : 'none', pcs: window.__probe.pcs.length,
      inAudio: 0, inVideo: 0, framesDecoded: 0, outAudio: 0, outVideo: 0, outAudioBytes: 0 };
    if (!pc || pc.connectionState === 'closed') return out;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.inAudio += s.packetsReceived || 0;
      if (s.type === 'inbound-rtp' && s.kind === 'video') { out.inVideo += s.packetsReceived || 0; out.framesDecoded += s.framesDecoded || 0; }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') { out.outAudio += s.packetsSent || 0; out.outAudioBytes += s.bytesSent || 0; }
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.outVideo += s.packetsSent || 0;
    });
    return out;
  });
}

// Whether a count keeps rising (or stays still) over a window: two samples some time apart.
async function rising(p, key, windowMs = 1500) {
  const a = (await rtpTotals(p))[key];
  await new Promise((r) => setTimeout(r, windowMs));
  const b = (await rtpTotals(p))[key];
  return { a, b, up: b > a };
}

// Loudness (RMS 0..1) of the page's remote media element, measured by the test's own analyser.
function remoteLevel(p, selector) {
  return p.evaluate(async (sel) => {
    const el = document.querySelector(sel);
    if (!el || !el.srcObject || !el.srcObject.getAudioTracks().length) return -1;
    const ac = window.__testAc || (window.__testAc = new AudioContext());
    await ac.resume();
    const an = ac.createAnalyser();
    an.fftSize = 2048;
    const src = ac.createMediaStreamSource(el.srcObject);
    src.connect(an);
    const buf = new Float32Array(an.fftSize);
    let peak = 0;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      peak = Math.max(peak, Math.sqrt(sum / buf.length));
    }
    src.disconnect();
    return peak;
  }, selector);
}

// After the end: every camera and microphone track released, every peer connection closed.
function released(p) {
  return p.evaluate(() => ({
    live: window.__probe.streams.flatMap((st) => st.getTracks()).filter((tr) => tr.readyState !== 'ended').length,
    open: window.__probe.pcs.filter((pc) => pc.connectionState !== 'closed').length,
  }));
}

const pcState = (p, want, ms = 20000) => p.waitForFunction((w) => {
  const pcs = window.__probe.pcs;
  return pcs.length && pcs[pcs.length - 1].connectionState === w;
}, want, { timeout: ms });

// The money side: nothing may stay frozen and the ledger must balance.
function settled(s, b) {
  const w = s.ctl('wallet', 'show', b.userName);
  const check = s.ctlStatus('ledger', 'check');
  return { wallet: w, ledgerOk: check.status === 0, ledger: check.stdout.trim() };
}

// A looping 440 Hz tone for the fake microphone and, for video, one camera clip per participant
// (a coloured corner tells whose frames arrived).
function makeMedia(dir, video = true) {
  const wav = path.join(dir, 'tone.wav');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=20', '-ac', '1', wav], { timeout: 30000 });
  const y4m = (name, color) => {
    const f = path.join(dir, `${name}.y4m`);
    // A plain colour with a moving test pattern in the bottom-right quarter, so frames change.
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${color}:size=320x240:rate=15:duration=4`,
      '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15:duration=4', '-filter_complex', 'overlay=160:120', '-pix_fmt', 'yuv420p', f], { timeout: 60000 });
    return f;
  };
  if (!video) return { wav };
  return { wav, userVideo: y4m('user', 'red'), astrologerVideo: y4m('astrologer', 'lime') };
}

module.exports = {
  isolate, cleanup, ROOT, FAKE, Tap, main, stack, book, browser, page, shot, waitFor, state, waitState,
  rtpTotals, rising, remoteLevel, settled, released, pcState, makeMedia, onCleanup,
};
