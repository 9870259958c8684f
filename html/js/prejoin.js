// prejoin.js: the pre-join state: the booking at a glance, a device check for calls, and the join itself.
import { $, show, text, setState, localTime, plural, typeName, roleName } from './ui.js';
import { call } from './api.js';
import { FATAL } from './codes.js';
import { showError } from './error.js';
import { enterRoom } from './room.js';
import { openMedia, listDevices, helpFor, watchLevel, stopStream, audioContext } from './devices.js';

export function prejoin(ctx) {
  const { v, kind } = ctx;
  // The device check's choices and its open stream, which the room takes over on join.
  const pj = { ctx, stream: null, micId: '', camId: '', stopMeter: () => {} };
  document.title = `${typeName[kind] || 'Session'} with ${ctx.otherName}`;
  text('pj-kind', typeName[kind] || kind);
  text('pj-other', ctx.otherName);
  text('pj-type', typeName[kind] || kind);
  text('pj-start', v.scheduledStartTime ? localTime(v.scheduledStartTime, true) : 'Any time');
  text('pj-minutes', plural(v.paidDurationMinutes, 'minute'));
  text('pj-me', `${v.participantName || ''} (${roleName[ctx.me] || ctx.me})`);
  const rejoin = v.joined && v.joined[ctx.me];
  text('pj-join', rejoin ? 'Rejoin session' : 'Join session');
  $('pj-join').addEventListener('click', () => join(pj));
  setState('prejoin');
  if (kind === 'voice' || kind === 'video') deviceCheck(pj);
  else if (rejoin && v.status === 'active') join(pj);
}

async function deviceCheck(pj) {
  const video = pj.ctx.kind === 'video';
  show($('devcheck'));
  text('dc-what', video ? 'camera and microphone' : 'microphone');
  show($('dc-cam-row'), video);
  show($('dc-preview-box'), video);
  $('dc-retry').onclick = () => openDevices(pj);
  $('dc-mic').onchange = (e) => { pj.micId = e.target.value; openDevices(pj); };
  $('dc-cam').onchange = (e) => { pj.camId = e.target.value; openDevices(pj); };
  await openDevices(pj);
}

async function openDevices(pj) {
  const { kind } = pj.ctx;
  pj.stopMeter();
  pj.stopMeter = () => {};
  stopStream(pj.stream);
  pj.stream = null;
  show($('dc-help'), false);
  show($('dc-devices'), false);
  text('pj-msg', `Asking for your ${kind === 'video' ? 'camera and microphone' : 'microphone'}…`);
  try {
    pj.stream = await openMedia(kind, pj.micId, pj.camId);
  } catch (e) {
    const h = helpFor(e, kind);
    text('dc-help-title', h.title);
    text('dc-help-text', h.text);
    show($('dc-help'));
    text('pj-msg', 'You can still join and listen, but the other side will not hear you until this is fixed.');
    return;
  }
  text('pj-msg', '');
  show($('dc-devices'));
  if (kind === 'video') $('dc-preview').srcObject = pj.stream;
  const meter = $('dc-meter');
  pj.stopMeter = watchLevel(pj.stream, (l) => {
    $('dc-level').style.width = `${Math.round(l * 100)}%`;
    meter.setAttribute('aria-valuenow', String(Math.round(l * 100)));
  });
  try {
    const { mics, cams } = await listDevices();
    fillSelect($('dc-mic'), mics, pj.stream.getAudioTracks()[0], 'Microphone');
    if (kind === 'video') fillSelect($('dc-cam'), cams, pj.stream.getVideoTracks()[0], 'Camera');
  } catch { /* the lists are a convenience; the default devices already work */ }
}

function fillSelect(sel, devices, track, label) {
  const current = track ? track.getSettings().deviceId : '';
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
  enterRoom(ctx, { stream: pj.stream, camId: pj.camId });
}
