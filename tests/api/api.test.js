// api.test.js: the HTTP API through a real nginx and the real FastCGI programs: answers, refusals, limits, headers, logs.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const {
	bin, check, failed, onExit, tempDir, sleep, Stack, chunkedPost, fcgiRequest, fcgiHeld, ISO_MS,
} = require('./stack');

const MINUTE_MS = 1000; // a paid minute lasts a second here, so billing shows in a test
const GRACE_MS = 120 * 1000; // the default grace_seconds: TURN credentials outlast it
const ICE = [{ urls: ['stun:stun.example.org:3478'] }, { urls: 'turn:turn.example.org', username: 'u', credential: 'c' }];
const TURN_URLS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'];
const TURN_SECRET = 'a-shared-secret-for-coturn';
const RETURN_URL = 'https://shop.example.org/account';

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 180 s');
	process.exit(1);
}, 180000);

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const iso = (v) => typeof v === 'string' && ISO_MS.test(v);
const cents = (s) => Math.round(Number(s) * 100);
const money = (c) => (c / 100).toFixed(2);
const near = (isoTime, ms = 10000) => iso(isoTime) && Math.abs(Date.parse(isoTime) - Date.now()) < ms;

function checkHeaders(what, r, port, { noStore = true } = {}) {
	const csp = r.headers.get('content-security-policy') || '';
	check(`${what}: Content-Security-Policy has default-src 'self', object-src/base-uri/frame-ancestors 'none' and the ws origin`,
		csp.includes("default-src 'self'") && csp.includes("object-src 'none'") &&
		csp.includes("base-uri 'none'") && csp.includes("frame-ancestors 'none'") &&
		new RegExp(`connect-src 'self'[^;]*ws://127\\.0\\.0\\.1:${port}`).test(csp), csp);
	check(`${what}: Referrer-Policy no-referrer, Permissions-Policy camera/microphone self, nosniff`,
		r.headers.get('referrer-policy') === 'no-referrer' &&
		r.headers.get('permissions-policy') === 'camera=(self), microphone=(self)' &&
		r.headers.get('x-content-type-options') === 'nosniff');
	if (noStore) check(`${what}: Cache-Control no-store`, r.headers.get('cache-control') === 'no-store',
		r.headers.get('cache-control'));
}

// One refused request: its status, a JSON error with the code, and a database left as it was.
async function refused(stack, endpoint, c) {
	const before = stack.dump();
	const r = c.send ? await c.send() : await stack.req(`/api/sessions/${endpoint}`, c);
	const after = stack.dump();
	const ctype = (r.headers.get ? r.headers.get('content-type') : r.headers['content-type']) || '';
	let json = r.json;
	if (json === undefined) { try { json = JSON.parse(r.text); } catch (e) { json = undefined; } }
	const okStatus = r.status === c.status;
	const okBody = c.status === 200
		? json && c.body200(json)
		: ctype.startsWith('application/json') && json && json.error && json.error.code === c.code &&
		  typeof json.error.message === 'string' && json.error.message.length > 0;
	check(`${endpoint}: ${c.name} -> ${c.status} ${c.code || ''}, JSON answer, database unchanged`,
		okStatus && okBody && before === after && (!c.extra || c.extra(r, json)),
		`status ${r.status}, ${json && json.error ? json.error.code : 'no error code'}, db ${before === after ? 'same' : 'CHANGED'}`);
}

// The bad inputs every endpoint shares. t: a good token of the target session.
function commonCases(stack, endpoint, s) {
	const t = s.good;
	const url = `/api/sessions/${endpoint}`;
	const deep = `${'{"a":['.repeat(20)}1${']}'.repeat(20)}`;
	return [
		{ name: 'GET', method: 'GET', status: 405, code: 'method_not_allowed',
			extra: (r) => r.headers.get('allow') === 'POST' },
		{ name: 'PUT with a JSON body', method: 'PUT', body: { token: t }, status: 405, code: 'method_not_allowed' },
		{ name: 'text/plain body', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ token: t }),
			status: 415, code: 'unsupported_media_type' },
		{ name: 'form-encoded body', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
			body: `token=${t}`, status: 415, code: 'unsupported_media_type' },
		{ name: 'empty body', body: '', status: 400, code: 'invalid_json' },
		{ name: 'malformed JSON', body: '{"token":"', status: 400, code: 'invalid_json' },
		{ name: 'JSON followed by garbage', body: `{"token":"${t}"} x`, status: 400, code: 'invalid_json' },
		{ name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"token":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
			status: 400, code: 'invalid_json' },
		{ name: 'nesting 20 deep', body: deep, status: 400, code: 'invalid_json' },
		{ name: 'a JSON array', body: [t], status: 400, code: 'not_an_object' },
		{ name: 'a JSON string', body: JSON.stringify(t), status: 400, code: 'not_an_object' },
		{ name: 'token is a number', body: { token: 12345 }, status: 400, code: 'invalid_field' },
		{ name: 'sessionId is a number', body: { token: t, sessionId: 7 }, status: 400, code: 'invalid_field' },
		{ name: 'participantType is not a role', body: { token: t, participantType: 'admin' }, status: 400, code: 'invalid_field' },
		{ name: 'token with an embedded NUL', body: `{"token":"${t}\\u0000x"}`, status: 400, code: 'invalid_field' },
		{ name: 'body token differs from the Bearer token', headers: bearer(t), body: { token: s.other },
			status: 400, code: 'invalid_field' },
		{ name: 'no token', body: {}, status: 401, code: 'missing_token' },
		{ name: 'Basic authorization instead of Bearer', headers: { Authorization: 'Basic dXNlcjpwYXNz' }, body: {},
			status: 401, code: 'missing_token' },
		{ name: 'a malformed token', body: { token: 'not-a-token' }, status: 404, code: 'unknown_link' },
		{ name: 'an unknown token', body: { token: 'A'.repeat(43) }, status: 404, code: 'unknown_link' },
		{ name: 'a 5000-character token', headers: bearer('x'.repeat(5000)), body: {}, status: 404, code: 'unknown_link' },
		{ name: "another session's token with this sessionId", body: { token: s.other, sessionId: s.id },
			status: 403, code: 'forbidden' },
		{ name: 'a sessionId mismatch', headers: bearer(t), body: { sessionId: s.otherId }, status: 403, code: 'forbidden' },
		{ name: 'a participantType mismatch', body: { token: t, participantType: s.otherRole }, status: 403, code: 'forbidden' },
		{ name: 'an expired link', body: { token: s.expired }, status: 410, code: 'link_expired' },
		{ name: 'an ended session', body: { token: s.ended }, status: 410, code: 'session_ended' },
		{ name: 'a link that does not open yet', body: { token: s.future }, status: 409, code: 'not_open',
			extra: (r, j) => iso(j.error.linkOpensAt) && iso(j.error.serverTime) },
		{ name: 'a 17 KiB body', body: { token: t, pad: 'x'.repeat(17 * 1024) }, status: 413, code: 'body_too_large' },
		{ name: 'a 17 KiB chunked body', status: 413, code: 'body_too_large',
			send: () => chunkedPost(stack.base, url, [`{"token":"${t}","pad":"`, 'x'.repeat(17 * 1024), '"}'],
				{ 'Content-Type': 'application/json' }) },
	];
}

// A participant's page in the room: join-room through nginx, held open until closed.
function inRoom(stack, token) {
	const WebSocket = require('ws');
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { origin: stack.base });
		ws.on('open', () => ws.send(JSON.stringify({ type: 'join-room', token })));
		ws.once('message', () => resolve(ws));
		ws.on('error', reject);
	});
}

async function main() {
	const stack = await new Stack('main', {
		SESSIONS_MINUTE_MS: String(MINUTE_MS),
		SESSIONS_ICE_SERVERS: JSON.stringify(ICE),
		SESSIONS_TURN_URLS: TURN_URLS.join(', '),
		SESSIONS_TURN_SECRET: TURN_SECRET,
		// Longer than the session can run, so its own bound shows (ice.test and turn.test check the cap).
		SESSIONS_TURN_CREDENTIAL_SECONDS: '86400',
		SESSIONS_RETURN_URL: RETURN_URL,
		// Hundreds of requests come from one address here; the shipped limit
		// has its own test below, on a stack with the default settings.
		SESSIONS_API_RATE: '10000r/s',
		// Several end workers, so the concurrent ends below race in separate processes.
		SESSIONS_API_WRITERS: '4',
		SESSIONS_API_BURST: '10000',
	}).start();
	const allStacks = [stack];

	const s1 = stack.book('chat');
	const s2 = stack.book('voice', { minutes: 10, price: '20.00' });
	const sExp = stack.book('video', { starts: '2020-01-01T10:00:00Z' });
	const sFut = stack.book('chat', { starts: new Date(Date.now() + 86400000).toISOString() });
	const sEnd = stack.book('voice');
	stack.ctl('join', sEnd.sessionId, '--role', 'user');
	stack.ctl('end', sEnd.sessionId, '--reason', 'user_ended');

	// validate: the seed's fields and what the page needs, one by one.
	for (const [role, token] of [['user', s1.userToken], ['astrologer', s1.astrologerToken]]) {
		const r = await stack.req('/api/sessions/validate', { body: { token } });
		const j = r.json || {};
		const mine = role === 'user' ? s1.userName : s1.astrologerName;
		const theirs = role === 'user' ? s1.astrologerName : s1.userName;
		check(`validate (${role}): 200 application/json`, r.status === 200 &&
			r.headers.get('content-type').startsWith('application/json'), r.status);
		check(`validate (${role}): valid, sessionId, roomId, sessionType as booked`, j.valid === true &&
			j.sessionId === s1.sessionId && j.roomId === s1.roomId && j.sessionType === 'chat');
		check(`validate (${role}): participantType ${role}, participantId a non-empty string`,
			j.participantType === role && typeof j.participantId === 'string' && j.participantId.length > 0);
		check(`validate (${role}): participantName and otherParticipantName (UTF-8 intact)`,
			j.participantName === mine && j.otherParticipantName === theirs, `${j.participantName}/${j.otherParticipantName}`);
		check(`validate (${role}): paidDurationMinutes 30, status scheduled, price "97.00"`,
			j.paidDurationMinutes === 30 && j.status === 'scheduled' && j.price === '97.00');
		check(`validate (${role}): scheduledStartTime, linkOpensAt, linkValidUntil as booked, ISO with ms`,
			iso(j.scheduledStartTime) && j.scheduledStartTime === s1.scheduledStartTime &&
			j.linkOpensAt === s1.linkOpensAt && j.linkValidUntil === s1.linkValidUntil);
		check(`validate (${role}): serverTime is now`, near(j.serverTime), j.serverTime);
		check(`validate (${role}): startedAt, deadline, endedAt null; nobody joined`,
			j.startedAt === null && j.deadline === null && j.endedAt === null &&
			j.joined && j.joined.user === false && j.joined.astrologer === false);
		check(`validate (${role}): a chat session gets no ICE servers and no TURN credentials; wsPath /ws; returnUrl as set`,
			Array.isArray(j.iceServers) && j.iceServers.length === 0 && j.wsPath === '/ws' &&
			j.returnUrl === RETURN_URL, JSON.stringify(j.iceServers));
		if (role === 'user') {
			checkHeaders('validate 200', r, stack.port);
			check('validate 200: sent whole with its Content-Length, not in chunks',
				r.headers.get('content-length') === String(Buffer.byteLength(r.text)) &&
				!r.headers.get('transfer-encoding'),
				`Content-Length ${r.headers.get('content-length')}, Transfer-Encoding ${r.headers.get('transfer-encoding')}`);
		}
	}
	for (const role of ['user', 'astrologer']) {
		const r = await stack.req('/api/sessions/validate', { headers: bearer(s2[`${role}Token`]), body: {} });
		const ice = Array.isArray(r.json.iceServers) ? r.json.iceServers : [];
		check(`validate (voice, ${role}): iceServers begin with SESSIONS_ICE_SERVERS`,
			JSON.stringify(ice.slice(0, ICE.length)) === JSON.stringify(ICE), JSON.stringify(ice));
		const turn = ice[ICE.length] || {};
		const expiry = Math.floor((Date.parse(s2.linkValidUntil) + 10 * MINUTE_MS + GRACE_MS) / 1000);
		check(`validate (voice, ${role}): then the TURN urls with "<expiry>:<session>-<role>" lasting to the link's end, the paid time and the grace`,
			ice.length === ICE.length + 1 && JSON.stringify(turn.urls) === JSON.stringify(TURN_URLS) &&
			turn.username === `${expiry}:${s2.sessionId}-${role}` && r.json.iceExpiresAt === new Date(expiry * 1000).toISOString(),
			JSON.stringify(turn));
		check(`validate (voice, ${role}): the TURN credential is base64 HMAC-SHA1 of the username under turn_secret`,
			typeof turn.username === 'string' &&
			turn.credential === crypto.createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
	}
	{
		const r = await stack.req('/api/sessions/validate', { headers: bearer(s1.userToken), body: {} });
		check('validate: the token also works as Authorization: Bearer', r.status === 200 && r.json.valid === true);
		const c = await stack.req('/api/sessions/validate',
			{ headers: { 'Content-Type': 'Application/JSON; charset=utf-8' }, body: JSON.stringify({ token: s1.userToken }) });
		check('validate: a Content-Type with a charset parameter, in any case, is JSON', c.status === 200);
	}

	// The targets of the shared refusals; the good token is s1's user's. The
	// ended session's user joined it (and may see its settlement again from
	// end); its astrologer never did.
	const shared = (endpoint) => ({
		good: s1.userToken,
		id: s1.sessionId,
		otherId: s2.sessionId,
		other: s2.userToken,
		otherRole: 'astrologer',
		expired: sExp.userToken,
		ended: endpoint === 'end' ? sEnd.astrologerToken : sEnd.userToken,
		future: sFut.userToken,
	});

	for (const c of commonCases(stack, 'validate', shared('validate'))) {
		await refused(stack, 'validate', c);
	}

	// join: the first participant waits, the second starts the paid time.
	let j1;
	{
		const r = await stack.req('/api/sessions/join', { body: { token: s1.userToken } });
		j1 = r.json || {};
		check('join (user, first): 200 success, not active, not both joined, not already joined',
			r.status === 200 && j1.success === true && j1.sessionActive === false && j1.bothJoined === false &&
			j1.alreadyJoined === false, r.text);
		check('join (user, first): message, startedAt/deadline null, serverTime now',
			typeof j1.message === 'string' && j1.message.length > 0 && j1.startedAt === null &&
			j1.deadline === null && near(j1.serverTime));
		checkHeaders('join 200', r, stack.port);
	}
	let started;
	{
		const r = await stack.req('/api/sessions/join', { headers: bearer(s1.astrologerToken),
			body: { sessionId: s1.sessionId, participantType: 'astrologer' } });
		const j = r.json || {};
		started = j.startedAt;
		check('join (astrologer, second, Bearer + matching claims): active, both joined, "Session started"',
			r.status === 200 && j.success === true && j.sessionActive === true && j.bothJoined === true &&
			j.alreadyJoined === false && j.message === 'Session started', r.text);
		check('join (astrologer): startedAt now, deadline = startedAt + 30 paid minutes',
			near(j.startedAt) && iso(j.deadline) &&
			Date.parse(j.deadline) - Date.parse(j.startedAt) === 30 * MINUTE_MS, `${j.startedAt} ${j.deadline}`);
	}
	{
		const r = await stack.req('/api/sessions/validate', { body: { token: s1.userToken } });
		const j = r.json || {};
		check('validate after both joined: status active, both joined, startedAt and deadline set',
			j.status === 'active' && j.joined.user === true && j.joined.astrologer === true &&
			j.startedAt === started && iso(j.deadline) && j.endedAt === null);
	}

	const joinCases = commonCases(stack, 'join', shared('join'));
	joinCases.push({ name: 'a repeated join', body: { token: s1.userToken }, status: 200,
		body200: (j) => j.success === true && j.alreadyJoined === true && j.bothJoined === true &&
			j.sessionActive === true && j.startedAt === started });
	for (const c of joinCases) await refused(stack, 'join', c);

	// end: refusals first, on the active session and on one nobody joined.
	const endCases = commonCases(stack, 'end', shared('end'));
	endCases.push(
		{ name: 'end before anyone joined', body: { token: s2.userToken }, status: 409, code: 'not_joined' },
		{ name: 'reason is a number', body: { token: s1.userToken, reason: 3 }, status: 400, code: 'invalid_field' },
		{ name: 'reason is unknown', body: { token: s1.userToken, reason: 'refund-me' }, status: 400, code: 'invalid_field' },
	);
	for (const c of endCases) await refused(stack, 'end', c);
	stack.ctl('join', s2.sessionId, '--role', 'astrologer');
	await refused(stack, 'end', { name: 'end by the participant who has not joined (the other has)',
		body: { token: s2.userToken }, status: 409, code: 'not_joined' });

	// end: settles the frozen price once, by the minutes both were connected to the relay.
	const present = await Promise.all([s1.userToken, s1.astrologerToken].map((t) => inRoom(stack, t)));
	await sleep(2300);
	const walletBefore = stack.ctl('wallet', 'show', s1.userName);
	let e1;
	{
		const r = await stack.req('/api/sessions/end', { body: { token: s1.userToken, reason: 'completed' } });
		e1 = r.json || {};
		const billed = e1.billedMinutes;
		const charged = Math.floor(9700 * billed / 30);
		const commission = Math.floor(charged * 2000 / 10000);
		check('end (user): 200 success, "Session ended", not already ended', r.status === 200 &&
			e1.success === true && e1.message === 'Session ended' && e1.alreadyEnded === false, r.text);
		check('end (user): status completed, the reason the user gave kept, ended by the user',
			e1.status === 'completed' && e1.reason === 'completed' && e1.endedBy === 'user', r.text);
		check('end (user): billed the 2..4 seconds both were in the room (a paid minute is a second here)',
			e1.billedSeconds >= 2 && e1.billedSeconds <= 4 && billed >= 3 && billed <= 5 &&
			e1.durationSeconds >= 2, `${e1.billedSeconds} s, ${billed} min, ${e1.durationSeconds} s`);
		check('end (user): amountCharged = price x billed / paid, refunded = the rest',
			e1.amountCharged === money(charged) && e1.amountRefunded === money(9700 - charged),
			`${e1.amountCharged} ${e1.amountRefunded}`);
		check('end (user): amountReleased = charged less 20 % commission',
			e1.amountReleased === money(charged - commission), e1.amountReleased);
		check('end (user): endedAt now, after startedAt', near(e1.endedAt) && e1.endedAt >= started);
		checkHeaders('end 200', r, stack.port);
	}
	{
		const w = stack.ctl('wallet', 'show', s1.userName);
		check('end: the wallet got the refund back and the price is no longer frozen',
			cents(w.balance) === cents(walletBefore.balance) + cents(e1.amountRefunded) &&
			cents(w.frozen) === cents(walletBefore.frozen) - 9700, JSON.stringify(w));
		const lc = spawnSync(bin('sessionctl'), ['--db', stack.db, 'ledger', 'check'], { timeout: 10000 });
		check('end: sessionctl ledger check passes', lc.status === 0, String(lc.stdout) + lc.stderr);
	}
	{
		const before = stack.dump();
		const r = await stack.req('/api/sessions/end', { headers: bearer(s1.astrologerToken), body: {} });
		const j = r.json || {};
		check('end again (astrologer): 200 with the same settlement, alreadyEnded, nothing moved',
			r.status === 200 && j.alreadyEnded === true && j.amountCharged === e1.amountCharged &&
			j.amountRefunded === e1.amountRefunded && j.amountReleased === e1.amountReleased &&
			j.endedAt === e1.endedAt && j.reason === 'completed' && stack.dump() === before, r.text);
	}
	present.forEach((ws) => ws.close());
	for (const ep of ['validate', 'join']) {
		const before = stack.dump();
		const r = await stack.req(`/api/sessions/${ep}`, { body: { token: s1.userToken } });
		check(`${ep} after the end: 410 session_ended, database unchanged`,
			r.status === 410 && r.json.error.code === 'session_ended' && stack.dump() === before, r.status);
	}

	// 20 ends at once on one active session: one settlement, no 5xx.
	{
		const s3 = stack.book('video', { minutes: 20, price: '50.00' });
		stack.ctl('join', s3.sessionId, '--role', 'user');
		stack.ctl('join', s3.sessionId, '--role', 'astrologer');
		const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.req('/api/sessions/end',
			{ body: { token: i % 2 ? s3.userToken : s3.astrologerToken } })));
		const statuses = rs.map((r) => r.status);
		const oks = rs.filter((r) => r.status === 200).map((r) => r.json);
		check('20 concurrent ends: every answer 200 or 409, none 5xx',
			statuses.every((st) => st === 200 || st === 409), statuses.join(','));
		check('20 concurrent ends: exactly one answer did the settling',
			oks.filter((j) => j.alreadyEnded === false).length === 1);
		const key = (j) => [j.amountCharged, j.amountRefunded, j.amountReleased, j.billedMinutes, j.endedAt, j.reason].join('|');
		check('20 concurrent ends: every 200 reports the same settlement',
			oks.length > 0 && oks.every((j) => key(j) === key(oks[0])), oks.map(key).join(' '));
		const n = spawnSync('sqlite3', [stack.db,
			`SELECT (SELECT count(*) FROM settlements WHERE session_id='${s3.sessionId}') || ' ' ||
			        (SELECT count(*) FROM ledger_transactions WHERE kind='settle' AND session_id='${s3.sessionId}')`],
		{ encoding: 'utf8', timeout: 10000 });
		check('20 concurrent ends: one settlement row and one settle transaction in the database',
			n.stdout.trim() === '1 1', n.stdout.trim());
		const lc = spawnSync(bin('sessionctl'), ['--db', stack.db, 'ledger', 'check'], { timeout: 10000 });
		check('20 concurrent ends: ledger check passes', lc.status === 0);
	}

	// health.
	{
		const r = await stack.req('/api/health', { method: 'GET' });
		check('GET /api/health: 200 {status:"ok", serverTime}', r.status === 200 && r.json.status === 'ok' &&
			near(r.json.serverTime), r.text);
		checkHeaders('health 200', r, stack.port);
		const head = await stack.req('/api/health', { method: 'HEAD' });
		check('HEAD /api/health: 200 without a body', head.status === 200 && head.text === '');
		const p = await stack.req('/api/health', { body: {} });
		check('POST /api/health: 405 with Allow: GET, HEAD', p.status === 405 &&
			p.headers.get('allow') === 'GET, HEAD' && p.json.error.code === 'method_not_allowed');
	}

	// The page, static files, unknown API paths: headers on each, no-store where it matters.
	{
		const page = await stack.req(`/session/${s2.userToken}`, { method: 'GET' });
		// The stack serves the page with its files' version written in (deploy/page-version.sh).
		const version = spawnSync('sh', [path.join(__dirname, '../../deploy/page-version.sh'),
			path.join(__dirname, '../../html')], { encoding: 'utf8' }).stdout.trim();
		check('GET /session/<token>: 200 html, the session page with its version written in', page.status === 200 &&
			page.headers.get('content-type').startsWith('text/html') && /^[0-9a-f]{12}$/.test(version) &&
			page.text === fs.readFileSync(path.join(__dirname, '../../html/session.html'), 'utf8')
				.replaceAll('@VERSION@', version));
		checkHeaders('session page', page, stack.port);
		const stat = await stack.req('/session.html', { method: 'GET' });
		check('a static file: 200, cacheable (no no-store)', stat.status === 200 &&
			stat.headers.get('cache-control') === null);
		checkHeaders('static file', stat, stack.port, { noStore: false });
		const miss = await stack.req('/no-such-file.css', { method: 'GET' });
		check('a missing file: 404', miss.status === 404);
		checkHeaders('404 page', miss, stack.port, { noStore: false });
		const api404 = await stack.req('/api/sessions/nope', { body: {} });
		check('an unknown API path: 404 JSON not_found', api404.status === 404 && api404.json.error.code === 'not_found');
		checkHeaders('API 404', api404, stack.port);
		const big = await stack.req('/api/sessions/validate', { body: { pad: 'x'.repeat(20000) } });
		checkHeaders('413 from nginx', big, stack.port);
		const head = `{"token":"${s2.userToken}","pad":"`;
		const exact = await stack.req('/api/sessions/validate',
			{ body: `${head}${'x'.repeat(16384 - head.length - 2)}"}` });
		check('a body of exactly 16 KiB is read and answered', exact.status === 200 && exact.json.valid === true,
			`${exact.status}`);
	}

	// Things that put a token into a URL, so the log check below has something to catch.
	await stack.req(`/session/${s2.astrologerToken}`, { body: 'x'.repeat(20000), headers: { 'Content-Type': 'text/plain' } });
	{
		const q = await stack.req(`/api/sessions/validate?token=${s2.userToken}`, { body: {} });
		check('a token in the query string is refused: 400 query_not_allowed', q.status === 400 &&
			q.json && q.json.error.code === 'query_not_allowed');
		checkHeaders('400 from nginx', q, stack.port);
	}
	await stack.req(`/api/sessions/${s2.userToken}`, { body: {} });
	await stack.req(`/session/${s2.userToken}!`, { method: 'GET' });
	await stack.req(`/css/${s2.astrologerToken}.css`, { method: 'GET' });

	// The shipped rate limit, on a stack with the default settings.
	{
		const rl = await new Stack('ratelimit').start();
		allStacks.push(rl);
		const s = rl.book('chat');
		const before = rl.dump();
		const rs = await Promise.all(Array.from({ length: 60 }, () =>
			rl.req('/api/sessions/validate', { body: { token: s.userToken } })));
		const limited = rs.filter((r) => r.status === 429);
		check('60 requests at once from one address: some pass, the rest get 429',
			limited.length >= 20 && rs.some((r) => r.status === 200) &&
			rs.every((r) => r.status === 200 || r.status === 429),
			rs.map((r) => r.status).join(','));
		check('429 answers are JSON rate_limited', limited.length > 0 &&
			limited.every((r) => r.json && r.json.error.code === 'rate_limited'));
		if (limited.length) checkHeaders('429', limited[0], rl.port);
		check('rate-limited requests changed nothing', rl.dump() === before);
		await sleep(1100);
		const again = await rl.req('/api/sessions/validate', { body: { token: s.userToken } });
		check('after a pause the same client is served again', again.status === 200);
	}

	// Straight to the FastCGI programs.
	{
		const dir = tempDir('fcgi');
		const spawnFcgi = (name, db, n, as = name) => {
			const sock = path.join(dir, `${as}.sock`);
			const pidf = path.join(dir, `${as}.pid`);
			const r = spawnSync('spawn-fcgi', ['-F', String(n), '-s', sock, '-P', pidf, '--', bin(`api-${name}`), '--db', db],
				{ env: { ...process.env, SESSIONS_MINUTE_MS: String(MINUTE_MS) }, timeout: 10000 });
			const pids = r.status === 0 ? fs.readFileSync(pidf, 'utf8').trim().split(/\s+/).map(Number) : [];
			onExit(() => pids.forEach((p) => { try { process.kill(p, 'SIGKILL'); } catch (e) { /* gone */ } }));
			return { sock, pids };
		};
		const alive = (p) => {
			try { return !fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].startsWith('Z'); } catch (e) { return false; }
		};

		const h = spawnFcgi('health', path.join(dir, 'missing-dir', 'sessions.db'), 1);
		const out = await fcgiRequest(h.sock, { REQUEST_METHOD: 'GET' }, '');
		check('health with an unreachable database: 503 JSON unavailable',
			/^Status: 503/.test(out) && out.includes('"code":"unavailable"'), out.split('\r\n')[0]);

		// The program's own body checks, which nginx's stop before they matter.
		const j = spawnFcgi('join', stack.db, 1);
		const sj = stack.book('chat');
		const jbody = JSON.stringify({ token: sj.userToken });
		for (const [what, params, body, status, code] of [
			['a Content-Length over 16 KiB is refused unread', { CONTENT_LENGTH: '16385' }, '', 413, 'body_too_large'],
			['a Content-Length that is not a number', { CONTENT_LENGTH: '12x' }, jbody, 400, 'invalid_json'],
			['a body shorter than its Content-Length', { CONTENT_LENGTH: String(jbody.length + 10) }, jbody, 400, 'invalid_json'],
			['no Content-Type', { CONTENT_TYPE: '', CONTENT_LENGTH: String(jbody.length) }, jbody, 415, 'unsupported_media_type'],
		]) {
			const before = stack.dump();
			const ans = await fcgiRequest(j.sock, { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', ...params }, body);
			check(`api-join on its own: ${what} -> ${status} ${code}, database unchanged`,
				ans.startsWith(`Status: ${status} `) && ans.includes(`"code":"${code}"`) && stack.dump() === before,
				ans.split('\r\n')[0]);
		}

		const s4 = stack.book('chat');
		const v = spawnFcgi('validate', stack.db, 2);
		const body = JSON.stringify({ token: s4.userToken });
		let aliveAfterTerm = 0;
		const answer = await fcgiRequest(v.sock, {
			REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length),
		}, body, async () => {
			await sleep(300);
			v.pids.forEach((p) => process.kill(p, 'SIGTERM'));
			await sleep(300);
			aliveAfterTerm = v.pids.filter(alive).length;
		});
		check('SIGTERM: the worker holding a request stays until it has answered, the idle one leaves',
			aliveAfterTerm === 1, `${aliveAfterTerm} alive`);
		check('SIGTERM: the request in hand is answered in full', /^Status: 200/.test(answer) &&
			answer.includes('"valid":true'), answer.split('\r\n')[0]);
		let gone = false;
		for (let i = 0; i < 30 && !gone; i++) { gone = v.pids.every((p) => !alive(p)); if (!gone) await sleep(100); }
		check('SIGTERM: every worker has exited after its answer', gone);

		// One worker: once it has answered it closes the connection, so it
		// takes the next request while nginx still holds its end.
		const v1 = spawnFcgi('validate', stack.db, 1, 'validate-one');
		const vparams = { REQUEST_METHOD: 'POST', CONTENT_TYPE: 'application/json', CONTENT_LENGTH: String(body.length) };
		const held = await fcgiHeld(v1.sock, vparams, body);
		check('a worker that has answered has closed the connection, not only its sending side',
			/^Status: 200/.test(held.out) && held.out.includes('"valid":true') && !held.writable,
			`${held.out.split('\r\n')[0]}; a later write: ${held.error || 'went through'}`);
		const next = await fcgiRequest(v1.sock, vparams, body);
		check('the same worker answers the next connection in full', /^Status: 200/.test(next) &&
			next.includes('"valid":true'), next.split('\r\n')[0]);
		// A body left unread: the worker reads on until nginx's end closes, so
		// nginx's sending of the rest never meets a closed socket.
		const big = 'x'.repeat(16385);
		const unread = await fcgiHeld(v1.sock, { ...vparams, CONTENT_LENGTH: String(big.length) }, big);
		check('a body refused unread still gets its whole answer, and the worker waits for the sender',
			/^Status: 413/.test(unread.out) && unread.out.includes('"code":"body_too_large"') && unread.writable,
			`${unread.out.split('\r\n')[0]}; a later write: ${unread.error || 'went through'}`);

		for (const [what, env, word] of [
			['an ICE server with an http: url', { SESSIONS_ICE_SERVERS: '[{"urls":"http://example.org"}]' }, 'ice_servers'],
			['ice_servers that are not an array', { SESSIONS_ICE_SERVERS: '{"urls":"stun:x"}' }, 'ice_servers'],
			['turn_urls without turn_secret', { SESSIONS_TURN_URLS: 'turn:t.example.org' }, 'turn_urls'],
			['turn_secret without turn_urls', { SESSIONS_TURN_SECRET: 'x' }, 'turn_urls'],
			['a stun: url in turn_urls', { SESSIONS_TURN_URLS: 'stun:t.example.org', SESSIONS_TURN_SECRET: 'x' }, 'turn_urls'],
			['a return_url that is not http(s)', { SESSIONS_RETURN_URL: 'javascript:alert(1)' }, 'return_url'],
			['9 ICE servers (8 at most)', { SESSIONS_ICE_SERVERS: JSON.stringify(Array(9).fill({ urls: 'stun:s.example.org' })) }, 'ice_servers'],
			['ice_servers over 4096 bytes (8 servers, each url under 512)',
				{ SESSIONS_ICE_SERVERS: JSON.stringify(Array(8).fill({ urls: `stun:${'s'.repeat(500)}` })) }, 'ice_servers'],
			['9 turn_urls (8 at most)', { SESSIONS_TURN_URLS: Array(9).fill('turn:t.example.org').join(','), SESSIONS_TURN_SECRET: 'x' }, 'turn_urls'],
			['a turn_secret over 256 bytes', { SESSIONS_TURN_URLS: 'turn:t.example.org', SESSIONS_TURN_SECRET: 'x'.repeat(257) }, 'turn_secret'],
		]) {
			const bad = spawnSync(bin('api-validate'), ['--db', stack.db],
				{ env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 5000 });
			check(`api-validate refuses to start with ${what}, naming the setting`, bad.status === 2 &&
				bad.stderr.includes(word), `${bad.status} ${bad.stderr}`);
		}
		const conf = path.join(dir, 'sessions.conf');
		fs.writeFileSync(conf, `# test\ndatabase = ${stack.db}\n`);
		const byConf = spawnSync('spawn-fcgi', ['-F', '1', '-s', path.join(dir, 'conf.sock'), '-P', path.join(dir, 'conf.pid'),
			'--', bin('api-health')], { env: { PATH: process.env.PATH, SESSIONS_CONF: conf }, timeout: 10000 });
		if (byConf.status === 0) {
			const pid = Number(fs.readFileSync(path.join(dir, 'conf.pid'), 'utf8'));
			onExit(() => { try { process.kill(pid, 'SIGKILL'); } catch (e) { /* gone */ } });
		}
		const confOut = await fcgiRequest(path.join(dir, 'conf.sock'), { REQUEST_METHOD: 'GET' }, '');
		check('an API program finds the database in the configuration file without --db',
			/^Status: 200/.test(confOut) && confOut.includes('"status":"ok"'), confOut.split('\r\n')[0]);
		const nodb = spawnSync(bin('api-join'), [], { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 5000 });
		check('an API program without --db or SESSIONS_DB says so and exits 2', nodb.status === 2 &&
			nodb.stderr.includes('--db'));
	}

	// A program down: nginx answers 503 JSON and logs the failure (at crit),
	// so a request that carried a token in its URL must not get that far.
	{
		for (const p of fs.readFileSync(path.join(stack.dir, 'api-join.pid'), 'utf8').trim().split(/\s+/)) {
			try { process.kill(Number(p), 'SIGKILL'); } catch (e) { /* gone */ }
		}
		fs.rmSync(path.join(stack.dir, 'api-join.sock'), { force: true });
		await sleep(200);
		const down = await stack.req('/api/sessions/join', { body: { token: s2.userToken } });
		check('with api-join down: 503 JSON unavailable from nginx', down.status === 503 &&
			down.json && down.json.error.code === 'unavailable', down.status);
		const q = await stack.req(`/api/sessions/join?token=${s2.astrologerToken}`, { body: {} });
		check('with api-join down, a token in the query is still refused before the upstream (400)',
			q.status === 400 && q.json.error.code === 'query_not_allowed', q.status);
		const errlog = fs.readFileSync(path.join(stack.dir, 'nginx-error.log'), 'utf8');
		check('the error log recorded the failed upstream', errlog.includes('api-join.sock'), errlog.slice(0, 200));
	}

	// No token in any log or other file the stacks wrote (the database files aside).
	for (const st of allStacks) st.stop();
	const files = [];
	const walk = (d) => {
		for (const f of fs.readdirSync(d, { withFileTypes: true })) {
			const p = path.join(d, f.name);
			if (f.isDirectory()) walk(p);
			else if (!/sessions\.db(-wal|-shm|\.key)?$/.test(f.name)) files.push(p);
		}
	};
	for (const st of allStacks) walk(st.dir);
	const logs = files.filter((f) => f.endsWith('.log'));
	const access = fs.readFileSync(path.join(stack.dir, 'nginx-access.log'), 'utf8');
	check('the access log recorded the suite (with masked paths)', access.split('\n').length > 100 &&
		access.includes('/session/[token]') && access.includes('[masked]'));
	check('nginx and program logs exist to be checked', logs.some((f) => f.endsWith('nginx-error.log')) &&
		logs.some((f) => /api-validate\.log$/.test(f)), logs.map((f) => path.basename(f)).join(','));
	const tokens = [...allStacks.flatMap((st) => st.tokens), TURN_SECRET];
	const leaks = [];
	for (const f of files) {
		const text = fs.readFileSync(f, 'latin1');
		for (const t of tokens) if (text.includes(t)) leaks.push(path.basename(f));
	}
	check(`no issued token (${tokens.length - 1}) nor the TURN secret appears in any of ${files.length} files the stacks wrote`,
		tokens.length >= 12 && leaks.length === 0, [...new Set(leaks)].join(','));

	clearTimeout(watchdog);
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
	console.log(`not ok - the suite ran to its end # ${e && e.stack}`);
	process.exit(1);
});
