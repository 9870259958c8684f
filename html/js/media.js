// media.js: a voice or video room's media: the call, local and remote streams, mute, camera and screen, meters, quality.
import { $, show, text, initials, warn, announce } from './ui.js';
import { Call, selectedPair } from './call.js';
import { openTrack, helpFor, watchLevel, stopStream } from './devices.js';
import { call } from './api.js';
import { FATAL } from './codes.js';

// How long until fresh TURN credentials are due: half their life after they were handed out (issuedAt), by
// the server's clock (serverNow), and no sooner than floor; null when the servers carry none, as without TURN.
// A page that sat on the pre-join longer than that fetches them at once.
function refreshIn(servers, expiresAt, issuedAt, serverNow, floor) {
  if (!Array.isArray(servers) || !servers.some((x) => x && x.credential)) return null;
  const issued = Date.parse(issuedAt);
  const life = Date.parse(expiresAt) - issued;
  return Number.isFinite(life) ? Math.max(floor, issued + life / 2 - serverNow) : null;
}

export class Media {
  // devices: what the device check opened and chose: the stream (without a device that failed: the room
  // then offers to retry it), the device ids, the speaker, whether the microphone starts on, what failed.
  // onPath(state): the media path's connectionState, for the room's presence line.
  constructor(ctx, { stream, micId, camId, spkId, micOn, failed }, { send, onPath }) {
    const video = ctx.kind === 'video';
    this.video = video;
    this.send = send;
    this.onPath = onPath;
    this.stream = stream || new MediaStream();
    this.micId = micId;
    this.camId = camId;
    this.remote = null;
    this.muted = micOn === false;
    this.camOff = false;
    this.camFailed = video && !!(failed && failed.video);
    this.remoteCamOff = false;
    this.screen = null;          // the shared screen's track while it replaces the camera's on the call
    // Phones and tablets cannot share their screen from a page (a coarse pointer says which those are).
    this.canShare = video && !!(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) && !matchMedia('(pointer: coarse)').matches;
    this.stopMeter = () => {};
    this.stopRemoteMeter = () => {};
    show($(video ? 'v-video' : 'v-voice'));
    show($('controls'));
    show($('ac-net'));
    if (spkId) $(video ? 'vi-remote' : 'vo-remote').setSinkId(spkId).catch(() => {});
    text('vo-other-av', initials(ctx.otherName));
    text('vo-other-name', ctx.otherName);
    text('vo-me-av', initials(ctx.v.participantName));
    text('vi-remote-av', initials(ctx.otherName));
    this.call = new Call({
      offerer: ctx.me === 'astrologer',
      kinds: video ? ['audio', 'video'] : ['audio'],
      iceServers: ctx.v.iceServers,
      send,
      onTrack: (track, fresh) => this.remoteTrack(track, fresh),
      onState: (st) => this.pathState(st),
      onQuality: (q) => this.quality(q),
    });
    this.token = ctx.token;
    this.iceTimer = 0;
    this.reported = null;        // the peer connection whose path was reported
    this.pathTimer = 0;
    this.keepIceFresh(refreshIn(ctx.v.iceServers, ctx.v.iceExpiresAt, ctx.v.serverTime, ctx.now(), 0));
    this.call.tracks.audio = this.stream.getAudioTracks()[0] || null;
    if (this.call.tracks.audio) this.call.tracks.audio.enabled = !this.muted;
    else this.muted = true;
    if (video) {
      this.call.tracks.video = this.stream.getVideoTracks()[0] || null;
      $('vi-local').srcObject = this.stream;
      this.camOff = !this.call.tracks.video;
    }
    this.buttons();
    this.meter();
    $('ct-mute').addEventListener('click', () => this.toggleMute());
    $('ct-cam').addEventListener('click', () => this.toggleCamera());
    $('ct-retry-mic').addEventListener('click', () => this.retry('audio'));
    $('ct-retry-cam').addEventListener('click', () => this.retry('video'));
    $('ct-screen').addEventListener('click', () => (this.screen ? this.stopSharing() : this.share()));
    $('vi-tap').addEventListener('click', () => { show($('vi-tap'), false); this.playRemote(); });
  }

  // coturn cannot revoke a credential, so the API hands out short-lived ones: a long call keeps fetching
  // fresh ones. Once the session is over none come; a failure of the network or server is tried again.
  keepIceFresh(delay) {
    clearTimeout(this.iceTimer);
    if (delay === null) return;
    this.iceTimer = setTimeout(async () => {
      let a;
      try {
        a = await call('ice', this.token);
      } catch (e) {
        if (!FATAL.has(e.code)) this.keepIceFresh(10000);
        return;
      }
      this.call.setIceServers(a.iceServers);
      // Near the end of a session its credentials end with it: the floor keeps the fetches apart.
      this.keepIceFresh(refreshIn(a.iceServers, a.expiresAt, a.serverTime, Date.parse(a.serverTime), 5000));
    }, delay);
  }

  // The other side is (again) in the room: it hears our state, and the offerer negotiates, on the
  // connection it has when there is one (see Call.renew).
  peerHere() {
    this.sendState();
    if (this.call.offerer) this.call.renew();
  }

  peerGone() {
    this.call.stop();
    if (this.video) show($('vi-remote-frozen'), false);
    this.remoteState({ audio: true, video: true });
  }

  signal(f) {
    if (f.type === 'offer' && !this.call.pc) this.call.start();
    this.call.handle(f);
  }

  // The media path itself: while it heals (ICE restart) the other side shows as reconnecting.
  pathState(st) {
    $('app').dataset.pc = st;
    // The pair may still change in the first moments after connecting: the one in use a little later is reported.
    clearTimeout(this.pathTimer);
    if (st === 'connected') this.pathTimer = setTimeout(() => this.reportPath(), 3000);
    if (st === 'failed' || st === 'disconnected') this.quality({ level: 'lost', rttMs: null, frozen: false });
    this.onPath(st);
  }

  // The path a connection settled on, once per connection, for the shop's "why did my call fail".
  async reportPath() {
    const pc = this.call.pc;
    if (!pc || this.reported === pc || pc.connectionState !== 'connected') return;
    this.reported = pc;
    const p = await selectedPair(pc);
    if (!p.local) return;
    const body = { phase: 'call', local: p.local, remote: p.remote, protocol: p.protocol };
    if (p.local === 'relay' && p.relayProtocol) body.relayProtocol = p.relayProtocol;
    call('network', this.token, body).catch(() => { /* a report lost is no reason to bother anyone */ });
  }

  // The element gets the stream once, when every kind has its track: assigning it again (or playing a
  // video that has no sound yet) would abort or slip past the autoplay rules.
  remoteTrack(track, fresh) {
    if (fresh || !this.remote) this.remote = new MediaStream();
    this.remote.addTrack(track);
    if (this.remote.getTracks().length !== this.call.kinds.length) return;
    $(this.video ? 'vi-remote' : 'vo-remote').srcObject = this.remote;
    this.playRemote();
    // One meter for the other side at a time: a new connection's stream replaces the old one's.
    this.stopRemoteMeter();
    this.stopRemoteMeter = watchLevel(this.remote, (l) => $('vo-other').classList.toggle('speaking', l > 0.04));
  }

  playRemote() {
    const p = $(this.video ? 'vi-remote' : 'vo-remote').play();
    if (!p) return;
    p.catch((e) => {
      if (e.name !== 'NotAllowedError') return;
      if (this.video) { show($('vi-tap')); return; }
      warn('Tap anywhere to hear the other side.');
      addEventListener('pointerdown', () => $('vo-remote').play().catch(() => {}), { once: true });
    });
  }

  remoteState(f) {
    this.remoteCamOff = f.video === false;
    $('v-video').classList.toggle('shared', f.screen === true);
    show($('vi-remote-screen'), f.screen === true);
    show($('vi-remote-muted'), f.audio === false);
    show($('vo-other-muted'), f.audio === false);
    show($('vi-remote-off'), this.remoteCamOff);
    if (this.remoteCamOff) show($('vi-remote-frozen'), false);
  }

  sendState() {
    const screen = !!this.screen;
    this.send({ type: 'media-state', audio: !this.muted, video: this.video ? screen || !this.camOff : false, ...(screen ? { screen } : {}) });
  }

  // A device that did not open has a retry in place of its toggle.
  buttons() {
    const mic = !!this.call.tracks.audio;
    show($('ct-mute'), mic);
    show($('ct-retry-mic'), !mic);
    text('ct-mute', this.muted ? 'Unmute' : 'Mute');
    $('ct-mute').setAttribute('aria-pressed', String(this.muted));
    show($('vo-me-muted'), this.muted);
    if (!this.video) return;
    show($('ct-cam'), !this.camFailed);
    show($('ct-retry-cam'), this.camFailed);
    text('ct-cam', this.camOff ? 'Camera on' : 'Camera off');
    $('ct-cam').setAttribute('aria-pressed', String(this.camOff));
    // While the screen is on the call the camera waits: it comes back as it was when sharing stops.
    $('ct-cam').disabled = $('ct-retry-cam').disabled = !!this.screen;
    show($('vi-local-off'), this.camOff && !this.screen);
    show($('ct-screen'), this.canShare);
    text('ct-screen', this.screen ? 'Stop sharing' : 'Share screen');
    $('ct-screen').setAttribute('aria-pressed', String(!!this.screen));
    $('vi-local').parentElement.classList.toggle('shared', !!this.screen);
  }

  // The control a joined participant most likely wants first; focus starts there, not on End session.
  focus() {
    $(this.call.tracks.audio ? 'ct-mute' : 'ct-retry-mic').focus();
  }

  meter() {
    this.stopMeter();
    this.stopMeter = watchLevel(this.stream, (l) => $('vo-me').classList.toggle('speaking', !this.muted && l > 0.04));
  }

  // Opens a device and puts its track on the call in place of none; no renegotiation is needed.
  async open(kind) {
    const t = await openTrack(kind, kind === 'audio' ? this.micId : this.camId);
    this.stream.addTrack(t);
    if (kind === 'video') $('vi-local').srcObject = this.stream;
    await this.call.setTrack(kind, t);
  }

  // A device that failed before or during the call, asked for again: the other side gets its track at once.
  async retry(kind) {
    const b = $(kind === 'audio' ? 'ct-retry-mic' : 'ct-retry-cam');
    b.disabled = true;
    try {
      await this.open(kind);
      if (kind === 'audio') {
        this.muted = false;
        this.meter();
      } else {
        this.camFailed = false;
        this.camOff = false;
      }
      announce(kind === 'audio' ? 'Microphone on' : 'Camera on');
    } catch (e) {
      const h = helpFor(e, kind === 'audio' ? 'microphone' : 'camera', b.textContent);
      warn(`${h.title}. ${h.text}`);
    }
    b.disabled = false;
    this.buttons();
    // The pressed button lost focus while disabled; once it is gone, its device's toggle takes over.
    $(b.hidden ? { audio: 'ct-mute', video: 'ct-cam' }[kind] : b.id).focus();
    this.sendState();
  }

  toggleMute() {
    const t = this.call.tracks.audio;
    if (!t) return;
    this.muted = !this.muted;
    t.enabled = !this.muted;
    this.buttons();
    this.sendState();
    announce(this.muted ? 'Microphone muted' : 'Microphone on');
  }

  async toggleCamera() {
    const b = $('ct-cam');
    b.disabled = true;
    try {
      if (!this.camOff) {
        // Off means off: the camera is released (its light goes out) and no frames are sent.
        const t = this.call.tracks.video;
        await this.call.setTrack('video', null);
        if (t) { t.stop(); this.stream.removeTrack(t); }
        this.camOff = true;
      } else {
        await this.open('video');
        this.camOff = false;
      }
    } catch (e) {
      const h = helpFor(e, 'camera', 'Camera on');
      warn(`${h.title}. ${h.text}`);
    }
    b.disabled = false;
    this.buttons();
    this.sendState();
  }

  // The screen (or window) replaces the camera on the call, so the other side needs no renegotiation;
  // the browser's own "Stop sharing" ends it as the button does.
  async share() {
    const b = $('ct-screen');
    b.disabled = true;
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const t = s.getVideoTracks()[0];
      t.addEventListener('ended', () => { if (this.screen === t) this.stopSharing(); });
      await this.call.setTrack('video', t);
      this.screen = t;
      $('vi-local').srcObject = s;
      announce('You are sharing your screen');
    } catch (e) {
      // Closing the browser's picker is a choice, not a fault.
      if (e.name !== 'NotAllowedError' && e.name !== 'AbortError') warn(`The screen could not be shared: ${e.message || e.name}.`);
    }
    b.disabled = false;
    this.buttons();
    this.sendState();
  }

  async stopSharing() {
    const t = this.screen;
    this.screen = null;
    if (t) t.stop();
    await this.call.setTrack('video', this.camOff ? null : this.stream.getVideoTracks()[0] || null);
    $('vi-local').srcObject = this.stream;
    this.buttons();
    this.sendState();
    announce('Screen sharing stopped');
  }

  // Without packets arriving there is no connection to measure: the words say so instead of the last round trip.
  quality(q) {
    const el = $('ac-net');
    el.dataset.q = q.level;
    const words = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection', none: 'Connecting', lost: 'No connection' }[q.level];
    el.title = q.rttMs === null ? words : `${words}: ${q.rttMs} ms round trip, ${q.lossPct}% loss`;
    el.setAttribute('aria-label', el.title);
    text('ac-net-text', q.level === 'lost' ? words : q.rttMs === null ? '' : `${q.rttMs} ms`);
    if (this.video) show($('vi-remote-frozen'), q.frozen && !this.remoteCamOff);
  }

  // Everything released: the connection, the camera and microphone, the meters.
  stop() {
    clearTimeout(this.iceTimer);
    clearTimeout(this.pathTimer);
    if (this.screen) this.screen.stop();
    this.call.stop();
    this.stopMeter();
    this.stopRemoteMeter();
    stopStream(this.stream);
    stopStream(this.remote);
  }
}
