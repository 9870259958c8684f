// files.test.js: /api/sessions/files: uploads checked by their bytes and both caps, downloads only with the session's tokens through nginx's internal location, retention by sessionctl files purge.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const { execFileSync } = require('child_process');
const { bin, check, failed, sleep, Stack } = require('./stack');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const FILE_MAX = 4096;
const SESSION_MAX = 10000;
const DAY = 86400000;
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const bearer = (t) => ({ Authorization: `Bearer ${t}` });
// A file of n bytes that starts with head.
const fileOf = (head, n) => Buffer.concat([head, Buffer.alloc(n - head.length, 0x41)]);

async function main() {
	const stack = await new Stack('files', {
		SESSIONS_API_RATE: '10000r/s', SESSIONS_FILE_MAX_BYTES: String(FILE_MAX),
		SESSIONS_SESSION_FILES_MAX_BYTES: String(SESSION_MAX), SESSIONS_FILE_RETENTION_DAYS: '2',
	}).start();
	const dir = path.join(stack.dir, 'sessions-files');
	const chatDb = path.join(stack.dir, 'sessions-chat.db');
	const sql = (q) => execFileSync('sqlite3', [chatDb, q], { encoding: 'utf8', timeout: 10000 }).trim();
	const onDisk = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
	const upload = (token, body, name = 'chart.png', type = 'application/octet-stream') =>
		stack.req('/api/sessions/files', {
			headers: { ...(token ? bearer(token) : {}), 'Content-Type': type, 'X-File-Name': encodeURIComponent(name) },
			body,
		});
	const download = async (token, id) => {
		const res = await fetch(`${stack.base}/api/sessions/files/${id}`, { headers: token ? bearer(token) : {} });
		const body = Buffer.from(await res.arrayBuffer());
		return { status: res.status, headers: res.headers, body, text: body.toString() };
	};

	const a = stack.book('chat');
	const b = stack.book('video');
	const png = fileOf(PNG, 3000);
	let r = await upload(a.userToken, png, 'palm ✋ "left".png');
	check('the customer uploads a PNG: 201 with its id, cleaned name, size and the type its bytes show',
		r.status === 201 && r.json.id >= 1 && r.json.name === 'palm ✋ _left_.png' && r.json.bytes === 3000 &&
		r.json.type === 'image/png', r.text);
	const pngId = r.json.id;
	const stored = onDisk();
	check('its bytes are on disk beside the database under a random name of 32 hex digits, nothing else there',
		stored.length === 1 && /^[0-9a-f]{32}$/.test(stored[0]) &&
		fs.readFileSync(path.join(dir, stored[0])).equals(png), stored.join());
	check('one row in the chat file names it; SQLite holds no bytes of it',
		sql(`SELECT session_id, sender, bytes, type, storage FROM chat_files`) ===
		`${a.sessionId}|user|3000|image/png|${stored[0]}`, sql('SELECT * FROM chat_files'));

	for (const [who, token] of [['the customer', a.userToken], ['the astrologer', a.astrologerToken]]) {
		r = await download(token, pngId);
		check(`${who} downloads the same bytes as image/png, inline, nosniff, sandboxed, not cached`,
			r.status === 200 && r.body.equals(png) && r.headers.get('content-type') === 'image/png' &&
			r.headers.get('content-disposition') === 'inline' &&
			r.headers.get('x-content-type-options') === 'nosniff' &&
			/default-src 'none'; sandbox/.test(r.headers.get('content-security-policy')) &&
			r.headers.get('cache-control') === 'no-store',
			`${r.status} ${[...r.headers].join(' ')}`);
	}
	const pdf = fileOf(Buffer.from('%PDF-1.7\n'), 2000);
	r = await upload(a.astrologerToken, pdf, 'reading.pdf', 'application/pdf');
	check('the astrologer uploads a PDF', r.status === 201 && r.json.type === 'application/pdf', r.text);
	const pdfId = r.json.id;
	r = await download(a.userToken, pdfId);
	check('a PDF comes as an attachment under its name, as application/pdf',
		r.status === 200 && r.body.equals(pdf) && r.headers.get('content-type') === 'application/pdf' &&
		/^attachment; filename="reading.pdf"/.test(r.headers.get('content-disposition')),
		`${r.status} ${r.headers.get('content-disposition')}`);
	const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(100)]);
	r = await upload(b.userToken, webp, 'photo.webp');
	check('a WebP (RIFF....WEBP) is taken in another session', r.status === 201 && r.json.type === 'image/webp', r.text);
	const webpId = r.json.id;
	r = await upload(b.userToken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]), 'x.jpg');
	check('a JPEG is taken', r.status === 201 && r.json.type === 'image/jpeg', r.text);

	// Nobody else reaches a file.
	r = await download(null, pngId);
	check('no token: 401 missing_token, no bytes',
		r.status === 401 && JSON.parse(r.text).error.code === 'missing_token', r.text);
	r = await download(b.userToken, pngId);
	check("another session's token: 404 not_found, no bytes",
		r.status === 404 && JSON.parse(r.text).error.code === 'not_found' && !r.body.includes(png.subarray(0, 8)), r.text);
	r = await download(a.userToken, webpId);
	check("this session's token on another session's file: 404", r.status === 404, r.text);
	r = await download('x'.repeat(43), pngId);
	check('an unknown token: 404 unknown_link', r.status === 404 && JSON.parse(r.text).error.code === 'unknown_link', r.text);
	r = await fetch(`${stack.base}/api/sessions/files/${pngId}?token=${a.userToken}`);
	check('a token in the query string is refused: 400 query_not_allowed',
		r.status === 400 && (await r.json()).error.code === 'query_not_allowed', String(r.status));
	r = await fetch(`${stack.base}/_files/${stored[0]}`);
	check("the files directory is not reachable from outside (nginx's internal location): 404", r.status === 404,
		String(r.status));

	// Refusals change nothing: no row, no file, no temporary file.
	const rowsBefore = sql('SELECT count(*) FROM chat_files');
	const diskBefore = onDisk().join();
	const unchanged = () => sql('SELECT count(*) FROM chat_files') === rowsBefore && onDisk().join() === diskBefore;
	r = await upload(a.userToken, Buffer.from('<!doctype html><script>alert(1)</script>'), 'evil.png', 'image/png');
	check('an HTML file named .png and sent as image/png: 415 file_type_not_allowed, nothing stored',
		r.status === 415 && r.json.error.code === 'file_type_not_allowed' && unchanged(), r.text);
	r = await upload(a.userToken, Buffer.from('GIF89a' + 'x'.repeat(100)), 'anim.gif', 'image/gif');
	check('a GIF: 415 file_type_not_allowed', r.status === 415 && r.json.error.code === 'file_type_not_allowed' &&
		unchanged(), r.text);
	r = await upload(a.userToken, fileOf(PNG, FILE_MAX + 1));
	check('one byte over file_max_bytes: 413 file_too_large, nothing on disk or in the tables',
		r.status === 413 && r.json.error.code === 'file_too_large' && unchanged(), r.text);
	r = await upload(a.userToken, fileOf(PNG, 10241 * 1024 + 1));
	check("over nginx's limit on the location: 413 file_too_large in JSON, nothing stored",
		r.status === 413 && r.json && r.json.error.code === 'file_too_large' && unchanged(), r.text.slice(0, 200));
	r = await upload(null, png);
	check('no token: 401, nothing stored', r.status === 401 && unchanged(), r.text);
	r = await upload(a.userToken, JSON.stringify({ a: 1 }), 'x.png', 'application/json');
	check('a JSON body is no upload: 415', r.status === 415 && unchanged(), r.text);
	r = await upload(a.userToken, png, 'bad\u0000name.png');
	check('a name holding NUL: 400 invalid_field', r.status === 400 && r.json.error.code === 'invalid_field' &&
		unchanged(), r.text);

	// Cancel mid-upload: the connection goes with part of the body sent.
	await new Promise((resolve) => {
		const s = net.connect(stack.port, '127.0.0.1', () => {
			s.write(`POST /api/sessions/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${a.userToken}\r\n` +
				`Content-Type: application/octet-stream\r\nX-File-Name: cut.png\r\nContent-Length: 4000\r\n\r\n`);
			s.write(fileOf(PNG, 1500));
			setTimeout(() => { s.destroy(); resolve(); }, 300);
		});
		s.on('error', resolve);
	});
	await sleep(500);
	check('an upload cut off mid-body leaves no file, no temporary file and no row', unchanged(), onDisk().join());

	// The session's cap, at its boundary: 3000 + 2000 stored; 4096 + 904 more make exactly 10000.
	r = await upload(a.userToken, fileOf(PNG, 4096));
	check('a file of exactly file_max_bytes passes', r.status === 201, r.text);
	r = await upload(a.userToken, fileOf(PNG, 905));
	check('one byte past session_files_max_bytes: 413 session_files_full, nothing stored',
		r.status === 413 && r.json.error.code === 'session_files_full' &&
		sql(`SELECT sum(bytes) FROM chat_files WHERE session_id = '${a.sessionId}'`) === '9096' &&
		onDisk().length === 5, r.text);
	r = await upload(a.userToken, fileOf(PNG, 904));
	check('exactly up to session_files_max_bytes passes', r.status === 201 &&
		sql(`SELECT sum(bytes) FROM chat_files WHERE session_id = '${a.sessionId}'`) === '10000', r.text);

	// A backup, put in place of another stack's database as docs/INSTALL.md restores one, serves the same files.
	const kept = sql('SELECT count(*) || \' \' || sum(bytes) FROM chat_files WHERE purged_ms IS NULL');
	const backup = path.join(stack.dir, 'backup', 'b.db');
	fs.mkdirSync(path.dirname(backup));
	const made = stack.ctl('backup', backup);
	check('a backup holds every file its rows name, and says how many and how big',
		`${made.files} ${made.fileBytes}` === kept && made.linked === made.files &&
		fs.readdirSync(path.join(stack.dir, 'backup', 'b-files')).sort().join() === onDisk().join(), JSON.stringify(made));
	const restored = new Stack('files-restored', { SESSIONS_API_RATE: '10000r/s' });
	fs.copyFileSync(backup, restored.db);
	fs.copyFileSync(path.join(stack.dir, 'backup', 'b-chat.db'), path.join(restored.dir, 'sessions-chat.db'));
	fs.copyFileSync(`${stack.db}.key`, `${restored.db}.key`);
	for (const part of ['files', 'recordings']) {
		fs.cpSync(path.join(stack.dir, 'backup', `b-${part}`), path.join(restored.dir, `sessions-${part}`), { recursive: true });
	}
	await restored.start();
	const res = await fetch(`${restored.base}/api/sessions/files/${pngId}`, { headers: bearer(a.astrologerToken) });
	const got = Buffer.from(await res.arrayBuffer());
	check('restored, it sends the same bytes through nginx to the same token',
		res.status === 200 && got.equals(png) && res.headers.get('content-type') === 'image/png', String(res.status));
	restored.stop();

	// After the end: no more uploads; downloads go on until retention.
	stack.ctl('end', a.sessionId, '--reason', 'cancelled');
	r = await upload(a.astrologerToken, fileOf(PNG, 100));
	check('an ended session refuses uploads: 410 session_ended, nothing stored',
		r.status === 410 && r.json.error.code === 'session_ended' && onDisk().length === 6, r.text);
	r = await download(a.astrologerToken, pngId);
	check('an ended session still downloads its files', r.status === 200 && r.body.equals(png), String(r.status));

	// Retention: an unannounced upload goes after a day; announced ones after file_retention_days (2 here).
	const now = Date.now();
	sql(`INSERT INTO chat_rooms(session_id) VALUES ('${a.sessionId}');
		INSERT INTO chat_messages(room, seq, sender, body, created_ms, file_id)
		VALUES (last_insert_rowid(), 1, 'user', 'palm', ${now}, ${pngId})`);
	sql(`UPDATE chat_files SET created_ms = ${now - 2 * DAY + 60000} WHERE id = ${pngId}`);
	sql(`UPDATE chat_files SET created_ms = ${now - DAY + 60000} WHERE id = ${pdfId}`);
	sql(`UPDATE chat_files SET created_ms = ${now - DAY - 1000} WHERE id = ${webpId}`);
	let out = JSON.parse(execFileSync(bin('sessionctl'), ['--db', stack.db, 'files', 'purge'], { env: stack.env, encoding: 'utf8' }));
	check('purge: an unannounced upload a day old goes; younger ones and announced ones within retention stay',
		out.files === 1 && sql('SELECT id FROM chat_files WHERE purged_ms IS NOT NULL') === String(webpId) &&
		onDisk().length === 5, JSON.stringify(out));
	r = await download(b.userToken, webpId);
	check('a purged file answers 410 file_gone', r.status === 410 && JSON.parse(r.text).error.code === 'file_gone', r.text);
	sql(`UPDATE chat_files SET created_ms = ${now - 2 * DAY - 1000} WHERE id = ${pngId}`);
	out = JSON.parse(execFileSync(bin('sessionctl'), ['--db', stack.db, 'files', 'purge'], { env: stack.env, encoding: 'utf8' }));
	const storage = sql(`SELECT storage FROM chat_files WHERE id = ${pngId}`);
	check('past file_retention_days an announced file goes from disk; its row and message stay',
		out.files === 1 && !onDisk().includes(storage) &&
		sql(`SELECT purged_ms IS NOT NULL FROM chat_files WHERE id = ${pngId}`) === '1' &&
		sql(`SELECT body FROM chat_messages WHERE file_id = ${pngId}`) === 'palm', JSON.stringify(out));
	r = await download(a.userToken, pngId);
	check('its download answers 410 file_gone', r.status === 410, r.text);

	const logs = fs.readdirSync(stack.dir).filter((f) => f.endsWith('.log'))
		.map((f) => fs.readFileSync(path.join(stack.dir, f), 'utf8')).join('\n');
	check('no token reached any log', stack.tokens.every((t) => !logs.includes(t)));
	stack.stop();
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
}

main().catch((e) => {
	console.log(`not ok - the suite ran to the end: ${e.stack}`);
	process.exit(1);
});
