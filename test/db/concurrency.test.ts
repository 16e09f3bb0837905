import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { sealAndVerify } from '../helpers/audit.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, testKeys, type TestVault } from '../helpers/vault.js';

describe.runIf(usingPostgres)('concurrent writers on real PostgreSQL', () => {
  let db: TestDatabase;
  let a: TestVault;
  let b: TestVault;

  beforeAll(async () => {
    db = await createTestDatabase({ backend: 'postgres' });
    const keys = testKeys();
    a = await startVault(db, { keys });
    b = await startVault(db, { keys });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it('50 concurrent requests over two instances with overlapping values → one token per value, no 5xx', async () => {
    const values = Array.from({ length: 200 }, (_, i) => `user${i}@example.com`);
    const requests = Array.from({ length: 50 }, (_, r) => {
      // Each request takes an overlapping window of values, in a different order, some with subjects.
      const items = Array.from({ length: 60 }, (_, i) => values[(r * 7 + i * 13) % values.length]!).map((value, i) => ({
        type: 'email',
        value,
        ...(i % 5 === 0 ? { subject: `s${i % 3}` } : {}),
      }));
      const v = r % 2 ? a : b;
      return v.app
        .inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(v.token('tokenize')), payload: { items } })
        .then((res) => ({ res, items }));
    });
    const done = await Promise.all(requests);
    const tokenOf = new Map<string, string>();
    for (const { res, items } of done) {
      expect(res.statusCode, res.body).toBe(200);
      res.json().results.forEach((r: { token: string }, i: number) => {
        const value = items[i]!.value;
        const seen = tokenOf.get(value);
        if (seen) expect(r.token).toBe(seen);
        else tokenOf.set(value, r.token);
      });
    }
    const [counts] = await rows<{ n: number; d: number }>(
      a.handle.db,
      sql`select count(*)::int as n, count(distinct fingerprint)::int as d from mappings`,
    );
    expect(counts!.n).toBe(tokenOf.size);
    expect(counts!.d).toBe(tokenOf.size);
    // Either instance may hold the sealer lock: both are asked to seal.
    await b.services.sealer.sealNow();
    expect(await sealAndVerify(a)).toMatchObject({ ok: true, rowsChecked: 50, unsealed: 0 });
  });
});
