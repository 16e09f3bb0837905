/**
 * npx tsx bench/ingest.ts [--lines 100000] [--database-url postgres://…] [--profile: a CPU profile of the command in bench/results/]
 *
 * tokenize-file beside the batch API on the same kind of values: a real vault process on a
 * PostgreSQL database of its own; two value sets of the same shape (all new values each time), one
 * sent straight to POST /v1/tokenize in batches of 10,000 (4 in flight, the command's default), the
 * other as JSON Lines through `tokenvault tokenize-file`. Prints both rates and their ratio
 * (target ≥ 80%). Runs the vault from source through tsx, not the Docker build.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import pg from 'pg';
import { createClient } from '../src/client/index.js';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { freePort, ROOT, spawnVault, waitReady } from '../test/helpers/process.js';
import { withDatabase } from '../test/helpers/global-setup.js';

const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '100000' },
    profile: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
  },
});
const LINES = Number(args.lines);
const ADMIN_URL = args['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'tv-bench-ingest-'));
const dbName = `tv_bench_ingest_${randomBytes(4).toString('hex')}`;
const dbUrl = withDatabase(ADMIN_URL, dbName);
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`create database ${dbName}`);
const env = { DATABASE_URL: dbUrl, TOKENVAULT_DATA_DIR: dir, LOG_LEVEL: 'warn' };
const vault = spawnVault(env, await freePort());

// One event shape: an email (a value in three repeats) and an IPv4 address (one in ten repeats).
const email = (set: string, i: number) => `${set}${Math.floor(i / 3)}@example.com`;
const ip = (set: string, i: number) => {
  const n = Math.floor(i / 10) + (set === 'a' ? 0 : 1 << 22);
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};

try {
  const h = await openDatabase({ databaseUrl: dbUrl, poolSize: 1 });
  await migrate(h);
  await h.close();
  await waitReady(vault);
  const creds = JSON.parse(
    execFileSync(process.execPath, ['bin/tokenvault.js', 'clients', 'create', '--name', 'bench', '--scopes', 'tokenize'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as { clientId: string; clientSecret: string };

  // The batch API: distinct values of set "a", 10,000 a call, 4 calls in flight.
  const client = createClient({ url: vault.url, ...creds, concurrency: 4 });
  const emails = [...new Set(Array.from({ length: LINES }, (_, i) => email('a', i)))];
  const ips = [...new Set(Array.from({ length: LINES }, (_, i) => ip('a', i)))];
  const items = [...emails.map((value) => ({ type: 'email' as const, value })), ...ips.map((value) => ({ type: 'ipv4' as const, value }))];
  const limit = pLimit(4);
  let t = performance.now();
  const calls = [];
  for (let i = 0; i < items.length; i += 10_000) calls.push(limit(() => client.tokenize({ items: items.slice(i, i + 10_000) })));
  await Promise.all(calls);
  const apiSeconds = (performance.now() - t) / 1000;

  // The command: set "b" as JSON Lines.
  const input = join(dir, 'in.jsonl');
  const out = createWriteStream(input);
  for (let i = 0; i < LINES; i++)
    if (!out.write(`{"id":${i},"user":{"email":"${email('b', i)}","plan":"pro"},"ip":"${ip('b', i)}","ts":"2026-01-01T00:00:00Z"}\n`))
      await once(out, 'drain');
  await new Promise((resolve) => out.end(resolve));
  writeFileSync(join(dir, 'fields.yaml'), 'fields:\n  user.email: email\n  ip: ipv4\n');
  t = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(args.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/results'] : []),
      'bin/tokenvault.js',
      'tokenize-file',
      '--fields',
      join(dir, 'fields.yaml'),
      input,
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TOKENVAULT_URL: vault.url,
        TOKENVAULT_CLIENT_ID: creds.clientId,
        TOKENVAULT_CLIENT_SECRET: creds.clientSecret,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`tokenize-file exited ${code}: ${stderr}`);
  const cmdSeconds = (performance.now() - t) / 1000;
  // The command's own clock starts after its modules are loaded (several seconds through tsx on a busy machine).
  const ownSeconds = Number(/records in ([0-9.]+) s/.exec(stderr)?.[1]);

  const rate = (s: number) => Math.round(LINES / s);
  console.log(`${LINES} records (${items.length} distinct values) each way`);
  console.log(`batch API:     ${apiSeconds.toFixed(1)} s  ${rate(apiSeconds)} records/s`);
  console.log(
    `tokenize-file: ${ownSeconds.toFixed(1)} s  ${rate(ownSeconds)} records/s; ${cmdSeconds.toFixed(1)} s with the process start`,
  );
  console.log(
    `ratio: ${Math.round((100 * apiSeconds) / ownSeconds)}% (target ≥ 80%); ${Math.round((100 * apiSeconds) / cmdSeconds)}% with the process start`,
  );
} finally {
  await vault.stop();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
