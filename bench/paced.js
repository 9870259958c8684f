// paced.js: an open-loop load generator: sends at a fixed rate regardless of answers and reports latency percentiles.
//
// node paced.js URL RATE SECONDS [BODY | @TOKENFILE]
// Without a body it sends GET. With @TOKENFILE each request POSTs
// {"token":"<next line>"} until the file runs out (RATE x SECONDS caps it).
// Prints one JSON line: sent, answered, statuses, p50/p99/max in ms,
// the rate achieved, and the worst lag of a send behind its schedule.
'use strict';
const fs = require('fs');
const http = require('http');

const [url, rateArg, secondsArg, bodyArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0)) {
	console.error('usage: node paced.js URL RATE SECONDS [BODY | @TOKENFILE]');
	process.exit(2);
}
const tokens = bodyArg && bodyArg.startsWith('@')
	? fs.readFileSync(bodyArg.slice(1), 'utf8').split('\n').filter(Boolean) : null;
const total = Math.min(Math.round(rate * seconds), tokens ? tokens.length : Infinity);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const target = new URL(url);

const lat = [];
const statuses = {};
let answered = 0;
let sent = 0;
let worstLag = 0;
let errors = 0;
const t0 = process.hrtime.bigint();
const nowMs = () => Number(process.hrtime.bigint() - t0) / 1e6;

function fire(i) {
	const body = tokens ? JSON.stringify({ token: tokens[i] }) : bodyArg;
	const start = process.hrtime.bigint();
	const req = http.request({
		host: target.hostname, port: target.port, path: target.pathname, agent,
		method: body === undefined ? 'GET' : 'POST',
		headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
	}, (res) => {
		res.resume();
		res.on('end', () => {
			lat.push(Number(process.hrtime.bigint() - start) / 1e6);
			statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
			if (++answered + errors === total) finish();
		});
	});
	req.on('error', () => { if (answered + ++errors === total) finish(); });
	req.end(body);
}

function finish() {
	lat.sort((a, b) => a - b);
	const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
	console.log(JSON.stringify({
		sent, answered, errors, statuses,
		p50: +pct(0.5).toFixed(3), p99: +pct(0.99).toFixed(3), max: +(lat[lat.length - 1] || NaN).toFixed(3),
		achievedRps: Math.round(sent / (sendEnd / 1000)), worstLagMs: +worstLag.toFixed(2),
	}));
	agent.destroy();
}

let sendEnd = 0;
// Each tick sends every request whose time has come, so a slow tick does not lower the rate.
const timer = setInterval(() => {
	const now = nowMs();
	while (sent < total && sent * 1000 / rate <= now) {
		worstLag = Math.max(worstLag, now - sent * 1000 / rate);
		fire(sent++);
	}
	if (sent === total) {
		sendEnd = now;
		clearInterval(timer);
	}
}, 1);
