// media.js: a voice or video room's media: the call, local and remote streams, mute and camera, meters, quality.
import { $, show, text, initials, warn, announce } from './ui.js';
import { Call } from './call.js';
import { openCamera, helpFor, watchLevel, stopStream } from './devices.js';

export class Media {
  // devices: the device check's stream (null when it failed: the room then only listens) and camera.
  // onPath(state): the media path's connectionState, for the room's presence line.
  constructor(ctx, { stream, camId }, { send, onPath }) {
    const video = ctx.kind === 'video';
    this.video = video;
    this.send = send;
    this.onPath = onPath;
    this.stream = stream || new MediaStream();
    this.camId = camId;
    this.remote = null;
    this.muted = false;
    this.camOff = false;
    this.remoteCamOff = false;
    this.stopRemoteMeter = () => {};
    show($(video ? 'v-video' : 'v-voice'));
    show($('controls'));
    show($('ct-cam'), video);
    show($('ac-net'));
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
    this.call.tracks.audio = this.stream.getAudioTracks()[0] || null;
    if (video) {
      this.call.tracks.video = this.stream.getVideoTracks()[0] || null;
      $('vi-local').srcObject = this.stream;
      show($('vi-local-off'), !this.call.tracks.video);
      this.camOff = !this.call.tracks.video;
      this.camButton();
    }
    if (!this.call.tracks.audio) this.muted = true;
    this.muteButton();
    this.stopMeter = watchLevel(this.stream, (l) => $('vo-me').classList.toggle('speaking', !this.muted && l > 0.04));
    $('ct-mute').addEventListener('click', () => this.toggleMute());
    $('ct-cam').addEventListener('click', () => this.toggleCamera());
    $('vi-tap').addEventListener('click', () => { show($('vi-tap'), false); this.playRemote(); });
  }

  // The other side is (again) in the room: it hears our state, and the offerer starts a connection.
  peerHere() {
    this.sendState();
    if (this.call.offerer) this.call.start();
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
    if (st === 'failed' || st === 'disconnected') this.quality({ level: 'lost', rttMs: null, frozen: false });
    this.onPath(st);
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
    show($('vi-remote-muted'), f.audio === false);
    show($('vo-other-muted'), f.audio === false);
    show($('vi-remote-off'), this.remoteCamOff);
    if (this.remoteCamOff) show($('vi-remote-frozen'), false);
  }

  sendState() {
    this.send({ type: 'media-state', audio: !this.muted, video: this.video ? !this.camOff : false });
  }

  muteButton() {
    const b = $('ct-mute');
    b.textContent = !this.call.tracks.audio ? 'No microphone' : this.muted ? 'Unmute' : 'Mute';
    b.setAttribute('aria-pressed', String(this.muted));
    b.disabled = !this.call.tracks.audio;
    show($('vo-me-muted'), this.muted);
  }

  camButton() {
    const b = $('ct-cam');
    b.textContent = this.camOff ? 'Camera on' : 'Camera off';
    b.setAttribute('aria-pressed', String(this.camOff));
  }

  toggleMute() {
    const t = this.call.tracks.audio;
    if (!t) return;
    this.muted = !this.muted;
    t.enabled = !this.muted;
    this.muteButton();
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
        const cam = await openCamera(this.camId);
        const t = cam.getVideoTracks()[0];
        this.stream.addTrack(t);
        $('vi-local').srcObject = this.stream;
        await this.call.setTrack('video', t);
        this.camOff = false;
      }
    } catch (e) {
      const h = helpFor(e, 'video');
      warn(`${h.title}. ${h.text}`);
    }
    b.disabled = false;
    show($('vi-local-off'), this.camOff);
    this.camButton();
    this.sendState();
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
    this.call.stop();
    this.stopMeter();
    this.stopRemoteMeter();
    stopStream(this.stream);
    stopStream(this.remote);
  }
}
