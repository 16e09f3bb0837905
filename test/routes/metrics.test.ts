import { describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault({
  access: {
    revealBudget: 1000,
    revealWindowSeconds: 3600,
    rateLimitPerMinute: 600_000,
    tokenTtlSeconds: 900,
    ipRateLimitPerMinute: 600_000,
    trustProxy: false,
  },
});

async function metrics(): Promise<Map<string, number>> {
  const res = await ctx.v.app.inject('/metrics');
  expect(res.statusCode, res.body).toBe(200);
  const m = new Map<string, number>();
  for (const line of res.body.split('\n')) {
    const match = /^(tokenvault_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) m.set(match[1]!, Number(match[2]));
  }
  return m;
}

describe('pipeline metrics on /metrics', () => {
  it('counts values created vs existing, cache hits and misses, reveals by outcome, erasures and the feed head; never a value', async () => {
    const { v } = ctx;
    const tokenize = (value: string, token = v.token('tokenize')) =>
      v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(token), payload: { items: [{ type: 'email', value }] } });
    const first = await tokenize('metrics-canary@example.com');
    expect(first.statusCode, first.body).toBe(200);
    for (let i = 0; i < 3; i++) expect((await tokenize('metrics-canary@example.com')).statusCode).toBe(200);
    const token = first.json().results[0].token as string;

    const reveal = (scope: string, reveal?: string) =>
      v.app.inject({
        method: 'POST',
        url: '/v1/detokenize',
        headers: bearer(v.token(scope)),
        payload: { tokens: [token, 'nope@example.com'], purpose: 'TICKET-9', ...(reveal ? { reveal } : {}) },
      });
    expect((await reveal('detokenize:plain:email')).statusCode).toBe(200);
    expect((await reveal('detokenize:masked:email', 'plain')).statusCode).toBe(200);
    const { client } = await v.services.clients.create(
      { name: 'budget-one', scopes: ['detokenize:plain:*'], namespaces: ['default'], revealBudget: 1 },
      'test',
    );
    const clientToken = v.services.jwt.sign({
      sub: client.id,
      scope: 'detokenize:plain:*',
      ns: ['default'],
      kind: 'client',
    });
    const asClient = () =>
      v.app.inject({
        method: 'POST',
        url: '/v1/detokenize',
        headers: bearer(clientToken),
        payload: { tokens: [token], purpose: 'TICKET-10' },
      });
    expect((await asClient()).statusCode).toBe(200);
    const refused = await asClient();
    expect(refused.statusCode, refused.body).toBe(429);
    // Separation of duties: the tokenizing service is another client.
    const { client: ingest } = await v.services.clients.create(
      { name: 'ingest-one', scopes: ['tokenize'], namespaces: ['default'] },
      'test',
    );
    const ingestToken = v.services.jwt.sign({ sub: ingest.id, scope: 'tokenize', ns: ['default'], kind: 'client' });
    expect((await tokenize('metrics-new@example.com', ingestToken)).statusCode).toBe(200);
    const erase = await v.app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: bearer(v.token('erase')),
      payload: { tokens: [token] },
    });
    expect(erase.statusCode, erase.body).toBe(201);

    const m = await metrics();
    expect(m.get('tokenvault_tokenize_values_total{namespace="default",type="email",result="created"}')).toBe(2);
    expect(m.get('tokenvault_tokenize_values_total{namespace="default",type="email",result="existing"}')).toBe(3);
    // A value's first two sights read the database (misses; the second caches it), the next ones hit;
    // metrics-new@ is a third miss.
    expect(m.get('tokenvault_token_cache_lookups_total{result="hit"}')).toBe(2);
    expect(m.get('tokenvault_token_cache_lookups_total{result="miss"}')).toBe(3);
    expect(m.get('tokenvault_reveals_total{namespace="default",outcome="ok"}')).toBe(2);
    expect(m.get('tokenvault_reveals_total{namespace="default",outcome="forbidden"}')).toBe(1);
    expect(m.get('tokenvault_reveals_total{namespace="default",outcome="not_found"}')).toBe(2);
    expect(m.get('tokenvault_reveals_total{namespace="default",outcome="budget"}')).toBe(1);
    expect(m.get(`tokenvault_principal_values_total{principal="${client.id}",action="revealed"}`)).toBe(1);
    expect(m.get(`tokenvault_principal_values_total{principal="${ingest.id}",action="created"}`)).toBe(1);
    expect(m.get('tokenvault_principal_values_total{principal="staff",action="created"}')).toBe(undefined);
    expect(m.get('tokenvault_erasures_total{method="tokens"}')).toBe(1);
    expect(m.get('tokenvault_erased_tokens_total')).toBe(1);
    expect(m.get('tokenvault_erasure_feed_head')).toBe(1);
    if (usingPostgres) {
      expect(m.get('tokenvault_db_pool_connections_in_use')).toBeGreaterThanOrEqual(0);
      expect(m.get('tokenvault_db_pool_waiting')).toBe(0);
    }
    const body = (await ctx.v.app.inject('/metrics')).body;
    expect(body).not.toContain('metrics-canary');
    expect(body).not.toContain(token);
  });
});
