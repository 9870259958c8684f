// v1_idem.test.js: Idempotency-Key on the booking API: replay, reuse, scope, 24 h, 20 racing POSTs, and retries after kill -9.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { bin, check, failed, onExit, sleep, Stack, fcgiRequest } = require('./stack');

const LEASE_MS = 15000; // DB_IDEM_LEASE_MS: how long a claim of a request that may still run holds
const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 150 s');
	process.exit(1);
}, 150000);

const sql = (stack, q, ...args) => execFileSync('sqlite3', [stack.db, ...args, q], { encoding: 'utf8' }).trim();
const bookingsOf = (stack, user) =>
	Number(sql(stack, `SELECT count(*) FROM bookings b JOIN users u ON u.id = b.user_id WHERE u.name = '${user}'`));

(async () => {
	const stack = await new Stack('idem', { SESSIONS_API_RATE: '1000r/s', SESSIONS_API_BURST: '1000' }).start();
	const key = stack.ctl('apikey', 'add', 'shop').key;
	const other = stack.ctl('apikey', 'add', 'second shop').key;
	stack.ctl('astrologer', 'add', 'Vega');
	const post = (p, body, idem, k = key) => stack.req(`/api/v1${p}`, {
		headers: { Authorization: `Bearer ${k}`, ...(idem ? { 'Idempotency-Key': idem } : {}) }, body,
	});
	const booking = (user, extra = {}) => ({ user, astrologer: 'Vega', type: 'chat', minutes: 10, price: '10.00', ...extra });

	// Replay: the same key and body give the first answer again, and book once.
	stack.ctl('user', 'add', 'Replay', '--balance', '100.00');
	const first = await post('/bookings', booking('Replay'), '"order-1001"');
	const again = await post('/bookings', booking('Replay'), '"order-1001"');
	check('the first POST books: 201', first.status === 201 && first.json && first.json.userToken, first.text);
	check('the same key and body replay the answer: same status, same body (the same links)',
		again.status === 201 && again.text === first.text, again.text.slice(0, 120));
	check('... and one booking was made', bookingsOf(stack, 'Replay') === 1);
	const bare = await post('/bookings', booking('Replay'), 'order-1001');
	check('the key bare or as a quoted string is the same key', bare.status === 201 && bare.text === first.text);

	// The same key for another request.
	const before = stack.dump();
	const reused = await post('/bookings', booking('Replay', { minutes: 20 }), '"order-1001"');
	check('the same key with another body: 422 idempotency_key_reused, nothing booked',
		reused.status === 422 && reused.json.error.code === 'idempotency_key_reused' && bookingsOf(stack, 'Replay') === 1, reused.text);
	const otherPath = await post('/astrologers', { name: 'Orion' }, '"order-1001"');
	check('the same key on another endpoint: 422 too', otherPath.status === 422 &&
		otherPath.json.error.code === 'idempotency_key_reused', otherPath.text);
	check('... and the database changed only by their audit rows', before.split('\n').filter((l) => !l.startsWith('INSERT INTO api_audit')).join('\n') ===
		stack.dump().split('\n').filter((l) => !l.startsWith('INSERT INTO api_audit')).join('\n'));

	// Keys are per API key.
	const scoped = await post('/bookings', booking('Replay'), '"order-1001"', other);
	check('another API key with the same Idempotency-Key books on its own', scoped.status === 201 &&
		scoped.json.sessionId !== first.json.sessionId && bookingsOf(stack, 'Replay') === 2, scoped.text);

	// A refusal frees its key: nothing happened, so the corrected retry may use it.
	stack.ctl('user', 'add', 'Short', '--balance', '5.00');
	const short = await post('/bookings', booking('Short'), 'order-2000');
	stack.ctl('wallet', 'topup', 'Short', '20.00');
	const paid = await post('/bookings', booking('Short'), 'order-2000');
	check('a request refused (402) stores nothing: after a top-up the same key books', short.status === 402 &&
		paid.status === 201 && bookingsOf(stack, 'Short') === 1, `${short.status} ${paid.status}`);

	// A top-up is money too: replayed, not repeated.
	stack.ctl('user', 'add', 'Topup');
	const t1 = await post('/users/Topup/topups', { amount: '7.00', reference: 'pay-1' }, 'pay-1');
	const t2 = await post('/users/Topup/topups', { amount: '7.00', reference: 'pay-1' }, 'pay-1');
	check('a top-up retried with its key lands once', t1.status === 200 && t2.text === t1.text &&
		stack.ctl('wallet', 'show', 'Topup').balance === '7.00', `${t1.text} ${t2.text}`);

	// Kept 24 hours: an older record no longer answers.
	sql(stack, "UPDATE api_idempotency SET created_ms = created_ms - 86400001 WHERE idem_key = 'pay-1'");
	const t3 = await post('/users/Topup/topups', { amount: '7.00', reference: 'pay-1' }, 'pay-1');
	check('after 24 h the key is forgotten: the POST runs again', t3.status === 200 && t3.json.balance === '14.00', t3.text);

	// 20 identical POSTs at once with one key: one booking; every answer that
	// is not a replay says the first is still running.
	stack.ctl('user', 'add', 'Racer', '--balance', '100.00');
	const racing = await Promise.all(Array.from({ length: 20 }, () => post('/bookings', booking('Racer'), 'race-1')));
	const done = racing.filter((r) => r.status === 201);
	check('20 racing POSTs with one key make one booking', bookingsOf(stack, 'Racer') === 1,
		String(bookingsOf(stack, 'Racer')));
	check('... every answer is that booking (201, one body) or 409 idempotency_key_in_use',
		done.length >= 1 && done.every((r) => r.text === done[0].text) &&
		racing.every((r) => r.status === 201 || (r.status === 409 && r.json.error.code === 'idempotency_key_in_use')),
		racing.map((r) => r.status).join(','));
	check('... and the wallet paid once', stack.ctl('wallet', 'show', 'Racer').frozen === '10.00');

	// kill -9 mid-request, at many points: a retry books at most once.
	const dir = path.join(stack.dir, 'killed');
	fs.mkdirSync(dir);
	let worker = null;
	const startWorker = async () => {
		const sock = path.join(dir, `v1-${Date.now()}.sock`);
		// -n: spawn-fcgi execs the program itself, so this pid is the worker's.
		const p = spawn('spawn-fcgi', ['-n', '-s', sock, '--', bin('api-v1'), '--db', stack.db],
			{ env: stack.env, stdio: 'ignore' });
		onExit(() => { try { p.kill('SIGKILL'); } catch (e) { /* gone */ } });
		for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await sleep(20);
		worker = { p, sock, exited: new Promise((res) => p.once('exit', res)) };
	};
	const fcgiPost = (uri, body, idem) => {
		const text = JSON.stringify(body);
		return fcgiRequest(worker.sock, {
			REQUEST_METHOD: 'POST', REQUEST_URI: uri, CONTENT_TYPE: 'application/json',
			CONTENT_LENGTH: String(Buffer.byteLength(text)), HTTP_AUTHORIZATION: `Bearer ${key}`,
			HTTP_IDEMPOTENCY_KEY: idem,
		}, text).catch(() => '');
	};
	const statusOf = (out) => Number((/^Status: (\d+)/.exec(out) || [])[1] || 0);
	// A retry as a client makes it: again, a moment later, when no answer came (a worker still starting).
	const retryPost = async (uri, body, idem) => {
		let out = '';
		for (let i = 0; i < 3 && !statusOf(out); i++) {
			if (i) await sleep(200);
			out = await fcgiPost(uri, body, idem);
		}
		return out;
	};
	const states = { none: 0, claimed: 0, done: 0 };
	const claimed = [];
	let atMostOnce = true;
	let retriesRight = true;
	const notes = [];
	await startWorker();
	for (let round = 0; round < 24; round++) {
		const user = `Killed ${round}`;
		stack.ctl('user', 'add', user, '--balance', '50.00');
		const idem = `kill-${round}`;
		const answer = fcgiPost('/api/v1/bookings', booking(user), idem);
		await sleep(round % 12);
		worker.p.kill('SIGKILL');
		await worker.exited;
		await answer;
		const row = sql(stack, `SELECT status IS NULL FROM api_idempotency WHERE idem_key = '${idem}'`);
		const n = bookingsOf(stack, user);
		const state = row === '' ? 'none' : row === '1' ? 'claimed' : 'done';
		states[state]++;
		// The booking and the stored answer commit together: one without the other never shows.
		if (n > 1 || (n === 1) !== (state === 'done')) { atMostOnce = false; notes.push(`${round}: ${state} with ${n}`); }
		await startWorker();
		const retry = await retryPost('/api/v1/bookings', booking(user), idem);
		const want = state === 'claimed' ? 409 : 201;
		if (statusOf(retry) !== want || bookingsOf(stack, user) !== (state === 'claimed' ? 0 : 1)) {
			retriesRight = false;
			notes.push(`${round}: ${state}, retry ${statusOf(retry)}, ${bookingsOf(stack, user)} bookings`);
		}
		if (state === 'claimed') claimed.push({ user, idem });
	}
	console.log(`# where the kills landed: ${JSON.stringify(states)}`);
	check('kill -9 at 24 points of a booking: never a booking without its stored answer, never two',
		atMostOnce, notes.join('; '));
	check('the kills landed before, inside and after the request (all three outcomes seen)',
		states.none > 0 && states.claimed > 0 && states.done > 0, JSON.stringify(states));
	check('a retry after the kill: books when nothing was done, replays when it was, 409 while the dead claim may still run',
		retriesRight, notes.join('; '));
	if (claimed.length) {
		await sleep(LEASE_MS + 500);
		let ok = true;
		for (const c of claimed) {
			const retry = await retryPost('/api/v1/bookings', booking(c.user), c.idem);
			const again2 = await retryPost('/api/v1/bookings', booking(c.user), c.idem);
			if (statusOf(retry) !== 201 || bookingsOf(stack, c.user) !== 1 ||
				retry.split('\r\n\r\n')[1] !== again2.split('\r\n\r\n')[1]) ok = false;
		}
		check(`after the ${LEASE_MS / 1000} s lease a dead request's key is taken over: one booking, then replayed`, ok);
	}
	worker.p.kill('SIGKILL');
	const ledger = await stack.req('/api/v1/ledger/check', { method: 'GET', headers: { Authorization: `Bearer ${key}` } });
	check('after it all the money adds up', ledger.status === 200 && ledger.json.ok === true, ledger.text);
	check('stored answers are sealed: no join token of a replayed booking is in the database',
		!stack.dump().includes(first.json.userToken) && !stack.dump().includes(first.json.astrologerToken));
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
})();
