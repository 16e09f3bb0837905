/**
 * npm run bench [-- --quick] [--runs 3] [--prefill 1000000] [--database-url postgres://…] [--only 'regexp of scenario names'] [--levers] [--profile]
 *
 * Starts a real vault process on real PostgreSQL (a database of its own), pre-fills it, and
 * measures each SPEC §8 scenario beside its ceiling, measured in the same run on the same machine:
 * the ratio is the figure that matters on a shared machine. Prints a table and writes JSON to
 * bench/results/ (git-ignored). No thresholds are asserted, except that concurrent clients must
 * never get two tokens for one value.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createVaultJwt } from '../src/auth/vault-jwt.js';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { ROOT } from '../test/helpers/process.js';
import { insertCeiling, lookupCeiling, sampleWaits, type WaitSample } from './lib/ceilings.js';
import { load, median, percentile, post, rssMb, startProcess, type LoadResult, type Server } from './lib/measure.js';
import { leverScenarios } from './levers.js';
import { zipfSampler } from './lib/zipf.js';
import { withDatabase } from '../test/helpers/global-setup.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    prefill: { type: 'string' },
    'database-url': { type: 'string' },
    pool: { type: 'string', default: '2' },
    only: { type: 'string' },
    levers: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const QUICK = args.quick;
const RUNS = Number(args.runs ?? (QUICK ? 1 : 3));
const PREFILL = Number(args.prefill ?? (QUICK ? 20_000 : 1_000_000));
const ADMIN_URL = args['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCALE = QUICK ? 0.05 : 1;
const n = (x: number) => Math.max(2, Math.round(x * SCALE));
/** Seconds of a load run of fixed duration. */
const SECONDS = QUICK ? 1 : 5;

// ---------- setup ----------
const dbName = `tv_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = withDatabase(ADMIN_URL, dbName);
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const pgVersion = (await admin.query('show server_version')).rows[0].server_version as string;
const pgSettings = Object.fromEntries(
  (
    await admin.query(
      `select name, current_setting(name) as value from pg_settings where name in ('shared_buffers','max_wal_size','wal_compression','synchronous_commit','checkpoint_timeout','max_connections')`,
    )
  ).rows.map((r) => [r.name, r.value]),
);
await admin.query(`create database ${dbName}`);
const pool = new pg.Pool({ connectionString: dbUrl, max: 4, idleTimeoutMillis: 0 });
// The database is dropped WITH (FORCE) at the end: a connection cut then must not crash the bench.
let closing = false;
pool.on('error', (err) => {
  if (!closing) log(`bench pool: ${err.message}`);
});
const servers: Server[] = [];

async function cleanup() {
  closing = true;
  await Promise.all(servers.map((s) => s.stop()));
  await pool.end().catch(() => undefined);
  await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  await admin.end().catch(() => undefined);
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const keys = { master: randomBytes(32), fp: randomBytes(32), jwt: randomBytes(32), sign: randomBytes(32), audit: randomBytes(32) };
/** The vault as shipped: production mode, the default log level (info), a pool of 2. */
const env = {
  PATH: process.env.PATH ?? '',
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  DATABASE_URL: dbUrl,
  TOKENVAULT_MASTER_KEYS: `1:${keys.master.toString('base64')}`,
  TOKENVAULT_FINGERPRINT_KEY: keys.fp.toString('base64'),
  TOKENVAULT_JWT_SECRET: keys.jwt.toString('base64'),
  TOKENVAULT_SIGNING_KEY: keys.sign.toString('base64'),
  // One audit key for every instance: each would otherwise generate its own and seal the others' rows as forged.
  TOKENVAULT_AUDIT_SIGNING_KEY: keys.audit.toString('base64'),
  TOKENVAULT_DB_POOL_SIZE: args.pool,
  // The bench is one principal sending far more than a real client would: lift the limits.
  TOKENVAULT_RATE_LIMIT_PER_MINUTE: '999999999',
  TOKENVAULT_REVEAL_BUDGET: '999999999',
  TOKENVAULT_IP_RATE_LIMIT_PER_MINUTE: '999999999',
  TOKENVAULT_TOKEN_TTL_SECONDS: String(86_400),
};
const jwt = createVaultJwt({ secret: keys.jwt, issuer: 'tokenvault', audience: 'tokenvault' });
/**
 * Production accepts only tokens of active clients (rows written at setup), no longer than the TTL,
 * and never tokenize with a reveal scope: one client tokenizes and erases, another reveals.
 */
const TOKEN_TTL_SECONDS = Number(env.TOKENVAULT_TOKEN_TTL_SECONDS);
const benchClients = [
  { id: randomUUID(), name: 'bench-ingest', scopes: ['tokenize', 'erase'] },
  { id: randomUUID(), name: 'bench-support', scopes: ['detokenize:plain:*'] },
] as const;
const bearerHeaders = (c: (typeof benchClients)[number]) => ({
  authorization: `Bearer ${jwt.sign({ sub: c.id, kind: 'client', scope: c.scopes.join(' '), ns: ['*'] }, TOKEN_TTL_SECONDS)}`,
  'content-type': 'application/json',
});
const headers = bearerHeaders(benchClients[0]);
const revealHeaders = bearerHeaders(benchClients[1]);

const T0 = performance.now();
function log(msg: string) {
  process.stderr.write(`[bench +${((performance.now() - T0) / 1000).toFixed(0)}s] ${msg}\n`);
}

/** The vault runs compiled, as in production (tsx would add ~80 MB of RSS); the echoes stay on tsx. */
const BUILD_DIR = '.bench-build';
/** …and with the production node flags: those of the Dockerfile's CMD. */
const PRODUCTION_NODE_FLAGS = (
  JSON.parse(/^CMD (\[.*\])$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))![1]!) as string[]
).filter((a) => a.startsWith('--'));
const profileDir = new URL('./results/profiles/', import.meta.url).pathname;

async function start(script: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Server> {
  const s = await startProcess(script, { nodeArgs: [...PRODUCTION_NODE_FLAGS, ...nodeArgs], env: { ...env, ...extraEnv } });
  servers.push(s);
  return s;
}
/**
 * The smoke run starts the vault from source under tsx instead: compiling is most of its time on a
 * busy machine, and its figures (RSS included: tsx adds ~80 MB) are not judged.
 */
const VAULT_SCRIPT = QUICK ? 'src/server.ts' : `${BUILD_DIR}/server.js`;
const startVault = (extraEnv: Record<string, string> = {}) =>
  start(VAULT_SCRIPT, extraEnv, args.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []);

let counter = 0;
const uniq = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
const emailItems = (k: number, prefix = 'u') =>
  Array.from({ length: k }, () => ({ type: 'email', value: `${uniq(prefix)}@bench.example` }));
const body = (items: unknown[]) => JSON.stringify({ items });
const valuesBody = (values: string[]) => body(values.map((value) => ({ type: 'email', value })));

// ---------- scenarios ----------
/**
 * One run of a scenario: the vault's figure and its same-run ceiling, and where the CPU went (per
 * request, or per batch or query for the database ceilings): cpuUs of the server under test (all
 * its threads), pgCpuUs of PostgreSQL's processes, hostCores how many of the host's cores were
 * busy on average; the ceiling* ones are the same for the ceiling (ceilingP99: an echo's p99). `notes`: what else the run saw.
 */
interface Run {
  vault: number;
  ceiling?: number;
  p50?: number;
  p99?: number;
  ceilingP99?: number;
  errors: number;
  cpuUs?: number;
  ceilingCpuUs?: number;
  pgCpuUs?: number;
  ceilingPgCpuUs?: number;
  hostCores?: number;
  ceilingHostCores?: number;
  notes?: string;
}
interface Target {
  ratio?: number;
  p99Ms?: number;
  noLockWaits?: boolean;
  text?: string;
}
interface Row extends Omit<Run, 'notes'> {
  scenario: string;
  unit: string;
  ceilingName?: string;
  ratio?: number;
  target?: string;
  verdict?: 'met' | 'missed';
  peakRssMb: number;
  load1: number[];
  notes: string[];
}
const MEDIAN_FIELDS = [
  'ceiling',
  'p50',
  'p99',
  'ceilingP99',
  'cpuUs',
  'ceilingCpuUs',
  'pgCpuUs',
  'ceilingPgCpuUs',
  'hostCores',
  'ceilingHostCores',
] as const;
/** The figures of a vault load, beside those of its ceiling. */
const measured = (r: LoadResult, c?: { pgUs: number; hostCores: number; cpuUs?: number; p99?: number }) => ({
  p50: r.p50,
  p99: r.p99,
  errors: r.errors,
  cpuUs: r.cpuUs,
  pgCpuUs: r.pgUs,
  hostCores: r.hostCores,
  ...(c
    ? {
        ceilingPgCpuUs: c.pgUs,
        ceilingHostCores: c.hostCores,
        ...(c.cpuUs !== undefined ? { ceilingCpuUs: c.cpuUs } : {}),
        ...(c.p99 !== undefined ? { ceilingP99: c.p99 } : {}),
      }
    : {}),
});
const results: Row[] = [];
let peakRss = 0;
let scenarioPeak = 0;
const rssOf = () => servers.filter((s) => s.child.exitCode === null).map((s) => ({ s, mb: rssMb(s.child.pid!) }));
const vaultPids = new Set<number>();
const sampler = setInterval(() => {
  for (const { s, mb } of rssOf()) {
    if (!vaultPids.has(s.child.pid!)) continue;
    peakRss = Math.max(peakRss, mb);
    scenarioPeak = Math.max(scenarioPeak, mb);
  }
}, 200);

const fmtRatio = (x: number) => `${(x * 100).toFixed(0)}%`;
function targetText(t: Target): string {
  return [
    t.text ?? '',
    t.ratio !== undefined ? `≥ ${fmtRatio(t.ratio)}` : '',
    t.p99Ms !== undefined ? `p99 ≤ ${t.p99Ms} ms` : '',
    t.noLockWaits ? 'no lock waits' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * Runs a scenario RUNS times (CHECKPOINT and the 1-minute load average before each) and records
 * the medians. The ratio is the median of the runs' ratios, each against the ceiling of its own
 * run: the machine's speed drifts between runs, a ratio within one run much less.
 */
const wanted = (name: string) => !args.only || new RegExp(args.only).test(name);

async function scenario(
  name: string,
  unit: string,
  runOnce: (run: number) => Promise<Run & { lockWaits?: number }>,
  meta: { ceilingName?: string; target?: Target; targetText?: string } = {},
) {
  if (!wanted(name)) return;
  scenarioPeak = 0;
  const runs: (Run & { lockWaits?: number })[] = [];
  const load1: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    await admin.query('checkpoint').catch(() => undefined);
    load1.push(Math.round(loadavg()[0]! * 100) / 100);
    runs.push(await runOnce(r));
  }
  const row: Row = {
    scenario: name,
    unit,
    vault: median(runs.map((x) => x.vault)),
    errors: runs.reduce((s, x) => s + x.errors, 0),
    peakRssMb: Math.round(scenarioPeak),
    load1,
    notes: runs.map((x) => x.notes ?? '').filter(Boolean),
    ...(meta.ceilingName ? { ceilingName: meta.ceilingName } : {}),
    ...(meta.targetText ? { target: meta.targetText } : {}),
  };
  for (const k of MEDIAN_FIELDS) if (runs[0]![k] !== undefined) row[k] = median(runs.map((x) => x[k]!));
  if (row.ceiling !== undefined) row.ratio = median(runs.map((x) => x.vault / x.ceiling!));
  const t = meta.target;
  if (t) {
    row.target = targetText(t);
    const lockWaits = median(runs.map((x) => x.lockWaits ?? 0));
    const met =
      (t.ratio === undefined || (row.ratio ?? 0) >= t.ratio) &&
      (t.p99Ms === undefined || (row.p99 ?? Infinity) <= t.p99Ms) &&
      (!t.noLockWaits || lockWaits === 0) &&
      row.errors === 0;
    row.verdict = met ? 'met' : 'missed';
  }
  results.push(row);
  log(
    `${name}: ${Math.round(row.vault).toLocaleString('en-US')} ${unit}${row.ceiling !== undefined ? ` / ${Math.round(row.ceiling).toLocaleString('en-US')} = ${fmtRatio(row.ratio!)}` : ''}${row.p99 !== undefined ? `, p50 ${row.p50} ms, p99 ${row.p99} ms` : ''}, errors ${row.errors}, load ${load1.join('/')}${row.verdict ? `: ${row.verdict}` : ''}${row.notes.length ? `\n    ${row.notes.join('\n    ')}` : ''}`,
  );
}

try {
  const busy = loadavg()[0]!;
  if (busy > 0.7)
    log(`WARNING: the machine looks busy before the run (1-min load ${busy.toFixed(2)}); absolute figures will be low, compare ratios`);
  log(`database ${dbName}: migrating and pre-filling ${PREFILL.toLocaleString('en-US')} rows`);
  const h = await openDatabase({ databaseUrl: dbUrl, poolSize: 1 });
  await migrate(h);
  await h.close();
  for (const c of benchClients) {
    // The secret is never exchanged (the bench signs its tokens): the hash is a placeholder.
    await pool.query('insert into clients (id, name, secret_hash, scopes, namespaces) values ($1, $2, $3, $4, $5)', [
      c.id,
      c.name,
      'unused',
      c.scopes,
      ['*'],
    ]);
  }
  const t0 = performance.now();
  for (let done = 0; done < PREFILL; done += 200_000) {
    const k = Math.min(200_000, PREFILL - done);
    await pool.query(
      `insert into mappings (namespace, type, token, fingerprint, consistent, dek_id, ciphertext)
      select 'default', 'email', 'pf' || g || '@prefill.example', sha256(('pf' || g)::bytea), true, gen_random_uuid(), sha256(('c' || g)::bytea) || sha256(('d' || g)::bytea)
      from generate_series($1::bigint, $2::bigint) g`,
      [done + 1, done + k],
    );
  }
  await pool.query('vacuum analyze mappings');
  const prefillMaxId = Number((await pool.query('select coalesce(max(id), 0) as m from mappings')).rows[0].m);
  log(`pre-filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  if (!QUICK) {
    log('compiling the vault');
    // Incremental: a second run recompiles only what changed.
    execFileSync(
      process.execPath,
      [
        'node_modules/typescript/bin/tsc',
        '-p',
        'tsconfig.build.json',
        '--outDir',
        BUILD_DIR,
        '--incremental',
        '--tsBuildInfoFile',
        `${BUILD_DIR}/.tsbuildinfo`,
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
  }
  const vault = await startVault();
  vaultPids.add(vault.child.pid!);
  const bare = await start('bench/echo-bare.ts');
  log(`vault started with ${PRODUCTION_NODE_FLAGS.join(' ')}; bare echo up`);

  // Both echo routes warmed, untimed: a ceiling measured on cold code would flatter the vault.
  await load(bare, '/echo', [body(emailItems(1))], { connections: 32, duration: 1, headers });
  await load(bare, '/echo/batch', [body(emailItems(1000))], { connections: 4, duration: 1, headers });

  // Values for the hot working set and the reveals: created, then never met again until used.
  const known: string[] = [];
  const knownTokens: string[] = [];
  for (let b = 0; b < n(20); b++) {
    const items = emailItems(1000, 'k');
    const res = await fetch(`${vault.url}/v1/tokenize`, { method: 'POST', headers, body: body(items) });
    const json = (await res.json()) as { results: { token: string }[] };
    items.forEach((it, i) => {
      known.push(it.value);
      knownTokens.push(json.results[i]!.token);
    });
  }

  if (args.levers) {
    await leverScenarios({
      scenario,
      start,
      startVault,
      vault,
      bare,
      headers,
      body: (k) => body(emailItems(k)),
      seconds: SECONDS,
      amount: n(20_000),
      vaultPids,
      wanted,
    });
  }
  const mainScenarios = !args.levers;

  /** Bodies of new values the vault created and has not met since, in the order they were sent. */
  const created: string[] = [];
  let ceilingKeysUsed = 0;
  if (mainScenarios)
    await scenario(
      'tokenize new values, batches of 1,000, 2 conn',
      'values/s',
      async () => {
        const mandatory = await insertCeiling(pool, { connections: 2, batches: n(15), crypto: true });
        const raw = await insertCeiling(pool, { connections: 2, batches: n(15), crypto: false });
        const bodies = Array.from({ length: n(120) }, () => body(emailItems(1000)));
        const r = await load(vault, '/v1/tokenize', bodies, { connections: 2, amount: bodies.length, headers });
        created.push(...bodies);
        return {
          vault: r.rps * 1000,
          ceiling: mandatory.rate,
          ...measured(r, mandatory),
          notes: `raw insert (no crypto) ${Math.round(raw.rate).toLocaleString('en-US')} rows/s; vault at ${fmtRatio((r.rps * 1000) / raw.rate)} of it`,
        };
      },
      { ceilingName: 'mandatory work', target: { ratio: 0.8 } },
    );

  if (mainScenarios)
    await scenario(
      'tokenize present values not met since created, batches of 1,000',
      'values/s',
      async (run) => {
        const perRun = n(120);
        const first = run * perRun;
        while (created.length < first + perRun) {
          // Run alone (--only): create the values first, untimed.
          const bodies = Array.from({ length: perRun }, () => body(emailItems(1000)));
          await load(vault, '/v1/tokenize', bodies, { connections: 2, amount: bodies.length, headers });
          created.push(...bodies);
        }
        // Keys for the ceiling: rows the ceilings inserted (tokens @tok.example), each looked up once;
        // as many again for the diagnostic through the whole get-or-create statement.
        const want = 2 * n(60) * 1000;
        const ceilingKeys = () =>
          pool
            .query<{ f: Buffer }>(
              `select fingerprint as f from mappings where id > $1 and token like '%@tok.example' order by id offset $2 limit $3`,
              [prefillMaxId, ceilingKeysUsed, want],
            )
            .then((q) => q.rows.map((r) => r.f));
        let keys = await ceilingKeys();
        if (keys.length < want) {
          await insertCeiling(pool, { connections: 2, batches: Math.ceil(want / 2000), crypto: false });
          keys = await ceilingKeys();
        }
        ceilingKeysUsed += keys.length;
        const c = await lookupCeiling(pool, keys.slice(0, want / 2));
        const viaInsert = await lookupCeiling(pool, keys.slice(want / 2), true);
        let createdNow = 0;
        const r = await load(vault, '/v1/tokenize', created.slice(first, first + perRun), {
          connections: 4,
          amount: perRun,
          headers,
          onBody: (b) => {
            createdNow += b.split('"created":true').length - 1;
          },
        });
        return {
          vault: r.rps * 1000,
          ceiling: c.rate,
          ...measured(r, c),
          errors: r.errors + createdNow,
          notes: `the same keys through the vault's get-or-create statement (raw, no HTTP or crypto): ${Math.round(viaInsert.rate).toLocaleString('en-US')} keys/s, PostgreSQL ${Math.round(viaInsert.pgUs).toLocaleString('en-US')} µs per 1,000`,
        };
      },
      { ceilingName: 'raw lookup by fingerprint', target: { ratio: 0.5 } },
    );

  const hotBodies = Array.from({ length: Math.min(20, n(20)) }, (_, b) => valuesBody(known.slice(b * 1000, b * 1000 + 1000)));
  if (mainScenarios)
    await scenario(
      'tokenize hot working set (the same 20 batches), 4 conn',
      'values/s',
      async () => {
        // One pass first: a value enters the token cache when it is met again after its creation.
        await load(vault, '/v1/tokenize', hotBodies, { connections: 4, amount: hotBodies.length, headers });
        // The smoke run sends a fixed amount: one second on a busy machine may see no response at all.
        const span = QUICK ? { amount: 4 * hotBodies.length } : { duration: SECONDS };
        const e = await load(bare, '/echo/batch', hotBodies, { connections: 4, ...span, headers });
        const r = await load(vault, '/v1/tokenize', hotBodies, { connections: 4, ...span, headers });
        return { vault: r.rps * 1000, ceiling: e.rps * 1000, ...measured(r, e) };
      },
      { ceilingName: 'batch echo', target: { ratio: 0.2 } },
    );

  // A stream with a realistic skew: value of rank k drawn with probability ∝ 1/k over a million
  // values (most ingest streams repeat a few subjects often). Warmed first: a stream that has run.
  const zipfN = QUICK ? 50_000 : 1_000_000;
  const zipf = zipfSampler(zipfN, 1.0);
  const zipfTag = uniq('z');
  const zipfBody = () => valuesBody(Array.from({ length: 1000 }, () => `${zipfTag}r${zipf()}@bench.example`));
  let zipfWarm = false;
  if (mainScenarios)
    await scenario(
      'tokenize a Zipf-distributed stream (s = 1), batches of 1,000, 4 conn',
      'values/s',
      async () => {
        if (!zipfWarm) {
          const warm = Array.from({ length: n(100) }, zipfBody);
          await load(vault, '/v1/tokenize', warm, { connections: 4, amount: warm.length, headers });
          zipfWarm = true;
        }
        const bodies = Array.from({ length: n(100) }, zipfBody);
        const distinct = new Set(bodies.flatMap((b) => (JSON.parse(b) as { items: { value: string }[] }).items.map((i) => i.value))).size;
        const e = await load(bare, '/echo/batch', bodies, { connections: 4, duration: SECONDS, headers });
        let createdNow = 0;
        const r = await load(vault, '/v1/tokenize', bodies, {
          connections: 4,
          amount: bodies.length,
          headers,
          onBody: (b) => {
            createdNow += b.split('"created":true').length - 1;
          },
        });
        const items = bodies.length * 1000;
        return {
          vault: r.rps * 1000,
          ceiling: e.rps * 1000,
          ...measured(r, e),
          notes: `over ${zipfN.toLocaleString('en-US')} values: ${fmtRatio(createdNow / items)} of items new, ${fmtRatio(distinct / items)} distinct within the run`,
        };
      },
      { ceilingName: 'batch echo', targetText: 'none (shows the token cache under skew)' },
    );

  const single = Array.from({ length: n(20_000) }, () => body(emailItems(1)));
  let stackEcho: Server | undefined;
  if (mainScenarios)
    await scenario(
      'tokenize one new value per request, 32 conn',
      'req/s',
      async (run) => {
        const e = await load(bare, '/echo', single.slice(0, 5000), { connections: 32, duration: SECONDS, headers });
        const r = await load(
          vault,
          '/v1/tokenize',
          single.map((b) => (run ? b.replace('@bench', `r${run}@bench`) : b)),
          { connections: 32, amount: single.length, headers },
        );
        // Diagnostic (not in the smoke run): an echo built from the vault's own plugin stack shows
        // what the stack costs.
        stackEcho ??= QUICK ? undefined : await start('bench/echo-server.ts');
        const s =
          stackEcho && (await load(stackEcho, '/bench/echo', single.slice(0, 5000), { connections: 32, duration: SECONDS, headers }));
        const stack = s
          ? `; echo on the vault's plugin stack ${Math.round(s.rps).toLocaleString('en-US')} req/s (${Math.round(s.cpuUs)} µs/request, ${s.logLinesPerRequest.toFixed(2)} log lines/request)`
          : '';
        return {
          vault: r.rps,
          ceiling: e.rps,
          ...measured(r, e),
          notes: `vault ${Math.round(r.cpuUs)} µs/request, ${r.logLinesPerRequest.toFixed(2)} log lines/request${stack}`,
        };
      },
      { ceilingName: 'bare echo', target: { ratio: 0.3, p99Ms: 20 } },
    );
  await stackEcho?.stop();

  const detokSingle = knownTokens.slice(0, 5000).map((t) => JSON.stringify({ tokens: [t], purpose: 'BENCH-1' }));
  if (mainScenarios)
    await scenario(
      'detokenize one token per request, 32 conn',
      'req/s',
      async () => {
        const e = await load(bare, '/echo', detokSingle, { connections: 32, duration: SECONDS, headers });
        const r = await load(vault, '/v1/detokenize', detokSingle, { connections: 32, duration: SECONDS, headers: revealHeaders });
        return { vault: r.rps, ceiling: e.rps, ...measured(r, e) };
      },
      { ceilingName: 'bare echo', target: { ratio: 0.3, p99Ms: 20 } },
    );

  let second: Server | undefined;
  if (mainScenarios)
    await scenario(
      'two instances on one database, one new value per request, 2 × 16 conn',
      'req/s',
      async (run) => {
        second ??= await startVault();
        vaultPids.add(second.child.pid!);
        const amount = n(10_000);
        const bodies = (tag: string) => Array.from({ length: amount }, () => body(emailItems(1, tag)));
        const [one, twoA, twoB] = [bodies(`o${run}`), bodies(`a${run}`), bodies(`b${run}`)];
        const waits1 = await sampleWaits(ADMIN_URL, dbName);
        const r1 = await load(vault, '/v1/tokenize', one, { connections: 32, amount, headers });
        const w1 = await waits1();
        const waits2 = await sampleWaits(ADMIN_URL, dbName);
        const [a, b] = await Promise.all([
          load(vault, '/v1/tokenize', twoA, { connections: 16, amount, headers }),
          load(second, '/v1/tokenize', twoB, { connections: 16, amount, headers }),
        ]);
        const w2 = await waits2();
        const two = (a.requests + b.requests) / Math.max(a.seconds, b.seconds);
        const top = (w: WaitSample) =>
          Object.entries(w.events)
            .sort((x, y) => y[1] - x[1])
            .slice(0, 4)
            .map(([k, v]) => `${k} ${(v / Math.max(1, w.samples)).toFixed(2)}`)
            .join(', ') || 'none';
        return {
          vault: two,
          ceiling: r1.rps,
          p50: Math.max(a.p50, b.p50),
          p99: Math.max(a.p99, b.p99),
          errors: a.errors + b.errors + r1.errors,
          lockWaits: w2.lockWaitsPerSample,
          notes: `lock waits per 20 ms sample: two instances ${w2.lockWaitsPerSample.toFixed(2)} (max ${w2.maxLockWaits}, ${w2.samples} samples), one ${w1.lockWaitsPerSample.toFixed(2)}; waits per sample, two: ${top(w2)}; one: ${top(w1)}`,
        };
      },
      { ceilingName: 'one instance, 32 conn', target: { ratio: 0.95, noLockWaits: true } },
    );
  if (second) {
    vaultPids.delete(second.child.pid!);
    await second.stop();
  }

  // Erasures clear every instance's token cache: after the cached scenarios.
  if (mainScenarios)
    await scenario(
      'erasure of a subject with 100 tokens',
      'erasures/s',
      async () => {
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
          const res = await post(agent, vault.url, '/v1/erasures', headers, JSON.stringify({ subject }));
          if (res.status !== 201 || (JSON.parse(res.body) as { tokensErased?: number }).tokensErased !== 100) errors++;
          lat.push(performance.now() - s);
        }
        agent.destroy();
        return {
          vault: subjects.length / ((performance.now() - t0) / 1000),
          p50: percentile(lat, 0.5),
          p99: percentile(lat, 0.99),
          errors,
        };
      },
      { target: { p99Ms: 20 } },
    );

  if (mainScenarios)
    await scenario(
      'race: 16 clients, overlapping new values',
      'values/s',
      async () => {
        const pool300 = emailItems(300, 'race').map((x) => x.value);
        const seen = new Map<string, string>();
        let errors = 0;
        const t0 = performance.now();
        let total = 0;
        await Promise.all(
          Array.from({ length: 16 }, async (_, w) => {
            for (let r = 0; r < 5; r++) {
              const vals = Array.from({ length: 100 }, (_, i) => pool300[(w * 37 + r * 11 + i * 7) % 300]!);
              const res = await fetch(`${vault.url}/v1/tokenize`, { method: 'POST', headers, body: valuesBody(vals) });
              if (res.status !== 200) {
                errors++;
                continue;
              }
              const json = (await res.json()) as { results: { token: string }[] };
              vals.forEach((v, i) => {
                const t = json.results[i]!.token;
                if (seen.has(v) && seen.get(v) !== t) errors++;
                seen.set(v, t);
              });
              total += vals.length;
            }
          }),
        );
        return { vault: total / ((performance.now() - t0) / 1000), errors };
      },
      { target: { text: '0 disagreements' } },
    );

  if (mainScenarios && !args.only)
    results.push({
      scenario: 'peak RSS of a vault through all of the above',
      unit: 'MB',
      vault: Math.round(peakRss),
      errors: 0,
      target: 'RSS ≤ 300 MB',
      verdict: peakRss <= 300 ? 'met' : 'missed',
      peakRssMb: Math.round(peakRss),
      load1: [],
      notes: [],
    });

  const report = {
    when: new Date().toISOString(),
    quick: QUICK,
    runs: RUNS,
    prefill: PREFILL,
    machine: {
      cores: cpus().length,
      node: process.version,
      postgres: pgVersion,
      postgresSettings: pgSettings,
      loadBefore: busy,
      loadAfter: loadavg()[0],
    },
    peakRssMb: Math.round(peakRss),
    scenarios: results,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const out = new URL(`./results/bench-${report.when.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(out, JSON.stringify(report, null, 2));
  printTables(report);
  console.log(`JSON: ${out.pathname}`);
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

function printTables(report: {
  runs: number;
  prefill: number;
  machine: { postgres: string; node: string; loadBefore: number };
  peakRssMb: number;
}) {
  const fmt = (x: number | undefined) => (x === undefined ? '' : Math.round(x).toLocaleString('en-US'));
  const withCeiling = (x: number | undefined, c: number | undefined, f: (v: number) => string) =>
    x === undefined ? '' : `${f(x)}${c === undefined ? '' : ` (${f(c)})`}`;
  console.log(
    `\ntokenvault bench — ${QUICK ? 'QUICK smoke run' : `median of ${report.runs} runs`}, ${report.prefill.toLocaleString('en-US')} pre-filled rows, PostgreSQL ${report.machine.postgres}, Node ${report.machine.node}, load average ${report.machine.loadBefore.toFixed(2)} at the start`,
  );
  console.log('\n| scenario | figure | ceiling (same run) | ratio | target | verdict |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const p99 = r.p99 !== undefined ? `, p99 ${r.p99} ms` : '';
    console.log(
      `| ${r.scenario} | ${fmt(r.vault)} ${r.unit}${p99} | ${r.ceiling !== undefined ? `${fmt(r.ceiling)} (${r.ceilingName})` : ''} | ${r.ratio !== undefined ? fmtRatio(r.ratio) : ''} | ${r.target ?? ''} | ${r.verdict ?? ''} |`,
    );
  }
  console.log("\nDetails (CPU per request, or per batch or query for the database ceilings; in brackets, the ceiling's):");
  console.log(
    '| scenario | p50 ms | p99 ms | server CPU µs | PostgreSQL CPU µs | host cores busy | errors | peak RSS MB | load avg per run | notes |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.scenario} | ${r.p50 ?? ''} | ${withCeiling(r.p99, r.ceilingP99, String)} | ${withCeiling(r.cpuUs, r.ceilingCpuUs, fmt)} | ${withCeiling(r.pgCpuUs, r.ceilingPgCpuUs, fmt)} | ${withCeiling(r.hostCores, r.ceilingHostCores, (v) => v.toFixed(2))} | ${r.errors} | ${r.peakRssMb} | ${r.load1.join(' / ')} | ${r.notes.join('; ')} |`,
    );
  }
}
