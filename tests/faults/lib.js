// lib.js: what the fault suites share: a private mount namespace, the database's data as a comparable snapshot, its health checks.
'use strict';
const { spawnSync, execFileSync } = require('child_process');
const path = require('path');

const root = process.env.SESSIONS_TEST_ROOT || path.resolve(__dirname, '../..');

// Runs the calling script again in a mount namespace of its own, so the small
// file systems it mounts vanish with it. Returns only inside the namespace.
function isolateMounts(limitMs) {
  if (process.env.SESSIONS_FAULTS_MNTNS === '1') return;
  if (spawnSync('unshare', ['-m', 'true'], { timeout: 10000 }).status !== 0) {
    console.log('not ok - the suite can make a mount namespace (unshare -m needs root)');
    process.exit(1);
  }
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, SESSIONS_FAULTS_MNTNS: '1' }, timeout: limitMs + 30000, killSignal: 'SIGKILL',
  });
  if (r.error || r.status === null) console.log(`not ok - the suite ended by itself (${r.error ? r.error.message : r.signal})`);
  process.exit(r.status === null ? 1 : r.status);
}

const sql = (db, q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8', timeout: 10000 });

// Every row of every table, in a form that compares as text. The relay's
// heartbeat moves presence.seen_ms every few seconds whatever else happens,
// so that one column is left out: whether a connection opened or closed is kept.
function snapshot(db) {
  const tables = sql(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .trim().split('\n');
  return tables.map((t) => `${t}:\n${sql(db, t === 'presence'
    ? 'SELECT id, session_id, participant, joined_ms, left_ms FROM presence ORDER BY id'
    : `SELECT * FROM "${t}"`)}`).join('');
}

const integrityOk = (db) => sql(db, 'PRAGMA integrity_check').trim() === 'ok';

function ledgerOk(db) {
  const r = spawnSync(path.join(root, 'build/bin/sessionctl'), ['--db', db, 'ledger', 'check'],
    { encoding: 'utf8', timeout: 10000 });
  return r.status === 0;
}

module.exports = { isolateMounts, snapshot, integrityOk, ledgerOk, sql, root };
