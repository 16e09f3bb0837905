import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { createServices } from '../../src/services.js';
import { buildApp } from '../../src/app.js';
import { buildPolicy } from '../../src/vault/policy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

const POLICY = {
  namespaces: {
    default: {},
    analytics: {
      types: {
        email: { domain: 'token' },
        card: { keepFirst: 6, luhn: 'valid' },
        phone: { keepLast: 4 },
        ipv4: { keepPrefix: 8 },
        digits: { keepFirst: 2, keepLast: 2 },
        alnum: { keepFirst: 1 },
      },
    },
    random: { consistent: false },
  },
};

const SAMPLES: Record<string, string> = {
  email: 'Alice@Example.com',
  phone: '+44 20 7946 0958',
  ipv4: '192.0.2.44',
  ipv6: '2001:DB8:0::1',
  card: '4111 1111 1111 1111',
  ssn: '123-45-6789',
  uuid: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  date: '1984-02-29',
  digits: '12-345-678-901',
  alnum: 'AB12-cd34',
  text: 'Note: "Call me at home"',
};
const NORMALIZED: Record<string, string> = {
  email: 'alice@example.com',
  phone: '+442079460958',
  ipv4: '192.0.2.44',
  ipv6: '2001:db8::1',
  card: '4111111111111111',
  ssn: '123456789',
  uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  date: '1984-02-29',
  digits: '12345678901',
  alnum: 'AB12-cd34',
  text: 'Note: "Call me at home"',
};

let db: TestDatabase;
let v: TestVault;
let all: string;

async function tokenize(body: unknown, token = all) {
  return v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(token), payload: body as object });
}
async function detokenize(body: unknown, token = all) {
  return v.app.inject({ method: 'POST', url: '/v1/detokenize', headers: bearer(token), payload: body as object });
}
async function count(table: string): Promise<number> {
  const [r] = await rows<{ n: number }>(v.handle.db, sql.raw(`select count(*)::int as n from ${table}`));
  return r!.n;
}

beforeAll(async () => {
  db = await createTestDatabase();
  v = await startVault(db, { policy: POLICY });
  all = v.token('tokenize detokenize:plain:*');
});
afterAll(async () => {
  await v.close();
  await db.drop();
});

describe('round trip through HTTP', () => {
  it.each(['default', 'analytics', 'random'])(
    'every type in namespace %s tokenizes and detokenizes to the normalized value',
    async (namespace) => {
      const items = Object.entries(SAMPLES).map(([type, value]) => ({ type, value }));
      const res = await tokenize({ namespace, items });
      expect(res.statusCode, res.body).toBe(200);
      const results = res.json().results as { token: string; type: string; created: boolean }[];
      expect(results.map((r) => r.type)).toEqual(Object.keys(SAMPLES));
      for (const r of results) expect(r.token).not.toBe(NORMALIZED[r.type]);
      const back = await detokenize({ namespace, tokens: results.map((r) => r.token), purpose: 'TICKET-42' });
      expect(back.statusCode, back.body).toBe(200);
      expect(back.json().results.map((r: { value: string }) => r.value)).toEqual(Object.values(NORMALIZED));
      expect(back.json().results.every((r: { status: string }) => r.status === 'ok')).toBe(true);
    },
  );

  it('applies namespace options (analytics keeps the card BIN, tokenizes email domains)', async () => {
    const res = await tokenize({
      namespace: 'analytics',
      items: [
        { type: 'card', value: '4111111111111111' },
        { type: 'email', value: 'bob@example.org' },
      ],
    });
    const [card, email] = res.json().results;
    expect(card.token.slice(0, 6)).toBe('411111');
    expect(email.token).toMatch(/^[a-z0-9]{3}@[a-z]{12}\.invalid$/);
  });
});

describe('consistency', () => {
  it('the same value gets the same token across batches and within a batch; equal after normalization', async () => {
    const a = await tokenize({
      items: [
        { type: 'email', value: 'Carol@Example.com' },
        { type: 'email', value: 'carol@example.com ' },
      ],
    });
    const b = await tokenize({ items: [{ type: 'email', value: 'CAROL@example.COM' }] });
    const [t1, t2] = a.json().results;
    expect(t1.token).toBe(t2.token);
    expect(t1.created).toBe(true);
    expect(b.json().results[0]).toEqual({ token: t1.token, type: 'email', created: false });
  });

  it('different namespaces give different tokens; a random namespace gives a fresh token per call', async () => {
    const item = { type: 'ssn', value: '219-09-9999' };
    const d = (await tokenize({ items: [item] })).json().results[0].token;
    const an = (await tokenize({ namespace: 'analytics', items: [item] })).json().results[0].token;
    const r1 = (await tokenize({ namespace: 'random', items: [item] })).json().results[0].token;
    const r2 = (await tokenize({ namespace: 'random', items: [item] })).json().results[0].token;
    expect(new Set([d, an, r1, r2]).size).toBe(4);
  });

  it('tokens are stable across a restart and a second app instance on the same database', async () => {
    const items = [
      { type: 'phone', value: '+1 415 555 0199' },
      { type: 'ipv4', value: '198.51.100.7' },
    ];
    const first = (await tokenize({ items })).json().results.map((r: { token: string }) => r.token);
    const second = await db.open();
    const services = createServices({ db: second, keys: v.keys, policy: buildPolicy(POLICY) });
    const app2 = await buildApp(services);
    const res = await app2.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(services.jwt.sign({ sub: 'x', scope: 'tokenize', ns: ['*'] })),
      payload: { items },
    });
    expect(res.json().results.map((r: { token: string; created: boolean }) => [r.token, r.created])).toEqual(
      first.map((t: string) => [t, false]),
    );
    await app2.close();
  });

  it('the token cache takes a value when it comes again, not when it is created', async () => {
    const { cache } = v.services.vault;
    const before = cache.size;
    const values = ['once-1@example.com', 'once-2@example.com', 'twice@example.com'].map((value) => ({ type: 'email', value }));
    const first = (await tokenize({ items: values })).json().results;
    expect(first.map((r: { created: boolean }) => r.created)).toEqual([true, true, true]);
    expect(cache.size).toBe(before);
    const again = (await tokenize({ items: [values[2]] })).json().results[0];
    expect(again).toEqual({ token: first[2].token, type: 'email', created: false });
    expect(cache.size).toBe(before + 1);
    // A third time: the same answer, and the value is cached once.
    expect((await tokenize({ items: [values[2]] })).json().results[0]).toEqual(again);
    expect(cache.size).toBe(before + 1);
  });

  it('concurrent requests are coalesced: one token per value, each new value created by exactly one request, audit counts add up', async () => {
    const before = await count('mappings');
    const auditBefore = await rows<{ id: number }>(v.handle.db, sql`select coalesce(max(id), 0)::int as id from audit_events`);
    const values = Array.from({ length: 30 }, (_, i) => `merge${i}@example.com`);
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, r) =>
        tokenize({ items: Array.from({ length: 5 }, (_, i) => ({ type: 'email', value: values[(r * 3 + i) % values.length] })) }),
      ),
    );
    const tokenOf = new Map<string, string>();
    const createdBy = new Map<string, number>();
    responses.forEach((res, r) => {
      expect(res.statusCode, res.body).toBe(200);
      res.json().results.forEach((x: { token: string; created: boolean }, i: number) => {
        const value = values[(r * 3 + i) % values.length]!;
        expect(tokenOf.get(value) ?? x.token).toBe(x.token);
        tokenOf.set(value, x.token);
        if (x.created) createdBy.set(value, (createdBy.get(value) ?? 0) + 1);
      });
    });
    expect(tokenOf.size).toBe(30);
    expect([...createdBy.values()].every((n) => n === 1)).toBe(true);
    expect(createdBy.size).toBe(30);
    expect(await count('mappings')).toBe(before + 30);
    const events = await rows<{ details: { counts: Record<string, { created: number }> } }>(
      v.handle.db,
      sql`select details from audit_events where action = 'tokenize' and id > ${auditBefore[0]!.id}`,
    );
    expect(events).toHaveLength(40);
    expect(events.reduce((s2, e) => s2 + (e.details.counts.email?.created ?? 0), 0)).toBe(30);
  });

  it('a subject is stored only as an HMAC and a value may belong to several subjects', async () => {
    const res = await tokenize({
      items: [
        { type: 'email', value: 'dave@example.com', subject: 'user-dave' },
        { type: 'email', value: 'dave@example.com', subject: 'user-dave-2' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const [r1, r2] = res.json().results;
    expect(r1.token).toBe(r2.token);
    const links = await rows<{ n: number }>(
      v.handle.db,
      sql`select count(*)::int as n from subject_links l join mappings m on m.id = l.mapping_id where m.token = ${r1.token}`,
    );
    expect(links[0]!.n).toBe(2);
    const dump = JSON.stringify(await rows(v.handle.db, sql`select encode(subject_hmac, 'escape') as s from subject_links`));
    expect(dump).not.toContain('user-dave');
  });
});

describe('batches and invalid input', () => {
  it('an invalid item with onInvalid=reject lists every bad index and stores nothing', async () => {
    const before = { m: await count('mappings'), a: await count('audit_events') };
    const res = await tokenize({
      items: [
        { type: 'email', value: 'ok@example.com' },
        { type: 'email', value: 'nope' },
        { type: 'card', value: '4111111111111112' },
      ],
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.items).toEqual([
      { index: 1, code: 'INVALID_EMAIL', message: expect.any(String) },
      { index: 2, code: 'INVALID_CARD', message: 'card number fails the Luhn check' },
    ]);
    expect(res.body).not.toContain('4111111111111112');
    expect({ m: await count('mappings'), a: await count('audit_events') }).toEqual(before);
  });

  it('onInvalid=skip returns errors in place and tokenizes the rest', async () => {
    const res = await tokenize({
      onInvalid: 'skip',
      items: [
        { type: 'date', value: '2023-02-30' },
        { type: 'date', value: '2023-02-28' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const [bad, good] = res.json().results;
    expect(bad).toEqual({ index: 0, error: { code: 'INVALID_DATE', message: 'date is not a real calendar date' } });
    expect(good.token).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);
  });

  it('a 10,000-item batch succeeds with one token per distinct value', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ type: 'digits', value: String(1_000_000 + (i % 9_000)) }));
    const res = await tokenize({ items });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const tokens = res.json().results.map((r: { token: string }) => r.token);
    expect(tokens).toHaveLength(10_000);
    expect(new Set(tokens).size).toBe(9_000);
    expect(tokens[0]).toBe(tokens[9_000]);
  });

  it('10,001 items, unknown fields, unknown types and bad onInvalid are 400 VALIDATION_FAILED', async () => {
    for (const body of [
      { items: Array.from({ length: 10_001 }, () => ({ type: 'text', value: 'x' })) },
      { items: [{ type: 'email', value: 'a@b.co', extra: 1 }] },
      { items: [{ type: 'passport', value: 'X' }] },
      { items: [{ type: 'email', value: 'a@b.co' }], onInvalid: 'ignore' },
      { items: [{ type: 'email', value: 42 }] },
    ]) {
      const res = await tokenize(body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('an unknown namespace is 404 NAMESPACE_NOT_FOUND and creates nothing', async () => {
    const res = await tokenize({ namespace: 'nowhere', items: [{ type: 'text', value: 'x' }] });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().error.code).toBe('NAMESPACE_NOT_FOUND');
  });
});

describe('detokenize', () => {
  it('reports not_found and forbidden per token, and masks for the masked scope', async () => {
    const [email, card] = (
      await tokenize({
        items: [
          { type: 'email', value: 'erin@example.com' },
          { type: 'card', value: '5555555555554444' },
        ],
      })
    ).json().results;
    const masked = v.token('detokenize:masked:email detokenize:plain:card');
    const res = await detokenize({ tokens: [email.token, card.token, 'nope@example.com'], purpose: 'SUP-7' }, masked);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().results).toEqual([
      { token: email.token, status: 'ok', type: 'email', value: 'e****@example.com', reveal: 'masked' },
      { token: card.token, status: 'ok', type: 'card', value: '5555555555554444', reveal: 'plain' },
      { token: 'nope@example.com', status: 'not_found' },
    ]);
    const plain = await detokenize({ tokens: [email.token, card.token], purpose: 'SUP-7', reveal: 'plain' }, masked);
    expect(plain.json().results.map((r: { status: string }) => r.status)).toEqual(['forbidden', 'ok']);
    const maskedCard = await detokenize({ tokens: [card.token], purpose: 'SUP-7', reveal: 'masked' }, masked);
    expect(maskedCard.json().results[0].value).toBe('**** **** **** 4444');
  });

  it('requires a purpose of 3 to 200 characters and at most 1,000 tokens', async () => {
    for (const body of [
      { tokens: ['x'] },
      { tokens: ['x'], purpose: 'ab' },
      { tokens: Array(1001).fill('x'), purpose: 'abc' },
      { tokens: [], purpose: 'abc' },
    ]) {
      const res = await detokenize(body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('writes one audit row per token with the purpose, and none with the value', async () => {
    const [t] = (await tokenize({ items: [{ type: 'text', value: 'canary-frank-8812' }] })).json().results;
    await detokenize({ tokens: [t.token, t.token + 'x'], purpose: 'AUDIT-CHECK-1' });
    const audit = await rows<{ outcome: string; purpose: string; details: { token: string } }>(
      v.handle.db,
      sql`select outcome, purpose, details from audit_events where purpose = 'AUDIT-CHECK-1' order by id`,
    );
    expect(audit.map((a) => [a.outcome, a.details.token])).toEqual([
      ['ok', t.token],
      ['not_found', undefined],
    ]);
    expect(JSON.stringify(audit[1]!.details)).toMatch(/^\{"tokenHmac":"[0-9a-f]{64}"\}$/);
    const dump = JSON.stringify(await rows(v.handle.db, sql`select * from audit_events`));
    expect(dump).not.toContain('canary-frank-8812');
  });
});

describe('access', () => {
  it('no token, a malformed token, a wrong signature or an expired token are 401 UNAUTHORIZED', async () => {
    const other = await startVault(db);
    const foreign = other.token('tokenize');
    await other.close();
    const expired = v.services.jwt.sign({ sub: 'x', scope: 'tokenize', ns: ['*'] }, -10);
    for (const headers of [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Basic abc' },
      bearer('not.a.jwt'),
      bearer(foreign),
      bearer(expired),
    ]) {
      const res = await v.app.inject({ method: 'POST', url: '/v1/tokenize', headers, payload: { items: [{ type: 'text', value: 'x' }] } });
      expect(res.statusCode, res.body).toBe(401);
      expect(res.json().error).toEqual({ code: 'UNAUTHORIZED', message: 'missing or invalid credentials' });
    }
  });

  it('a token without the scope is 403 FORBIDDEN naming the scope; a namespace outside ns is 403', async () => {
    const res = await tokenize({ items: [{ type: 'text', value: 'x' }] }, v.token('detokenize:plain:*'));
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toEqual({ code: 'FORBIDDEN', message: 'missing scope tokenize' });
    const det = await detokenize({ tokens: ['x'], purpose: 'abc' }, v.token('tokenize'));
    expect(det.statusCode).toBe(403);
    const ns = await tokenize({ namespace: 'analytics', items: [{ type: 'text', value: 'x' }] }, v.token('tokenize', ['default']));
    expect(ns.statusCode).toBe(403);
    expect(ns.json().error.message).toBe('namespace analytics is not granted to this principal');
  });

  it('rejections are audited with a reason code and nothing of the token', async () => {
    const expired = v.services.jwt.sign({ sub: 'x', scope: 'tokenize', ns: ['*'] }, -10);
    await v.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(expired),
      payload: { items: [{ type: 'text', value: 'x' }] },
    });
    const [last] = await rows<{ action: string; outcome: string; details: { reason: string } }>(
      v.handle.db,
      sql`select action, outcome, details from audit_events order by id desc limit 1`,
    );
    expect(last).toEqual({ action: 'auth', outcome: 'denied', details: { reason: 'expired', route: '/v1/tokenize' } });
    const dump = JSON.stringify(await rows(v.handle.db, sql`select * from audit_events`));
    expect(dump).not.toContain(expired.split('.')[2]);
  });
});
