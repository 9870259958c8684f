// stack.js: what the API suites share: a real stack (deploy/stack.sh) in a temp dir on a free port, HTTP and FastCGI clients, TAP lines.
'use strict';

const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const root = process.env.SESSIONS_TEST_ROOT || path.resolve(__dirname, '../..');
const bin = (name) => path.join(root, 'build/bin', name);

let failures = 0;
function check(what, cond, detail) {
	if (cond) {
		console.log(`ok - ${what}`);
	} else {
		failures++;
		console.log(`not ok - ${what}${detail !== undefined ? ` # ${detail}` : ''}`);
	}
	return !!cond;
}
const failed = () => failures;

// Every temp dir and stack this process made, cleaned up however it exits.
const cleanups = [];
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sessions-api-'));
process.on('exit', () => {
	for (const fn of cleanups.reverse()) {
		try { fn(); } catch (e) { /* keep cleaning the rest */ }
	}
	fs.rmSync(tmpRoot, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
process.on('unhandledRejection', (e) => {
	console.log(`not ok - the suite crashed: ${e && e.message}`);
	process.exit(1);
});
const onExit = (fn) => cleanups.push(fn);
const tempDir = (name) => fs.mkdtempSync(path.join(tmpRoot, `${name}-`));

const { freePort } = require('../lib/net.js');

// True while something accepts connections on 127.0.0.1:port.
function listening(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => resolve(false));
	});
}

// Pids whose command line names dir: what a stack in dir left running.
function processesUsing(dir) {
	const found = [];
	for (const pid of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
		let cmd;
		try { cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch (e) { continue; }
		if (cmd.includes(dir)) found.push(Number(pid));
	}
	return found;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Stack {
	constructor(name, env = {}) {
		this.dir = tempDir(name);
		this.db = path.join(this.dir, 'sessions.db');
		this.env = { ...process.env, ...env, SESSIONS_DB: this.db };
		this.tokens = []; // every token issued in this stack, for the log check
	}

	// Starts on a free port; another run may take the port first, so retry.
	async start() {
		for (let attempt = 0; ; attempt++) {
			this.port = await freePort();
			this.env.SESSIONS_PUBLIC_URL = `http://127.0.0.1:${this.port}`;
			const r = spawnSync('sh', [path.join(root, 'deploy/stack.sh'), 'start', this.dir, String(this.port)],
				{ env: this.env, encoding: 'utf8', timeout: 30000 });
			if (r.status === 0) break;
			if (attempt === 2) throw new Error(`stack.sh start failed: ${r.stderr}`);
		}
		this.base = `http://127.0.0.1:${this.port}`;
		onExit(() => this.stop());
		return this;
	}

	stop() {
		spawnSync('sh', [path.join(root, 'deploy/stack.sh'), 'stop', this.dir], { timeout: 30000 });
	}

	// sessionctl with this stack's database; its JSON answer, tokens remembered.
	ctl(...args) {
		const out = execFileSync(bin('sessionctl'), ['--db', this.db, ...args],
			{ env: this.env, encoding: 'utf8', timeout: 10000 });
		const j = out.trim() ? JSON.parse(out) : {};
		for (const k of ['userToken', 'astrologerToken', 'token']) if (j[k]) this.tokens.push(j[k]);
		return j;
	}

	dump() {
		return execFileSync('sqlite3', [this.db, '.dump'], { encoding: 'utf8', timeout: 10000 });
	}

	// One HTTP request through nginx; body is a string, Buffer or object (sent as JSON).
	async req(pathname, { method = 'POST', headers = {}, body } = {}) {
		const h = { ...headers };
		let data = body;
		if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
			data = JSON.stringify(body);
		}
		if (data !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
			h['Content-Type'] = 'application/json';
		}
		const res = await fetch(this.base + pathname, { method, headers: h, body: data });
		const text = await res.text();
		let json;
		try { json = JSON.parse(text); } catch (e) { json = undefined; }
		return { status: res.status, headers: res.headers, text, json };
	}

	// A booking with fresh names; returns sessionctl's answer.
	book(type, { minutes = 30, price = '97.00', starts } = {}) {
		const n = ++Stack.seq;
		const user = `Anaya Śarma ${n}`;
		const astrologer = `Kavya Rao ${n}`;
		this.ctl('user', 'add', user, '--balance', '500.00');
		this.ctl('astrologer', 'add', astrologer);
		const args = ['book', '--user', user, '--astrologer', astrologer, '--type', type,
			'--minutes', String(minutes), '--price', price];
		if (starts) args.push('--starts', starts);
		return { ...this.ctl(...args), userName: user, astrologerName: astrologer };
	}
}
Stack.seq = 0;

// A raw request with a chunked body, which fetch cannot send.
function chunkedPost(base, pathname, chunks, headers) {
	return new Promise((resolve, reject) => {
		const req = http.request(base + pathname, { method: 'POST', headers }, (res) => {
			let text = '';
			res.on('data', (d) => { text += d; });
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
		});
		req.on('error', reject);
		for (const c of chunks) req.write(c);
		req.end();
	});
}

// FastCGI, spoken directly to a program's socket (no nginx in between).
function fcgiRecord(type, content) {
	const pad = (8 - (content.length % 8)) % 8;
	const h = Buffer.alloc(8);
	h.writeUInt8(1, 0);
	h.writeUInt8(type, 1);
	h.writeUInt16BE(1, 2);
	h.writeUInt16BE(content.length, 4);
	h.writeUInt8(pad, 6);
	return Buffer.concat([h, content, Buffer.alloc(pad)]);
}
function fcgiLen(n) {
	if (n < 128) return Buffer.from([n]);
	const b = Buffer.alloc(4);
	b.writeUInt32BE((n | 0x80000000) >>> 0);
	return b;
}
function fcgiParams(params) {
	const parts = [];
	for (const [k, v] of Object.entries(params)) {
		parts.push(fcgiLen(Buffer.byteLength(k)), fcgiLen(Buffer.byteLength(v)), Buffer.from(k), Buffer.from(v));
	}
	return Buffer.concat(parts);
}

// Sends the begin and the params; beforeBody runs while the program holds the
// request; then the body goes. Resolves with the program's whole stdout.
function fcgiRequest(sock, params, body, beforeBody = async () => {}) {
	return new Promise((resolve, reject) => {
		const s = net.connect(sock);
		let buf = Buffer.alloc(0);
		let out = '';
		const timer = setTimeout(() => { s.destroy(); reject(new Error('FastCGI answer timed out')); }, 10000);
		s.on('error', (e) => { clearTimeout(timer); reject(e); });
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8) {
				const len = buf.readUInt16BE(4);
				const total = 8 + len + buf.readUInt8(6);
				if (buf.length < total) break;
				const type = buf.readUInt8(1);
				if (type === 6) out += buf.slice(8, 8 + len).toString();
				buf = buf.slice(total);
				if (type === 3) { clearTimeout(timer); s.destroy(); resolve(out); }
			}
		});
		s.on('close', () => { clearTimeout(timer); resolve(out); });
		s.on('connect', async () => {
			s.write(fcgiRecord(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])));
			s.write(fcgiRecord(4, fcgiParams(params)));
			s.write(fcgiRecord(4, Buffer.alloc(0)));
			await beforeBody();
			if (body.length) s.write(fcgiRecord(5, Buffer.from(body)));
			s.write(fcgiRecord(5, Buffer.alloc(0)));
		});
	});
}

// Sends one request and reads the answer to the program's end of the
// connection, keeping this end open as nginx does while it passes the answer
// on. Resolves with the stdout and whether a record written after that end
// still went through: it does while the program waits for this end to close,
// and fails with EPIPE once the program has closed the connection for good.
function fcgiHeld(sock, params, body) {
	return new Promise((resolve, reject) => {
		const s = net.connect({ path: sock, allowHalfOpen: true });
		let buf = Buffer.alloc(0);
		let out = '';
		const timer = setTimeout(() => { s.destroy(); reject(new Error('FastCGI answer timed out')); }, 10000);
		s.on('error', () => { /* the write's callback reports it */ });
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8 && buf.length >= 8 + buf.readUInt16BE(4) + buf.readUInt8(6)) {
				const len = buf.readUInt16BE(4);
				if (buf.readUInt8(1) === 6) out += buf.slice(8, 8 + len).toString();
				buf = buf.slice(8 + len + buf.readUInt8(6));
			}
		});
		s.on('end', () => {
			s.write(fcgiRecord(5, Buffer.alloc(0)), (err) => {
				clearTimeout(timer);
				s.destroy();
				resolve({ out, writable: !err, error: err && err.code });
			});
		});
		s.on('connect', () => {
			s.write(Buffer.concat([fcgiRecord(1, Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])),
				fcgiRecord(4, fcgiParams(params)), fcgiRecord(4, Buffer.alloc(0)),
				...(body.length ? [fcgiRecord(5, Buffer.from(body))] : []), fcgiRecord(5, Buffer.alloc(0))]));
		});
	});
}

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

module.exports = {
	root, bin, check, failed, onExit, tempDir, freePort, listening, processesUsing, sleep,
	Stack, chunkedPost, fcgiRequest, fcgiHeld, ISO_MS,
};
