import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, VaultApiError, VaultAuthError, VaultUnavailableError } from 'tokenvault/client';
import { generateClientTypes } from '../../scripts/client-types.js';
import { startFaultProxy } from '../helpers/http-fault-proxy.js';
import { useTestVault } from '../helpers/vault.js';

const ctx = useTestVault({
  access: {
    revealBudget: 1000,
    revealWindowSeconds: 5,
    rateLimitPerMinute: 600_000,
    tokenTtlSeconds: 900,
    ipRateLimitPerMinute: 600_000,
    trustProxy: false,
  },
});
let url: string;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let creds: { clientId: string; clientSecret: string };
/** Separation of duties: revealing is another client's job. */
let revealCreds: { clientId: string; clientSecret: string };

beforeAll(async () => {
  url = await ctx.v.app.listen({ port: 0, host: '127.0.0.1' });
  proxy = await startFaultProxy(url);
  const { client, secret } = await ctx.v.services.clients.create({ name: 'ingest', scopes: ['tokenize'], namespaces: ['default'] }, 'test');
  creds = { clientId: client.id, clientSecret: secret };
  const reveal = await ctx.v.services.clients.create(
    { name: 'support', scopes: ['detokenize:plain:*'], namespaces: ['default'], revealBudget: 1 },
    'test',
  );
  revealCreds = { clientId: reveal.client.id, clientSecret: reveal.secret };
});
afterAll(() => proxy?.close());

const fast = { baseMs: 10, maxMs: 50, timeoutMs: 20_000 };
const tokenRequests = () => proxy.seen.filter((r) => r.path === '/v1/auth/token').length;

describe('tokenvault/client', () => {
  it('the committed generated types are current (run `npm run client:types` when this fails)', async () => {
    expect(readFileSync(new URL('../../src/client/openapi-types.ts', import.meta.url), 'utf8')).toBe(await generateClientTypes());
  });

  it('exchanges client credentials once, then reuses the token until shortly before it expires', async () => {
    const client = createClient({ url: proxy.url, ...creds, retry: fast });
    const before = tokenRequests();
    const a = await client.tokenize({ items: [{ type: 'email', value: 'client-a@example.com' }] });
    const b = await client.tokenize({ items: [{ type: 'email', value: 'client-a@example.com' }] });
    expect(b.results[0]!.token).toBe(a.results[0]!.token);
    expect(a.results[0]).toMatchObject({ type: 'email', created: true });
    expect(tokenRequests() - before).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // 900 s tokens are refreshed once less than a fifth of their life is left: after 720 s.
      vi.setSystemTime(Date.now() + 730_000);
      await client.tokenize({ items: [{ type: 'email', value: 'client-a@example.com' }] });
      expect(tokenRequests() - before).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('asks for a new token once when the vault answers 401, then succeeds', async () => {
    const calls: boolean[] = [];
    const good = ctx.v.token('tokenize');
    const client = createClient({ url, token: async (stale) => (calls.push(stale), stale ? good : 'not-a-jwt'), retry: fast });
    const r = await client.tokenize({ items: [{ type: 'ipv4', value: '10.1.2.3' }] });
    expect(r.results).toHaveLength(1);
    expect(calls).toEqual([false, true]);
  });

  it('wrong client credentials are a VaultAuthError, not retried', async () => {
    const client = createClient({ url: proxy.url, clientId: creds.clientId, clientSecret: 'wrong', retry: fast });
    const before = tokenRequests();
    const err = await client.tokenize({ items: [{ type: 'email', value: 'x@example.com' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultAuthError);
    expect(err).toMatchObject({ code: 'AUTHENTICATION_FAILED', status: 401, oauthError: 'invalid_client' });
    expect(tokenRequests() - before).toBe(1);
  });

  it('a 4xx is a typed VaultApiError with the vault code and per-item reasons, never retried', async () => {
    const client = createClient({ url: proxy.url, ...creds, retry: fast });
    const n = proxy.seen.length;
    const err = await client
      .tokenize({
        items: [
          { type: 'email', value: 'ok@example.com' },
          { type: 'email', value: 'not an email' },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultApiError);
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', items: [{ index: 1, code: 'INVALID_EMAIL' }] });
    expect(String((err as Error).message)).not.toContain('not an email');
    expect(proxy.seen.slice(n).filter((r) => r.path === '/v1/tokenize')).toHaveLength(1);
  });

  it('503 with Retry-After and connection resets are retried until the call completes', async () => {
    const retries: { status?: number; delayMs: number }[] = [];
    const client = createClient({ url: proxy.url, ...creds, retry: fast, onRetry: (e) => retries.push(e) });
    await client.tokenize({ items: [{ type: 'phone', value: '+44 20 7946 0000' }] });
    proxy.fail({ kind: '503', retryAfter: '1' }, { kind: 'reset' }, { kind: '503' });
    const r = await client.tokenize({ items: [{ type: 'phone', value: '+44 20 7946 0000' }] });
    expect(r.results[0]!.created).toBe(false);
    expect(retries.map((e) => e.status)).toEqual([503, undefined, 503]);
    // Retry-After: 1 is honoured (never sooner); without it, the jittered backoff stays under maxMs.
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(retries[2]!.delayMs).toBeLessThanOrEqual(fast.maxMs);
  });

  it('429 from a reveal budget (Retry-After) is waited out and the reveal completes', async () => {
    const retries: { status?: number }[] = [];
    const client = createClient({ url, ...revealCreds, retry: { ...fast, timeoutMs: 30_000 }, onRetry: (e) => retries.push(e) });
    const [t] = (await createClient({ url, ...creds }).tokenize({ items: [{ type: 'email', value: 'budget@example.com' }] })).results;
    // Spend the budget (1 per 5 s sliding window) as another worker of the same client would,
    // until the vault refuses: the reveal just counted stays in the window for ~5 s, so the
    // client's reveal meets the refusal, waits it out (Retry-After) and completes.
    const raw = createClient({ url, ...revealCreds, retry: { timeoutMs: 0 } });
    for (;;) {
      const r = await raw.api.POST('/v1/detokenize', { body: { tokens: [t!.token!], purpose: 'TICKET-0' } });
      if (r.response.status === 429) break;
    }
    const revealed = await client.detokenize({ tokens: [t!.token!], purpose: 'TICKET-2' });
    expect(revealed.results[0]).toMatchObject({ status: 'ok', value: 'budget@example.com' });
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries.every((e) => e.status === 429)).toBe(true);
  });

  it('gives up with VaultUnavailableError when the vault stays unreachable past the retry window', async () => {
    const client = createClient({ url: 'http://127.0.0.1:9', token: 'x', retry: { baseMs: 10, maxMs: 20, timeoutMs: 300 } });
    const err = await client.tokenize({ items: [{ type: 'email', value: 'x@example.com' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect(err).toMatchObject({ code: 'VAULT_UNAVAILABLE' });
  });

  it('never has more requests in flight than its concurrency limit', async () => {
    const client = createClient({ url: proxy.url, ...creds, concurrency: 2, retry: fast });
    await client.tokenize({ items: [{ type: 'email', value: 'warm@example.com' }] });
    const p2 = await startFaultProxy(url);
    try {
      const limited = createClient({ url: p2.url, ...creds, concurrency: 2, retry: fast });
      await Promise.all(Array.from({ length: 12 }, (_, i) => limited.tokenize({ items: [{ type: 'email', value: `c${i}@example.com` }] })));
      expect(p2.seen.filter((r) => r.path === '/v1/tokenize')).toHaveLength(12);
      expect(p2.maxInFlight).toBe(2);
    } finally {
      await p2.close();
    }
  });
});
