import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

interface Case {
  name: string;
  method: 'POST' | 'GET';
  url: string;
  auth: string | null;
  contentType?: string;
  body?: string;
  oversize?: number;
  status: number;
  code: string;
}
const CASES = JSON.parse(readFileSync(new URL('../fixtures/hostile-inputs.json', import.meta.url), 'utf8')) as Case[];
const SOAK = Boolean(process.env.SOAK);

let db: TestDatabase;
let v: TestVault;
const TABLES = ['mappings', 'subject_links', 'data_keys', 'tombstones', 'erasures', 'clients', 'reveal_counters', 'audit_events'];

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = (await rows<{ n: number }>(v.handle.db, sql.raw(`select count(*)::int as n from ${t}`)))[0]!.n;
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase();
  v = await startVault(db);
  await v.app.inject({
    method: 'POST',
    url: '/v1/tokenize',
    headers: bearer(v.token('tokenize')),
    payload: { items: [{ type: 'email', value: 'seed@example.com' }] },
  });
});
afterAll(async () => {
  await v.close();
  await db.drop();
});

describe('hostile input corpus', () => {
  it(`has at least 200 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(200);
  });

  it('every case gets its documented 4xx code and changes nothing', async () => {
    const before = await counts();
    const failures: string[] = [];
    for (const c of CASES) {
      const headers: Record<string, string> = {
        ...(c.auth ? bearer(v.token(c.auth, ['*'])) : {}),
        ...(c.contentType ? { 'content-type': c.contentType } : {}),
      };
      const payload = c.oversize ? `{"items":[{"type":"text","value":"${'x'.repeat(c.oversize)}"}]}` : c.body;
      const res = await v.app.inject({ method: c.method, url: c.url, headers, ...(payload !== undefined ? { payload } : {}) });
      let code: string | undefined;
      try {
        code = res.json().error?.code;
      } catch {
        code = undefined;
      }
      if (res.statusCode !== c.status || code !== c.code) failures.push(`${c.name}: ${res.statusCode} ${code ?? res.body.slice(0, 120)}`);
      expect(res.statusCode, c.name).toBeLessThan(500);
      expect(res.body, c.name).not.toContain('\u0000');
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  }, 120_000);
});

describe('HTTP fuzzing', () => {
  const ROUTES = ['/v1/tokenize', '/v1/detokenize', '/v1/erasures', '/v1/subjects/export', '/v1/clients', '/v1/auth/token'];
  const SCOPES = 'tokenize detokenize:plain:* erase subjects:export admin audit:read erasures:read';

  it('generated requests against every route never get a 5xx, and memory stays bounded', async () => {
    const token = v.token(SCOPES, ['*']);
    const rssBefore = process.memoryUsage().rss;
    const value = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('a@example.com', '4111111111111111', '+14155550100', '::1', '1.2.3.4'),
      fc.integer(),
      fc.constant(null),
    );
    const item = fc.record(
      {
        type: fc.constantFrom('email', 'phone', 'card', 'text', 'alnum', 'date', 'ipv4', 'nope'),
        value,
        subject: fc.option(fc.string(), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.record(
        {
          items: fc.array(item, { maxLength: 5 }),
          namespace: fc.option(fc.constantFrom('default', 'x', ''), { nil: undefined }),
          onInvalid: fc.option(fc.constantFrom('skip', 'reject', 'x'), { nil: undefined }),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        { tokens: fc.array(fc.string(), { maxLength: 5 }), purpose: fc.string(), reveal: fc.constantFrom('plain', 'masked', 'x') },
        { requiredKeys: [] },
      ),
      fc.record({ subject: fc.string(), purpose: fc.string(), reference: fc.string(), type: fc.string(), value }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        body,
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (url, b, ct) => {
          const payload =
            ct === 'application/x-www-form-urlencoded'
              ? new URLSearchParams(
                  Object.entries(typeof b === 'object' && b ? b : {}).map(([k, x]): [string, string] => [
                    k,
                    typeof x === 'string' ? x : (JSON.stringify(x) ?? ''),
                  ]),
                ).toString()
              : JSON.stringify(b);
          const res = await v.app.inject({ method: 'POST', url, headers: { ...bearer(token), 'content-type': ct }, payload });
          expect(res.statusCode, `${url} ${payload.slice(0, 200)} → ${res.body.slice(0, 200)}`).toBeLessThan(500);
        },
      ),
      { numRuns: SOAK ? 20_000 : 600 },
    );
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
  }, 600_000);
});
