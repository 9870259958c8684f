// ws.test.js: nginx's /ws proxy to the relay: upgrade, the per-address connection limit, headers, no token in any log.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { bin, check, failed, sleep, Stack } = require('./stack');

const LIMIT = 20; // SESSIONS_WS_CONN's default, what make run uses

if (!fs.existsSync(bin('relay'))) {
	console.log('# no build/bin/relay: nothing to proxy, no checks run');
	process.exit(0);
}
const WebSocket = require('ws');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 60 s');
	process.exit(1);
}, 60000);

// A raw upgrade through nginx, held open: resolves with the status and the socket (if upgraded).
function upgrade(stack, origin) {
	return new Promise((resolve, reject) => {
		const req = http.request(`${stack.base}/ws`, {
			headers: {
				Connection: 'Upgrade', Upgrade: 'websocket', Origin: origin,
				'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
			},
		});
		req.on('upgrade', (res, socket) => resolve({ status: res.statusCode, headers: res.headers, socket }));
		req.on('response', (res) => {
			let text = '';
			res.on('data', (d) => { text += d; });
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
		});
		req.on('error', reject);
		req.end();
	});
}

// Connects through nginx as a page of origin would, sends join-room, and resolves with the first frame back.
async function joinRoom(stack, origin, token) {
	const ws = new WebSocket(`ws://127.0.0.1:${stack.port}/ws`, { origin });
	const frame = await new Promise((resolve) => {
		const t = setTimeout(() => resolve(null), 5000);
		ws.on('open', () => ws.send(JSON.stringify({ type: 'join-room', token })));
		ws.on('message', (d) => { clearTimeout(t); resolve(JSON.parse(String(d))); });
		ws.on('error', () => { clearTimeout(t); resolve(null); });
	});
	return { ws, frame };
}

async function main() {
	const stack = await new Stack('ws').start();
	const origin = `http://127.0.0.1:${stack.port}`;
	const s = stack.book('chat');

	// A real client joins its room through nginx.
	const { ws, frame: joined } = await joinRoom(stack, origin, s.userToken);
	check('a WebSocket through nginx /ws reaches the relay and joins its room',
		joined && joined.type === 'joined' && joined.participantType === 'user' && joined.sessionType === 'chat',
		JSON.stringify(joined));

	// The per-address connection limit: the first LIMIT are proxied, the next is refused.
	const held = [];
	for (let i = 1; i < LIMIT; i++) held.push(await upgrade(stack, origin));
	check(`${LIMIT} WebSocket connections from one address are all upgraded`,
		held.every((r) => r.status === 101), held.map((r) => r.status).join(','));
	const over = await upgrade(stack, origin);
	check(`connection ${LIMIT + 1} from the same address gets 429`, over.status === 429, over.status);
	const csp = over.headers['content-security-policy'] || '';
	check('the 429 carries the security headers', csp.includes("default-src 'self'") &&
		over.headers['x-content-type-options'] === 'nosniff' && over.headers['referrer-policy'] === 'no-referrer');
	held.pop().socket.destroy();
	let again = { status: 0 };
	for (let i = 0; i < 20 && again.status !== 101; i++) {
		await sleep(100);
		again = await upgrade(stack, origin);
	}
	check('when one closes, a new connection is upgraded again', again.status === 101, again.status);
	if (again.socket) held.push(again);
	for (const r of held) r.socket.destroy();
	ws.close();

	// The relay answers a foreign page with an error frame, through nginx as directly.
	const { ws: evil, frame: refusal } = await joinRoom(stack, 'http://evil.example.org', s.astrologerToken);
	check('a page from a foreign Origin gets the forbidden error, not its room',
		refusal && refusal.type === 'error' && refusal.code === 'forbidden', JSON.stringify(refusal));
	evil.close();

	stack.stop();
	const leaks = [];
	for (const f of fs.readdirSync(stack.dir)) {
		const p = path.join(stack.dir, f);
		if (!f.endsWith('.log') || !fs.statSync(p).isFile()) continue;
		const text = fs.readFileSync(p, 'latin1');
		if (stack.tokens.some((t) => text.includes(t))) leaks.push(f);
	}
	check('no token in the relay, nginx or program logs', leaks.length === 0 &&
		fs.existsSync(path.join(stack.dir, 'relay.log')), leaks.join(','));
	clearTimeout(watchdog);
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
	console.log(`not ok - the suite ran to its end # ${e && e.stack}`);
	process.exit(1);
});
