import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, type VaultClient } from 'tokenvault/client';
import { createRecordTokenizer, parseFieldPolicy } from 'tokenvault/ingest';
import { nextTombstones, tokenizeBatch } from '../../examples/kafka/pipeline.js';
import { useTestVault } from '../helpers/vault.js';

/** What the Kafka examples send, from what they read, against the real vault (no broker runs here). */
describe('Kafka examples: the calls they make', () => {
  const ctx = useTestVault();
  let vault: VaultClient;
  let feed: VaultClient;
  beforeAll(async () => {
    const url = await ctx.v.app.listen({ port: 0, host: '127.0.0.1' });
    const make = async (scopes: string[]) => {
      const { client, secret } = await ctx.v.services.clients.create(
        { name: scopes[0]!.replace(':', '-'), scopes, namespaces: ['default'] },
        'test',
      );
      return createClient({ url, clientId: client.id, clientSecret: secret });
    };
    vault = await make(['tokenize']);
    feed = await make(['erasures:read']);
  });

  it('tokenize service: clean messages keyed by token, rejects by offset with codes only', async () => {
    const tokenizer = createRecordTokenizer({
      client: vault,
      policy: parseFieldPolicy({ subject: 'user.id', fields: { 'user.email': 'email', 'user.id': { action: 'drop' } } }),
    });
    const msg = (offset: string, v: string | null) => ({
      key: Buffer.from('raw-key-may-be-pii@example.com'),
      value: v === null ? null : Buffer.from(v),
      offset,
    });
    const out = await tokenizeBatch(
      tokenizer,
      [
        msg('1', '{"user":{"id":"kafka-subject","email":"kafka@example.com"},"n":1}'),
        msg('2', 'not json'),
        msg('3', '{"user":{"email":"nope"}}'),
        msg('4', '{"user":{"id":"kafka-subject","email":"kafka@example.com"},"n":2}'),
      ],
      'user.email',
    );
    const [token] = (await vault.tokenize({ items: [{ type: 'email', value: 'kafka@example.com', subject: 'kafka-subject' }] })).results;
    expect(out.clean).toEqual([
      { key: token!.token, value: JSON.stringify({ user: { email: token!.token }, n: 1 }) },
      { key: token!.token, value: JSON.stringify({ user: { email: token!.token }, n: 2 }) },
    ]);
    expect(out.rejected.map((r) => [r.offset, r.problems.map((p) => p.code)])).toEqual([
      ['2', ['INVALID_JSON']],
      ['3', ['INVALID_EMAIL']],
    ]);
    expect(JSON.stringify(out)).not.toContain('kafka@example.com');
  });

  it('erasure tombstones: each erased token once as a null-valued record, the cursor advances and repeats nothing', async () => {
    const first = await nextTombstones(feed, '0');
    const { results } = await vault.tokenize({
      items: [
        { type: 'email', value: 'erase-me@example.com', subject: 'kafka-erase' },
        { type: 'ipv4', value: '10.20.30.40', subject: 'kafka-erase' },
      ],
    });
    const res = await ctx.v.app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: { authorization: `Bearer ${ctx.v.token('erase')}` },
      payload: { subject: 'kafka-erase' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const page = await nextTombstones(feed, first.cursor);
    expect(page.tombstones).toEqual(expect.arrayContaining(results.map((r) => ({ key: r.token, value: null }))));
    expect(page.tombstones).toHaveLength(2);
    expect(Number(page.cursor)).toBeGreaterThan(Number(first.cursor));
    expect(await nextTombstones(feed, page.cursor)).toEqual({ tombstones: [], cursor: page.cursor, events: [] });
  });
});
