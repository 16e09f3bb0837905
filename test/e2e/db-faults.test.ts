import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createVaultJwt } from '../../src/auth/vault-jwt.js';
import { withDatabase } from '../helpers/global-setup.js';
import { usingPostgres } from '../helpers/db.js';
import { freePort, spawnVault, waitReady, type VaultProcess } from '../helpers/process.js';

/**
 * What a PostgreSQL restart, a failover or an operator does to a running vault, sent by the real
 * server to the real process: terminated backends (57P01), a database that refuses connections
 * (55000), a role at its connection limit (53300), a database that is gone (3D000). Each must
 * answer 503 DATABASE_UNAVAILABLE with Retry-After — never 500, never an exit — and the vault must
 * recover by itself once the database is back.
 */
const keys = { master: randomBytes(32), fp: randomBytes(32), jwt: randomBytes(32), sign: randomBytes(32) };
const jwt = createVaultJwt({ secret: keys.jwt, issuer: 'tokenvault', audience: 'tokenvault' });
const TOKEN = jwt.sign({ sub: 'faults', scope: 'tokenize detokenize:plain:*', ns: ['*'] }, 3600);
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

const base = process.env.TEST_DATABASE_URL ?? '';
const name = `tv_faults_${randomBytes(5).toString('hex')}`;
// Not a superuser: superusers are exempt from connection limits.
const role = `tv_faults_${randomBytes(5).toString('hex')}`;
let vault: VaultProcess;
let seq = 0;

async function admin<T>(text: string, database = 'postgres'): Promise<T[]> {
  const c = new pg.Client({ connectionString: withDatabase(base, database) });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

const terminateVault = () =>
  admin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and application_name = 'tokenvault'`);

interface Answer {
  status: number;
  code?: string;
  retryAfter: string | null;
}

async function tokenize(): Promise<Answer> {
  const res = await fetch(`${vault.url}/v1/tokenize`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ items: [{ type: 'email', value: `fault${seq++}@example.com` }] }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after') };
}

/** While the fault lasts: every answer is 503 DATABASE_UNAVAILABLE with Retry-After, and readyz says why. */
async function expectUnavailable(reason: RegExp): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const a = await tokenize();
    expect(a, vault.output().slice(-3000)).toEqual({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      retryAfter: expect.stringMatching(/^[0-9]+$/),
    });
  }
  const ready = await fetch(`${vault.url}/readyz`);
  const body = (await ready.json()) as { status: string; checks: Record<string, string>; reason?: string };
  expect(ready.status, JSON.stringify(body)).toBe(503);
  expect(body.checks.database).toBe('unreachable');
  expect(body.reason).toMatch(reason);
}

/** Once the database is back: the same process answers 200 again, without a restart. */
async function expectRecovered(): Promise<void> {
  let last: Answer | undefined;
  for (let i = 0; i < 100; i++) {
    last = await tokenize();
    if (last.status === 200) break;
    expect(last.status, vault.output().slice(-3000)).toBe(503);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(last!.status, vault.output().slice(-3000)).toBe(200);
  expect((await fetch(`${vault.url}/readyz`)).status).toBe(200);
  expect(vault.child.exitCode).toBe(null);
}

describe.runIf(usingPostgres)('database faults against a running vault (real PostgreSQL, real process)', () => {
  beforeAll(async () => {
    await admin(`create database ${name} template ${inject('pgTemplate')}`);
    await admin(`create role ${role} login`);
    await admin(
      `grant all on all tables in schema public to ${role}; grant all on all sequences in schema public to ${role};
      grant usage on schema drizzle to ${role}; grant select on all tables in schema drizzle to ${role}`,
      name,
    );
    const u = new URL(withDatabase(base, name));
    u.username = role;
    vault = spawnVault(
      {
        DATABASE_URL: u.toString(),
        TOKENVAULT_MASTER_KEYS: `1:${keys.master.toString('base64')}`,
        TOKENVAULT_FINGERPRINT_KEY: keys.fp.toString('base64'),
        TOKENVAULT_JWT_SECRET: keys.jwt.toString('base64'),
        TOKENVAULT_SIGNING_KEY: keys.sign.toString('base64'),
      },
      await freePort(),
    );
    await waitReady(vault);
    expect((await tokenize()).status).toBe(200);
  });
  afterAll(async () => {
    const code = vault ? await vault.stop() : 0;
    await admin(`drop database if exists ${name} with (force)`);
    await admin(`drop role if exists ${role}`);
    expect(code, vault?.output().slice(-3000)).toBe(0);
  });

  it('backends terminated mid-query (57P01): the waiting request is a 503, the next ones reconnect', async () => {
    // Force the interleaving: block inserts into the audit table (every tokenize writes its row
    // there) so the vault's request waits inside a query.
    const holder = new pg.Client({ connectionString: withDatabase(base, name) });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table audit_events in share mode');
    const inflight = tokenize();
    for (let i = 0; i < 200; i++) {
      const [w] = await admin<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = '${name}' and application_name = 'tokenvault' and wait_event_type = 'Lock'`,
      );
      if (w!.n > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await terminateVault();
    const a = await inflight;
    await holder.query('rollback');
    await holder.end();
    expect(a, vault.output().slice(-3000)).toEqual({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      retryAfter: expect.stringMatching(/^[0-9]+$/),
    });
    await expectRecovered();
    // Idle connections terminated too: handled, replaced.
    await terminateVault();
    await new Promise((r) => setTimeout(r, 200));
    await expectRecovered();
  });

  it('a database that refuses connections (55000), its backends terminated', async () => {
    await admin(`alter database ${name} allow_connections false`);
    await terminateVault();
    try {
      await expectUnavailable(/not accepting connections/);
    } finally {
      await admin(`alter database ${name} allow_connections true`);
    }
    await expectRecovered();
  });

  it('a role at its connection limit (53300)', async () => {
    await admin(`alter role ${role} connection limit 0`);
    await terminateVault();
    try {
      await expectUnavailable(/too many connections/);
    } finally {
      await admin(`alter role ${role} connection limit -1`);
    }
    await expectRecovered();
  });

  it('a database that is gone (3D000), then restored', async () => {
    await admin(`drop database ${name} with (force)`);
    try {
      await expectUnavailable(/database does not exist/);
    } finally {
      await admin(`create database ${name} template ${inject('pgTemplate')}`);
      await admin(
        `grant all on all tables in schema public to ${role}; grant all on all sequences in schema public to ${role};
        grant usage on schema drizzle to ${role}; grant select on all tables in schema drizzle to ${role}`,
        name,
      );
    }
    await expectRecovered();
  });

  it('the process never logged a crash', () => {
    expect(vault.output()).not.toMatch(/shutting down after an error|second error|uncaught/i);
    expect(vault.output()).not.toMatch(/"statusCode":500/);
  });
});
