// v1.test.js: the booking API (/api/v1) through a real nginx and api-v1 on a real database: answers, refusals, audit, links.
'use strict';

const fs = require('fs');
const path = require('path');
const WebSocket = require('ws');
const { check, failed, sleep, Stack } = require('./stack');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const J = 'application/json';
const auth = (key) => ({ Authorization: `Bearer ${key}` });

// The database as text, less the audit rows every keyed call adds by design.
const dumpNoAudit = (stack) => stack.dump().split('\n').filter((l) => !l.startsWith('INSERT INTO api_audit')).join('\n');
const count = (stack, sql) => Number(require('child_process')
	.execFileSync('sqlite3', [stack.db, sql], { encoding: 'utf8' }).trim());

(async () => {
	// A high rate limit: this suite is about the API, api.test.js checks the limit.
	const stack = await new Stack('v1', { SESSIONS_API_RATE: '1000r/s', SESSIONS_API_BURST: '1000' }).start();
	const key = stack.ctl('apikey', 'add', 'shop site').key;
	const revoked = stack.ctl('apikey', 'add', 'old site').key;
	stack.ctl('apikey', 'revoke', 'old site');
	check('apikey add prints sk_ and 43 URL-safe characters', /^sk_[A-Za-z0-9_-]{43}$/.test(key), key && key.slice(0, 3));
	check('apikey list names the keys, their state, never the key',
		(() => {
			const list = stack.ctl('apikey', 'list');
			return list.length === 2 && list[0].name === 'shop site' && list[0].revokedAt === null &&
				typeof list[1].revokedAt === 'string' && !JSON.stringify(list).includes(key.slice(3));
		})());

	const api = (p, opts = {}) => stack.req(`/api/v1${p}`, {
		method: opts.method || (opts.body !== undefined ? 'POST' : 'GET'),
		headers: { ...(opts.key === null ? {} : auth(opts.key || key)), ...(opts.headers || {}) },
		body: opts.body,
	});

	// Each endpoint's answer.
	let r = await api('/users', { body: { name: 'Asha Rao', balance: '100.00' } });
	check('POST /users: 201 with user, balance, frozen', r.status === 201 && r.json.user === 'Asha Rao' &&
		r.json.balance === '100.00' && r.json.frozen === '0.00', r.text);
	r = await api('/users', { body: { name: 'Ravi' } });
	check('POST /users without a balance starts at 0.00', r.status === 201 && r.json.balance === '0.00', r.text);
	r = await api(`/users/${encodeURIComponent('Asha Rao')}/topups`, { body: { amount: '25.50', reference: 'pay_001' } });
	check('POST /users/{name}/topups: the wallet after it and the reference', r.status === 200 &&
		r.json.balance === '125.50' && r.json.reference === 'pay_001', r.text);
	check('the top-up is one ledger transaction carrying the reference',
		count(stack, "SELECT count(*) FROM ledger_transactions WHERE kind = 'topup' AND reference = 'pay_001'") === 1);
	r = await api('/astrologers', { body: { name: 'Vega' } });
	check('POST /astrologers: 201 with the name and 0.00 earned', r.status === 201 && r.json.astrologer === 'Vega' &&
		r.json.earnings === '0.00', r.text);
	r = await api('/astrologers');
	check('GET /astrologers lists them with earnings', r.status === 200 &&
		r.json.astrologers.length === 1 && r.json.astrologers[0].astrologer === 'Vega', r.text);

	const starts = new Date(Date.now() + 60000).toISOString();
	r = await api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'video', minutes: 30, price: '50.00', startsAt: starts } });
	const b = r.json || {};
	const fields = ['sessionId', 'roomId', 'userToken', 'astrologerToken', 'userUrl', 'astrologerUrl', 'sessionType', 'status', 'paidMinutes', 'price', 'scheduledStartTime'];
	check('POST /bookings: 201 with the fields sessionctl book prints', r.status === 201 &&
		fields.every((f) => f in b) && b.sessionType === 'video' && b.price === '50.00' && b.paidMinutes === 30 &&
		b.scheduledStartTime === starts && b.userUrl === `${stack.base}/session/${b.userToken}`, r.text);
	stack.tokens.push(b.userToken, b.astrologerToken);
	const book = stack.ctl('book', '--user', 'Asha Rao', '--astrologer', 'Vega', '--type', 'chat', '--minutes', '5', '--price', '1.00');
	check('... the same keys as sessionctl book', JSON.stringify(Object.keys(book).sort()) === JSON.stringify(Object.keys(b).sort()),
		`${Object.keys(book)} vs ${Object.keys(b)}`);
	r = await api(`/users/${encodeURIComponent('Asha Rao')}`);
	check('GET /users/{name}: the price is frozen', r.status === 200 && r.json.balance === '74.50' && r.json.frozen === '51.00', r.text);

	r = await api(`/bookings/${b.sessionId}`);
	check('GET /bookings/{id}: status, presence, times, bill, no tokens', r.status === 200 && r.json.status === 'scheduled' &&
		r.json.present && r.json.present.user === false && Array.isArray(r.json.presence) && r.json.settlement === null &&
		r.json.amountRefunded === '50.00' && r.json.scheduledStartTime === starts &&
		!r.text.includes(b.userToken) && !r.text.includes(b.astrologerToken) && !/Token|Url/.test(r.text), r.text);

	// Pages: oldest start first, a cursor to the next page, filters.
	for (let i = 0; i < 3; i++) {
		stack.ctl('book', '--user', 'Asha Rao', '--astrologer', 'Vega', '--type', 'chat', '--minutes', '5', '--price', '1.00',
			'--starts', new Date(Date.now() + (i + 2) * 3600000).toISOString());
	}
	const seen = [];
	let cursor = '';
	let pages = 0;
	do {
		r = await api(`/bookings?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
		if (r.status !== 200) break;
		seen.push(...r.json.bookings);
		cursor = r.json.nextCursor;
		pages++;
	} while (cursor && pages < 10);
	check('GET /bookings pages by 2 through all 5, by start, each once', r.status === 200 && pages === 3 && seen.length === 5 &&
		new Set(seen.map((s) => s.sessionId)).size === 5 &&
		seen.every((s, i) => i === 0 || s.scheduledStartTime >= seen[i - 1].scheduledStartTime) &&
		seen.every((s) => !('userToken' in s)), `${r.status} ${pages} pages, ${seen.length}`);
	r = await api(`/bookings?status=scheduled&from=${encodeURIComponent(new Date(Date.now() + 90 * 60000).toISOString())}`);
	check('GET /bookings?status=&from= keeps those starting later', r.status === 200 && r.json.bookings.length === 3 &&
		r.json.nextCursor === null, r.text);

	// Rotate a link: the old one dies at once, the new one opens the room.
	r = await api(`/bookings/${b.sessionId}/links`, { body: { role: 'user' } });
	check('POST /bookings/{id}/links: 201 with a new token and URL', r.status === 201 && /^[A-Za-z0-9_-]{43}$/.test(r.json.token) &&
		r.json.url === `${stack.base}/session/${r.json.token}` && r.json.participantType === 'user', r.text);
	const fresh = r.json.token;
	stack.tokens.push(fresh);
	const oldv = await stack.req('/api/sessions/validate', { body: { token: b.userToken } });
	const newv = await stack.req('/api/sessions/validate', { body: { token: fresh } });
	check('the old link is refused (unknown_link), the new one validates', oldv.status === 404 &&
		oldv.json.error.code === 'unknown_link' && newv.status === 200 && newv.json.sessionId === b.sessionId,
		`${oldv.status} ${newv.status}`);

	// A rotated link's open connection is cut too.
	const room = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { headers: { Origin: stack.base } });
	const joined = await new Promise((resolve) => {
		room.once('open', () => room.send(JSON.stringify({ type: 'join-room', token: book.userToken })));
		room.on('message', (d) => { if (JSON.parse(d).type === 'joined') resolve(true); });
		room.once('error', () => resolve(false));
		setTimeout(() => resolve(false), 5000);
	});
	const closed = new Promise((resolve) => room.once('close', () => resolve(Date.now())));
	const rotatedAt = Date.now();
	r = await api(`/bookings/${book.sessionId}/links`, { body: { role: 'user' } });
	stack.tokens.push(r.json && r.json.token);
	const cutAt = await Promise.race([closed, sleep(5000).then(() => 0)]);
	check('rotating a link through the API cuts its open room connection at once (within 3 s: the relay looks every second)', joined && r.status === 201 &&
		cutAt > 0 && cutAt - rotatedAt < 3000, `joined ${joined}, ${r.status}, cut after ${cutAt ? cutAt - rotatedAt : 'never'} ms`);
	room.terminate();

	// Cancel before both joined: a full refund.
	r = await api(`/bookings/${b.sessionId}/cancel`, { method: 'POST' });
	check('POST /bookings/{id}/cancel: cancelled, the whole price refunded', r.status === 200 && r.json.status === 'cancelled' &&
		r.json.refunded === '50.00' && r.json.charged === '0.00', r.text);
	r = await api(`/users/${encodeURIComponent('Asha Rao')}`);
	// 125.50 less the five 1.00 bookings still held.
	check('... and back in the wallet', r.status === 200 && r.json.balance === '121.50' && r.json.frozen === '4.00', r.text);

	// A session that ran: earnings per astrologer.
	const ran = stack.ctl('book', '--user', 'Asha Rao', '--astrologer', 'Vega', '--type', 'chat', '--minutes', '1', '--price', '10.00');
	stack.ctl('join', ran.sessionId, '--role', 'user');
	stack.ctl('join', ran.sessionId, '--role', 'astrologer');
	stack.ctl('end', ran.sessionId, '--reason', 'completed');
	const live = stack.ctl('book', '--user', 'Asha Rao', '--astrologer', 'Vega', '--type', 'chat', '--minutes', '5', '--price', '1.00');
	stack.ctl('join', live.sessionId, '--role', 'user');
	stack.ctl('join', live.sessionId, '--role', 'astrologer');
	r = await api(`/reports/earnings?from=${encodeURIComponent(new Date(Date.now() - 3600000).toISOString())}`);
	const vega = r.json && r.json.astrologers.find((a) => a.astrologer === 'Vega');
	check('GET /reports/earnings: per astrologer sessions, billed minutes, charged, commission, earnings', r.status === 200 && vega &&
		vega.sessions === 2 && vega.billedMinutes >= 0 && ['charged', 'commission', 'earnings'].every((k) => /^\d+\.\d\d$/.test(vega[k])) &&
		typeof vega.billedMinutes === 'number', r.text);
	r = await api('/reports/earnings?to=2000-01-01T00:00:00Z');
	check('... an empty range has none', r.status === 200 && r.json.astrologers.length === 0, r.text);
	r = await api('/ledger/check');
	check('GET /ledger/check: ok with no problems', r.status === 200 && r.json.ok === true && r.json.problems.length === 0, r.text);

	// Refusals: status, JSON code, and nothing changed but the audit.
	const big = JSON.stringify({ name: 'x'.repeat(17 * 1024) });
	const cases = [
		['no key', () => api('/users', { key: null, body: { name: 'N1' } }), 401, 'missing_api_key'],
		['a Basic Authorization', () => api('/users', { key: null, headers: { Authorization: 'Basic c2s6eA==' }, body: { name: 'N1' } }), 401, 'missing_api_key'],
		['an unknown key', () => api('/users', { key: `sk_${'A'.repeat(43)}`, body: { name: 'N1' } }), 401, 'invalid_api_key'],
		['a join token as the key', () => api('/users', { key: fresh, body: { name: 'N1' } }), 401, 'invalid_api_key'],
		['a revoked key', () => api('/users', { key: revoked, body: { name: 'N1' } }), 401, 'invalid_api_key'],
		['malformed JSON', () => api('/users', { body: '{"name":' }), 400, 'invalid_json'],
		['a JSON array', () => api('/users', { body: '[1]' }), 400, 'not_an_object'],
		['text/plain', () => api('/users', { headers: { 'Content-Type': 'text/plain' }, body: '{"name":"N1"}' }), 415, 'unsupported_media_type'],
		['an oversized body', () => api('/users', { body: big }), 413, 'body_too_large'],
		['a name that is a number', () => api('/users', { body: { name: 5 } }), 400, 'invalid_field'],
		['minutes as a string', () => api('/bookings', { body: { user: 'Ravi', astrologer: 'Vega', type: 'chat', minutes: '5', price: '1.00' } }), 400, 'invalid_field'],
		['minutes as a fraction', () => api('/bookings', { body: { user: 'Ravi', astrologer: 'Vega', type: 'chat', minutes: 5.5, price: '1.00' } }), 400, 'invalid_field'],
		['minutes over 480', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'chat', minutes: 481, price: '1.00' } }), 400, 'invalid_field'],
		['a price as a number', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'chat', minutes: 5, price: 1 } }), 400, 'invalid_field'],
		['a 3-decimal price', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'chat', minutes: 5, price: '1.005' } }), 400, 'invalid_field'],
		['a negative top-up', () => api('/users/Ravi/topups', { body: { amount: '-5.00', reference: 'r' } }), 400, 'invalid_field'],
		['a 3-decimal top-up', () => api('/users/Ravi/topups', { body: { amount: '5.001', reference: 'r' } }), 400, 'invalid_field'],
		['a zero top-up', () => api('/users/Ravi/topups', { body: { amount: '0.00', reference: 'r' } }), 400, 'invalid_field'],
		['a top-up without a reference', () => api('/users/Ravi/topups', { body: { amount: '5.00' } }), 400, 'invalid_field'],
		['an unknown type', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'audio', minutes: 5, price: '1.00' } }), 400, 'invalid_field'],
		['an unknown field', () => api('/astrologers', { body: { name: 'N2', rating: 5 } }), 400, 'invalid_field'],
		['a bad startsAt', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Vega', type: 'chat', minutes: 5, price: '1.00', startsAt: 'tomorrow' } }), 400, 'invalid_field'],
		['an unknown user', () => api('/bookings', { body: { user: 'Nobody', astrologer: 'Vega', type: 'chat', minutes: 5, price: '1.00' } }), 404, 'not_found'],
		['an unknown astrologer', () => api('/bookings', { body: { user: 'Asha Rao', astrologer: 'Nobody', type: 'chat', minutes: 5, price: '1.00' } }), 404, 'not_found'],
		['a price over the balance', () => api('/bookings', { body: { user: 'Ravi', astrologer: 'Vega', type: 'chat', minutes: 5, price: '1.00' } }), 402, 'insufficient_funds'],
		['a taken name', () => api('/astrologers', { body: { name: 'Vega' } }), 409, 'name_taken'],
		['a top-up for an unknown user', () => api('/users/Nobody/topups', { body: { amount: '5.00', reference: 'r' } }), 404, 'not_found'],
		['an unknown booking', () => api('/bookings/00000000-0000-4000-8000-000000000000'), 404, 'not_found'],
		['a cancel once both joined', () => api(`/bookings/${live.sessionId}/cancel`, { method: 'POST' }), 409, 'conflict'],
		['a cancel of a cancelled booking', () => api(`/bookings/${b.sessionId}/cancel`, { method: 'POST' }), 410, 'session_ended'],
		['a link for no such role', () => api(`/bookings/${book.sessionId}/links`, { body: { role: 'admin' } }), 400, 'invalid_field'],
		['a page of 0', () => api('/bookings?limit=0'), 400, 'invalid_field'],
		['a page of 101', () => api('/bookings?limit=101'), 400, 'invalid_field'],
		['nine query parameters', () => api(`/bookings?${Array.from({ length: 9 }, () => 'limit=1').join('&')}`), 400, 'invalid_field'],
		['a query of 1 KiB', () => api(`/bookings?cursor=${'a'.repeat(1024)}`), 400, 'invalid_field'],
		['a reference of 101 characters', () => api('/users/Ravi/topups', { body: { amount: '5.00', reference: 'r'.repeat(101) } }), 400, 'invalid_field'],
		['a name of 101 characters', () => api('/astrologers', { body: { name: 'n'.repeat(101) } }), 400, 'invalid_field'],
		['a path of seven segments', () => api('/bookings/a/b/c/d/e/f'), 404, 'not_found'],
		['a made-up cursor', () => api('/bookings?cursor=abc'), 400, 'invalid_field'],
		['an unknown query parameter', () => api('/bookings?sort=desc'), 400, 'invalid_field'],
		['a query on a POST', () => api('/astrologers?name=N3', { body: { name: 'N3' } }), 400, 'invalid_field'],
		['an Idempotency-Key of 256 characters', () => api('/astrologers', { headers: { 'Idempotency-Key': 'k'.repeat(256) }, body: { name: 'N4' } }), 400, 'invalid_field'],
		['DELETE on a user', () => api('/users/Ravi', { method: 'DELETE' }), 405, 'method_not_allowed'],
		['GET on topups', () => api('/users/Ravi/topups'), 405, 'method_not_allowed'],
		['an unknown path', () => api('/wallets'), 404, 'not_found'],
		['a path with an empty segment', () => api('/users//topups', { body: { amount: '1.00', reference: 'r' } }), 404, 'not_found'],
	];
	for (const [what, send, status, code] of cases) {
		const before = dumpNoAudit(stack);
		const res = await send();
		const after = dumpNoAudit(stack);
		const ok = res.status === status && res.json && res.json.error && res.json.error.code === code &&
			typeof res.json.error.message === 'string' && res.json.error.message.length > 0;
		check(`refused: ${what} -> ${status} ${code}, database unchanged`, ok && before === after,
			`${res.status} ${res.text.slice(0, 160)} db ${before === after ? 'same' : 'CHANGED'}`);
	}
	r = await api('/astrologers', { headers: { 'Idempotency-Key': 'k'.repeat(255) }, body: { name: 'Orion' } });
	check('an Idempotency-Key of 255 characters is taken', r.status === 201, r.text);
	r = await api('/users/Ravi/topups', { body: { amount: '5.00', reference: 'r'.repeat(100) } });
	check('a reference of 100 characters is taken', r.status === 200, r.text);
	r = await api('/users/Ravi', { method: 'DELETE' });
	check('a 405 names the methods the path takes in Allow', r.headers.get('allow') === 'GET, HEAD', r.headers.get('allow'));
	r = await api('/ledger/check');
	check('the refusals left the money adding up', r.json && r.json.ok === true);

	// The console's page: served by nginx as it is, never cached, with the site's headers.
	const page = await stack.req('/console', { method: 'GET' });
	check('GET /console: the console page, no-store, with the security headers', page.status === 200 &&
		/text\/html/.test(page.headers.get('content-type')) && page.text.includes('/js/console.js') &&
		page.headers.get('cache-control') === 'no-store' &&
		/frame-ancestors 'none'/.test(page.headers.get('content-security-policy') || '') &&
		page.headers.get('x-content-type-options') === 'nosniff', `${page.status} ${page.headers.get('cache-control')}`);
	// Its CSS and JavaScript under /v/<version>/, as the session page's: an upgrade is a new URL, never a stale file.
	const version = require('child_process').execFileSync('sh', [path.join(__dirname, '../../deploy/page-version.sh'),
		path.join(__dirname, '../../html')], { encoding: 'utf8' }).trim();
	check('the console names its files with their version written in', page.text ===
		fs.readFileSync(path.join(__dirname, '../../html/console.html'), 'utf8').replaceAll('@VERSION@', version) &&
		page.text.includes(`src="/v/${version}/js/console.js"`), version);
	const assets = [...page.text.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
	const answers = await Promise.all(assets.map((a) => stack.req(a, { method: 'GET' })));
	check('every file the console names is under /v/<version>/, found, and kept a year as immutable',
		assets.length >= 4 && assets.every((a) => a.startsWith(`/v/${version}/`)) &&
		answers.every((a) => a.status === 200 && a.headers.get('cache-control') === 'public, max-age=31536000, immutable'),
		assets.map((a, i) => `${a} ${answers[i].status} ${answers[i].headers.get('cache-control')}`).join(', '));

	// The audit: every keyed call, with its key's name; never a key, never a link.
	const audit = require('child_process').execFileSync('sqlite3', [stack.db, 'SELECT * FROM api_audit'], { encoding: 'utf8' });
	const rows = audit.trim().split('\n');
	check('every keyed call left an audit row: name, method, path, status',
		rows.some((l) => /^\d+\|shop site\|POST\|\/api\/v1\/bookings\|201\|\d+$/.test(l)) &&
		rows.some((l) => /^\d+\|old site\|POST\|\/api\/v1\/users\|401\|\d+$/.test(l)) &&
		rows.some((l) => /^\d+\|\|POST\|\/api\/v1\/users\|401\|\d+$/.test(l)) &&
		rows.some((l) => /\|GET\|\/api\/v1\/bookings\|200\|/.test(l)), rows.slice(0, 3).join(' / '));
	check('a call without a key is not audited (nothing to name)', !rows.some((l) => /\|N1\|/.test(l)));
	const dbText = stack.dump();
	const secrets = [key, key.slice(3), revoked, revoked.slice(3), ...stack.tokens];
	check('neither the database nor the nginx log holds an API key or a join token',
		secrets.every((s) => !dbText.includes(s)) &&
		secrets.every((s) => !fs.readFileSync(path.join(stack.dir, 'nginx-access.log'), 'utf8').includes(s)),
		secrets.filter((s) => dbText.includes(s)).length);
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
})();
