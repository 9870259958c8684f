// files.js: sharing a picture or PDF in chat: a quick check, the upload with its progress and cancel, and a file message's preview and download; loaded on first use.
import { $, show, warn } from './ui.js';
import { line } from './codes.js';

// What the server takes (it decides from the bytes; this only spares a pointless upload).
const TYPES = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP', 'application/pdf': 'PDF' };
const EXT = /\.(jpe?g|png|webp|pdf)$/i;
const MAX_BYTES = 10 * 1024 * 1024;

const fileSize = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1048576).toFixed(1)} MB`);

// The file's bytes with the link's token: never a URL with the token in it.
async function fetchFile(token, id) {
  const res = await fetch(`/api/sessions/files/${id}`, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
  if (!res.ok) {
    let code = `http_${res.status}`;
    try { code = (await res.json()).error.code; } catch { /* not JSON: the status says it */ }
    throw new Error(line(code));
  }
  return res.blob();
}

// The body of a file message: a preview for pictures, name, size and type, and a download link.
export function fileCard(f, token) {
  const box = document.createElement('span');
  box.className = 'file';
  const name = document.createElement('span');
  name.className = 'fname';
  name.textContent = f.file.name;
  const info = document.createElement('span');
  info.className = 'finfo';
  info.textContent = `${TYPES[f.file.type] || f.file.type} · ${fileSize(f.file.bytes)}`;
  if (!f.file.available) {
    info.textContent = 'File no longer available';
    box.append(name, info);
    return box;
  }
  if (f.file.type.startsWith('image/')) {
    const img = document.createElement('img');
    img.alt = f.file.name;
    img.className = 'thumb';
    // A decoded picture no longer needs its object URL.
    img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
    fetchFile(token, f.file.id).then((blob) => { img.src = URL.createObjectURL(blob); }).catch(() => { img.remove(); });
    box.append(img);
  }
  const a = document.createElement('a');
  a.href = '#';
  a.className = 'dl';
  a.textContent = 'Download';
  a.setAttribute('aria-label', `Download ${f.file.name}`);
  a.addEventListener('click', async (e) => {
    e.preventDefault();
    try {
      const url = URL.createObjectURL(await fetchFile(token, f.file.id));
      const save = document.createElement('a');
      save.href = url;
      save.download = f.file.name;
      save.click();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      warn(err.message);
    }
  });
  box.append(name, info, a);
  return box;
}

let xhr = null; // the upload under way: one at a time

// A picked file: a quick check, then the upload with its progress (cancel aborts it); the stored file goes to onStored.
export function upload(token, file, onStored) {
  const bar = $('upload-bar');
  if (!TYPES[file.type] && !EXT.test(file.name)) { warn(line('file_type_not_allowed')); return; }
  if (file.size > MAX_BYTES) { warn(line('file_too_large')); return; }
  if (xhr) return;
  xhr = new XMLHttpRequest();
  xhr.open('POST', '/api/sessions/files');
  xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
  $('upload-name').textContent = file.name;
  $('upload-cancel').onclick = () => { if (xhr) xhr.abort(); };
  bar.value = 0;
  show($('upload'));
  xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); });
  xhr.addEventListener('loadend', () => {
    const done = xhr;
    xhr = null;
    show($('upload'), false);
    if (done.status === 201) { onStored(JSON.parse(done.responseText)); return; }
    if (!done.status) return; // cancelled, or no answer: nothing was stored
    let code = `http_${done.status}`;
    try { code = JSON.parse(done.responseText).error.code; } catch { /* the status says it */ }
    warn(line(code));
  });
  xhr.send(file);
}
