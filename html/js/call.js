// call.js: the one RTCPeerConnection of a voice or video room. The astrologer always offers, so offers
// never cross; every signaling frame runs through one promise chain, in arrival order.

const fingerprint = (sdp) => (/a=fingerprint:(\S+ \S+)/.exec(sdp || '') || [])[1] || '';

// The candidate pair the connection uses: each side's type (host, srflx, prflx, relay) and the transport.
export async function selectedPair(pc) {
  let report;
  try { report = await pc.getStats(); } catch { return { relayed: false }; }
  let pairId = null;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
  const pair = pairId && report.get(pairId);
  const local = pair && report.get(pair.localCandidateId);
  const remote = pair && report.get(pair.remoteCandidateId);
  if (!local || !remote) return { relayed: false };
  return {
    local: local.candidateType, remote: remote.candidateType, protocol: local.protocol,
    relayProtocol: local.relayProtocol || null, relayed: local.candidateType === 'relay' || remote.candidateType === 'relay',
  };
}

export class Call {
  constructor({ offerer, kinds, iceServers, send, onTrack, onState, onQuality }) {
    this.offerer = offerer;
    this.kinds = kinds;          // ['audio'] or ['audio', 'video']
    this.iceServers = Array.isArray(iceServers) ? iceServers : [];
    this.send = send;
    this.onTrack = onTrack;      // (track, fresh) fresh: first track of a new connection
    this.onState = onState;      // connectionState of the peer connection, or 'closed'
    this.onQuality = onQuality;  // ({level, rttMs, lossPct, frozen}) frozen: video frames stopped coming
    this.tracks = {};            // kind -> local MediaStreamTrack or null
    this.pc = null;
    this.chain = Promise.resolve();
    this.statsTimer = 0;
    this.restartTimer = 0;
    this.prev = null;
  }

  setTrack(kind, track) {
    this.tracks[kind] = track || null;
    if (!this.pc) return Promise.resolve();
    const t = this.pc.getTransceivers().find((x) => x.receiver.track.kind === kind);
    return t && t.direction !== 'inactive' && !t.stopped ? t.sender.replaceTrack(track || null) : Promise.resolve();
  }

  // Fresh TURN credentials: every later gathering (an ICE restart, a new connection) uses them. A path
  // through a relay keeps its allocation on the old ones, which coturn refuses to refresh once they expire,
  // so the offerer moves the call onto the fresh ones with an ICE restart while the old ones still work.
  setIceServers(list) {
    this.iceServers = list;
    const pc = this.pc;
    if (!pc) return;
    try { pc.setConfiguration({ ...pc.getConfiguration(), iceServers: list }); } catch (e) { console.warn('ice servers:', e && e.message); return; }
    if (this.offerer) {
      this.enqueue(async () => {
        if (this.pc === pc && pc.signalingState === 'stable' && (await selectedPair(pc)).relayed) pc.restartIce();
      });
    }
  }

  enqueue(job) {
    this.chain = this.chain.then(job).catch((e) => console.warn('signaling:', e && e.message));
    return this.chain;
  }

  // A new connection: on the offerer it negotiates at once; the answerer waits for the offer.
  // inChain: called from a signaling job, whose order the jobs behind it must keep.
  start(inChain = false) {
    this.stop(inChain);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    let fresh = true;
    pc.onicecandidate = (e) => {
      if (e.candidate && this.pc === pc) this.send({ type: 'ice-candidate', candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => { if (this.pc === pc) { this.onTrack(e.track, fresh); fresh = false; } };
    pc.onconnectionstatechange = () => { if (this.pc === pc) this.connectionChanged(pc); };
    if (this.offerer) {
      for (const kind of this.kinds) pc.addTransceiver(this.tracks[kind] || kind, { direction: 'sendrecv' });
      pc.onnegotiationneeded = () => this.enqueue(() => this.offer(pc));
    }
    this.statsTimer = setInterval(() => this.stats(pc), 2000);
    this.onState('new');
    return pc;
  }

  async offer(pc) {
    if (this.pc !== pc || pc.signalingState !== 'stable') return;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // An offer the socket could not take is withdrawn, so a later restart can offer again.
    if (!this.send({ type: 'offer', offer: { type: offer.type, sdp: offer.sdp } })) await pc.setLocalDescription({ type: 'rollback' });
  }

  connectionChanged(pc) {
    const st = pc.connectionState;
    this.onState(st);
    clearTimeout(this.restartTimer);
    if (!this.offerer) return;
    // A failed path gets new candidates; a disconnected one a few seconds to heal first.
    if (st === 'failed') pc.restartIce();
    else if (st === 'disconnected') this.restartTimer = setTimeout(() => { if (this.pc === pc && pc.connectionState !== 'connected') pc.restartIce(); }, 3000);
  }

  handle(f) {
    return this.enqueue(async () => {
      if (f.type === 'offer' && !this.offerer && f.offer) await this.answer(f.offer);
      else if (f.type === 'answer' && this.offerer && f.answer && this.pc && this.pc.signalingState === 'have-local-offer') await this.accept(f.answer);
      else if (f.type === 'ice-candidate' && f.candidate && this.pc && this.pc.remoteDescription) await this.pc.addIceCandidate(f.candidate);
    });
  }

  // An answer from a new page of the other side (it reloaded while this side was away) cannot go on the
  // old connection: a new one offers afresh.
  async accept(answer) {
    const pc = this.pc;
    if (pc.remoteDescription && fingerprint(pc.remoteDescription.sdp) !== fingerprint(answer.sdp)) this.start(true);
    else await pc.setRemoteDescription(answer);
  }

  // The two meet again in the room: after a relay connection dropped the call may have run on, or be
  // healing, without signaling. The offerer restarts ICE on the connection it has, withdrawing an offer
  // lost on the way first; a new page on the other side answers with a new fingerprint (see accept).
  renew() {
    const pc = this.pc;
    if (!pc) { this.start(); return; }
    this.enqueue(async () => {
      if (this.pc !== pc) return;
      if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
      pc.restartIce();
    });
  }

  async answer(offer) {
    // An offer from a new connection of the other side (it reloaded) needs a new connection here too.
    let pc = this.pc;
    if (!pc || (pc.remoteDescription && fingerprint(pc.remoteDescription.sdp) !== fingerprint(offer.sdp))) pc = this.start(true);
    await pc.setRemoteDescription(offer);
    for (const t of pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      if (!this.kinds.includes(kind)) { t.direction = 'inactive'; continue; }
      t.direction = 'sendrecv';
      if (t.sender.track !== (this.tracks[kind] || null)) await t.sender.replaceTrack(this.tracks[kind] || null);
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: 'answer', answer: { type: answer.type, sdp: answer.sdp } });
  }

  async stats(pc) {
    if (this.pc !== pc) return;
    let report;
    try { report = await pc.getStats(); } catch { return; }
    let rtt = null, lost = 0, recv = 0, frames = 0, pairId = null;
    report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    report.forEach((s) => {
      if (s.type === 'candidate-pair' && (s.id === pairId || (!pairId && s.nominated && s.state === 'succeeded')) && s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime;
      if (s.type === 'inbound-rtp') {
        lost += s.packetsLost || 0;
        recv += s.packetsReceived || 0;
        frames += s.framesDecoded || 0;
      }
    });
    const p = this.prev;
    this.prev = { lost, recv, frames };
    // Counts that stood still since the last look, after they had moved: the last round trip measured is
    // no longer true, and the picture on screen is an old one.
    const frozen = !!p && p.frames > 0 && frames <= p.frames;
    if (p && p.recv > 0 && recv <= p.recv) { this.onQuality({ level: 'lost', rttMs: null, lossPct: null, frozen }); return; }
    if (rtt === null) { this.onQuality({ level: 'none', rttMs: null, lossPct: null, frozen }); return; }
    const dl = p ? Math.max(0, lost - p.lost) : 0, dr = p ? Math.max(0, recv - p.recv) : 0;
    const loss = dl + dr > 0 ? (100 * dl) / (dl + dr) : 0;
    const ms = Math.round(rtt * 1000);
    const level = ms < 200 && loss < 2 ? 'good' : ms < 500 && loss < 8 ? 'fair' : 'poor';
    this.onQuality({ level, rttMs: ms, lossPct: Math.round(loss * 10) / 10, frozen });
  }

  stop(inChain = false) {
    clearInterval(this.statsTimer);
    clearTimeout(this.restartTimer);
    this.prev = null;
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
      this.onState('closed');
    }
    // An operation on a connection closed under it never settles, and the jobs queued behind it would wait
    // forever (the new connection's offer among them): a connection closed from outside starts a new chain.
    if (!inChain) this.chain = Promise.resolve();
  }
}
