import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, verifySignature } from '../../src/crypto/signing.js';
import { rows } from '../../src/db/client.js';
import { receiptSigningInput, type Receipt } from '../../src/vault/erase.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

let db: TestDatabase;
let v: TestVault;
const POLICY = { namespaces: { default: {}, random: { consistent: false } } };

const tokenize = (items: unknown[], app = v, namespace?: string) =>
  app.app
    .inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(app.token('tokenize')),
      payload: { items, ...(namespace ? { namespace } : {}) },
    })
    .then((r) => {
      expect(r.statusCode, r.body).toBe(200);
      return r.json().results as { token: string; created: boolean }[];
    });
const erase = (body: unknown, app = v) =>
  app.app.inject({ method: 'POST', url: '/v1/erasures', headers: bearer(app.token('erase')), payload: body as object });
const reveal = (tokens: string[], namespace?: string) =>
  v.app
    .inject({
      method: 'POST',
      url: '/v1/detokenize',
      headers: bearer(v.token('detokenize:plain:*')),
      payload: { tokens, purpose: 'ERASURE-TEST', ...(namespace ? { namespace } : {}) },
    })
    .then((r) => r.json().results as { status: string; value?: string }[]);
const count = async (q: ReturnType<typeof sql>) => (await rows<{ n: number }>(v.handle.db, q))[0]!.n;

beforeAll(async () => {
  db = await createTestDatabase();
  v = await startVault(db, { policy: POLICY });
});
afterAll(async () => {
  await v.close();
  await db.drop();
});

describe('erasure by subject', () => {
  let receipt: Receipt;
  let tokens: string[];
  let unrelated: string;

  beforeAll(async () => {
    tokens = (
      await tokenize([
        { type: 'email', value: 'erase-me@example.com', subject: 'subject-erase-1' },
        { type: 'phone', value: '+14155550111', subject: 'subject-erase-1' },
        { type: 'text', value: 'erase-me canary note', subject: 'subject-erase-1' },
      ])
    ).map((r) => r.token);
    [{ token: unrelated }] = (await tokenize([{ type: 'email', value: 'keep-me@example.com', subject: 'subject-keep' }])) as [
      { token: string; created: boolean },
    ];
    const res = await erase({ subject: 'subject-erase-1', reference: 'DSR-2026-001' });
    expect(res.statusCode, res.body).toBe(201);
    receipt = res.json();
  });

  it('returns a signed receipt listing every erased token', async () => {
    expect(receipt).toMatchObject({
      version: 2,
      status: 'completed',
      method: 'subject',
      scope: 'subject',
      reference: 'DSR-2026-001',
      tokensErased: 3,
      counts: { erased: 3, retainedShared: 0, alreadyAbsent: 0 },
    });
    expect(receipt).not.toHaveProperty('reason');
    expect(receipt.tokens.map((t) => t.token).sort()).toEqual([...tokens].sort());
    const jwk = (await v.app.inject('/v1/erasures/public-key')).json();
    expect(verifySignature(jwk, receiptSigningInput(receipt), receipt.signature)).toBe(true);
    for (const altered of [
      { ...receipt, tokensErased: 2 },
      { ...receipt, tokens: receipt.tokens.slice(1) },
      { ...receipt, completedAt: new Date().toISOString() },
      { ...receipt, reference: 'DSR-other' },
      { ...receipt, counts: { ...receipt.counts, retainedShared: 1 } },
      { ...receipt, scope: 'everyone' as const },
      { ...receipt, reason: 'x' },
    ]) {
      expect(verifySignature(jwk, receiptSigningInput(altered), receipt.signature)).toBe(false);
    }
    expect(JSON.stringify(receipt)).not.toContain('subject-erase-1');
    const fetched = await v.app.inject({ url: `/v1/erasures/${receipt.erasureId}`, headers: bearer(v.token('audit:read')) });
    expect(fetched.json()).toEqual(receipt);
  });

  it('no route returns the values; unrelated data stays', async () => {
    expect((await reveal(tokens)).map((r) => r.status)).toEqual(['erased', 'erased', 'erased']);
    expect((await reveal([unrelated]))[0]).toMatchObject({ status: 'ok', value: 'keep-me@example.com' });
    const exp = await v.app.inject({
      method: 'POST',
      url: '/v1/subjects/export',
      headers: bearer(v.token('subjects:export detokenize:plain:*')),
      payload: { subject: 'subject-erase-1', purpose: 'DSR check' },
    });
    expect(exp.json()).toEqual({ tokens: [] });
  });

  it('deletes the ciphertext rows, the links and the subject key; tombstones hold no PII', async () => {
    expect(await count(sql`select count(*)::int as n from mappings where token = any(${sql.param(tokens)}::text[])`)).toBe(0);
    expect(
      await count(
        sql`select count(*)::int as n from subject_links where subject_hmac = ${v.services.keyring.subjectHmac('subject-erase-1')}`,
      ),
    ).toBe(0);
    expect(
      await count(sql`select count(*)::int as n from data_keys where subject_hmac = ${v.services.keyring.subjectHmac('subject-erase-1')}`),
    ).toBe(0);
    expect(
      await count(sql`select count(*)::int as n from data_keys where subject_hmac = ${v.services.keyring.subjectHmac('subject-keep')}`),
    ).toBe(1);
    const tomb = await rows<Record<string, unknown>>(
      v.handle.db,
      sql`select * from tombstones where erasure_id = ${receipt.erasureId} order by token`,
    );
    expect(tomb).toHaveLength(3);
    expect(Object.keys(tomb[0]!).sort()).toEqual(['erased_at', 'erasure_id', 'namespace', 'token', 'type']);
    expect(JSON.stringify(tomb)).not.toMatch(/erase-me|4155550111|subject-erase/);
  });

  it('the feed lists it; re-tokenizing the value gives a new token, never the erased one', async () => {
    const feed = await v.app.inject({ url: '/v1/erasures?after=0', headers: bearer(v.token('erasures:read')) });
    expect(feed.statusCode, feed.body).toBe(200);
    const event = feed.json().events.find((e: { erasureId: string }) => e.erasureId === receipt.erasureId);
    expect(event.tokens).toEqual(receipt.tokens);
    const [again] = await tokenize([{ type: 'email', value: 'erase-me@example.com', subject: 'subject-erase-1' }]);
    expect(again!.created).toBe(true);
    expect(tokens).not.toContain(again!.token);
    expect((await reveal([again!.token]))[0]!.value).toBe('erase-me@example.com');
  });

  it('repeating the erasure is safe', async () => {
    await erase({ subject: 'subject-erase-1' });
    const res = await erase({ subject: 'subject-erase-1' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      tokensErased: 0,
      tokens: [],
      counts: { erased: 0, retainedShared: 0, alreadyAbsent: 0 },
      reason: 'nothing is held for this subject (never tokenized with it, or already erased)',
    });
    const byValue = await erase({ type: 'email', value: 'never-seen@example.com' });
    expect(byValue.json()).toMatchObject({
      scope: 'everyone',
      tokensErased: 0,
      counts: { erased: 0, retainedShared: 0, alreadyAbsent: 1 },
      reason: 'no mapping holds this value in this namespace (never tokenized, or already erased)',
    });
  });

  it('the audit row names the erasure, never the subject (not even by HMAC: a returning subject would reproduce it)', async () => {
    const [row] = await rows<{ erasure_id: string; details: Record<string, unknown> }>(
      v.handle.db,
      sql`select erasure_id, details from audit_events where erasure_id = ${receipt.erasureId}`,
    );
    expect(row!.details).toEqual({ method: 'subject', tokensErased: 3, retainedShared: 0, alreadyAbsent: 0, reference: 'DSR-2026-001' });
  });
});

describe('erasure by value and by tokens', () => {
  it('by value erases the normalized value in its namespace, every random-namespace copy included', async () => {
    const [d] = await tokenize([{ type: 'email', value: 'Value@Example.com' }]);
    const r1 = await tokenize([{ type: 'email', value: 'value@example.com' }], v, 'random');
    const r2 = await tokenize([{ type: 'email', value: 'value@example.com' }], v, 'random');
    const res = await erase({ namespace: 'random', type: 'email', value: 'VALUE@example.com' });
    expect(
      res
        .json()
        .tokens.map((t: { token: string }) => t.token)
        .sort(),
    ).toEqual([r1[0]!.token, r2[0]!.token].sort());
    expect((await reveal([d!.token]))[0]!.status).toBe('ok');
    expect(await erase({ type: 'email', value: 'not an email' }).then((r) => [r.statusCode, r.json().error.code])).toEqual([
      400,
      'VALIDATION_FAILED',
    ]);
  });

  it('by tokens erases exactly those tokens', async () => {
    const [a, b] = await tokenize([
      { type: 'text', value: 'tok-a' },
      { type: 'text', value: 'tok-b' },
    ]);
    const res = await erase({ tokens: [a!.token, 'tok_doesnotexist'] });
    expect(res.json()).toMatchObject({
      method: 'tokens',
      scope: 'everyone',
      tokensErased: 1,
      counts: { erased: 1, retainedShared: 0, alreadyAbsent: 1 },
    });
    expect((await reveal([a!.token, b!.token])).map((r) => r.status)).toEqual(['erased', 'ok']);
  });

  it('rejects bodies that are not exactly one target, and needs the erase scope', async () => {
    for (const body of [{}, { subject: 's', tokens: ['x'] }, { type: 'email' }, { subject: 's', reference: 'has space' }]) {
      const res = await erase(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    const res = await v.app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: bearer(v.token('tokenize')),
      payload: { subject: 's' },
    });
    expect(res.statusCode).toBe(403);
    const narrow = await v.app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: bearer(v.token('erase', ['default'])),
      payload: { subject: 's' },
    });
    expect(narrow.statusCode).toBe(403);
  });
});

describe('subject export', () => {
  it('lists tokens, with values only for plain scopes, and is audited with the purpose', async () => {
    await tokenize([
      { type: 'email', value: 'export@example.com', subject: 'subject-export' },
      { type: 'ssn', value: '123-45-6789', subject: 'subject-export' },
    ]);
    const full = await v.app.inject({
      method: 'POST',
      url: '/v1/subjects/export',
      headers: bearer(v.token('subjects:export detokenize:plain:email')),
      payload: { subject: 'subject-export', purpose: 'Art. 15 request 77' },
    });
    expect(full.statusCode, full.body).toBe(200);
    const list = full.json().tokens;
    expect(list.map((t: { type: string; value?: string }) => [t.type, t.value])).toEqual([
      ['email', 'export@example.com'],
      ['ssn', undefined],
    ]);
    const noPurpose = await v.app.inject({
      method: 'POST',
      url: '/v1/subjects/export',
      headers: bearer(v.token('subjects:export')),
      payload: { subject: 'subject-export' },
    });
    expect(noPurpose.statusCode).toBe(400);
    const [row] = await rows<{ purpose: string; details: Record<string, unknown> }>(
      v.handle.db,
      sql`select purpose, details from audit_events where action = 'subject.export' order by id desc limit 1`,
    );
    expect(row).toMatchObject({ purpose: 'Art. 15 request 77', details: { tokens: 2, valuesRevealed: 1 } });
  });
});

describe('concurrency', () => {
  it('twenty concurrent erasures appear in the feed exactly once, in a gapless order', async () => {
    const before = (await v.app.inject({ url: '/v1/erasures?limit=1000', headers: bearer(v.token('erasures:read')) })).json().nextCursor;
    const values = Array.from({ length: 20 }, (_, i) => ({ type: 'text', value: `concurrent-${i}` }));
    const toks = await tokenize(values);
    const receipts = await Promise.all(toks.map((t) => erase({ tokens: [t.token] }).then((r) => r.json() as Receipt)));
    const seen: string[] = [];
    let cursor = before;
    for (;;) {
      const page = (await v.app.inject({ url: `/v1/erasures?after=${cursor}&limit=7`, headers: bearer(v.token('erasures:read')) })).json();
      seen.push(...page.events.map((e: { erasureId: string }) => e.erasureId));
      const seqs = page.events.map((e: { seq: number }) => e.seq);
      seqs.forEach((s: number, i: number) => expect(s).toBe(Number(cursor) + i + 1));
      if (page.nextCursor === cursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.sort()).toEqual(receipts.map((r) => r.erasureId).sort());
  });

  it('a cache on another instance forgets an erased value within a second', async () => {
    const other = await startVault(db, { keys: v.keys, policy: POLICY });
    const [first] = await tokenize([{ type: 'email', value: 'cached@example.com' }], other);
    const [hit] = await tokenize([{ type: 'email', value: 'cached@example.com' }], other);
    expect(hit!.token).toBe(first!.token);
    await erase({ type: 'email', value: 'cached@example.com' });
    await new Promise((r) => setTimeout(r, 1000));
    const [after] = await tokenize([{ type: 'email', value: 'cached@example.com' }], other);
    expect(after!.token).not.toBe(first!.token);
    expect(after!.created).toBe(true);
    await other.close();
  });

  it.runIf(usingPostgres)('an erasure racing tokenize calls for the same subject leaves no mapping under a destroyed key', async () => {
    const subject = 'subject-race';
    await tokenize([{ type: 'text', value: 'race-seed', subject }]);
    const [oldKey] = await rows<{ id: string }>(
      v.handle.db,
      sql`select id from data_keys where subject_hmac = ${v.services.keyring.subjectHmac(subject)}`,
    );
    const calls = Array.from({ length: 30 }, (_, i) =>
      tokenize([
        { type: 'text', value: `race-${i}`, subject },
        { type: 'text', value: 'race-seed', subject },
      ]),
    );
    const erasure = new Promise<Receipt>((resolve) => setTimeout(() => void erase({ subject }).then((r) => resolve(r.json())), 5));
    const [receipt, results] = await Promise.all([erasure, Promise.all(calls)]);
    // Copies live in the mapping (namespace key) or in the subject links (subject keys).
    for (const table of ['mappings', 'subject_links']) {
      expect(await count(sql`select count(*)::int as n from ${sql.identifier(table)} where dek_id = ${oldKey!.id}`)).toBe(0);
      expect(
        await count(
          sql`select count(*)::int as n from ${sql.identifier(table)} m where m.dek_id is not null and not exists (select 1 from data_keys d where d.id = m.dek_id)`,
        ),
      ).toBe(0);
    }
    const erased = new Set(receipt.tokens.map((t) => t.token));
    const returned = [...new Set(results.flat().map((r) => r.token))];
    const statuses = await reveal(returned);
    returned.forEach((t, i) => expect(statuses[i]!.status).toBe(erased.has(t) ? 'erased' : 'ok'));
  });
});

describe('receipt canonical form', () => {
  it('is canonical JSON of every field but the signature', () => {
    const r = { b: 1, signature: 'x', a: 2 } as unknown as Receipt;
    expect(receiptSigningInput(r).toString()).toBe(canonicalJson({ a: 2, b: 1 }));
  });
});
