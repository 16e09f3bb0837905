import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createVaultJwt } from '../../src/auth/vault-jwt.js';
import { DEFAULT_AUDIT_SEAL_BOUND_MS } from '../../src/config.js';
import { expectAllSealed } from '../helpers/audit.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { freePort, spawnVault, waitReady, type VaultProcess } from '../helpers/process.js';
import { startProxy } from '../helpers/tcp-proxy.js';

/**
 * Real vault processes against real PostgreSQL. Every value planted here carries a canary; at the
 * end, nothing any process printed (at LOG_LEVEL=debug), nor /metrics, nor the OpenAPI document,
 * nor any audit row may contain one.
 */
const SOAK = Boolean(process.env.SOAK);
const CANARY = `cnry${randomBytes(4).toString('hex')}`;
const keys = { master: randomBytes(32), fp: randomBytes(32), jwt: randomBytes(32), sign: randomBytes(32), audit: randomBytes(32) };
const jwt = createVaultJwt({ secret: keys.jwt, issuer: 'tokenvault', audience: 'tokenvault' });
const TOKEN = jwt.sign({ sub: 'reliability', scope: 'tokenize detokenize:plain:* erase subjects:export audit:read', ns: ['*'] }, 3600);
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let db: TestDatabase;
const processes: VaultProcess[] = [];
const outputs: string[] = [];

function envFor(url: string) {
  return {
    DATABASE_URL: url,
    TOKENVAULT_MASTER_KEYS: `1:${keys.master.toString('base64')}`,
    TOKENVAULT_FINGERPRINT_KEY: keys.fp.toString('base64'),
    TOKENVAULT_JWT_SECRET: keys.jwt.toString('base64'),
    TOKENVAULT_SIGNING_KEY: keys.sign.toString('base64'),
    TOKENVAULT_AUDIT_SIGNING_KEY: keys.audit.toString('base64'),
    TOKENVAULT_REVEAL_BUDGET: '100000000',
    LOG_LEVEL: 'debug',
  };
}

async function start(url = db.url!): Promise<VaultProcess> {
  const p = spawnVault(envFor(url), await freePort());
  processes.push(p);
  await waitReady(p);
  return p;
}

async function stop(p: VaultProcess, signal: NodeJS.Signals = 'SIGTERM') {
  const code = await p.stop(signal);
  outputs.push(p.output());
  processes.splice(processes.indexOf(p), 1);
  return code;
}

async function post(p: VaultProcess, path: string, body: unknown) {
  const res = await fetch(`${p.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown> & {
      results?: { token: string; status?: string; value?: string }[];
      error?: { code: string };
    },
  };
}

async function query<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

describe.runIf(usingPostgres)('reliability with real processes', () => {
  beforeAll(async () => {
    db = await createTestDatabase({ backend: 'postgres' });
  });
  afterAll(async () => {
    for (const p of [...processes]) await stop(p, 'SIGKILL');
    await db.drop();
  });

  const clients = SOAK ? 1000 : 200;
  it(`three instances, ${clients} concurrent clients, overlapping values: one token per value, no 5xx`, async () => {
    const instances = await Promise.all([start(), start(), start()]);
    const values = Array.from({ length: 500 }, (_, i) => `${CANARY}.user${i}@example.com`);
    const responses = await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const picked = Array.from({ length: 20 }, (_, i) => values[(c * 17 + i * 31) % values.length]!);
        const r = await post(instances[c % 3]!, '/v1/tokenize', {
          items: picked.map((value) => ({ type: 'email', value, subject: `${CANARY}-s${c % 7}` })),
        });
        return { r, picked };
      }),
    );
    const tokenOf = new Map<string, string>();
    for (const { r, picked } of responses) {
      expect(r.status).toBe(200);
      r.json.results!.forEach((x, i) => {
        expect(tokenOf.get(picked[i]!) ?? x.token).toBe(x.token);
        tokenOf.set(picked[i]!, x.token);
      });
    }
    const [row] = await query<{ n: number }>('select count(*)::int as n from mappings');
    expect(row!.n).toBe(tokenOf.size);
    // Every committed audit row sealed exactly once, in one order, within the bound.
    const sealed = await expectAllSealed(query, DEFAULT_AUDIT_SEAL_BOUND_MS);
    expect(sealed.rows).toBeGreaterThanOrEqual(clients);
    for (const p of instances) expect(await stop(p)).toBe(0);
  }, 120_000);

  it('SIGKILL during 10,000-item batches loses nothing that was answered and leaves nothing half-written', async () => {
    const victim = await start();
    const batch = (b: number) => ({
      items: Array.from({ length: 10_000 }, (_, i) => ({
        type: 'text',
        value: `${CANARY} crash ${b}-${i}`,
        ...(i % 10 === 0 ? { subject: `${CANARY}-crash-${b}` } : {}),
      })),
    });
    const inflight = Array.from({ length: 6 }, (_, b) => post(victim, '/v1/tokenize', batch(b)).catch(() => null));
    await new Promise((r) => setTimeout(r, 1500));
    await stop(victim, 'SIGKILL');
    const answered = (await Promise.all(inflight)).filter((r) => r && r.status === 200);
    const survivor = await start();
    for (const r of answered) {
      const tokens = r!.json.results!.map((x) => x.token);
      for (let i = 0; i < tokens.length; i += 1000) {
        const back = await post(survivor, '/v1/detokenize', { tokens: tokens.slice(i, i + 1000), purpose: 'CRASH-CHECK' });
        expect(back.json.results!.every((x) => x.status === 'ok')).toBe(true);
      }
    }
    // Every mapping was created by a request whose audit row committed with it.
    const [audited] = await query<{ created: number }>(
      `select coalesce(sum((value->>'created')::int), 0)::int as created from audit_events, jsonb_each(details->'counts') where action = 'tokenize'`,
    );
    const [mapped] = await query<{ n: number }>('select count(*)::int as n from mappings');
    expect(audited!.created).toBe(mapped!.n);
    // Copies live on the mapping (namespace key) or on the subject links (subject keys).
    for (const table of ['mappings', 'subject_links']) {
      expect(
        (
          await query<{ n: number }>(
            `select count(*)::int as n from ${table} m where m.dek_id is not null and not exists (select 1 from data_keys d where d.id = m.dek_id)`,
          )
        )[0]!.n,
      ).toBe(0);
    }
    expect(
      (
        await query<{ n: number }>(
          'select count(*)::int as n from data_keys d where d.subject_hmac is not null and not exists (select 1 from subject_links l where l.subject_hmac = d.subject_hmac)',
        )
      )[0]!.n,
    ).toBe(0);
    const verify = await fetch(`${survivor.url}/v1/audit/verify`, { headers }).then((r) => r.json());
    expect(verify).toMatchObject({ ok: true });
    expect(await stop(survivor)).toBe(0);
  }, 180_000);

  it('a database outage gives fast 503 DATABASE_UNAVAILABLE and readyz 503, and the vault recovers by itself', async () => {
    const u = new URL(db.url!);
    const proxy = await startProxy({ host: u.hostname, port: Number(u.port || 5432) });
    u.port = String(proxy.port);
    const p = await start(u.toString());
    expect((await post(p, '/v1/tokenize', { items: [{ type: 'email', value: `${CANARY}.before@example.com` }] })).status).toBe(200);
    await proxy.cut();
    const t0 = Date.now();
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(p, '/v1/tokenize', { items: [{ type: 'email', value: `${CANARY}.during${i}@example.com` }] }),
      ),
    );
    const elapsed = Date.now() - t0;
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.json.error!.code).toBe('DATABASE_UNAVAILABLE');
    }
    expect(elapsed).toBeLessThan(10_000);
    const ready = await fetch(`${p.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { database: 'unreachable' } });
    await proxy.restore();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      const r = await post(p, '/v1/tokenize', { items: [{ type: 'email', value: `${CANARY}.after@example.com` }] });
      recovered = r.status === 200;
      if (!recovered) await new Promise((res) => setTimeout(res, 200));
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    expect(await stop(p)).toBe(0);
    await proxy.stop();
  }, 120_000);

  it('SIGTERM under load: in-flight requests complete, then the process exits 0', async () => {
    const p = await start();
    const load = Array.from({ length: 60 }, (_, i) =>
      post(p, '/v1/tokenize', { items: Array.from({ length: 200 }, (_, j) => ({ type: 'text', value: `${CANARY} term ${i}-${j}` })) }).then(
        (r) => (r.status === 503 ? r.json.error!.code : r.status),
        () => 'refused',
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    const code = await stop(p, 'SIGTERM');
    const statuses = await Promise.all(load);
    expect(
      code,
      p
        .output()
        .split('\n')
        .filter((l) => !l.includes('request'))
        .slice(-15)
        .join('\n'),
    ).toBe(0);
    // Each request either completed or was refused (connection refused, or 503 SHUTTING_DOWN).
    expect(statuses.filter((s) => s !== 200 && s !== 'refused' && s !== 'SHUTTING_DOWN')).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  }, 60_000);

  it('no canary value appears in any output, /metrics, the OpenAPI document or the audit table', async () => {
    const p = await start();
    // Values through every route, including rejected ones and an erasure by value.
    const [t] = (
      await post(p, '/v1/tokenize', { items: [{ type: 'email', value: `${CANARY}.last@example.com`, subject: `${CANARY}-last` }] })
    ).json.results!;
    await post(p, '/v1/tokenize', { items: [{ type: 'email', value: `${CANARY} not an email` }] });
    await post(p, '/v1/tokenize', { items: [{ type: 'card', value: `${CANARY}` }], onInvalid: 'skip' });
    await post(p, '/v1/detokenize', { tokens: [t!.token, `${CANARY}-missing`], purpose: 'CANARY-CHECK' });
    await post(p, '/v1/subjects/export', { subject: `${CANARY}-last`, purpose: 'CANARY-CHECK' });
    await post(p, '/v1/erasures', { type: 'email', value: `${CANARY}.before@example.com` });
    await post(p, '/v1/erasures', { subject: `${CANARY}-last` });
    const metrics = await fetch(`${p.url}/metrics`).then((r) => r.text());
    const openapi = await fetch(`${p.url}/openapi.json`).then((r) => r.text());
    await stop(p);
    const audit = JSON.stringify(await query('select * from audit_events'));
    const tombstones = JSON.stringify(await query('select * from tombstones'));
    const erasures = JSON.stringify(await query('select * from erasures'));
    const haystacks = { outputs: outputs.join('\n'), metrics, openapi, audit, tombstones, erasures };
    for (const [name, text] of Object.entries(haystacks)) expect(text.includes(CANARY), `canary found in ${name}`).toBe(false);
    // The outputs did capture the requests: the search looked at real logs.
    expect(outputs.join('\n')).toContain('"msg":"incoming request"');
  }, 60_000);
});
