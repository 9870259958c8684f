// agree.test.js: the relay, the API and sessionctl expire asked about one session at the same instant give one answer and one settlement.
'use strict';

const { execFile, execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const { bin, check, failed, sleep, Stack } = require('./stack');

if (!fs.existsSync(bin('relay'))) {
	console.log('not ok - build/bin/relay is missing');
	process.exit(1);
}
const WebSocket = require('ws');

const MINUTE_MS = 1000; // a paid minute lasts a second here
const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 60 s');
	process.exit(1);
}, 60000);

// join-room through nginx; resolves with the relay's first answer.
function relayJoin(stack, token) {
	return new Promise((resolve) => {
		const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { origin: stack.base });
		const t = setTimeout(() => { ws.terminate(); resolve(null); }, 5000);
		ws.on('open', () => ws.send(JSON.stringify({ type: 'join-room', token })));
		ws.on('message', (d) => { clearTimeout(t); ws.close(); resolve(JSON.parse(String(d))); });
		ws.on('error', () => { clearTimeout(t); resolve(null); });
	});
}

function expire(stack) {
	return new Promise((resolve) => {
		execFile(bin('sessionctl'), ['--db', stack.db, 'expire'], { env: stack.env, encoding: 'utf8' },
			(err, out) => resolve(err ? null : JSON.parse(out)));
	});
}

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` }, body: {} });

// All four at once: validate and end over HTTP, join-room over the WebSocket, cron's sweep.
async function together(stack, s) {
	const [validate, relay, swept, end] = await Promise.all([
		stack.req('/api/sessions/validate', bearer(s.userToken)),
		relayJoin(stack, s.astrologerToken),
		expire(stack),
		stack.req('/api/sessions/end', bearer(s.userToken)),
	]);
	const shown = stack.ctl('show', s.sessionId);
	const settlements = Number(execFileSync('sqlite3',
		[stack.db, `SELECT count(*) FROM settlements WHERE session_id = '${s.sessionId}'`],
		{ encoding: 'utf8' }).trim());
	return { validate, relay, swept, end, shown, settlements };
}

async function main() {
	const stack = await new Stack('agree', {
		SESSIONS_MINUTE_MS: String(MINUTE_MS),
		SESSIONS_OPENS_BEFORE_MINUTES: '0',
		SESSIONS_VALID_AFTER_MINUTES: '0',
	}).start();

	// Running: both joined through the API, the paid minute not over.
	const running = stack.book('chat', { minutes: 60 });
	await stack.req('/api/sessions/join', bearer(running.userToken));
	await stack.req('/api/sessions/join', bearer(running.astrologerToken));
	const [v, r, swept] = await Promise.all([
		stack.req('/api/sessions/validate', bearer(running.userToken)),
		relayJoin(stack, running.astrologerToken),
		expire(stack),
	]);
	check('before its deadline: the API, the relay and cron all see the session running',
		v.status === 200 && v.json.status === 'active' && r && r.type === 'joined' &&
		r.status === 'active' && swept && swept.timedOut === 0 &&
		stack.ctl('show', running.sessionId).status === 'active',
		JSON.stringify({ v: v.json, r, swept }));

	// Time up: both joined through the API (no relay room, so no relay timer), then the deadline passes.
	const due = stack.book('chat', { minutes: 1 });
	await stack.req('/api/sessions/join', bearer(due.userToken));
	const started = await stack.req('/api/sessions/join', bearer(due.astrologerToken));
	await sleep(Date.parse(started.json.deadline) - Date.now() + 50);
	const a = await together(stack, due);
	check('past its deadline: validate answers 410 session_ended', a.validate.status === 410 &&
		a.validate.json.error.code === 'session_ended', a.validate.text);
	check('... join-room gets the same code from the relay', a.relay && a.relay.type === 'error' &&
		a.relay.code === 'session_ended', JSON.stringify(a.relay));
	// Nobody was ever in the relay's room, so the time both were there, and the charge, is nothing.
	check('... End gets the one settlement, as time_up by the system', a.end.status === 200 &&
		a.end.json.reason === 'time_up' && a.end.json.status === 'completed' &&
		a.end.json.endedBy === 'system' && a.end.json.amountCharged === '0.00', a.end.text);
	check('... cron ended it or found it ended: one settlement, status completed, time_up',
		a.swept && a.swept.timedOut <= 1 && a.settlements === 1 && a.shown.status === 'completed' &&
		a.shown.endReason === 'time_up', JSON.stringify({ swept: a.swept, n: a.settlements, shown: a.shown }));

	// No-show: the customer came, the astrologer never did, and the link ran out.
	const noshow = stack.book('voice', { minutes: 1 });
	await stack.req('/api/sessions/join', bearer(noshow.userToken));
	await sleep(Date.parse(stack.ctl('show', noshow.sessionId).linkValidUntil) - Date.now() + 50);
	const b = await together(stack, noshow);
	check('a link run out: validate answers 410 link_expired', b.validate.status === 410 &&
		b.validate.json.error.code === 'link_expired', b.validate.text);
	check('... join-room gets link_expired from the relay', b.relay && b.relay.type === 'error' &&
		b.relay.code === 'link_expired', JSON.stringify(b.relay));
	check('... and End the same 410 link_expired', b.end.status === 410 &&
		b.end.json.error.code === 'link_expired', b.end.text);
	check('... cron settles it once: expired, no_show, refunded in full',
		b.swept && b.swept.expired === 1 && b.settlements === 1 && b.shown.status === 'expired' &&
		b.shown.endReason === 'no_show' && b.shown.settlement.refunded === '97.00',
		JSON.stringify({ swept: b.swept, n: b.settlements, shown: b.shown }));

	check('the money adds up', spawnSync(bin('sessionctl'),
		['--db', stack.db, 'ledger', 'check'], { env: stack.env }).status === 0);
}

main().then(() => {
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
});
