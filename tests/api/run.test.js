// run.test.js: make run's script end to end: demo links that work, a reused database on the next run, and a clean stop.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { root, check, failed, onExit, tempDir, freePort, listening, processesUsing, sleep } = require('./stack');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const dir = tempDir('run');
const db = path.join(dir, 'sessions.db');
const LINK = /http:\/\/127\.0\.0\.1:\d+\/session\/[A-Za-z0-9_-]{43}/g;
onExit(() => spawnSync('sh', [path.join(root, 'deploy/stack.sh'), 'stop', dir], { timeout: 30000 }));

// Starts run.sh in its own process group (as a terminal would) and waits for its six links.
async function startRun(port) {
	const child = spawn('sh', [path.join(root, 'deploy/run.sh')], {
		env: { ...process.env, SESSIONS_VAR: dir, PORT: String(port) },
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	onExit(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ } });
	let out = '';
	let err = '';
	child.stdout.on('data', (d) => { out += d; });
	child.stderr.on('data', (d) => { err += d; });
	child.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
	for (let i = 0; i < 300 && (out.match(LINK) || []).length < 6 && child.exitCode === null; i++) await sleep(100);
	return { child, links: out.match(LINK) || [], out: () => out, err: () => err };
}

async function validate(link) {
	const token = link.split('/').pop();
	const base = link.slice(0, link.indexOf('/session/'));
	const r = await fetch(`${base}/api/sessions/validate`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
		body: '{}',
	});
	return { status: r.status, json: await r.json().catch(() => ({})) };
}

async function checkLinks(run, label) {
	check(`${label}: prints six join links`, run.links.length === 6, run.err().slice(0, 300));
	const answers = [];
	for (const link of run.links) answers.push(await validate(link));
	const want = [['chat', 'user'], ['chat', 'astrologer'], ['voice', 'user'], ['voice', 'astrologer'],
		['video', 'user'], ['video', 'astrologer']];
	check(`${label}: every link validates, as customer and astrologer of a chat, a voice and a video session`,
		answers.length === 6 && answers.every((a, i) => a.status === 200 && a.json.sessionType === want[i][0] &&
			a.json.participantType === want[i][1]), answers.map((a) => a.status).join(','));
	return answers.map((a) => a.json.sessionId);
}

// Stops a run with a signal and checks that nothing of it is left.
async function stopRun(run, port, how) {
	if (how === 'SIGINT') process.kill(-run.child.pid, 'SIGINT'); // Ctrl-C reaches the whole group
	else process.kill(run.child.pid, how);
	const res = await Promise.race([run.child.exited, sleep(15000).then(() => null)]);
	check(`${how} stops make run's script`, res !== null, 'still running after 15 s');
	let left = processesUsing(dir);
	for (let i = 0; i < 20 && left.length; i++) { await sleep(100); left = processesUsing(dir); }
	check(`after ${how}: nothing listens on the port and no process of the stack is left`,
		!(await listening(port)) && left.length === 0, `left: ${left.join(',')}`);
}

const sql = (q) => spawnSync('sqlite3', [db, q], { encoding: 'utf8', timeout: 10000 }).stdout.trim();

async function main() {
	const port1 = await freePort();
	const first = await startRun(port1);
	const ids1 = await checkLinks(first, 'first run');
	check('first run: sessions.db in the state dir holds one demo customer and one demo astrologer',
		fs.existsSync(db) && sql('SELECT count(*) FROM users') === '1' && sql('SELECT count(*) FROM astrologers') === '1');
	const page = await fetch(first.links[0]);
	check('first run: a printed link opens the session page', page.status === 200 &&
		page.headers.get('content-type').startsWith('text/html'));
	const env = { ...process.env };
	for (const k of ['SESSIONS_CONF', 'SESSIONS_PUBLIC_URL', 'SESSIONS_DB']) delete env[k];
	const booked = spawnSync(path.join(root, 'build/bin/sessionctl'), ['--db', db, 'book', '--user', 'Demo Customer',
		'--astrologer', 'Demo Astrologer', '--type', 'chat', '--minutes', '5', '--price', '0.00'],
		{ env, encoding: 'utf8', timeout: 10000 });
	let url = '';
	try { url = JSON.parse(booked.stdout).userUrl; } catch (e) { /* checked below */ }
	check(`first run: sessionctl in another terminal prints links on the port make run serves (${port1})`,
		url.startsWith(`http://127.0.0.1:${port1}/session/`) && (await validate(url)).status === 200,
		booked.stdout + booked.stderr);
	await stopRun(first, port1, 'SIGTERM');

	const port2 = await freePort();
	const second = await startRun(port2);
	const ids2 = await checkLinks(second, 'second run');
	check('second run: the same database and demo sessions, no new bookings (3 demo, 1 booked by hand)',
		JSON.stringify(ids1) === JSON.stringify(ids2) && sql('SELECT count(*) FROM bookings') === '4' &&
		sql('SELECT count(*) FROM users') === '1');
	const old = await validate(first.links[0].replace(`:${port1}/`, `:${port2}/`));
	check("second run: the first run's links were reissued (the old one is refused)", old.status === 404, old.status);

	// End the chat session: the next run must book a new one rather than print a dead link.
	const base = `http://127.0.0.1:${port2}`;
	for (const link of second.links.slice(0, 2)) {
		await fetch(`${base}/api/sessions/join`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ token: link.split('/').pop() }) });
	}
	const end = await fetch(`${base}/api/sessions/end`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ token: second.links[0].split('/').pop() }) });
	check('second run: the demo chat session can be joined and ended', end.status === 200);
	await stopRun(second, port2, 'SIGINT');

	const port3 = await freePort();
	const third = await startRun(port3);
	const ids3 = await checkLinks(third, 'third run (after the demo chat ended)');
	check('third run: a fresh chat session replaces the ended one, voice and video are kept',
		ids3[0] !== ids2[0] && ids3[0] === ids3[1] && ids3.slice(2).join() === ids2.slice(2).join());
	await stopRun(third, port3, 'SIGTERM');

	const printed = [first, second, third].flatMap((r) => r.links.map((l) => l.split('/').pop()));
	const leaks = [];
	for (const f of fs.readdirSync(dir, { recursive: true })) {
		const p = path.join(dir, f);
		if (!fs.statSync(p).isFile() || /sessions\.db(-wal|-shm|\.key)?$/.test(f)) continue;
		const text = fs.readFileSync(p, 'latin1');
		if (printed.some((t) => text.includes(t))) leaks.push(f);
	}
	check('no printed token is stored in any file of var/ but the database', leaks.length === 0, leaks.join(','));
	clearTimeout(watchdog);
}

main().then(() => process.exit(failed() ? 1 : 0), (e) => {
	console.log(`not ok - the suite ran to its end # ${e && e.stack}`);
	process.exit(1);
});
