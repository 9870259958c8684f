// network.test.js: POST /api/sessions/network: the pages' pre-flight and call-path reports, checked, capped, refused for chat, shown by sessionctl show.
'use strict';

const { check, failed, Stack } = require('./stack');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const bearer = (t) => ({ Authorization: `Bearer ${t}` });

async function main() {
	const stack = await new Stack('network', { SESSIONS_API_RATE: '10000r/s' }).start();
	const report = (token, body) => stack.req('/api/sessions/network', { headers: bearer(token), body });
	const video = stack.book('video');

	let r = await report(video.userToken, { phase: 'preflight', reach: 'relay' });
	check('a pre-flight report (reach relay) is recorded', r.status === 200 && r.json.recorded === true, r.text);
	r = await report(video.astrologerToken, { phase: 'call', local: 'relay', remote: 'prflx', protocol: 'udp', relayProtocol: 'tcp' });
	check("a call's selected pair (relay over TCP to a peer-reflexive candidate) is recorded", r.status === 200, r.text);
	const shown = stack.ctl('show', video.sessionId).network;
	check('sessionctl show lists both, with who sent them and when',
		shown.length === 2 && shown[0].participant === 'user' && shown[0].phase === 'preflight' && shown[0].reach === 'relay' &&
		shown[1].participant === 'astrologer' && shown[1].local === 'relay' && shown[1].remote === 'prflx' &&
		shown[1].protocol === 'udp' && shown[1].relayProtocol === 'tcp' && typeof shown[1].at === 'string', JSON.stringify(shown));

	const bad = [
		['an unknown phase', { phase: 'later', reach: 'relay' }],
		['a pre-flight without reach', { phase: 'preflight' }],
		['a reach that is not direct, relay or none', { phase: 'preflight', reach: 'maybe' }],
		['a pre-flight with call fields', { phase: 'preflight', reach: 'none', local: 'host' }],
		['a call without protocol', { phase: 'call', local: 'host', remote: 'host' }],
		['a candidate type that does not exist', { phase: 'call', local: 'vpn', remote: 'host', protocol: 'udp' }],
		['relayProtocol from a candidate that is not a relay', { phase: 'call', local: 'srflx', remote: 'relay', protocol: 'udp', relayProtocol: 'udp' }],
		['a number where a name goes', { phase: 'call', local: 1, remote: 'host', protocol: 'udp' }],
		['a value over 16 bytes', { phase: 'preflight', reach: 'r'.repeat(17) }],
	];
	for (const [what, body] of bad) {
		r = await report(video.userToken, body);
		check(`${what}: 400 invalid_field`, r.status === 400 && r.json && r.json.error.code === 'invalid_field', r.text);
	}
	check('... and nothing of them was stored', stack.ctl('show', video.sessionId).network.length === 2);

	const chat = stack.book('chat');
	r = await report(chat.userToken, { phase: 'preflight', reach: 'direct' });
	check('a chat session has no network path: 403 media_not_allowed', r.status === 403 && r.json.error.code === 'media_not_allowed', r.text);
	r = await report('x'.repeat(43), { phase: 'preflight', reach: 'direct' });
	check('an unknown token: 404', r.status === 404, r.text);

	const voice = stack.book('voice');
	let ok = 0;
	for (let i = 0; i < 20; i++) if ((await report(voice.userToken, { phase: 'preflight', reach: 'direct' })).status === 200) ok++;
	r = await report(voice.userToken, { phase: 'preflight', reach: 'direct' });
	check('20 reports from one participant (the most) are recorded, the 21st gets 429 limit_reached',
		ok === 20 && r.status === 429 && r.json.error.code === 'limit_reached', `${ok} ${r.text}`);
	r = await report(voice.astrologerToken, { phase: 'preflight', reach: 'none' });
	check('... which leaves the other participant their own 20', r.status === 200, r.text);

	stack.ctl('end', voice.sessionId);
	r = await report(voice.astrologerToken, { phase: 'preflight', reach: 'none' });
	check('after the end: 410 session_ended', r.status === 410 && r.json.error.code === 'session_ended', r.text);
}

main().then(() => {
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
}, (e) => {
	console.log(`not ok - the suite ran to the end: ${e && e.stack}`);
	process.exit(1);
});
