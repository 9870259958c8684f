// preflight.js: before a call, whether this network reaches the server's STUN/TURN directly, only through
// the relay, or not at all, in plain words with what to try; the page records the answer for the shop.
import { $, show, text } from './ui.js';
import { call } from './api.js';

const GATHER_MS = 5000;

const WORDS = {
  direct: ['Your network is ready for the call.', 'It reaches our server directly.'],
  relay: ['Your network reaches our server only through the relay.',
    'The call should still connect, with a little more delay. If it breaks up, try another network or switch off the VPN.'],
  none: ['Your network cannot reach our server for calls.',
    'Try another network (for example your phone\'s mobile data instead of this Wi-Fi), or switch off the VPN, then reload this page.'],
};

// Gathers candidates from the given servers for a few seconds: a server-reflexive one means the network
// reaches the server directly, a relay one only that the relay gets through.
function gather(iceServers) {
  return new Promise((resolve) => {
    const types = new Set();
    let pc;
    const done = () => {
      clearTimeout(timer);
      if (pc) pc.close();
      resolve(types.has('srflx') ? 'direct' : types.has('relay') ? 'relay' : 'none');
    };
    const timer = setTimeout(done, GATHER_MS);
    try {
      pc = new RTCPeerConnection({ iceServers });
      pc.onicecandidate = (e) => { if (e.candidate) types.add(e.candidate.type); else done(); };
      pc.createDataChannel('preflight');
      pc.createOffer().then((o) => pc.setLocalDescription(o)).catch(done);
    } catch { done(); }
  });
}

// Runs once per page; without configured servers (a loopback demo) there is nothing to check.
export async function preflight(ctx) {
  const servers = ctx.v.iceServers;
  if (!Array.isArray(servers) || !servers.length || !window.RTCPeerConnection) return;
  const box = $('pf-net');
  box.dataset.reach = 'checking';
  text('pf-net-title', 'Checking your network…');
  text('pf-net-text', '');
  show(box);
  const reach = await gather(servers);
  box.dataset.reach = reach;
  text('pf-net-title', WORDS[reach][0]);
  text('pf-net-text', WORDS[reach][1]);
  call('network', ctx.token, { phase: 'preflight', reach }).catch(() => { /* a report lost is no reason to bother anyone */ });
}
