// prejoin.js: the pre-join state: the booking at a glance, a device and network check for calls, and the join itself.
import { $, show, text, setState, localTime, plural, typeName, roleName } from './ui.js';
import { call } from './api.js';
import { FATAL } from './codes.js';
import { showError } from './error.js';
import { openDevices, listDevices, helpForFailed, canChooseSpeaker, watchLevel, stopStream, audioContext } from './devices.js';
import { preflight } from './preflight.js';

export function prejoin(ctx) {
  const { v, kind } = ctx;
  // The device check's choices and its open stream, which the room takes over on join. micOn/camOn: the
  // toggles, honoured when the call starts; failed: per kind, the error of a device that did not open.
  const pj = { ctx, stream: null, micId: '', camId: '', spkId: '', micOn: true, camOn: true,
    failed: { audio: null, video: null }, rejoin: !!(v.joined && v.joined[ctx.me]), checks: 0, stopMeter: () => {},
    // The room's code (chat, call, relay: most of the page) loads once the pre-join is on screen, not before it.
    room: null };
  document.title = `${typeName[kind] || 'Session'} with ${ctx.otherName}`;
  text('pj-kind', typeName[kind] || kind);
  text('pj-other', ctx.otherName);
  text('pj-type', typeName[kind] || kind);
  text('pj-start', v.scheduledStartTime ? localTime(v.scheduledStartTime, true) : 'Any time');
  text('pj-minutes', plural(v.paidDurationMinutes, 'minute'));
  text('pj-me', `${v.participantName || ''} (${roleName[ctx.me] || ctx.me})`);
  joinWords(pj);
  $('pj-join').addEventListener('click', () => join(pj));
  setState('prejoin');
  pj.room = import('./room.js');
  if (kind === 'voice' || kind === 'video') {
    deviceCheck(pj);
    preflight(ctx);
  }
  else if (pj.rejoin && v.status === 'active') join(pj);
}

// The button says what joining now means: without a device that failed, so that is a choice made knowingly.
function joinWords(pj) {
  const missing = [pj.failed.video && 'camera', pj.failed.audio && 'microphone'].filter(Boolean);
  const verb = pj.rejoin ? 'Rejoin' : 'Join';
  text('pj-join', missing.length ? `${verb} without ${missing.join(' and ')}` : `${verb} session`);
}

function switchWords(pj) {
  for (const [id, on, what] of [['dc-mic-on', pj.micOn, 'Microphone'], ['dc-cam-on', pj.camOn, 'Camera']]) {
    $(id).setAttribute('aria-checked', String(on));
    text(id, `${what} ${on ? 'on' : 'off'}`);
  }
}

async function deviceCheck(pj) {
  const video = pj.ctx.kind === 'video';
  show($('devcheck'));
  text('dc-what', video ? 'camera and microphone' : 'microphone');
  show($('dc-cam-row'), video);
  show($('dc-preview-box'), video);
  $('dc-retry').onclick = () => openLocal(pj);
  $('dc-mic').onchange = (e) => { pj.micId = e.target.value; openLocal(pj); };
  $('dc-cam').onchange = (e) => { pj.camId = e.target.value; openLocal(pj); };
  $('dc-spk').onchange = (e) => { pj.spkId = e.target.value; };
  $('dc-mic-on').onclick = () => {
    pj.micOn = !pj.micOn;
    switchWords(pj);
    pj.stream.getAudioTracks().forEach((t) => { t.enabled = pj.micOn; });
  };
  // A camera switched off is released (its light goes out) rather than only hidden.
  $('dc-cam-on').onclick = () => {
    pj.camOn = !pj.camOn;
    switchWords(pj);
    openLocal(pj);
  };
  await openLocal(pj);
}

// Join waits while the browser asks for the devices and they open: joining in the middle would start
// the call without them.
async function openLocal(pj) {
  const { kind } = pj.ctx;
  const video = kind === 'video';
  const btn = $('pj-join');
  btn.disabled = true;
  pj.stopMeter();
  pj.stopMeter = () => {};
  stopStream(pj.stream);
  pj.stream = null;
  show($('dc-help'), false);
  show($('dc-devices'), false);
  text('pj-msg', `Asking for your ${video ? 'camera and microphone' : 'microphone'}… You can join once this check is done.`);
  const n = ++pj.checks;
  const { stream, failed } = await openDevices(pj.micId, pj.camId, video && pj.camOn);
  // A newer check (another device chosen meanwhile) owns the page now.
  if (n !== pj.checks) { stopStream(stream); return; }
  pj.stream = stream;
  pj.failed = failed;
  const mic = stream.getAudioTracks()[0];
  const cam = stream.getVideoTracks()[0];
  if (mic) mic.enabled = pj.micOn;
  const help = helpForFailed(failed);
  text('dc-help-title', help.map((h) => h.title).join('. '));
  text('dc-help-text', help.map((h) => h.text).join(' '));
  show($('dc-help'), help.length > 0);
  text('pj-msg', failed.audio ? `You can still join and listen, but ${pj.ctx.otherName} will not hear you until this is fixed (in the session, Retry microphone asks again).`
    : failed.video ? `You can still join with sound only; ${pj.ctx.otherName} will not see you until this is fixed (in the session, Retry camera asks again).` : '');
  joinWords(pj);
  btn.disabled = false;
  show($('dc-devices'), !!(mic || video));
  show($('dc-level-row'), !!mic);
  show($('dc-mic-on'), !!mic);
  show($('dc-cam-on'), video && !failed.video);
  if (video) {
    $('dc-preview').srcObject = cam ? stream : null;
    show($('dc-preview-off'), !cam);
    text('dc-preview-off-text', failed.video ? 'No camera' : 'Camera off');
  }
  const meter = $('dc-meter');
  pj.stopMeter = watchLevel(stream, (l) => {
    $('dc-level').style.width = `${Math.round(l * 100)}%`;
    meter.setAttribute('aria-valuenow', String(Math.round(l * 100)));
  });
  try {
    const { mics, cams, speakers } = await listDevices();
    fillSelect($('dc-mic'), mics, mic, 'Microphone', pj.micId);
    if (video) fillSelect($('dc-cam'), cams, cam, 'Camera', pj.camId);
    show($('dc-spk-row'), canChooseSpeaker() && speakers.length > 1);
    fillSelect($('dc-spk'), speakers, null, 'Speaker', pj.spkId);
  } catch { /* the lists are a convenience; the default devices already work */ }
}

// The device in use is selected; with none open (a camera switched off), the one last chosen.
function fillSelect(sel, devices, track, label, chosen) {
  const current = track ? track.getSettings().deviceId : chosen;
  sel.replaceChildren(...devices.map((d, i) => {
    const o = document.createElement('option');
    o.value = d.deviceId;
    o.textContent = d.label || `${label} ${i + 1}`;
    o.selected = d.deviceId === current;
    return o;
  }));
}

async function join(pj) {
  const { ctx } = pj;
  const btn = $('pj-join');
  btn.disabled = true;
  text('pj-msg', 'Joining…');
  // Started inside the click, so the browser lets the room's sound play later.
  if (ctx.kind !== 'chat') audioContext();
  let j;
  try {
    j = await call('join', ctx.token);
  } catch (e) {
    if (FATAL.has(e.code)) {
      pj.stopMeter();
      stopStream(pj.stream);
      showError(ctx, e);
      return;
    }
    text('pj-msg', `${e.message} Please try again.`);
    btn.disabled = false;
    return;
  }
  ctx.times(j);
  pj.stopMeter();
  const { stream, micId, camId, spkId, micOn, failed } = pj;
  (await pj.room).enterRoom(ctx, { stream, micId, camId, spkId, micOn, failed });
}
