// devices.js: camera and microphone: opening them, listing them, level metering, and help when they fail.

export function constraints(kind, micId, camId) {
  return {
    audio: micId ? { deviceId: { exact: micId }, echoCancellation: true, noiseSuppression: true } : { echoCancellation: true, noiseSuppression: true },
    video: kind === 'video' ? (camId ? { deviceId: { exact: camId }, width: { ideal: 640 }, height: { ideal: 480 } } : { width: { ideal: 640 }, height: { ideal: 480 } }) : false,
  };
}

export function openMedia(kind, micId, camId) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const e = new Error('This browser cannot use a camera or microphone here.');
    e.name = 'NotSupportedError';
    return Promise.reject(e);
  }
  return navigator.mediaDevices.getUserMedia(constraints(kind, micId, camId));
}

export function openCamera(camId) {
  return navigator.mediaDevices.getUserMedia({ video: constraints('video', null, camId).video });
}

export async function listDevices() {
  const all = await navigator.mediaDevices.enumerateDevices();
  return { mics: all.filter((d) => d.kind === 'audioinput'), cams: all.filter((d) => d.kind === 'videoinput') };
}

// Plain-words help for each way getUserMedia fails.
export function helpFor(err, kind) {
  const what = kind === 'video' ? 'camera and microphone' : 'microphone';
  switch (err && err.name) {
  case 'NotAllowedError':
  case 'SecurityError':
    return { title: `Your ${what} ${kind === 'video' ? 'are' : 'is'} blocked`,
      text: `The browser was told not to share your ${what} with this page. Click the camera or lock icon next to the address bar, choose Allow, then press Try again. On a phone, allow it in the browser's site settings.` };
  case 'NotFoundError':
  case 'OverconstrainedError':
    return { title: `No ${what} found`,
      text: `Connect a ${kind === 'video' ? 'camera and a microphone (or a headset)' : 'microphone or a headset'}, check that it is switched on, then press Try again.` };
  case 'NotReadableError':
  case 'AbortError':
    return { title: `Your ${kind === 'video' ? 'camera or microphone' : 'microphone'} is busy`,
      text: 'Another app or browser tab is using it. Close other video-call apps and tabs, then press Try again. Restarting the browser also helps.' };
  default:
    return { title: `Your ${what} could not be started`,
      text: `${(err && err.message) || 'The browser refused.'} Try another browser, or press Try again.` };
  }
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
