// capture.js: writes the chromium-*.sdp fixtures from Debian's chromium (run inside `unshare -n`, loopback up).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  const srv = http.createServer((q, r) => r.end('<!doctype html><title>sdp</title>')).listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const page = await b.newPage();
  await page.goto(`http://127.0.0.1:${srv.address().port}/`); // getUserMedia wants a secure origin
  const out = await page.evaluate(async () => {
    const res = {};
    // One offer and its answer between two peer connections, as the session page makes them.
    async function pair(name, constraints, extra) {
      const a = new RTCPeerConnection(), z = new RTCPeerConnection();
      const mine = await navigator.mediaDevices.getUserMedia(constraints);
      for (const t of mine.getTracks()) a.addTrack(t, mine);
      if (extra) extra(a);
      await a.setLocalDescription(await a.createOffer());
      await z.setRemoteDescription(a.localDescription);
      const theirs = await navigator.mediaDevices.getUserMedia(constraints);
      for (const t of theirs.getTracks()) z.addTrack(t, theirs);
      await z.setLocalDescription(await z.createAnswer());
      res[`${name}-offer`] = a.localDescription.sdp;
      res[`${name}-answer`] = z.localDescription.sdp;
    }
    await pair('voice', { audio: true });
    await pair('video', { audio: true, video: true });
    await pair('datachannel', { audio: true }, (a) => a.createDataChannel('x'));
    return res;
  });
  for (const [name, sdp] of Object.entries(out)) fs.writeFileSync(path.join(__dirname, `chromium-${name}.sdp`), sdp);
  await b.close();
  srv.close();
})();
