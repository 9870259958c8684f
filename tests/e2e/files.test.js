// files.test.js: sharing files in a chat through the real page in Chromium: the customer attaches a picture with
// visible progress, both see it with its preview, the astrologer downloads the same bytes, a PDF comes as an
// attachment, a cancelled upload leaves nothing, and the file is in the history after a reload.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const L = require('./lib');
const { themeProblems } = require('./theme');

const SUITE = 'files';

const sql = (s, q) => execFileSync('sqlite3', [s.db.replace(/\.db$/, '-chat.db'), q], { encoding: 'utf8', timeout: 10000 }).trim();
const filesDir = (s) => path.join(s.var, 'sessions-files');
const onDisk = (s) => (fs.existsSync(filesDir(s)) ? fs.readdirSync(filesDir(s)).sort() : []);

async function join(p, url) {
  await p.goto(url);
  await L.waitState(p, 'prejoin');
  await p.click('#pj-join');
  await L.waitState(p, 'active');
}

// The file cards the page shows: name, info, and whether the preview decoded.
const cards = (p) => p.$$eval('#msgs li.msg .file', (els) => els.map((e) => ({
  name: e.querySelector('.fname').textContent,
  info: e.querySelector('.finfo').textContent,
  preview: !!e.querySelector('img.thumb') && e.querySelector('img.thumb').naturalWidth > 0,
  pending: e.closest('li').classList.contains('pending'),
})));
const previewShown = (p, n) => p.waitForFunction((count) =>
  [...document.querySelectorAll('#msgs li.msg:not(.pending) .file img.thumb')].filter((i) => i.naturalWidth > 0).length === count, n);

// Uploads crawl at this rate, so the progress bar and a cancel can be seen.
async function slowUpload(p, bytesPerSecond) {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return cdp;
}

L.main(SUITE, 240000, async (t) => {
  const s = await L.stack();
  const b = L.book(s, 'chat', 30, '60.00');
  const browser = await L.browser();
  const user = await L.page(browser, { viewport: { width: 390, height: 760 } });
  const astro = await L.page(browser);
  const work = fs.mkdtempSync(path.join(s.dir, 'files-'));

  // A real picture, padded past its end so the upload takes a few seconds at the slowed rate.
  const png = path.join(work, 'birth chart.png');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1', path.join(work, 'raw.png')]);
  fs.writeFileSync(png, Buffer.concat([fs.readFileSync(path.join(work, 'raw.png')), Buffer.alloc(600 * 1024, 7)]));
  const pngBytes = fs.readFileSync(png);
  const pdf = path.join(work, 'reading.pdf');
  fs.writeFileSync(pdf, '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
  const html = path.join(work, 'trick.png');
  fs.writeFileSync(html, '<!doctype html><script>alert(document.domain)</script>');

  await join(user, b.userUrl);
  await join(astro, b.astrologerUrl);
  await t.check('both composers have an attach button that takes pictures and PDFs', async () => {
    for (const p of [user, astro]) {
      if (!await p.isVisible('#attach-btn')) throw new Error('no attach button');
      const accept = await p.getAttribute('#attach-input', 'accept');
      if (!/image\/png/.test(accept) || !/application\/pdf/.test(accept)) throw new Error(accept);
    }
  });

  const cdp = await slowUpload(user, 200 * 1024);
  await user.setInputFiles('#attach-input', png);
  await t.check('the upload shows its name and a progress bar that moves', async () => {
    await user.waitForSelector('#upload:not([hidden])');
    await user.waitForFunction(() => { const v = document.getElementById('upload-bar').value; return v > 0 && v < 100; });
    if (await user.textContent('#upload-name') !== 'birth chart.png') throw new Error(await user.textContent('#upload-name'));
  });
  await L.shot(user, SUITE, '01-uploading-390');
  await t.check('both see the file message with its preview, name, type and size', async () => {
    await previewShown(user, 1);
    await previewShown(astro, 1);
    for (const p of [user, astro]) {
      const c = await cards(p);
      if (c.length !== 1 || c[0].name !== 'birth chart.png' || !/^PNG · \d+ KB$/.test(c[0].info) || !c[0].preview) {
        throw new Error(JSON.stringify(c));
      }
    }
    if (!await user.isHidden('#upload')) throw new Error('the progress bar stayed');
  });
  await L.shot(user, SUITE, '02-shared-customer-390');
  t.ok((await themeProblems(user)).length === 0, 'a shared file at 390 px: AA contrast, no dark blue, no sideways scroll',
    (await themeProblems(user)).join('; '));
  await L.shot(astro, SUITE, '03-shared-astrologer-desktop');

  await t.check('the astrologer downloads the picture and gets the same bytes', async () => {
    const [dl] = await Promise.all([astro.waitForEvent('download'), astro.click('#msgs .file .dl')]);
    const got = fs.readFileSync(await dl.path());
    if (!got.equals(pngBytes)) throw new Error(`${got.length} bytes, not the ${pngBytes.length} uploaded`);
    if (dl.suggestedFilename() !== 'birth chart.png') throw new Error(dl.suggestedFilename());
  });

  await t.check('an HTML file named .png is refused with a clear message and stores nothing', async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await user.setInputFiles('#attach-input', html);
    await user.waitForFunction(() => /JPEG, PNG and WebP pictures and PDF/.test(document.getElementById('warn').textContent));
    if (sql(s, 'SELECT count(*) FROM chat_files') !== '1' || onDisk(s).length !== 1) throw new Error('something was stored');
  });

  await t.check('cancelling an upload midway stores nothing and shows nothing', async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });
    await user.setInputFiles('#attach-input', png);
    await user.waitForFunction(() => document.getElementById('upload-bar').value > 0);
    await user.click('#upload-cancel');
    await user.waitForSelector('#upload', { state: 'hidden' });
    await new Promise((r) => setTimeout(r, 1000));
    if (sql(s, 'SELECT count(*) FROM chat_files') !== '1') throw new Error('a row was stored');
    if (onDisk(s).length !== 1) throw new Error(`on disk: ${onDisk(s).join()}`);
    if ((await cards(astro)).length !== 1) throw new Error('the other side saw a file');
  });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  await user.setInputFiles('#attach-input', pdf);
  await t.check('a PDF shows without a preview, and comes as an attachment', async () => {
    await astro.waitForFunction(() => document.querySelectorAll('#msgs li.msg .file').length === 2);
    const c = (await cards(astro))[1];
    if (c.name !== 'reading.pdf' || !/^PDF · /.test(c.info)) throw new Error(JSON.stringify(c));
    const id = sql(s, "SELECT id FROM chat_files WHERE type = 'application/pdf'");
    const head = await astro.evaluate(async ([fileId, token]) => {
      const r = await fetch(`/api/sessions/files/${fileId}`, { headers: { Authorization: `Bearer ${token}` } });
      return [r.headers.get('content-type'), r.headers.get('content-disposition')];
    }, [id, b.astrologerToken]);
    if (head[0] !== 'application/pdf' || !/^attachment; filename="reading.pdf"/.test(head[1])) throw new Error(head.join(' | '));
  });

  await user.reload();
  await L.waitState(user, 'active');
  await t.check('after a reload the history shows both files, the picture with its preview', async () => {
    await previewShown(user, 1);
    const c = await cards(user);
    if (c.map((x) => x.name).join() !== 'birth chart.png,reading.pdf') throw new Error(JSON.stringify(c));
  });

  await L.shot(user, SUITE, '04-history-after-reload-390');

  // In a video call the chat, with its attach button, opens from the bar beside the picture.
  const v = L.book(s, 'video', 30, '60.00');
  const vu = await L.page(browser, { viewport: { width: 1000, height: 700 } });
  const va = await L.page(browser);
  await vu.goto(v.userUrl);
  await va.goto(v.astrologerUrl);
  await vu.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await va.waitForFunction(() => document.getElementById('dc-mic').options.length > 0);
  await Promise.all([vu.click('#pj-join'), va.click('#pj-join')]);
  await L.waitState(vu, 'active');
  await L.waitState(va, 'active');
  await t.check('in a video call a Chat button opens the chat with the attach button; a shared picture reaches the other side', async () => {
    if (await vu.isVisible('#v-chat')) throw new Error('the chat covers the call before it is asked for');
    await vu.click('#ac-chat');
    if (!await vu.isVisible('#attach-btn')) throw new Error('no attach button in the call');
    await vu.setInputFiles('#attach-input', png);
    await va.waitForFunction(() => document.getElementById('ac-chat').dataset.unread === 'true');
    await va.click('#ac-chat');
    await previewShown(va, 1);
  });
  await L.shot(vu, SUITE, '05-video-call-chat-desktop');
  await t.check('no script errors on either page', async () => {
    const errs = [...user.__errors, ...astro.__errors, ...vu.__errors, ...va.__errors];
    if (errs.length) throw new Error(errs.join(' | '));
  });
});
