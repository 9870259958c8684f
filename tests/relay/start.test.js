// start.test.js: where the relay finds its database (--db, SESSIONS_DB, the configuration file) and what stops it at start.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Stack, join, run, assert, eq, bin } = require('./lib');

const stacks = [];
const open = [];
const track = (c) => { open.push(c); return c; };

// A configuration file in the stack's dir that every program of the stack reads.
function configure(st, text, env = {}) {
  const file = path.join(st.var, 'sessions.conf');
  fs.writeFileSync(file, text);
  delete st.env.SESSIONS_DB;
  Object.assign(st.env, { SESSIONS_CONF: file }, env);
}

async function bare(setup) {
  const st = await Stack.bare([], {}, setup);
  stacks.push(st);
  return st;
}

// A chat message goes out stored, and a later join finds it in the history.
async function servesChat(st) {
  const b = st.book('chat');
  const u = track(await join(st, b.userToken));
  u.send({ type: 'message', message: 'from the configured database' });
  eq((await u.next('message')).message, 'from the configured database', 'the message is stored and delivered');
  const again = track(await join(st, b.userToken));
  eq(again.joined.history.map((m) => m.message), ['from the configured database'], 'the history has it');
}

// The relay started under a configuration file (conf null: a file that does not exist): its exit status and stderr.
function startFails(conf, env = {}, args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-start-'));
  try {
    const file = path.join(dir, 'sessions.conf');
    if (conf !== null) fs.writeFileSync(file, conf);
    const e = { ...process.env, SESSIONS_CONF: file, ...env };
    if (!('SESSIONS_DB' in env)) delete e.SESSIONS_DB;
    const r = spawnSync(path.join(bin, 'relay'), [...args, '--socket', path.join(dir, 'relay.sock'),
      '--origin', 'http://127.0.0.1:9'], { env: e, encoding: 'utf8', timeout: 5000 });
    return { status: r.status, stderr: r.stderr, socket: fs.existsSync(path.join(dir, 'relay.sock')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const checks = [
  ['without --db the relay uses the database the configuration file names', async () => {
    const st = await bare((s) => {
      configure(s, `database = ${s.db}\n`);
      s.dbArgs = [];
    });
    await servesChat(st);
  }],

  ['SESSIONS_DB overrides the configuration file, as for the API programs', async () => {
    const st = await bare((s) => {
      configure(s, `database = ${path.join(s.var, 'no', 'such', 'dir.db')}\n`, { SESSIONS_DB: s.db });
      s.dbArgs = [];
    });
    await servesChat(st);
  }],

  ['--db overrides the configuration', async () => {
    const st = await bare((s) => configure(s, `database = ${path.join(s.var, 'no', 'such', 'dir.db')}\n`));
    await servesChat(st);
  }],

  ['no database anywhere: exit 2 naming --db and the database setting, before listening', async () => {
    const r = startFails('# nothing set\n');
    eq(r.status, 2, 'exit status');
    assert(/--db/.test(r.stderr) && /database/.test(r.stderr) && /SESSIONS_DB/.test(r.stderr),
      `the message names --db, database and SESSIONS_DB: ${r.stderr}`);
    assert(!r.socket, 'no socket was made');
  }],

  ['a configuration that does not load stops the relay at start with exit 2, even with --db', async () => {
    const typo = startFails('databse = /tmp/x.db\n', {}, ['--db', '/tmp/unused.db']);
    eq(typo.status, 2, 'a misspelt key: exit status');
    assert(/unknown setting 'databse'/.test(typo.stderr), `the message says which line: ${typo.stderr}`);
    const missing = startFails(null, {}, ['--db', '/tmp/unused.db']);
    eq(missing.status, 2, 'SESSIONS_CONF naming no file: exit status');
    assert(/sessions\.conf: No such file/.test(missing.stderr), `the message names the file: ${missing.stderr}`);
  }],
];

run(checks, {
  before: async () => {},
  after: async () => {
    open.forEach((c) => c.close());
    for (const st of stacks) await st.stop();
  },
});
