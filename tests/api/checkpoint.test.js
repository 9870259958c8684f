// checkpoint.test.js: API workers fold the WAL back into the database between requests, so writes through the API alone keep it bounded.
'use strict';

const fs = require('fs');
const { execFileSync } = require('child_process');
const { check, failed, Stack } = require('./stack');

const SESSIONS = 200;   // about 4,000 WAL frames of joins and settlements
const THRESHOLD = 1000; // DB_CHECKPOINT_FRAMES: SQLite's own wal_autocheckpoint
const watchdog = setTimeout(() => {
	console.log('not ok - the suite finished within 120 s');
	process.exit(1);
}, 120000);

const sql = (stack, q) => execFileSync('sqlite3', [stack.db, q], { encoding: 'utf8' }).trim();

(async () => {
	const stack = await new Stack('ckpt', { SESSIONS_API_RATE: '10000r/s', SESSIONS_API_BURST: '10000' }).start();
	stack.ctl('user', 'add', 'Asha', '--balance', '10000.00');
	stack.ctl('astrologer', 'add', 'Vega');
	const booked = [];
	for (let i = 0; i < SESSIONS; i++)
		booked.push(stack.ctl('book', '--user', 'Asha', '--astrologer', 'Vega', '--type', 'chat', '--minutes', '10', '--price', '1.00'));
	// From here on only the API workers write: an empty WAL to start from.
	sql(stack, 'PRAGMA wal_checkpoint(TRUNCATE)');
	const page = Number(sql(stack, 'PRAGMA page_size'));
	let ok = 0;
	for (const b of booked) {
		const u = await stack.req('/api/sessions/join', { body: { token: b.userToken } });
		const a = await stack.req('/api/sessions/join', { body: { token: b.astrologerToken } });
		const e = await stack.req('/api/sessions/end', { body: { token: b.userToken } });
		if (u.status === 200 && a.status === 200 && e.status === 200) ok++;
	}
	check(`${SESSIONS} sessions joined by both and ended through the API`, ok === SESSIONS, `${ok} whole`);
	const frames = Math.round((fs.statSync(`${stack.db}-wal`).size - 32) / (page + 24));
	const written = Number(sql(stack, 'SELECT count(*) FROM settlements'));
	check(`the WAL stays near the ${THRESHOLD}-frame checkpoint threshold while only the API writes (${frames} frames)`,
		frames < THRESHOLD * 1.5 && written === SESSIONS, `${frames} frames, ${written} settlements`);
	let ledger;
	try { ledger = stack.ctl('ledger', 'check'); } catch (e) { ledger = { ok: false, error: String(e) }; }
	check('the ledger adds up after it', ledger.ok === true, JSON.stringify(ledger));
	clearTimeout(watchdog);
	process.exit(failed() ? 1 : 0);
})();
