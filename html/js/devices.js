// devices.js: camera, microphone and speaker: opening them (each on its own), listing them, level metering, and help when they fail.

const AUDIO = { echoCancellation: true, noiseSuppression: true };
const VIDEO = { width: { ideal: 640 }, height: { ideal: 480 } };
const exact = (base, id) => (id ? { ...base, deviceId: { exact: id } } : base);

function gum(c) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const e = new Error('This browser cannot use a camera or microphone here.');
    e.name = 'NotSupportedError';
    return Promise.reject(e);
  }
  return navigator.mediaDevices.getUserMedia(c);
}

// One device's track: 'audio' (a microphone) or 'video' (a camera), the chosen one or the default.
export async function openTrack(kind, id) {
  const st = await gum(kind === 'audio' ? { audio: exact(AUDIO, id) } : { video: exact(VIDEO, id) });
  return st.getTracks()[0];
}

// The microphone and, when video is true, the camera. One request first, so the browser asks once; when
// it fails, each device is asked for alone, so a busy camera does not cost a working microphone.
// Returns the stream of whatever opened and, per kind, the error of the one that did not.
export async function openDevices(micId, camId, video) {
  const failed = { audio: null, video: null };
  try {
    return { stream: await gum({ audio: exact(AUDIO, micId), video: video && exact(VIDEO, camId) }), failed };
  } catch (e) {
    if (!video) return { stream: new MediaStream(), failed: { ...failed, audio: e } };
  }
  const stream = new MediaStream();
  for (const [kind, id] of [['audio', micId], ['video', camId]]) {
    try { stream.addTrack(await openTrack(kind, id)); } catch (e) { failed[kind] = e; }
  }
  return { stream, failed };
}

export async function listDevices() {
  const all = await navigator.mediaDevices.enumerateDevices();
  const of = (kind) => all.filter((d) => d.kind === kind);
  return { mics: of('audioinput'), cams: of('videoinput'), speakers: of('audiooutput') };
}

// Only some browsers let a page choose where sound plays.
export const canChooseSpeaker = () => typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

// Plain-words help for each way getUserMedia fails. what: 'microphone', 'camera' or 'camera and microphone';
// again: the button that asks once more.
export function helpFor(err, what, again = 'Try again') {
  const are = what.includes(' and ') ? 'are' : 'is';
  const connect = { microphone: 'a microphone or a headset', camera: 'a camera' }[what] || 'a camera and a microphone (or a headset)';
  switch (err && err.name) {
  case 'NotAllowedError':
  case 'SecurityError':
    return { title: `Your ${what} ${are} blocked`,
      text: `The browser was told not to share your ${what} with this page. Click the camera or lock icon next to the address bar, choose Allow, then press ${again}. On a phone, allow it in the browser's site settings.` };
  case 'NotFoundError':
  case 'OverconstrainedError':
    return { title: `No ${what} found`,
      text: `Connect ${connect}, check that it is switched on, then press ${again}.` };
  case 'NotReadableError':
  case 'AbortError':
    return { title: `Your ${what} ${are} busy`,
      text: `Another app or browser tab is using it. Close other video-call apps and tabs, then press ${again}. Restarting the browser also helps.` };
  default:
    return { title: `Your ${what} could not be started`,
      text: `${(err && err.message) || 'The browser refused.'} Try another browser, or press ${again}.` };
  }
}

// The help for whatever failed: one message when both failed the same way, one per device otherwise.
export function helpForFailed(failed) {
  const { audio, video } = failed;
  if (audio && video && audio.name === video.name) return [helpFor(audio, 'camera and microphone')];
  return [audio && helpFor(audio, 'microphone'), video && helpFor(video, 'camera')].filter(Boolean);
}

let ctx = null;
// One AudioContext for the page; browsers start it suspended until the user interacts.
export function audioContext() {
  if (!ctx) {
    ctx = new AudioContext();
    const wake = () => { if (ctx.state === 'suspended') ctx.resume().catch(() => {}); };
    addEventListener('pointerdown', wake, { capture: true });
    addEventListener('keydown', wake, { capture: true });
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

// Calls onLevel(0..1) about 12 times a second with the stream's loudness; returns a stop function.
export function watchLevel(stream, onLevel) {
  if (!stream || !stream.getAudioTracks().length) return () => {};
  const ac = audioContext();
  const src = ac.createMediaStreamSource(stream);
  const an = ac.createAnalyser();
  an.fftSize = 512;
  src.connect(an);
  const buf = new Float32Array(an.fftSize);
  const id = setInterval(() => {
    an.getFloatTimeDomainData(buf);
    let sum = 0;
    for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
    onLevel(Math.min(1, Math.sqrt(sum / buf.length) * 6));
  }, 80);
  return () => { clearInterval(id); src.disconnect(); };
}

export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((t) => t.stop());
}
