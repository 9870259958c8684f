// notes.test.js: POST /api/sessions/notes and /api/sessions/summary: the astrologer's versioned private notes and the summary the customer reads, with their caps, role and time refusals.
'use strict';

const { check, failed, Stack } = require('./stack');

const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function main() {
	// Small caps so both boundaries are reached in a few requests; no time after a link's end
	// so a link that ran out is quick to make.
	const stack = await new Stack('notes', {
		SESSIONS_API_RATE: '10000r/s', SESSIONS_NOTES_MAX_BYTES: '100', SESSIONS_NOTES_MAX_VERSIONS: '3',
		SESSIONS_VALID_AFTER_MINUTES: '0',
	}).start();
	const notes = (token, body = {}) => stack.req('/api/sessions/notes', { headers: bearer(token), body });
	const summary = (token, body = {}) => stack.req('/api/sessions/summary', { headers: bearer(token), body });
	const rows = (sql) => stack.dump().split('\n').filter((l) => l.startsWith(`INSERT INTO ${sql}`)).length;

	const chat = stack.book('chat');
	let r = await notes(chat.astrologerToken);
	check('no notes yet: an empty text, version 0, no versions',
		r.status === 200 && r.json.text === '' && r.json.version === 0 && r.json.versions.length === 0, r.text);
	r = await notes(chat.astrologerToken, { text: 'Sun in Leo; asks about work.' });
	check('the astrologer saves a first version', r.status === 200 && r.json.stored === true && r.json.version === 1 &&
		typeof r.json.savedAt === 'string', r.text);
	r = await notes(chat.astrologerToken, { text: 'Sun in Leo; asks about work.' });
	check('an autosave identical to the latest stores nothing new', r.status === 200 && r.json.stored === false &&
		r.json.version === 1 && rows('note_versions') === 1, r.text);
	r = await notes(chat.astrologerToken, { text: 'Sun in Leo; asks about work and a move in spring — Śani.' });
	check('a changed text is the next version', r.status === 200 && r.json.stored === true && r.json.version === 2, r.text);
	r = await notes(chat.astrologerToken);
	check('reading gives the latest text and both versions, oldest first',
		r.status === 200 && r.json.text.endsWith('Śani.') && r.json.version === 2 &&
		r.json.versions.map((v) => v.version).join() === '1,2' && r.json.versions[0].bytes === 28, r.text);
	r = await notes(chat.astrologerToken, { version: 1 });
	check('an earlier version reads as it was saved', r.status === 200 && r.json.text === 'Sun in Leo; asks about work.' &&
		r.json.version === 1, r.text);
	r = await notes(chat.astrologerToken, { version: 9 });
	check('a version that does not exist: 404 not_found', r.status === 404 && r.json.error.code === 'not_found', r.text);
	r = await notes(chat.astrologerToken, { version: 'one' });
	check('a version that is not a number: 400 invalid_field', r.status === 400 && r.json.error.code === 'invalid_field', r.text);
	r = await notes(chat.astrologerToken, { text: 42 });
	check('a text that is not a string: 400 invalid_field', r.status === 400 && r.json.error.code === 'invalid_field', r.text);

	// The customer never reaches the notes, not even to learn whether there are any.
	const before = stack.dump();
	r = await notes(chat.userToken);
	check("the customer's token cannot read the notes: 403 forbidden", r.status === 403 && r.json.error.code === 'forbidden' &&
		!r.text.includes('Leo'), r.text);
	r = await notes(chat.userToken, { text: 'mine now' });
	check("the customer's token cannot write them", r.status === 403 && r.json.error.code === 'forbidden', r.text);
	r = await summary(chat.userToken, { text: 'I publish' });
	check("the customer's token cannot publish a summary", r.status === 403 && r.json.error.code === 'forbidden', r.text);
	r = await notes('x'.repeat(43));
	check('an unknown token: 404 unknown_link', r.status === 404 && r.json.error.code === 'unknown_link', r.text);
	r = await notes(chat.astrologerToken, { text: 'n'.repeat(101) });
	check('a version over notes_max_bytes (100): 429 limit_reached', r.status === 429 && r.json.error.code === 'limit_reached', r.text);
	r = await summary(chat.astrologerToken, { text: 's'.repeat(101) });
	check('a summary over notes_max_bytes: 429 limit_reached', r.status === 429 && r.json.error.code === 'limit_reached', r.text);
	r = await summary(chat.astrologerToken, { text: '' });
	check('an empty summary: 400 invalid_field', r.status === 400 && r.json.error.code === 'invalid_field', r.text);
	check('... and none of the refused requests changed the database', stack.dump() === before);

	r = await notes(chat.astrologerToken, { text: 'n'.repeat(100) });
	check('exactly notes_max_bytes is stored (version 3 of 3)', r.status === 200 && r.json.version === 3, r.text);
	r = await notes(chat.astrologerToken, { text: 'n'.repeat(100) });
	check('at the version cap an unchanged autosave still answers, storing nothing', r.status === 200 && r.json.stored === false, r.text);
	const full = stack.dump();
	r = await notes(chat.astrologerToken, { text: 'a fourth' });
	check('a version past notes_max_versions (3): 429 limit_reached, nothing stored',
		r.status === 429 && r.json.error.code === 'limit_reached' && stack.dump() === full, r.text);

	r = await summary(chat.userToken);
	check('the customer reads no summary before one is published', r.status === 200 && r.json.summary === null &&
		r.json.publishedAt === null, r.text);
	r = await summary(chat.astrologerToken, { text: 'Good months ahead for work.' });
	check('the astrologer publishes a summary', r.status === 200 && r.json.summary === 'Good months ahead for work.' &&
		typeof r.json.publishedAt === 'string', r.text);
	r = await summary(chat.astrologerToken, { text: 'Good months ahead; move in spring.' });
	check('publishing again replaces it', r.status === 200 && rows('session_summaries') === 1, r.text);
	r = await summary(chat.userToken);
	check('the customer reads the published summary, told it is the customer',
		r.status === 200 && r.json.summary === 'Good months ahead; move in spring.' && r.json.participantType === 'user', r.text);

	// Every session type keeps notes.
	for (const type of ['voice', 'video']) {
		const s = stack.book(type);
		r = await notes(s.astrologerToken, { text: `${type} notes` });
		const read = await notes(s.astrologerToken);
		check(`a ${type} session keeps notes of its own`, r.status === 200 && r.json.version === 1 && read.json.text === `${type} notes`, r.text);
	}

	// After the end: the notes stay the astrologer's to finish until the link runs out.
	const ended = stack.book('chat', { minutes: 1 });
	stack.ctl('end', ended.sessionId, '--reason', 'astrologer_ended');
	r = await notes(ended.astrologerToken, { text: 'written after the end' });
	check('after the end the astrologer still saves notes', r.status === 200 && r.json.version === 1, r.text);
	r = await summary(ended.astrologerToken, { text: 'After the end' });
	check('... and publishes a summary', r.status === 200, r.text);
	r = await summary(ended.userToken);
	check('... which the customer reads with the ended link', r.status === 200 && r.json.summary === 'After the end', r.text);
	r = await notes(ended.userToken);
	check("... while the customer's ended link still cannot read the notes", r.status === 403, r.text);

	const past = stack.book('chat', { minutes: 1, starts: iso(Date.now() - 120000) });
	stack.ctl('end', past.sessionId);
	const was = stack.dump();
	r = await notes(past.astrologerToken, { text: 'too late' });
	check('once the link has run out, a save: 410 link_expired, nothing stored',
		r.status === 410 && r.json.error.code === 'link_expired' && stack.dump() === was, r.text);
	r = await summary(past.astrologerToken, { text: 'too late' });
	check('... and publishing: 410 link_expired', r.status === 410 && r.json.error.code === 'link_expired', r.text);
	r = await notes(past.astrologerToken);
	check('... while the notes still read', r.status === 200 && r.json.version === 0, r.text);

	const later = stack.book('chat', { starts: iso(Date.now() + 86400000) });
	r = await notes(later.astrologerToken, { text: 'early' });
	check('before the link opens: 409 not_open with linkOpensAt', r.status === 409 && r.json.error.code === 'not_open' &&
		typeof r.json.error.linkOpensAt === 'string', r.text);
}

main().then(() => {
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
}, (e) => {
	console.log(`not ok - the suite ran to the end: ${e && e.stack}`);
	process.exit(1);
});
