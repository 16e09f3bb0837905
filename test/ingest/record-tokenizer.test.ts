import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TokenizeRequest, type VaultClient } from 'tokenvault/client';
import { createRecordTokenizer, type RecordOutcome } from '../../src/ingest/record-tokenizer.js';
import { parseFieldPolicy } from '../../src/ingest/field-policy.js';
import { startFaultProxy } from '../helpers/http-fault-proxy.js';
import { useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();
let client: VaultClient;
let url: string;
const calls: TokenizeRequest[] = [];
/** The real client, recording each tokenize body it sends. */
const recording = { tokenize: (b: TokenizeRequest) => (calls.push(b), client.tokenize(b)) };

beforeAll(async () => {
  url = await ctx.v.app.listen({ port: 0, host: '127.0.0.1' });
  client = createClient({ url, token: ctx.v.token('tokenize') });
});

async function apiToken(type: TokenizeRequest['items'][number]['type'], value: string, subject?: string): Promise<string> {
  return (await client.tokenize({ items: [{ type, value, ...(subject ? { subject } : {}) }] })).results[0]!.token!;
}

describe('record tokenizer', () => {
  it('tokenizes nested paths and arrays of objects in place, leaves missing fields and everything else alone', async () => {
    const t = createRecordTokenizer({
      client,
      fields: { 'user.email': 'email', 'items[].email': 'email', 'client.ip': 'ipv4', 'tags[]': 'alnum' },
    });
    const records = [
      {
        id: 1,
        user: { email: 'Nested@Example.com', name: 'kept' },
        items: [{ email: 'a1@example.com', n: 1 }, { n: 2 }, { email: 'a2@example.com' }],
        tags: ['abc123'],
        client: { ip: '10.0.0.1' },
      },
      { id: 2, user: {}, items: [] },
      { id: 3 },
      { id: 4, user: null, items: 'not an array', client: { ip: null } },
    ];
    const out = await t.tokenize(records);
    expect(out.map((o) => o.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(out[0]!.record).toBe(records[0]);
    expect(records[0]).toEqual({
      id: 1,
      user: { email: await apiToken('email', 'nested@example.com'), name: 'kept' },
      items: [{ email: await apiToken('email', 'a1@example.com'), n: 1 }, { n: 2 }, { email: await apiToken('email', 'a2@example.com') }],
      tags: [await apiToken('alnum', 'abc123')],
      client: { ip: await apiToken('ipv4', '10.0.0.1') },
    });
    expect(records.slice(1)).toEqual([
      { id: 2, user: {}, items: [] },
      { id: 3 },
      { id: 4, user: null, items: 'not an array', client: { ip: null } },
    ]);
  });

  it('the same value in many records takes one slot in one call and gets one token', async () => {
    calls.length = 0;
    const t = createRecordTokenizer({ client: recording, fields: { email: 'email', 'cc[]': 'email' } });
    const records = Array.from({ length: 1000 }, (_, i) => ({
      i,
      email: 'same@example.com',
      cc: ['same@example.com', `other${i % 2}@example.com`],
    }));
    const out = await t.tokenize(records);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items).toEqual([
      { type: 'email', value: 'same@example.com' },
      { type: 'email', value: 'other0@example.com' },
      { type: 'email', value: 'other1@example.com' },
    ]);
    const token = await apiToken('email', 'same@example.com');
    expect(new Set(out.map((o) => (o.record as (typeof records)[number]).email))).toEqual(new Set([token]));
    expect(records[7]!.cc).toEqual([token, await apiToken('email', 'other1@example.com')]);
  });

  it('sends at most batchSize values per call (10,000 by default)', async () => {
    calls.length = 0;
    const records = Array.from({ length: 10_001 }, (_, i) => ({ d: String(1_000_000 + i) }));
    await createRecordTokenizer({ client: recording, fields: { d: 'digits' } }).tokenize(records);
    expect(calls.map((c) => c.items.length)).toEqual([10_000, 1]);
    calls.length = 0;
    await createRecordTokenizer({ client: recording, fields: { d: 'digits' }, batchSize: 400 }).tokenize(
      records.slice(0, 1000).map((r) => ({ d: String(Number(r.d) + 5_000_000) })),
    );
    expect(calls.map((c) => c.items.length)).toEqual([400, 400, 200]);
  });

  it.each([
    ['reject', 'rejected'],
    ['drop', 'dropped'],
    ['null', 'ok'],
  ] as const)(
    'an invalid value under onInvalid %s: the record is %s, reported with path and code, never the value',
    async (onInvalid, status) => {
      const t = createRecordTokenizer({ client, fields: { 'user.email': { type: 'email', onInvalid }, ip: 'ipv4' } });
      const bad = { user: { email: 'not-an-email' }, ip: '10.9.9.9' };
      const good = { user: { email: 'fine@example.com' }, ip: '10.9.9.9' };
      const out = await t.tokenize([bad, good]);
      expect(out[0]).toEqual({
        status,
        record: bad,
        problems: [{ path: 'user.email', code: 'INVALID_EMAIL', message: expect.any(String) as string }],
      });
      expect(JSON.stringify(out[0]!.problems)).not.toContain('not-an-email');
      expect(bad).toEqual(
        status === 'ok'
          ? { user: { email: null }, ip: await apiToken('ipv4', '10.9.9.9') }
          : { user: { email: 'not-an-email' }, ip: '10.9.9.9' },
      );
      expect(out[1]).toEqual({
        status: 'ok',
        record: { user: { email: await apiToken('email', 'fine@example.com') }, ip: await apiToken('ipv4', '10.9.9.9') },
        problems: [],
      });
    },
  );

  it('a non-string value is invalid (INVALID_TYPE); reject wins over drop and null in one record', async () => {
    const t = createRecordTokenizer({
      client,
      fields: { a: { type: 'digits', onInvalid: 'null' }, b: { type: 'digits', onInvalid: 'drop' }, c: { type: 'digits' } },
    });
    const out = await t.tokenize([
      { a: 1234567, b: 'x', c: true },
      { a: 1234567, b: 'x' },
    ]);
    expect(out.map((o) => o.status)).toEqual(['rejected', 'dropped']);
    expect(out[0]!.problems.map((p) => [p.path, p.code])).toEqual([
      ['a', 'INVALID_TYPE'],
      ['c', 'INVALID_TYPE'],
      ['b', 'INVALID_DIGITS'],
    ]);
  });

  it('mask is computed locally (no call, nothing stored) and drop removes the field, also inside arrays', async () => {
    calls.length = 0;
    const t = createRecordTokenizer({
      client: recording,
      fields: { card: { type: 'card', action: 'mask' }, 'lines[].secret': { action: 'drop' }, debug: { action: 'drop' } },
    });
    const r = { card: '4111 1111 1111 1111', lines: [{ secret: 's', keep: 1 }, { keep: 2 }], debug: { x: 1 }, keep: true };
    const out = await t.tokenize([r]);
    expect(calls).toHaveLength(0);
    expect(out[0]!.status).toBe('ok');
    expect(r).toEqual({ card: '**** **** **** 1111', lines: [{ keep: 1 }, { keep: 2 }], keep: true });
  });

  it('links tokens to the record subject: erasing the subject erases them', async () => {
    const t = createRecordTokenizer({ client, policy: parseFieldPolicy({ subject: 'user.id', fields: { 'user.email': 'email' } }) });
    const records = [{ user: { id: 'subject-rt-1', email: 'linked@example.com' } }];
    await t.tokenize(records);
    const token = records[0]!.user.email;
    expect(token).toBe(await apiToken('email', 'linked@example.com', 'subject-rt-1'));
    const res = await ctx.v.app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: { authorization: `Bearer ${ctx.v.token('erase')}` },
      payload: { subject: 'subject-rt-1' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().tokens).toContainEqual(expect.objectContaining({ token }));
  });

  it('a numeric subject id links as its decimal text; any other non-string subject rejects the record', async () => {
    const t = createRecordTokenizer({ client, subject: 'uid', fields: { e: 'email' } });
    const out = await t.tokenize([
      { uid: 4242, e: 'numeric-subject@example.com' },
      { uid: { x: 1 }, e: 'numeric-subject@example.com' },
      { uid: 1.5, e: 'numeric-subject@example.com' },
    ]);
    expect(out.map((o) => o.status)).toEqual(['ok', 'rejected', 'rejected']);
    expect((out[0]!.record as { e: string }).e).toBe(await apiToken('email', 'numeric-subject@example.com', '4242'));
    expect(out[1]!.problems).toEqual([{ path: 'uid', code: 'INVALID_SUBJECT', message: expect.any(String) as string }]);
  });

  it('streams with backpressure: reads at most chunksInFlight chunks ahead, outcomes in input order', async () => {
    const t = createRecordTokenizer({ client, fields: { e: 'email' } });
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 5000; i++) {
        pulled++;
        yield { i, e: `stream${i % 50}@example.com` };
      }
    }
    const it = t.iterate(source(), { chunkRecords: 1000, chunksInFlight: 2 });
    const first = await it.next();
    expect(pulled).toBe(2000);
    const rest: RecordOutcome<{ i: number }>[] = [first.value as RecordOutcome<{ i: number }>];
    for await (const o of it) rest.push(o as RecordOutcome<{ i: number }>);
    expect(rest.map((o) => o.record.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));

    const collected: unknown[] = [];
    await pipeline(
      Readable.from([{ e: 'piped@example.com' }, { e: 'x' }]),
      t.stream({ chunkRecords: 1 }),
      async function (outs: AsyncIterable<RecordOutcome<{ e: string }>>) {
        for await (const o of outs) collected.push(o.status === 'ok' ? o.record.e : o.status);
      },
    );
    expect(collected).toEqual([await apiToken('email', 'piped@example.com'), 'rejected']);
  });

  it('completes through 503 (Retry-After) and connection resets from the vault', async () => {
    const proxy = await startFaultProxy(url);
    try {
      const t = createRecordTokenizer({
        client: createClient({ url: proxy.url, token: ctx.v.token('tokenize'), retry: { baseMs: 10, maxMs: 50 } }),
        fields: { e: 'email' },
        batchSize: 10,
      });
      proxy.fail({ kind: '503', retryAfter: '1' }, { kind: 'reset' }, { kind: '503', retryAfter: '0' });
      const records = Array.from({ length: 30 }, (_, i) => ({ e: `fault${i}@example.com` }));
      const out = await t.tokenize(records);
      expect(out.every((o) => o.status === 'ok')).toBe(true);
      expect(records[29]!.e).toBe(await apiToken('email', 'fault29@example.com'));
      expect(proxy.seen.filter((s) => s.fault)).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});

describe('field policy', () => {
  it.each([
    [{ fields: { 'a..b': 'email' } }, 'each dot-separated part'],
    [{ fields: { 'a[0]': 'email' } }, 'each dot-separated part'],
    [{ fields: { a: 'nope' } }, 'type must be a token type'],
    [{ fields: { a: { type: 'email', action: 'hash' } } }, 'action must be'],
    [{ fields: { a: { type: 'email', onInvalid: 'skip' } } }, 'onInvalid must be'],
    [{ fields: { a: { type: 'email', typo: 1 } } }, 'unknown key(s) typo'],
    [{ fields: {} }, 'at least one path'],
    [{ subject: 'users[].id', fields: { a: 'email' } }, 'subject path cannot contain []'],
    [{ namespace: 'Bad NS', fields: { a: 'email' } }, 'namespace must be'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseFieldPolicy(raw)).toThrow(message);
  });

  it('accepts the short form, the long form and a bare map', () => {
    expect(parseFieldPolicy({ 'user.email': 'email' }).fields).toEqual([
      {
        path: 'user.email',
        segments: [
          { key: 'user', each: false },
          { key: 'email', each: false },
        ],
        action: 'tokenize',
        type: 'email',
        onInvalid: 'reject',
      },
    ]);
    expect(parseFieldPolicy({ namespace: 'default', fields: { 'x[].y': { action: 'drop' } } })).toEqual({
      namespace: 'default',
      fields: [
        {
          path: 'x[].y',
          segments: [
            { key: 'x', each: true },
            { key: 'y', each: false },
          ],
          action: 'drop',
          type: undefined,
          onInvalid: 'reject',
        },
      ],
    });
  });
});
