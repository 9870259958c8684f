// v1_hooks.test.js: /api/v1/webhooks through a real nginx, api-v1 and sessions-webhooks: endpoints, secrets shown once, rotation, deliveries, retry, and each refusal with the database unchanged.
'use strict';

const { execFileSync } = require('child_process');
const { check, failed, sleep, Stack } = require('./stack');
const { Receiver } = require('../lib/receiver.js');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 150 s');
	process.exit(1);
}, 150000);

const auth = (key) => ({ Authorization: `Bearer ${key}` });
const dumpNoAudit = (stack) => stack.dump().split('\n').filter((l) => !l.startsWith('INSERT INTO api_audit')).join('\n');
const sql = (stack, q) => execFileSync('sqlite3', [stack.db, q], { encoding: 'utf8' }).trim();

function client(stack, key) {
	return (p, opts = {}) => stack.req(`/api/v1${p}`, {
		method: opts.method || (opts.body !== undefined ? 'POST' : 'GET'),
		headers: { ...(opts.key === null ? {} : auth(key)), ...(opts.headers || {}) },
		body: opts.body,
	});
}

// Each refusal: its status and code, and not a row changed but the audit's.
async function refusals(stack, api, cases) {
	for (const [what, p, opts, status, code] of cases) {
		// The deliverer records answers up to 100 ms after they came: let it finish first.
		await until('nothing pending', () => sql(stack, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") === '0', 10000);
		const before = dumpNoAudit(stack);
		const r = await api(p, opts);
		check(`${what}: ${status} ${code}, nothing changed`, r.status === status && r.json && r.json.error &&
			r.json.error.code === code && dumpNoAudit(stack) === before, `${r.status} ${r.text}`);
	}
}

async function until(what, cond, ms = 30000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await cond();
		if (v) return v;
		if (Date.now() > end) return null;
		await sleep(100);
	}
}

(async () => {
	// Without webhook_allow_private: a receiver on this machine is refused.
	const strict = await new Stack('v1hooks-strict', { SESSIONS_API_RATE: '1000r/s', SESSIONS_API_BURST: '1000' }).start();
	const api0 = client(strict, strict.ctl('apikey', 'add', 'shop').key);
	await refusals(strict, api0, [
		['a loopback URL without webhook_allow_private', '/webhooks', { body: { url: 'http://127.0.0.1:9/hook' } }, 400, 'invalid_field'],
		['a private address', '/webhooks', { body: { url: 'http://192.168.1.10/hook' } }, 400, 'invalid_field'],
		['an IPv6 loopback', '/webhooks', { body: { url: 'http://[::1]/hook' } }, 400, 'invalid_field'],
		['a URL that is not http(s)', '/webhooks', { body: { url: 'ftp://example.com/hook' } }, 400, 'invalid_field'],
		['a URL with user info', '/webhooks', { body: { url: 'https://u:p@example.com/' } }, 400, 'invalid_field'],
		['a URL over 512 bytes', '/webhooks', { body: { url: `https://e.com/${'a'.repeat(510)}` } }, 400, 'invalid_field'],
		['url as a number', '/webhooks', { body: { url: 5 } }, 400, 'invalid_field'],
		['no url', '/webhooks', { body: {} }, 400, 'invalid_field'],
		['an unknown field', '/webhooks', { body: { url: 'http://127.0.0.1:9/', events: ['x'] } }, 400, 'invalid_field'],
		['no key', '/webhooks', { body: { url: 'http://127.0.0.1:9/' }, key: null }, 401, 'missing_api_key'],
		['DELETE on the list', '/webhooks', { method: 'DELETE' }, 405, 'method_not_allowed'],
		['rotate an unknown endpoint', '/webhooks/7/rotate', { method: 'POST' }, 404, 'not_found'],
		['remove an id that is no number', '/webhooks/abc/remove', { method: 'POST' }, 404, 'not_found'],
		['remove id 0', '/webhooks/0/remove', { method: 'POST' }, 404, 'not_found'],
		['retry an unknown delivery', '/webhooks/deliveries/99/retry', { method: 'POST' }, 404, 'not_found'],
		['GET on retry', '/webhooks/deliveries/1/retry', {}, 405, 'method_not_allowed'],
		['deliveries of an unknown status', '/webhooks/deliveries?status=lost', {}, 400, 'invalid_field'],
		['a limit of 0', '/webhooks/deliveries?limit=0', {}, 400, 'invalid_field'],
		['a limit over 200', '/webhooks/deliveries?limit=201', {}, 400, 'invalid_field'],
		['an unknown query parameter', '/webhooks/deliveries?endpoint=1', {}, 400, 'invalid_field'],
	]);
	const why = (await api0('/webhooks', { body: { url: 'http://127.0.0.1:9/hook' } })).json;
	check('the refusal names the setting that would allow it', /webhook_allow_private/.test(why.error.message), JSON.stringify(why));
	let r = await api0('/webhooks');
	check('GET /webhooks with none: an empty list', r.status === 200 && Array.isArray(r.json.webhooks) && r.json.webhooks.length === 0, r.text);
	strict.stop();

	// With it, and a short retry schedule: a receiver here gets the events.
	const stack = await new Stack('v1hooks', {
		SESSIONS_API_RATE: '1000r/s', SESSIONS_API_BURST: '1000', SESSIONS_WEBHOOK_ALLOW_PRIVATE: '1',
		SESSIONS_WEBHOOK_RETRY_DIVISOR: '10000', SESSIONS_WEBHOOK_TIMEOUT_SECONDS: '1',
	}).start();
	const api = client(stack, stack.ctl('apikey', 'add', 'shop').key);
	const rx = new Receiver();
	await rx.start();

	const idem = { 'Idempotency-Key': 'hook-1' };
	r = await api('/webhooks', { body: { url: rx.url() }, headers: idem });
	const ep = r.json || {};
	check('POST /webhooks: 201 with id, url and a whsec_ secret', r.status === 201 && Number.isInteger(ep.id) &&
		ep.url === rx.url() && /^whsec_[A-Za-z0-9+/]{43}=$/.test(ep.secret), r.text);
	rx.secrets = [ep.secret];
	r = await api('/webhooks', { body: { url: rx.url() }, headers: idem });
	check('the same Idempotency-Key replays the answer and adds nothing', r.status === 201 && r.json.id === ep.id &&
		sql(stack, 'SELECT count(*) FROM webhook_endpoints') === '1', r.text);
	r = await api('/webhooks', { body: { url: `${rx.url()}?other` }, headers: idem });
	check('the key with another body: 422', r.status === 422 && r.json.error.code === 'idempotency_key_reused', r.text);
	check('the secret is stored only sealed', !stack.dump().includes(ep.secret.slice(6, 30)));

	r = await api('/webhooks');
	check('GET /webhooks: the endpoint, enabled, never its secret', r.status === 200 && r.json.webhooks.length === 1 &&
		r.json.webhooks[0].id === ep.id && r.json.webhooks[0].enabled === true && !r.text.includes(ep.secret.slice(6)) &&
		!/secret"/.test(r.text), r.text);

	// A booking made through the API is delivered, signed.
	await api('/users', { body: { name: 'Asha', balance: '100.00' } });
	await api('/astrologers', { body: { name: 'Vega' } });
	const b = (await api('/bookings', { body: { user: 'Asha', astrologer: 'Vega', type: 'chat', minutes: 10, price: '20.00' } })).json;
	const got = await until('booking.created delivered', async () => {
		const d = (await api('/webhooks/deliveries?status=delivered')).json.deliveries;
		return d.find((x) => x.type === 'booking.created' && x.subject === b.sessionId) && d;
	});
	const first = got && got.find((x) => x.type === 'booking.created');
	check('GET /webhooks/deliveries?status=delivered: booking.created, sequence 1, one try answered 200', first &&
		first.sequence === 1 && first.attempts === 1 && first.lastStatus === 200 && first.endpoint === ep.id &&
		first.doneAt && first.lastError === null && /^msg_/.test(first.eventId), JSON.stringify(got));
	check('the receiver got it, signed with the secret', rx.got.some((x) => x.event.type === 'booking.created' &&
		x.signers.length === 1) && rx.badSignatures === 0, rx.badSignatures);
	r = await api('/webhooks/deliveries?status=failed');
	check('?status=failed: none yet', r.status === 200 && r.json.deliveries.length === 0, r.text);

	// The receiver fails: the delivery retries on the schedule, then is failed.
	rx.mode = '500';
	await api('/users/Asha/topups', { body: { amount: '5.00', reference: 'r1' } });
	const failing = await until('the failure', async () => {
		const d = (await api('/webhooks/deliveries?status=failed')).json.deliveries;
		return d.length ? d[0] : null;
	}, 45000);
	check('after every try answered 500 the delivery is failed, with its last status', failing &&
		failing.type === 'wallet.topped_up' && failing.status === 'failed' && failing.attempts === 8 &&
		failing.lastStatus === 500 && failing.nextAttemptAt === null, JSON.stringify(failing));
	rx.mode = 'ok';
	const n = rx.got.length;
	r = await api(`/webhooks/deliveries/${failing && failing.id}/retry`, { method: 'POST', headers: { 'Idempotency-Key': 'retry-1' } });
	check('POST /webhooks/deliveries/{id}/retry: pending again', r.status === 200 && r.json.status === 'pending', r.text);
	const redone = await until('the re-sent delivery', async () => {
		const d = (await api('/webhooks/deliveries?limit=200')).json.deliveries.find((x) => x.id === failing.id);
		return d && d.status === 'delivered' && d;
	});
	check('... and it is delivered from its first try, with the same event id', redone && redone.attempts === 1 &&
		rx.got.slice(n).some((x) => x.id === failing.eventId), JSON.stringify(redone));
	r = await api('/webhooks/deliveries?limit=1');
	check('?limit=1: the newest alone', r.status === 200 && r.json.deliveries.length === 1, r.text);

	// Rotation: a new secret shown once; both sign during the overlap.
	r = await api(`/webhooks/${ep.id}/rotate`, { method: 'POST' });
	const rot = r.json || {};
	check('POST /webhooks/{id}/rotate: 201 with a new secret and the overlap\'s end', r.status === 201 && rot.id === ep.id &&
		/^whsec_/.test(rot.secret) && rot.secret !== ep.secret &&
		Math.abs(Date.parse(rot.previousSecretUntil) - Date.now() - 86400000) < 60000, r.text);
	rx.secrets = [ep.secret, rot.secret];
	const m = rx.got.length;
	await api('/users/Asha/topups', { body: { amount: '1.00', reference: 'r2' } });
	await until('the next delivery', () => rx.got.length > m, 10000);
	check('the next event is signed by the old and the new secret', rx.got[m] && rx.got[m].signers.length === 2,
		rx.got[m] && rx.got[m].signature);

	// The edges: a URL of 512 bytes is taken, 513 is not; a page of 200 deliveries is.
	const long = (n) => `http://127.0.0.1:9/${'a'.repeat(n - 'http://127.0.0.1:9/'.length)}`;
	r = await api('/webhooks', { body: { url: long(512) } });
	check('a URL of exactly 512 bytes is taken', r.status === 201 && r.json.url.length === 512, r.text);
	if (r.status === 201) await api(`/webhooks/${r.json.id}/remove`, { method: 'POST' });
	await refusals(stack, api, [
		['a URL of 513 bytes', '/webhooks', { body: { url: long(513) } }, 400, 'invalid_field'],
	]);
	r = await api('/webhooks/deliveries?limit=200&status=delivered');
	check('?limit=200 is the largest page, and takes a status beside it', r.status === 200 &&
		r.json.deliveries.every((d) => d.status === 'delivered'), r.text.slice(0, 200));

	// The cap: sixteen endpoints; the seventeenth is refused and changes nothing.
	for (let i = 0; i < 15; i++) await api('/webhooks', { body: { url: `http://127.0.0.1:9/cap${i}` } });
	await refusals(stack, api, [
		['a seventeenth endpoint', '/webhooks', { body: { url: 'http://127.0.0.1:9/cap16' } }, 429, 'limit_reached'],
	]);
	const all = (await api('/webhooks')).json.webhooks;
	check('sixteen endpoints listed', all.length === 16, all.length);
	for (const w of all.filter((x) => x.id !== ep.id)) await api(`/webhooks/${w.id}/remove`, { method: 'POST' });
	r = await api(`/webhooks/${ep.id}/remove`, { method: 'POST' });
	check('POST /webhooks/{id}/remove: gone, with its deliveries', r.status === 200 && r.json.removed === true &&
		sql(stack, 'SELECT count(*) FROM webhook_endpoints') === '0' &&
		sql(stack, 'SELECT count(*) FROM webhook_deliveries') === '0', r.text);
	await refusals(stack, api, [
		['remove it again', `/webhooks/${ep.id}/remove`, { method: 'POST' }, 404, 'not_found'],
		['rotate a removed endpoint', `/webhooks/${ep.id}/rotate`, { method: 'POST' }, 404, 'not_found'],
	]);
	const audit = sql(stack, "SELECT method || ' ' || path || ' ' || status FROM api_audit WHERE path LIKE '/api/v1/webhooks%'");
	check('the calls are audited, never with a secret', /POST \/api\/v1\/webhooks 201/.test(audit) &&
		!audit.includes('whsec_'), audit.split('\n').slice(0, 3).join(' / '));
	await rx.stop();
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
})();
