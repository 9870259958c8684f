// nat.test.js: calls across symmetric NATs. Each Chromium runs in a network namespace of its own behind a
// NAT namespace (nftables masquerade with random, fully random ports); the stack and coturn, configured
// from the shipped recipe, sit on a "public" bridge between them, and nothing else routes. Without TURN the
// call cannot connect (the NATs really are symmetric); with it video and voice flow both ways through the
// relay, over UDP and, with UDP blocked, over TCP; wrong or expired credentials fail; a chat gets none.
// For each case it prints the selected candidate pair on both sides and the time from Join to remote media.
'use strict';
const { execFileSync, spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const L = require('./lib');

const SUITE = 'nat';
const PUB = '203.0.113.1'; // a documentation range: the stack and coturn, the "internet" side
const SIDES = { user: { wan: '203.0.113.11', lan: '10.0.1' }, astrologer: { wan: '203.0.113.12', lan: '10.0.2' } };
// Short-lived credentials, so a call in this test outlives its first ones and the pages fetch fresh ones.
const CREDENTIAL_SECONDS = 20;
const ROLES = Object.keys(SIDES);

const run = (cmd, args, input) => execFileSync(cmd, args, { encoding: 'utf8', timeout: 20000, input });
const ip = (...args) => run('ip', args);
const nft = (ns, rules) => run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], rules);

// Each side's NAT: what leaves for the public side gets the NAT's address and a random port for every new
// destination (so a mapping learnt through STUN is useless to the peer); nothing comes in unasked.
const NAT_RULES = `
table ip lab {
  chain masq { type nat hook postrouting priority srcnat; oifname "wan" masquerade random,fully-random; }
  chain guard {
    type filter hook forward priority filter; policy drop;
    iifname "lan" oifname "wan" accept
    iifname "wan" oifname "lan" ct state established,related accept
  }
}`;

function buildLab(tag) {
  ip('link', 'add', 'br0', 'type', 'bridge');
  ip('addr', 'add', `${PUB}/24`, 'dev', 'br0');
  ip('link', 'set', 'br0', 'up');
  const ns = {};
  for (const [role, { wan, lan }] of Object.entries(SIDES)) {
    const nat = `sessions-nat-${role}-${tag}`;
    const cli = `sessions-cli-${role}-${tag}`;
    for (const n of [nat, cli]) {
      ip('netns', 'add', n);
      L.onCleanup(() => ip('netns', 'del', n));
      ip('-n', n, 'link', 'set', 'lo', 'up');
    }
    const port = `pub-${role.slice(0, 5)}`;
    ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'wan', 'netns', nat);
    ip('link', 'set', port, 'master', 'br0', 'up');
    ip('-n', nat, 'addr', 'add', `${wan}/24`, 'dev', 'wan');
    ip('-n', nat, 'link', 'set', 'wan', 'up');
    ip('-n', nat, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cli);
    ip('-n', nat, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan');
    ip('-n', nat, 'link', 'set', 'lan', 'up');
    ip('-n', cli, 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0');
    ip('-n', cli, 'link', 'set', 'eth0', 'up');
    ip('-n', cli, 'route', 'add', 'default', 'via', `${lan}.1`);
    run('ip', ['netns', 'exec', nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    nft(nat, NAT_RULES);
    ns[role] = { nat, cli };
  }
  return ns;
}

// coturn from deploy/coturn/turnserver.conf itself, with the lab's secret and address put in; it logs to
// a file instead of syslog and has no certificate here, so no TLS.
async function startCoturn(dir, secret) {
  const recipe = fs.readFileSync(path.join(L.ROOT, 'deploy/coturn/turnserver.conf'), 'utf8');
  const conf = path.join(dir, 'turnserver.conf');
  const lines = recipe.split('\n').filter((l) => l !== 'syslog').map((l) => l
    .replace(/^static-auth-secret=.*/, `static-auth-secret=${secret}`));
  fs.writeFileSync(conf, [...lines, `listening-ip=${PUB}`, `relay-ip=${PUB}`, 'no-tls', 'no-dtls',
    `log-file=${path.join(dir, 'turn.log')}`, `pidfile=${path.join(dir, 'turnserver.pid')}`, ''].join('\n'));
  const child = spawn('turnserver', ['-c', conf], { stdio: 'ignore' });
  L.onCleanup(() => child.kill('SIGKILL'));
  await L.waitFor(() => /127|203/.test(run('ss', ['-Hnul', 'sport = :3478'])), 15000, 'coturn on 3478');
}

const hmac = (secret, user) => crypto.createHmac('sha1', secret).update(user).digest('base64');

// Rewrites the TURN credentials the page gets from validate and ice (mode: drop them, sign them with
// another secret, or with an expiry in the past).
function credentials(mode, secret) {
  return async (route) => {
    const res = await route.fetch();
    const j = await res.json();
    if (Array.isArray(j.iceServers)) {
      j.iceServers = j.iceServers.filter((x) => mode !== 'none' || !x.credential);
      for (const x of j.iceServers.filter((y) => y.credential)) {
        const who = x.username.slice(x.username.indexOf(':') + 1);
        x.username = `${mode === 'expired' ? Math.floor(Date.now() / 1000) - 60 : x.username.split(':')[0]}:${who}`;
        x.credential = hmac(mode === 'wrong' ? `${secret}-not` : secret, x.username);
      }
    }
    await route.fulfill({ response: res, json: j });
  };
}

// Every state the page's peer connections went through, and the one they use now.
function recordStates() {
  window.__states = [];
  const Prev = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Prev {
    constructor(...a) {
      super(...a);
      this.addEventListener('connectionstatechange', () => window.__states.push(this.connectionState));
    }
  };
}

const pairOf = (p) => p.evaluate(async () => {
  const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
  if (!pc) return null;
  const report = await pc.getStats();
  let id = null;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) id = s.selectedCandidatePairId; });
  const pair = id && report.get(id);
  const local = pair && report.get(pair.localCandidateId);
  const remote = pair && report.get(pair.remoteCandidateId);
  if (!local || !remote) return null;
  return { local: local.candidateType, remote: remote.candidateType, protocol: local.protocol, relayProtocol: local.relayProtocol || '' };
});
const pairWords = (x) => (x ? `${x.local}/${x.remote} ${x.protocol}${x.relayProtocol ? ` (to the relay over ${x.relayProtocol})` : ''}` : 'none');

L.main(SUITE, 300000, async (t) => {
  for (const tool of ['nft', 'turnserver']) {
    if (!t.ok(run('sh', ['-c', `command -v ${tool} || true`]).trim() !== '', `${tool} is installed (deploy/deps.sh test)`)) return;
  }
  const tag = String(process.pid);
  const ns = buildLab(tag);
  const secret = crypto.randomBytes(32).toString('hex');
  const s = await L.stack({
    SESSIONS_LISTEN_ADDR: PUB,
    SESSIONS_ICE_SERVERS: JSON.stringify([{ urls: `stun:${PUB}:3478` }]),
    SESSIONS_TURN_URLS: `turn:${PUB}:3478?transport=udp, turn:${PUB}:3478?transport=tcp`,
    SESSIONS_TURN_SECRET: secret,
    SESSIONS_TURN_CREDENTIAL_SECONDS: String(CREDENTIAL_SECONDS),
  });
  await startCoturn(s.dir, secret);

  const browsers = {};
  for (const role of ROLES) {
    // The browser of each side starts inside that side's namespace, behind its NAT.
    const exe = path.join(s.dir, `chromium-${role}`);
    fs.writeFileSync(exe, `#!/bin/sh\nexec ip netns exec ${ns[role].cli} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
    browsers[role] = await L.browser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--unsafely-treat-insecure-origin-as-secure=${s.base}`], exe);
  }

  await t.check('a chat session gets no ICE servers, so no TURN credentials, from validate or ice', async () => {
    const b = L.book(s, 'chat', 10, '5.00');
    for (const name of ['validate', 'ice']) {
      const res = await fetch(`${s.base}/api/sessions/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${b.userToken}` }, body: '{}' });
      const j = await res.json();
      if (!Array.isArray(j.iceServers) || j.iceServers.length) throw new Error(`${name}: ${JSON.stringify(j)}`);
    }
  });

  // One call: both pages open their link (with the credentials rewritten by mode), join together, and
  // either reach each other's media or, for a case that must fail, see their connections fail.
  async function call(kind, mode, waitMs = 0) {
    const b = L.book(s, kind, 20, '20.00');
    const pages = {};
    for (const role of ROLES) {
      const p = await L.page(browsers[role]);
      await p.context().addInitScript(recordStates);
      if (mode) await p.route(/\/api\/sessions\/(validate|ice)$/, credentials(mode, secret));
      p.__ices = 0;
      p.on('request', (r) => { if (r.url().endsWith('/api/sessions/ice')) p.__ices++; });
      await p.goto(role === 'user' ? b.userUrl : b.astrologerUrl);
      await p.waitForFunction(() => document.getElementById('dc-mic').options.length > 0, null, { timeout: 30000 });
      pages[role] = p;
    }
    // Time passing on the pre-join is the point here, so this one wait is a plain one.
    if (waitMs) await new Promise((res) => setTimeout(res, waitMs));
    const t0 = Date.now();
    await Promise.all(ROLES.map((r) => pages[r].click('#pj-join')));
    return { b, pages, t0 };
  }

  async function remoteMedia(kind, p, t0) {
    if (kind === 'video') await p.waitForFunction(() => document.getElementById('vi-remote').videoWidth > 0, null, { timeout: 45000 });
    else await L.waitFor(async () => (await L.rtpTotals(p)).inAudio > 0, 45000, 'audio from the other side');
    return Date.now() - t0;
  }

  // The pre-join's network check, once it has its answer.
  const reachOf = async (p) => {
    await p.waitForFunction(() => ['direct', 'relay', 'none'].includes(document.getElementById('pf-net').dataset.reach), null, { timeout: 20000 });
    return p.$eval('#pf-net', (e) => ({ reach: e.dataset.reach, words: e.textContent.replace(/\s+/g, ' ').trim() }));
  };

  async function connects(name, kind, { tcp = false, refresh = false, waitMs = 0 } = {}) {
    const { b, pages, t0 } = await call(kind, undefined, waitMs);
    const ms = {};
    const pairs = {};
    await t.check(`${name}: the call connects and media arrives on both sides`, async () => {
      await Promise.all(ROLES.map(async (r) => { ms[r] = await remoteMedia(kind, pages[r], t0); }));
      for (const r of ROLES) pairs[r] = await pairOf(pages[r]);
    });
    const states = {};
    for (const r of ROLES) states[r] = await pages[r].evaluate(() => window.__states.join('>'));
    t.ok(ROLES.every((r) => !states[r].includes('failed')), `${name}: neither connection failed on the way (credentials in date)`, JSON.stringify(states));
    const pre = {};
    for (const r of ROLES) pre[r] = await reachOf(pages[r]);
    for (const r of ROLES) console.log(`# ${name}: ${r} pre-flight ${pre[r].reach}, pair ${pairWords(pairs[r])}, Join to remote media ${ms[r] === undefined ? 'never' : `${ms[r]} ms`}`);
    const want = tcp ? 'relay' : 'direct';
    t.ok(ROLES.every((r) => pre[r].reach === want), `${name}: the pre-join told both their network reaches the server ${tcp ? 'only through the relay' : 'directly'}`,
      JSON.stringify(pre));
    await t.check(`${name}: sessionctl show has each side's pre-flight and the pair its call settled on`, () => L.waitFor(async () => {
      const net = s.ctl('show', b.sessionId).network;
      const now = {};
      for (const r of ROLES) now[r] = await pairOf(pages[r]);
      return ROLES.every((r) => now[r] && net.some((x) => x.participant === r && x.phase === 'preflight' && x.reach === want) &&
        net.some((x) => x.participant === r && x.phase === 'call' && x.local === now[r].local && x.remote === now[r].remote &&
          x.protocol === now[r].protocol && (x.relayProtocol || '') === (now[r].local === 'relay' ? now[r].relayProtocol : '')));
    }, 15000, 'the reports'));
    // Through the relay: a relay candidate in the selected pair on both sides. One side's allocation is
    // enough (the other then reaches it straight from its NAT, a peer-reflexive candidate), or both have one.
    const relayed = (x) => x && (x.local === 'relay' || x.remote === 'relay');
    t.ok(ROLES.every((r) => relayed(pairs[r])), `${name}: the selected candidate pair on both sides is through the relay`);
    t.ok(ROLES.every((r) => pairs[r] && (pairs[r].local !== 'relay' ? !tcp && pairs[r].protocol === 'udp' : pairs[r].relayProtocol === (tcp ? 'tcp' : 'udp'))),
      `${name}: ... reached over ${tcp ? 'TCP' : 'UDP'}`);
    await t.check(`${name}: audio${kind === 'video' ? ' and video' : ''} keep flowing both ways`, async () => {
      for (const r of ROLES) {
        await L.waitFor(async () => (await L.rising(pages[r], 'inAudio', 1000)).up, 10000, `${r} audio`);
        if (kind === 'video') await L.waitFor(async () => (await L.rising(pages[r], 'framesDecoded', 1000)).up, 10000, `${r} video`);
      }
    });
    if (refresh) {
      const ufrag = () => pages.astrologer.evaluate(() => {
        const pc = window.__probe.pcs[window.__probe.pcs.length - 1];
        return (/a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp) || [])[1];
      });
      const before = await ufrag();
      await t.check(`${name}: before their ${CREDENTIAL_SECONDS} s credentials expire both pages fetch fresh ones and the relayed path restarts onto them`, async () => {
        await L.waitFor(async () => pages.user.__ices > 0 && pages.astrologer.__ices > 0 && (await ufrag()) !== before,
          CREDENTIAL_SECONDS * 1000, 'a fetch on both sides and an ICE restart');
        await L.pcState(pages.user, 'connected');
        await L.pcState(pages.astrologer, 'connected');
        for (const r of ROLES) await L.waitFor(async () => (await L.rising(pages[r], 'inAudio', 1000)).up, 10000, `${r} audio`);
      });
      const after = {};
      for (const r of ROLES) after[r] = await pairOf(pages[r]);
      console.log(`# ${name}, after the credentials were renewed: user ${pairWords(after.user)}, astrologer ${pairWords(after.astrologer)}`);
    }
    for (const r of ROLES) await pages[r].context().close();
  }

  // A case that must not connect: both sides' connections fail, and none was ever connected.
  async function fails(name, kind, mode) {
    const { pages, t0 } = await call(kind, mode);
    await t.check(name, async () => {
      for (const r of ROLES) await pages[r].waitForFunction(() => window.__states.includes('failed'), null, { timeout: 60000 });
      for (const r of ROLES) {
        const st = await pages[r].evaluate(() => window.__states);
        if (st.includes('connected')) throw new Error(`${r} connected: ${st.join(',')}`);
      }
    });
    const seen = {};
    for (const r of ROLES) seen[r] = await pages[r].evaluate(() => window.__states.join('>'));
    console.log(`# ${name}: user ${seen.user}, astrologer ${seen.astrologer}, pair none; failed ${Date.now() - t0} ms after Join`);
    // A credential fetch may be on its way through the rewrite: it is dropped with the page, not failed.
    for (const r of ROLES) {
      await pages[r].unrouteAll({ behavior: 'ignoreErrors' });
      await pages[r].context().close();
    }
  }

  await fails('without TURN (STUN only) the call does not connect across the two NATs', 'video', 'none');
  await fails('TURN credentials signed with a wrong secret fail', 'voice', 'wrong');
  await fails('expired TURN credentials fail', 'voice', 'expired');
  await connects('video over UDP', 'video', { refresh: true });
  // Joined after the credentials validate gave have expired: the page fetches fresh ones first.
  await connects(`voice over UDP, joined ${CREDENTIAL_SECONDS + 2} s after opening the link`, 'voice', { waitMs: (CREDENTIAL_SECONDS + 2) * 1000 });
  // Last: from here on the NATs drop UDP, so only TURN over TCP gets through.
  for (const r of ROLES) nft(ns[r].nat, 'insert rule ip lab guard meta l4proto udp drop');
  await connects('video over TCP (UDP blocked)', 'video', { tcp: true });

  // With TCP to the TURN port blocked too, nothing reaches the server: the pre-join says so before joining.
  for (const r of ROLES) nft(ns[r].nat, 'insert rule ip lab guard tcp dport 3478 drop');
  await t.check('a network that reaches neither STUN nor TURN is told so on the pre-join, with what to try', async () => {
    const b = L.book(s, 'voice', 20, '20.00');
    const p = await L.page(browsers.user);
    await p.goto(b.userUrl);
    const pre = await reachOf(p);
    console.log(`# nothing reachable: pre-flight ${pre.reach}: ${pre.words}`);
    if (pre.reach !== 'none' || !/another network/.test(pre.words) || !/VPN/.test(pre.words)) throw new Error(JSON.stringify(pre));
    await L.waitFor(() => s.ctl('show', b.sessionId).network.some((x) => x.phase === 'preflight' && x.reach === 'none'), 10000, 'the report');
    await L.shot(p, SUITE, 'prejoin-no-network');
    await p.context().close();
  });
});
