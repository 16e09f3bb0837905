import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultJwt } from '../../src/auth/vault-jwt.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { freePort, ROOT, spawnVault, waitReady } from '../helpers/process.js';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const shared = {
  TOKENVAULT_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
  TOKENVAULT_JWT_SECRET: randomBytes(32).toString('base64'),
  TOKENVAULT_SIGNING_KEY: randomBytes(32).toString('base64'),
  TOKENVAULT_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
};
let db: TestDatabase;

/** POST to a vault process with a vault-signed token of this scope; the parsed results. */
async function call<R>(url: string, path: string, scope: string, body: unknown): Promise<R[]> {
  const jwt = createVaultJwt({ secret: Buffer.from(shared.TOKENVAULT_JWT_SECRET, 'base64'), issuer: 'tokenvault', audience: 'tokenvault' });
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt.sign({ sub: 't', scope, ns: ['*'] })}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: R[] }).results;
}

async function versions(): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const r = await c.query('select kek_version as v, count(*)::int as n from data_keys group by 1 order by 1');
  await c.end();
  return Object.fromEntries(r.rows.map((x) => [x.v, x.n]));
}

describe.runIf(usingPostgres)('key lifecycle through the CLI and the server', () => {
  let tokens: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase({ backend: 'postgres' });
    const p = spawnVault({ DATABASE_URL: db.url!, TOKENVAULT_MASTER_KEYS: `1:${k1}`, ...shared }, await freePort());
    await waitReady(p);
    const items = Array.from({ length: 300 }, (_, i) => ({ type: 'text', value: `kill-rewrap-${i}`, subject: `kill-subject-${i}` }));
    tokens = (await call<{ token: string }>(p.url, '/v1/tokenize', 'tokenize', { items })).map((r) => r.token);
    expect(await p.stop()).toBe(0);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a rewrap killed midway (SIGKILL) completes when run again; nothing is wrapped twice or lost', async () => {
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url!, TOKENVAULT_MASTER_KEYS: `1:${k1},2:${k2}`, ...shared };
    expect(await versions()).toEqual({ 1: 300 });
    const child = spawn(process.execPath, ['bin/tokenvault.js', 'keys', 'rewrap', '--batch', '1'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let progress = '';
    child.stderr.on('data', (d: Buffer) => (progress += d.toString()));
    // Kill it once some batches have committed.
    while ((progress.match(/re-wrapped/g) ?? []).length < 20 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const midway = await versions();
    expect(midway[2]).toBeGreaterThanOrEqual(20);
    expect(midway[1]).toBeGreaterThan(0);
    expect((midway[1] ?? 0) + midway[2]!).toBe(300);
    const again = spawnSync(process.execPath, ['bin/tokenvault.js', 'keys', 'rewrap'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`re-wrapped ${midway[1]} data key(s)`);
    expect(await versions()).toEqual({ 2: 300 });
    const status = spawnSync(process.execPath, ['bin/tokenvault.js', 'keys', 'status'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(status.stdout).toContain('version 1: 0 data key(s) — no data keys: safe to remove');

    // Every value is still readable with version 2 alone.
    const only2 = spawnVault({ DATABASE_URL: db.url!, TOKENVAULT_MASTER_KEYS: `2:${k2}`, ...shared }, await freePort());
    await waitReady(only2);
    const values = (await call<{ value: string }>(only2.url, '/v1/detokenize', 'detokenize:plain:*', { tokens, purpose: 'KEY-CHECK' })).map(
      (r) => r.value,
    );
    expect(values).toEqual(tokens.map((_, i) => `kill-rewrap-${i}`));
    expect(await only2.stop()).toBe(0);
  }, 120_000);

  it('a start without a master key version that still wraps data keys is refused, naming the version and count', async () => {
    const p = spawnVault(
      { DATABASE_URL: db.url!, TOKENVAULT_MASTER_KEYS: `3:${randomBytes(32).toString('base64')}`, ...shared },
      await freePort(),
    );
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toContain('master key version 2 still wraps 300 data key(s) but is not in TOKENVAULT_MASTER_KEYS');
    expect(p.output()).not.toContain('Server listening');
  }, 60_000);
});
