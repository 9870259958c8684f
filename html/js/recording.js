// recording.js: recording a call with both sides' consent: the ask and its answer, the red mark, the astrologer's recorder and its uploads, and playing recordings afterwards.
import { $, show, text, announce, warn } from './ui.js';
import { line } from './codes.js';

// Each chunk goes up as it comes: a closed tab loses at most this much.
const SLICE_MS = 3000;
const TRIES = 4;
const FRAME_MS = 66; // the side-by-side picture's frame rate: about 15 a second
// The server refuses these for good: the recorder stops and the other side hears it stopped.
const FINAL = new Set(['recording_limit', 'recording_storage_full', 'recording_not_running', 'forbidden']);

export class Recording {
  // media: the room's Media (its local stream and the remote one); send: a frame to the relay.
  constructor(ctx, send, media) {
    this.ctx = ctx;
    this.send = send;
    this.media = media;
    this.state = 'idle';
    this.by = null;
    this.rec = null;       // the astrologer's MediaRecorder while it runs
    text('ra-what', ctx.kind === 'video' ? 'both voices and both pictures' : 'both voices');
    show($('ct-rec'));
    $('ct-rec').addEventListener('click', () => this.click());
    $('rec-ask').addEventListener('close', () => {
      if ($('rec-ask').returnValue === 'ask' && this.state === 'idle') this.send({ type: 'recording', action: 'ask' });
    });
    $('rec-accept').addEventListener('click', () => this.send({ type: 'recording', action: 'accept' }));
    $('rec-decline').addEventListener('click', () => this.send({ type: 'recording', action: 'decline' }));
  }

  click() {
    if (this.state === 'idle') {
      $('rec-ask').returnValue = '';
      $('rec-ask').showModal();
    } else {
      this.send({ type: 'recording', action: 'stop' });
    }
  }

  // The relay's recording frame: {state: asked|recording|stopped|declined, by, recordingId, media}.
  frame(f) {
    const mine = f.by === this.ctx.me;
    const other = this.ctx.otherName;
    show($('rec-prompt'), false);
    if (f.state === 'asked') {
      this.state = 'asked';
      if (mine) this.status(`Waiting for ${other} to agree to recording…`, 'Cancel request');
      else {
        text('rp-title', `${other} asks to record this call`);
        show($('rec-prompt'));
        this.status('', 'Record');
        $('rec-accept').focus();
        announce(`${other} asks to record this call. Agree or decline.`);
      }
    } else if (f.state === 'recording') {
      this.state = 'recording';
      show($('rec-mark'));
      this.status('', 'Stop recording');
      announce('Recording has started.');
      if (this.ctx.me === 'astrologer') this.start(f.recordingId, f.media);
    } else {
      this.state = 'idle';
      show($('rec-mark'), false);
      const declined = f.state === 'declined';
      this.status(declined ? (mine ? 'You declined recording.' : `${other} declined recording.`)
        : 'Recording stopped.', 'Record');
      announce(declined ? 'Recording was declined.' : 'Recording has stopped.');
      this.stop();
    }
  }

  // This page joined again: whatever was asked for or running stopped when its earlier connection went.
  reset() {
    if (this.state !== 'idle') this.frame({ type: 'recording', state: 'stopped', by: this.ctx.me });
  }

  status(words, button) {
    text('rec-status', words);
    show($('rec-status'), !!words);
    text('ct-rec-label', ` ${button}`);
    $('ct-rec').setAttribute('aria-pressed', String(this.state === 'recording'));
  }

  // Both sides into one stream: the two voices mixed, and for video the two pictures side by side.
  start(id, media) {
    if (this.rec || typeof MediaRecorder === 'undefined') return;
    const ac = new AudioContext();
    const mix = ac.createMediaStreamDestination();
    for (const s of [this.media.stream, this.media.remote]) {
      const audio = s ? s.getAudioTracks() : [];
      if (audio.length) ac.createMediaStreamSource(new MediaStream(audio)).connect(mix);
    }
    const tracks = [...mix.stream.getAudioTracks()];
    let timer = 0;
    if (media === 'video') {
      const canvas = document.createElement('canvas');
      canvas.width = 1280;
      canvas.height = 480;
      const g = canvas.getContext('2d');
      const draw = () => {
        g.fillStyle = '#000000';
        g.fillRect(0, 0, 1280, 480);
        [['vi-remote', 0], ['vi-local', 640]].forEach(([el, x]) => {
          const v = $(el);
          if (!v.videoWidth) return;
          const k = Math.min(640 / v.videoWidth, 480 / v.videoHeight);
          const w = v.videoWidth * k, h = v.videoHeight * k;
          g.drawImage(v, x + (640 - w) / 2, (480 - h) / 2, w, h);
        });
      };
      // A timer, not animation frames: those stop in a tab in the background, and the recording would freeze.
      timer = setInterval(draw, FRAME_MS);
      draw();
      tracks.unshift(...canvas.captureStream(15).getVideoTracks());
    }
    const type = media === 'video' ? 'video/webm' : 'audio/webm';
    const rec = new MediaRecorder(new MediaStream(tracks), { mimeType: type, audioBitsPerSecond: 64000, videoBitsPerSecond: 1000000 });
    let seq = 0;
    let queue = Promise.resolve();
    rec.ondataavailable = (e) => {
      if (!e.data.size) return;
      const n = seq++;
      queue = queue.then(() => this.upload(id, n, e.data, type));
    };
    rec.onstop = () => { clearInterval(timer); ac.close().catch(() => {}); };
    rec.start(SLICE_MS);
    this.rec = rec;
  }

  // Stops the recorder; its last piece still goes up (the server takes it for a few seconds after the stop).
  stop() {
    if (this.rec && this.rec.state !== 'inactive') this.rec.stop();
    this.rec = null;
  }

  // One chunk, in order, again on a network failure or a busy server; a refusal for good stops recording.
  async upload(id, seq, blob, type) {
    for (let i = 0; i < TRIES; i++) {
      let res = null;
      try {
        res = await fetch('/api/sessions/recording', {
          method: 'POST',
          headers: { 'Content-Type': type, Authorization: `Bearer ${this.ctx.token}`, 'X-Recording-Id': String(id), 'X-Recording-Seq': String(seq) },
          body: blob,
          cache: 'no-store',
          credentials: 'omit',
          keepalive: blob.size < 60000,
        });
      } catch { /* the network: try again */ }
      if (res && res.ok) return;
      const e = res ? ((await res.json().catch(() => null)) || {}).error || {} : {};
      if (FINAL.has(e.code)) {
        warn(line(e.code, null));
        if (this.state === 'recording') this.send({ type: 'recording', action: 'stop' });
        this.stop();
        return;
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** i));
    }
    warn('Part of the recording could not be saved.');
  }
}

function size(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

// The session's kept recordings, on the ended page and on a link opened later: play or download each.
export async function showRecordings(token, host) {
  let list = [];
  try {
    const res = await fetch('/api/sessions/recording', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) return;
    list = (await res.json()).recordings || [];
  } catch { return; }
  if (!list.length) return;
  const items = list.map((r) => {
    const li = document.createElement('li');
    const label = document.createElement('span');
    const kept = new Date(r.keptUntil).toLocaleDateString();
    label.textContent = `${r.type.startsWith('video') ? 'Video' : 'Audio'} recording, ${new Date(r.startedAt).toLocaleString()} (${size(r.bytes)}), kept until ${kept}`;
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.textContent = 'Play or download';
    btn.addEventListener('click', () => load(token, r, li, btn));
    li.append(label, btn);
    return li;
  });
  $('recs-list').replaceChildren(...items);
  host.insertBefore($('recs'), host.querySelector(':scope > #en-return, :scope > #err-retry'));
  show($('recs'));
}

// The bytes come with the link's token, so the player plays them from memory, not from a URL that needs one.
async function load(token, r, li, btn) {
  btn.disabled = true;
  try {
    const res = await fetch(`/api/sessions/recording/${r.id}`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) throw new Error(String(res.status));
    const url = URL.createObjectURL(await res.blob());
    const player = document.createElement(r.type.startsWith('video') ? 'video' : 'audio');
    player.controls = true;
    player.src = url;
    player.className = 'rec-player';
    const a = document.createElement('a');
    a.href = url;
    a.download = `recording-${r.id}.webm`;
    a.className = 'button';
    a.textContent = 'Download';
    btn.replaceWith(player, a);
  } catch {
    btn.disabled = false;
    warn('The recording could not be loaded. Try again.');
  }
}
