/**
 * npm run bench [-- --quick] [--runs 3] [--prefill 1000000] [--database-url postgres://…] [--only 'regexp of scenario names'] [--profile]
 *
 * Starts a real vault process on real PostgreSQL (a database of its own), pre-fills it, and
 * measures each scenario beside the ceiling of the same machine measured in the same run. Prints a
 * table and writes JSON to bench/results/ (git-ignored). No thresholds are asserted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createVaultJwt } from '../src/auth/vault-jwt.js';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { FIND_BY_TOKEN_SQL } from '../src/vault/detokenize.js';
import { GET_OR_CREATE_SQL } from '../src/vault/tokenize.js';
import { freePort, ROOT } from '../test/helpers/process.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    prefill: { type: 'string' },
    'database-url': { type: 'string' },
    pool: { type: 'string', default: '2' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;
const RUNS = Number(args.runs ?? (QUICK ? 1 : 3));
const PREFILL = Number(args.prefill ?? (QUICK ? 20_000 : 1_000_000));
const ADMIN_URL = args['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCALE = QUICK ? 0.05 : 1;
const n = (x: number) => Math.max(2, Math.round(x * SCALE));

// ---------- setup ----------
const dbName = `tv_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = (() => { const u = new URL(ADMIN_URL); u.pathname = `/${dbName}`; return u.toString(); })();
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const pgVersion = (await admin.query('show server_version')).rows[0].server_version as string;
const pgSettings = Object.fromEntries((await admin.query(`select name, current_setting(name) as value from pg_settings where name in ('shared_buffers','max_wal_size','wal_compression','synchronous_commit','checkpoint_timeout','max_connections')`)).rows.map((r) => [r.name, r.value]));
await admin.query(`create database ${dbName}`);
const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
// The database is dropped WITH (FORCE) at the end: a connection cut then must not crash the bench.
pool.on('error', (err) => log(`bench pool: ${err.message}`));
const children: ChildProcess[] = [];

async function cleanup() {
  await Promise.all(children.map((c) => new Promise((r) => {
    if (c.exitCode !== null) return r(undefined);
    c.once('exit', r);
    c.kill('SIGTERM');
    setTimeout(r, 10_000);
  })));
  await pool.end().catch(() => undefined);
  await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  await admin.end().catch(() => undefined);
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const keys = { master: randomBytes(32), fp: randomBytes(32), jwt: randomBytes(32), sign: randomBytes(32) };
const env = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL: dbUrl,
  TOKENVAULT_MASTER_KEYS: `1:${keys.master.toString('base64')}`,
  TOKENVAULT_FINGERPRINT_KEY: keys.fp.toString('base64'),
  TOKENVAULT_JWT_SECRET: keys.jwt.toString('base64'),
  TOKENVAULT_SIGNING_KEY: keys.sign.toString('base64'),
  TOKENVAULT_DB_POOL_SIZE: args.pool,
  // The bench is one principal sending far more than a real client would: lift the limits.
  TOKENVAULT_RATE_LIMIT_PER_MINUTE: '999999999',
  TOKENVAULT_REVEAL_BUDGET: '999999999',
  LOG_LEVEL: 'warn',
};
const jwt = createVaultJwt({ secret: keys.jwt, issuer: 'tokenvault', audience: 'tokenvault' });
const token = jwt.sign({ sub: 'bench', scope: 'tokenize detokenize:plain:* erase', ns: ['*'] }, 3600);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** The vault runs compiled, as in production (tsx would add ~80 MB of RSS); the echo stays on tsx. */
const BUILD_DIR = '.bench-build';
/** …and with the production node flags: those of the Dockerfile's CMD. */
const PRODUCTION_NODE_FLAGS = (JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))![1]!) as string[]).filter((a) => a.startsWith('--'));

async function startProcess(script: string, nodeArgs: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const args = [...nodeArgs, ...(script.endsWith('.ts') ? ['--import', 'tsx', script] : [script])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child };
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${script} did not become ready`);
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

// ---------- load ----------
interface LoadResult { rps: number; p50: number; p99: number; errors: number; requests: number; seconds: number; cpuUs: number; pgUs: number; hostCores: number }

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

function cpuOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the host's cores have been busy (all but idle and iowait), from /proc/stat. */
function hostBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** CPU seconds used so far by all of PostgreSQL's processes on this host. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) total += cpuOfStat(stat);
    } catch { /* exited meanwhile */ }
  }
  return total;
}

/**
 * Where the CPU went over a window of `units` (requests, batches or queries): PostgreSQL's CPU per
 * unit, and how many of the host's cores were busy on average (everything: the load generator,
 * the server under test, PostgreSQL, and any neighbour).
 */
function cpuWindow() {
  const host0 = hostBusySeconds();
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  return (units: number) => ({
    pgUs: ((postgresCpuSeconds() - pg0) * 1e6) / Math.max(1, units),
    hostCores: (hostBusySeconds() - host0) / ((performance.now() - t0) / 1000),
  });
}

/** Loads a server; its CPU time per request (all threads) is reported as cpuUs. */
async function load(server: { url: string; child: ChildProcess }, path: string, bodies: string[], o: { connections: number; amount?: number; duration?: number }): Promise<LoadResult> {
  let i = 0;
  const { url } = server;
  const pid = server.child.pid!;
  const cpu0 = cpuSeconds(pid);
  const cpu = cpuWindow();
  // autocannon reports its result on a 1-second tick, so its own duration is rounded up to whole
  // seconds for runs of a fixed amount: those are timed from the first request to the last response.
  const t0 = performance.now();
  let lastResponse = t0;
  const r = await autocannon({
    url: `${url}${path}`,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.duration ?? 5 }),
    requests: [{
      method: 'POST',
      headers,
      setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies[i++ % bodies.length]! }),
      onResponse: () => { lastResponse = performance.now(); },
    }],
  });
  const seconds = o.amount ? (lastResponse - t0) / 1000 : r.duration;
  const cpuUs = ((cpuSeconds(pid) - cpu0) * 1e6) / Math.max(1, r.requests.total);
  return { rps: r.requests.total / seconds, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, requests: r.requests.total, seconds, cpuUs, ...cpu(r.requests.total) };
}

let counter = 0;
const uniq = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
const emailItems = (k: number, prefix = 'u') => Array.from({ length: k }, () => ({ type: 'email', value: `${uniq(prefix)}@bench.example` }));
const body = (items: unknown[]) => JSON.stringify({ items });

// ---------- ceilings ----------
/** Rows/s; PostgreSQL's CPU per batch of 1,000. */
async function rawInsert(connections: number, batches: number): Promise<{ rate: number; pgUs: number; hostCores: number }> {
  const make = () => {
    const rows = 1000;
    return {
      type: Array(rows).fill('email'),
      token: Array.from({ length: rows }, () => `raw${randomBytes(9).toString('hex')}@bench.example`),
      fp: Array.from({ length: rows }, () => randomBytes(32)),
      dek: Array(rows).fill(randomUUID()),
      ct: Array.from({ length: rows }, () => randomBytes(1 + 12 + 24 + 16)),
    };
  };
  const work = Array.from({ length: connections * batches }, make);
  const cpu = cpuWindow();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, async (_, c) => {
    const client = await pool.connect();
    try {
      for (let b = c; b < work.length; b += connections) {
        const w = work[b]!;
        // The vault's own insert statement, prepared as the vault prepares it, in its own transaction.
        await client.query('begin');
        await client.query({ name: 'tv_get_or_create', text: GET_OR_CREATE_SQL, values: ['default', true, w.type, w.token, w.fp, w.dek, w.ct] });
        await client.query('commit');
      }
    } finally {
      client.release();
    }
  }));
  return { rate: (work.length * 1000) / ((performance.now() - t0) / 1000), ...cpu(work.length) };
}

/** Keys/s; PostgreSQL's CPU per query. */
async function rawLookup(column: 'fingerprint' | 'token', keysPerQuery: number, queries: number): Promise<{ rate: number; pgUs: number; hostCores: number }> {
  const sample = (await pool.query(`select ${column} as k from mappings where consistent order by id desc limit ${keysPerQuery * 20}`)).rows.map((r) => r.k);
  const cpu = cpuWindow();
  const t0 = performance.now();
  await Promise.all([0, 1].map(async (c) => {
    for (let q = c; q < queries; q += 2) {
      const slice = sample.slice((q % 20) * keysPerQuery, (q % 20 + 1) * keysPerQuery);
      // The lookups as the vault makes them, prepared (by fingerprint: the read half of GET_OR_CREATE_SQL).
      if (column === 'fingerprint') await pool.query({ name: 'bench_find_by_fingerprint', text: 'select id, token, fingerprint from mappings where consistent and fingerprint = any($1::bytea[])', values: [slice] });
      else await pool.query({ name: 'tv_find_by_token', text: FIND_BY_TOKEN_SQL, values: ['default', slice] });
    }
  }));
  return { rate: (queries * keysPerQuery) / ((performance.now() - t0) / 1000), ...cpu(queries) };
}

/**
 * Open-loop load at a fixed rate: request i is due at t0 + i/rate and is sent on the first timer
 * tick at or after that, however many are still in flight. Its latency counts from the due time,
 * so a late send counts against it. (autocannon's `overallRate` is no such thing: each connection
 * sends back to back until its quota for the current second is used, a burst at full speed at the
 * start of every second, and it then "corrects" latencies for an expected interval of 1 ms.)
 */
async function paced(rate: number, seconds: number, send: (i: number) => Promise<boolean>): Promise<{ p50: number; p99: number; errors: number; requests: number }> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  const t0 = performance.now();
  const due = (i: number) => t0 + (i * 1000) / rate;
  for (let i = 0; i < total;) {
    await new Promise((r) => setTimeout(r, Math.max(0, due(i) - performance.now())));
    for (const now = performance.now(); i < total && due(i) <= now; i++) {
      const d = due(i);
      pending.push(send(i).then((ok) => { if (!ok) errors++; }, () => { errors++; }).then(() => { lat.push(performance.now() - d); }));
    }
  }
  await Promise.all(pending);
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), errors, requests: total };
}

/**
 * The latency floor of anything that must be durable before it answers: one small row inserted
 * and committed (a WAL flush), paced like the vault's reveals, p50 and p99 in ms.
 */
async function rawCommitLatency(rate: number, seconds: number): Promise<{ p50: number; p99: number }> {
  await pool.query('create table if not exists bench_commits (id bigserial primary key, ts timestamptz not null, note text not null)');
  return paced(rate, seconds, async (i) => (await pool.query('insert into bench_commits (ts, note) values (now(), $1)', [`c${i}`]), true));
}

/**
 * One POST over a keep-alive agent, resolving with the status and body: the client of the latency
 * scenarios. (fetch cost ~0.5–1 ms more per request at p50 here, and a few ms at p99.)
 */
function post(agent: http.Agent, url: string, path: string, body: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http.request({ agent, hostname, port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text })).on('error', reject);
    }).on('error', reject).end(body);
  });
}

/** A paced load of POSTs (see `paced`) over keep-alive connections; CPU as in `load`. */
async function pacedLoad(server: { url: string; child: ChildProcess }, path: string, bodies: string[], rate: number, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const pid = server.child.pid!;
  const send = (b: string) => post(agent, server.url, path, b).then((r) => r.status === 200);
  // One second at the same rate first, not counted: it opens the connections.
  await paced(rate, 1, (i) => send(bodies[(bodies.length - 1 - i) % bodies.length]!));
  const cpu0 = cpuSeconds(pid);
  const cpu = cpuWindow();
  const r = await paced(rate, seconds, (i) => send(bodies[i % bodies.length]!));
  agent.destroy();
  return { ...r, rps: r.requests / seconds, seconds, cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / r.requests, ...cpu(r.requests) };
}

/** The p-th quantile of latencies in ms, to 0.1 ms. */
function percentile(lat: number[], p: number): number {
  const sorted = [...lat].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 10) / 10;
}

function cryptoPerCore(): Record<string, number> {
  const rate = (fn: () => void) => {
    let k = 0;
    const end = performance.now() + (QUICK ? 150 : 700);
    while (performance.now() < end) {
      for (let j = 0; j < 100; j++) fn();
      k += 100;
    }
    return k / ((QUICK ? 150 : 700) / 1000);
  };
  const hk = randomBytes(32);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const pt = Buffer.from('alice@example.com');
  const sealed = (() => { const c = createCipheriv('aes-256-gcm', key, iv); const b = Buffer.concat([c.update(pt), c.final()]); return { b, tag: c.getAuthTag() }; })();
  return {
    hmacPerSec: rate(() => createHmac('sha256', hk).update('default\0email\0alice@example.com').digest()),
    aesGcmEncryptPerSec: rate(() => { const c = createCipheriv('aes-256-gcm', key, randomBytes(12)); c.update(pt); c.final(); c.getAuthTag(); }),
    aesGcmDecryptPerSec: rate(() => { const d = createDecipheriv('aes-256-gcm', key, iv); d.setAuthTag(sealed.tag); d.update(sealed.b); d.final(); }),
    hs256VerifyPerSec: rate(() => jwt.verify(token)),
  };
}

// ---------- main ----------
/**
 * One run of a scenario. CPU per request (or per batch or query, for the ceilings): cpuUs of the
 * server under test (all its threads), pgCpuUs of PostgreSQL's processes; hostCores, how many of
 * the host's cores were busy on average. The ceiling* ones are the same for the ceiling.
 * floorP99Ms, echoP99Ms: for a latency target, the p99s of the ceilings that bound it from below.
 */
interface Run { vault: number; ceiling?: number; floorP99Ms?: number; echoP99Ms?: number; p50?: number; p99?: number; errors: number; cpuUs?: number; ceilingCpuUs?: number; pgCpuUs?: number; ceilingPgCpuUs?: number; hostCores?: number; ceilingHostCores?: number }
interface Row extends Run { scenario: string; unit: string; ceilingName?: string; ratio?: number; target?: string; peakRssMb: number }
/** Figures of a run reported as their median over the runs, when a scenario has them. */
const MEDIAN_FIELDS = ['floorP99Ms', 'echoP99Ms', 'p50', 'p99', 'cpuUs', 'ceilingCpuUs', 'pgCpuUs', 'ceilingPgCpuUs', 'hostCores', 'ceilingHostCores'] as const;
/** The figures of a vault load, beside the CPU figures of its ceiling. */
const measured = (r: LoadResult, c?: { pgUs: number; hostCores: number; cpuUs?: number }) => ({
  p50: r.p50, p99: r.p99, errors: r.errors, cpuUs: r.cpuUs, pgCpuUs: r.pgUs, hostCores: r.hostCores,
  ...(c ? { ceilingPgCpuUs: c.pgUs, ceilingHostCores: c.hostCores, ...(c.cpuUs !== undefined ? { ceilingCpuUs: c.cpuUs } : {}) } : {}),
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Row[] = [];
let vaultPid = 0;
let peakRss = 0;
let scenarioPeak = 0;
const sampler = setInterval(() => {
  const r = rssMb(vaultPid);
  peakRss = Math.max(peakRss, r);
  scenarioPeak = Math.max(scenarioPeak, r);
}, 200);

async function checkpoint() {
  await admin.query('checkpoint').catch(() => undefined);
}

try {
  const busy = loadavg()[0]!;
  if (busy > 0.7) log(`WARNING: the machine looks busy before the run (1-min load ${busy.toFixed(2)}); figures will be low`);
  log(`database ${dbName}: migrating and pre-filling ${PREFILL.toLocaleString()} rows`);
  const h = await openDatabase({ databaseUrl: dbUrl, poolSize: 1 });
  await migrate(h);
  await h.close();
  const t0 = performance.now();
  for (let done = 0; done < PREFILL; done += 200_000) {
    const k = Math.min(200_000, PREFILL - done);
    await pool.query(`insert into mappings (namespace, type, token, fingerprint, consistent, dek_id, ciphertext)
      select 'default', 'email', 'pf' || g || '@prefill.example', sha256(('pf' || g)::bytea), true, gen_random_uuid(), sha256(('c' || g)::bytea) || sha256(('d' || g)::bytea)
      from generate_series($1::bigint, $2::bigint) g`, [done + 1, done + k]);
  }
  await pool.query('vacuum analyze mappings');
  log(`pre-filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  log('compiling the vault');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], { cwd: ROOT, stdio: 'inherit' });
  // --profile: a V8 CPU profile of the vault, written when it exits (open it in Chrome DevTools).
  const profileDir = new URL('./results/profiles/', import.meta.url).pathname;
  const vault = await startProcess(`${BUILD_DIR}/server.js`, [...PRODUCTION_NODE_FLAGS, ...(args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])]);
  log(`vault started with ${PRODUCTION_NODE_FLAGS.join(' ')}`);
  vaultPid = vault.child.pid!;
  const echo = await startProcess('bench/echo-server.ts', PRODUCTION_NODE_FLAGS);
  log('vault and echo ceiling are up');

  // Values for the reveal and "already present" scenarios.
  const known: string[] = [];
  const knownTokens: string[] = [];
  for (let b = 0; b < n(20); b++) {
    const items = emailItems(1000, 'k');
    const res = await fetch(`${vault.url}/v1/tokenize`, { method: 'POST', headers, body: body(items) });
    const json = (await res.json()) as { results: { token: string }[] };
    items.forEach((it, i) => { known.push(it.value); knownTokens.push(json.results[i]!.token); });
  }

  const crypto = cryptoPerCore();
  const cpuText = (r: Row) => (r.cpuUs === undefined ? '' : `, CPU ${Math.round(r.cpuUs)} µs/request${r.ceilingCpuUs === undefined ? '' : ` (ceiling ${Math.round(r.ceilingCpuUs)})`}, PostgreSQL ${Math.round(r.pgCpuUs!)}${r.ceilingPgCpuUs === undefined ? '' : ` (${Math.round(r.ceilingPgCpuUs)})`}, host ${r.hostCores!.toFixed(2)} cores busy${r.ceilingHostCores === undefined ? '' : ` (${r.ceilingHostCores.toFixed(2)})`}`);
  const add = (row: Omit<Row, 'peakRssMb'>) => {
    results.push({ ...row, peakRssMb: Math.round(scenarioPeak) });
    const r = results[results.length - 1]!;
    log(`${r.scenario}: ${Math.round(r.vault).toLocaleString()} ${r.unit}${r.ceiling ? ` / ceiling ${Math.round(r.ceiling).toLocaleString()} = ${(r.ratio! * 100).toFixed(0)}%` : ''}${r.p99 !== undefined ? `, p50 ${r.p50} ms, p99 ${r.p99} ms` : ''}${cpuText(r)}, errors ${r.errors}`);
  };

  async function scenario(name: string, unit: string, runOnce: () => Promise<Run>, meta: { ceilingName?: string; target?: string }) {
    if (args.only && !new RegExp(args.only).test(name)) return;
    scenarioPeak = 0;
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      await checkpoint();
      runs.push(await runOnce());
    }
    const vaultM = median(runs.map((x) => x.vault));
    const ceiling = runs[0]!.ceiling !== undefined ? median(runs.map((x) => x.ceiling!)) : undefined;
    const row: Omit<Row, 'peakRssMb'> = {
      scenario: name, unit, vault: vaultM, ...(ceiling !== undefined ? { ceiling, ratio: vaultM / ceiling } : {}),
      ...(meta.ceilingName ? { ceilingName: meta.ceilingName } : {}),
      ...(meta.target ? { target: meta.target } : {}),
      errors: runs.reduce((s, x) => s + x.errors, 0),
    };
    for (const k of MEDIAN_FIELDS) if (runs[0]![k] !== undefined) row[k] = median(runs.map((x) => x[k]!));
    add(row);
  }

  for (const conns of [2, 4]) {
    await scenario(`tokenize new, batches of 1,000, ${conns} conn`, 'values/s', async () => {
      const c = await rawInsert(conns, n(15));
      const bodies = Array.from({ length: n(120) }, () => body(emailItems(1000)));
      const r = await load(vault, '/v1/tokenize', bodies, { connections: conns, amount: bodies.length });
      return { vault: r.rps * 1000, ceiling: c.rate, ...measured(r, c) };
    }, { ceilingName: `raw insert, vault SQL, ${conns} conn`, target: '≥ 80% and ≥ 25,000/s' });
  }

  const presentBodies = Array.from({ length: 20 }, (_, b) => body(known.slice((b * 1000) % known.length, ((b * 1000) % known.length) + 1000).map((value) => ({ type: 'email', value }))));
  await scenario('tokenize already present, batches of 1,000', 'values/s', async () => {
    const c = await rawLookup('fingerprint', 1000, n(60));
    const r = await load(vault, '/v1/tokenize', presentBodies, { connections: 4, duration: QUICK ? 1 : 5 });
    return { vault: r.rps * 1000, ceiling: c.rate, ...measured(r, c) };
  }, { ceilingName: 'raw lookup by fingerprint, 1,000 keys', target: '≥ 100,000/s' });

  await scenario('tokenize mixed (90% present), batches of 1,000', 'values/s', async () => {
    const c = await rawInsert(2, n(15));
    const bodies = Array.from({ length: n(100) }, (_, b) => body([...known.slice((b * 900) % (known.length - 900), ((b * 900) % (known.length - 900)) + 900).map((value) => ({ type: 'email', value })), ...emailItems(100)]));
    const r = await load(vault, '/v1/tokenize', bodies, { connections: 2, amount: bodies.length });
    return { vault: r.rps * 1000, ceiling: c.rate, ...measured(r, c) };
  }, { ceilingName: 'raw insert, vault SQL, 2 conn (all-new)' });

  await scenario('tokenize one new value per request, 32 conn', 'req/s', async () => {
    const amount = n(20_000);
    const single = Array.from({ length: amount }, () => body(emailItems(1)));
    const e = await load(echo, '/bench/echo', single.slice(0, Math.min(amount, 5000)), { connections: 32, duration: QUICK ? 1 : 5 });
    const r = await load(vault, '/v1/tokenize', single, { connections: 32, amount });
    return { vault: r.rps, ceiling: e.rps, ...measured(r, e) };
  }, { ceilingName: 'Fastify echo, same plugin stack, 32 conn', target: '≥ 60%, p99 ≤ 20 ms' });

  const detokSingle = knownTokens.slice(0, 5000).map((t) => JSON.stringify({ tokens: [t], purpose: 'BENCH-1' }));
  await scenario('detokenize one token per request, 32 conn', 'req/s', async () => {
    const e = await load(echo, '/bench/echo', detokSingle, { connections: 32, duration: QUICK ? 1 : 5 });
    const r = await load(vault, '/v1/detokenize', detokSingle, { connections: 32, duration: QUICK ? 1 : 5 });
    return { vault: r.rps, ceiling: e.rps, ...measured(r, e) };
  }, { ceilingName: 'Fastify echo, same plugin stack, 32 conn', target: '≥ 50%' });

  await scenario('detokenize one token per request at 1,000 req/s', 'req/s', async () => {
    // Each reveal waits for its audit rows to be durable, and goes through the HTTP stack: the
    // commit latency and the echo's at the same rate are its floors.
    const commit = await rawCommitLatency(1000, QUICK ? 1 : 5);
    const e = await pacedLoad(echo, '/bench/echo', detokSingle, 1000, QUICK ? 1 : 5);
    log(`at 1,000/s: raw commit p50 ${commit.p50} ms, p99 ${commit.p99} ms; echo p50 ${e.p50} ms, p99 ${e.p99} ms`);
    const r = await pacedLoad(vault, '/v1/detokenize', detokSingle, 1000, QUICK ? 1 : 5);
    return { vault: r.rps, floorP99Ms: commit.p99, echoP99Ms: e.p99, ...measured(r, e), errors: r.errors + e.errors };
  }, { target: 'p99 ≤ 10 ms', ceilingName: 'raw insert + commit at 1,000/s' });

  const detok100 = Array.from({ length: 50 }, (_, b) => JSON.stringify({ tokens: knownTokens.slice((b * 100) % knownTokens.length, ((b * 100) % knownTokens.length) + 100), purpose: 'BENCH-100' }));
  await scenario('detokenize batches of 100, 4 conn', 'values/s', async () => {
    const c = await rawLookup('token', 100, n(300));
    const r = await load(vault, '/v1/detokenize', detok100, { connections: 4, duration: QUICK ? 1 : 5 });
    return { vault: r.rps * 100, ceiling: c.rate, ...measured(r, c) };
  }, { ceilingName: 'raw lookup by token, 100 keys' });

  await scenario('erasure of a subject with 100 tokens', 'erasures/s', async () => {
    // 200 erasures a run: with 40, the "p99" was simply the slowest one.
    const subjects = Array.from({ length: n(200) }, () => uniq('subj'));
    for (let s = 0; s < subjects.length; s += 10) {
      const items = subjects.slice(s, s + 10).flatMap((subject) => emailItems(100, 'e').map((it) => ({ ...it, subject })));
      await fetch(`${vault.url}/v1/tokenize`, { method: 'POST', headers, body: body(items) });
    }
    const lat: number[] = [];
    let errors = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const t0 = performance.now();
    for (const subject of subjects) {
      const s = performance.now();
      const res = await post(agent, vault.url, '/v1/erasures', JSON.stringify({ subject }));
      if (res.status !== 201 || (JSON.parse(res.body) as { tokensErased?: number }).tokensErased !== 100) errors++;
      lat.push(performance.now() - s);
    }
    agent.destroy();
    return { vault: subjects.length / ((performance.now() - t0) / 1000), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), errors };
  }, { target: 'p99 ≤ 20 ms' });

  await scenario('race: 16 clients, overlapping new values', 'values/s', async () => {
    const pool300 = emailItems(300, 'race').map((x) => x.value);
    const seen = new Map<string, string>();
    let errors = 0;
    const t0 = performance.now();
    let total = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, w) => {
      for (let r = 0; r < 5; r++) {
        const vals = Array.from({ length: 100 }, (_, i) => pool300[(w * 37 + r * 11 + i * 7) % 300]!);
        const res = await fetch(`${vault.url}/v1/tokenize`, { method: 'POST', headers, body: body(vals.map((value) => ({ type: 'email', value }))) });
        if (res.status !== 200) { errors++; continue; }
        const json = (await res.json()) as { results: { token: string }[] };
        vals.forEach((v, i) => {
          const t = json.results[i]!.token;
          if (seen.has(v) && seen.get(v) !== t) errors++;
          seen.set(v, t);
        });
        total += vals.length;
      }
    }));
    return { vault: total / ((performance.now() - t0) / 1000), errors };
  }, { target: '0 disagreements' });

  const report = {
    when: new Date().toISOString(),
    quick: QUICK,
    runs: RUNS,
    prefill: PREFILL,
    machine: { cores: (await import('node:os')).cpus().length, node: process.version, postgres: pgVersion, postgresSettings: pgSettings, loadBefore: busy },
    crypto,
    peakRssMb: Math.round(peakRss),
    scenarios: results,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const out = new URL(`./results/bench-${report.when.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(out, JSON.stringify(report, null, 2));

  const fmt = (x: number | undefined) => (x === undefined ? '' : Math.round(x).toLocaleString('en-US'));
  console.log(`\ntokenvault bench — ${QUICK ? 'QUICK smoke run' : `median of ${RUNS} runs`}, ${PREFILL.toLocaleString('en-US')} pre-filled rows, PostgreSQL ${pgVersion}, Node ${process.version}`);
  console.log('| scenario | vault | ceiling | ratio | target | p50 ms | p99 ms | CPU µs/request (ceiling) | PostgreSQL CPU µs/request (ceiling) | host cores busy (ceiling) | errors | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const withCeiling = (x: number | undefined, c: number | undefined, f: (v: number) => string) => (x === undefined ? '' : `${f(x)}${c === undefined ? '' : ` (${f(c)})`}`);
  for (const r of results) {
    console.log(`| ${r.scenario} | ${fmt(r.vault)} ${r.unit} | ${r.ceiling ? `${fmt(r.ceiling)} (${r.ceilingName})` : r.floorP99Ms !== undefined ? `p99 ${r.floorP99Ms} ms (${r.ceilingName}); echo p99 ${r.echoP99Ms} ms` : ''} | ${r.ratio ? `${(r.ratio * 100).toFixed(0)}%` : ''} | ${r.target ?? ''} | ${r.p50 ?? ''} | ${r.p99 ?? ''} | ${withCeiling(r.cpuUs, r.ceilingCpuUs, fmt)} | ${withCeiling(r.pgCpuUs, r.ceilingPgCpuUs, fmt)} | ${withCeiling(r.hostCores, r.ceilingHostCores, (v) => v.toFixed(2))} | ${r.errors} | ${r.peakRssMb} |`);
  }
  console.log(`\ncrypto per core: HMAC ${fmt(crypto.hmacPerSec)}/s, AES-GCM encrypt ${fmt(crypto.aesGcmEncryptPerSec)}/s, decrypt ${fmt(crypto.aesGcmDecryptPerSec)}/s, HS256 verify ${fmt(crypto.hs256VerifyPerSec)}/s`);
  console.log(`vault peak RSS ${Math.round(peakRss)} MB; JSON: ${out.pathname}`);
  const failed = results.some((r) => r.scenario.startsWith('race') && r.errors > 0);
  clearInterval(sampler);
  await cleanup();
  process.exit(failed ? 1 : 0);
} catch (err) {
  clearInterval(sampler);
  console.error(err);
  await cleanup();
  process.exit(1);
}
