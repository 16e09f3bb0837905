import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createVaultJwt } from '../../src/auth/vault-jwt.js';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, usingPostgres } from '../helpers/db.js';
import { freePort, spawnVault, waitReady } from '../helpers/process.js';

describe.runIf(usingPostgres)('two vault processes on one database', () => {
  it('share one reveal budget and one audit chain under concurrent reveals and tokenizes', async () => {
    const db = await createTestDatabase({ backend: 'postgres' });
    const dir = mkdtempSync(join(tmpdir(), 'tv-instances-'));
    const jwtSecret = randomBytes(32);
    const env = {
      DATABASE_URL: db.url!,
      TOKENVAULT_DATA_DIR: dir,
      TOKENVAULT_MASTER_KEYS: `1:${randomBytes(32).toString('base64')}`,
      TOKENVAULT_FINGERPRINT_KEY: randomBytes(32).toString('base64'),
      TOKENVAULT_JWT_SECRET: jwtSecret.toString('base64'),
      TOKENVAULT_SIGNING_KEY: randomBytes(32).toString('base64'),
      TOKENVAULT_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      TOKENVAULT_REVEAL_BUDGET: '20',
      LOG_LEVEL: 'warn',
    };
    const [a, b] = await Promise.all([freePort(), freePort()]).then((ports) => ports.map((port) => spawnVault(env, port)));
    try {
      await Promise.all([waitReady(a!), waitReady(b!)]);
      const jwt = createVaultJwt({ secret: jwtSecret, issuer: 'tokenvault', audience: 'tokenvault' });
      const headers = (scope: string, sub: string) => ({ authorization: `Bearer ${jwt.sign({ sub, scope, ns: ['*'] }, 600)}`, 'content-type': 'application/json' });
      const post = (url: string, path: string, h: Record<string, string>, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: h, body: JSON.stringify(body) });
      const tokenizer = headers('tokenize', 'ingest');
      const first = await post(a!.url, '/v1/tokenize', tokenizer, { items: [1, 2, 3, 4, 5].map((i) => ({ type: 'email', value: `two-instances-${i}@example.com` })) });
      const tokens = ((await first.json()) as { results: { token: string }[] }).results.map((r) => r.token);
      const reader = headers('detokenize:plain:*', 'reader');
      // 60 reveals of one token each, alternating between the instances, while both also append
      // tokenize rows: every instance's view of the chain head keeps going stale.
      const reveals = Array.from({ length: 60 }, (_, i) => post((i % 2 ? a : b)!.url, '/v1/detokenize', reader, { tokens: [tokens[i % 5]], purpose: 'TWO-INSTANCES' }).then((r) => r.status));
      const tokenizes = Array.from({ length: 20 }, (_, i) => post((i % 2 ? b : a)!.url, '/v1/tokenize', tokenizer, { items: [{ type: 'email', value: `two-instances-new-${i}@example.com` }] }).then((r) => r.status));
      const statuses = await Promise.all(reveals);
      expect((await Promise.all(tokenizes)).every((s) => s === 200)).toBe(true);
      expect(statuses.filter((s) => s === 200)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(40);

      const h = await db.open(1);
      try {
        const outcomes = await rows<{ outcome: string; n: number }>(h.db, sql`select outcome, count(*)::int as n from audit_events where purpose = 'TWO-INSTANCES' group by 1 order by 1`);
        expect(outcomes).toEqual([{ outcome: 'budget_exceeded', n: 40 }, { outcome: 'ok', n: 20 }]);
        const [counter] = await rows<{ count: number }>(h.db, sql`select count from reveal_counters where principal = 'reader'`);
        expect(Number(counter!.count)).toBe(20);
      } finally {
        await h.close();
      }
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  }, 120_000);
});
