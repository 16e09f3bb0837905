import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadIdp } from '../../src/auth/idp.js';
import { runCli } from '../../src/cli.js';
import { DEFAULT_ACCESS } from '../../src/config.js';
import { rows } from '../../src/db/client.js';
import { createRevealCountersRepository } from '../../src/db/repositories/reveal-counters-repository.js';
import { createRevealBudget } from '../../src/vault/budget.js';
import type { Principal } from '../../src/vault/principal.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

const ISSUER = 'https://idp.access.test/';
const AUDIENCE = 'tokenvault-staff';
let db: TestDatabase;
let v: TestVault;
let prod: TestVault;
let dir: string;
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let emailTokens: string[];

async function staffToken(claims: Record<string, unknown>, sub = 'agent-1') {
  return new SignJWT({ scope: 'detokenize:masked:*', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(rsa.privateKey);
}

async function lastAuthReason(vault: TestVault): Promise<string | undefined> {
  const [r] = await rows<{ details: { reason: string } }>(
    vault.handle.db,
    sql`select details from audit_events where action = 'auth' order by id desc limit 1`,
  );
  return r?.details.reason;
}

const post = (vault: TestVault, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  vault.app.inject({ method: 'POST', url, headers, payload: payload as object });

/** A client made the way the CLI makes it (no HTTP allowlist), and a token for it. */
async function cliClient(vault: TestVault, name: string, scopes: string[], revealBudget?: number) {
  const { client } = await vault.services.clients.create(
    { name, scopes, namespaces: ['*'], ...(revealBudget !== undefined ? { revealBudget } : {}) },
    'cli',
  );
  return client;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-access-'));
  rsa = await generateKeyPair('RS256', { extractable: true });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' }] }));
  writeFileSync(
    join(dir, 'idp.yaml'),
    [
      `issuer: "${ISSUER}"`,
      `audience: ${AUDIENCE}`,
      'jwks: ./jwks.json',
      'groupScopes:',
      '  support-l2: ["detokenize:plain:email"]',
      'groupBudgets:',
      '  support-l2: 2',
    ].join('\n'),
  );
  db = await createTestDatabase();
  const idp = await loadIdp(join(dir, 'idp.yaml'));
  v = await startVault(db, { idp, access: { ...DEFAULT_ACCESS, revealBudget: 5 } });
  prod = await startVault(db, { keys: v.keys, idp, production: true, access: { ...DEFAULT_ACCESS, revealBudget: 5 } } as Parameters<
    typeof startVault
  >[1]);
  emailTokens = (
    await post(
      v,
      '/v1/tokenize',
      { items: [1, 2, 3].map((i) => ({ type: 'email', value: `access${i}@example.com` })) },
      bearer(v.token('tokenize')),
    )
  )
    .json()
    .results.map((r: { token: string }) => r.token);
});
afterAll(async () => {
  await prod?.close();
  await v?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('JWT verification and IdP keys (findings 1 and 2)', () => {
  it('every token goes through @fastify/jwt: a vault namespace and an idp namespace', () => {
    expect(v.app.hasPlugin('@fastify/jwt')).toBe(true);
    const jwt = v.app.jwt as unknown as Record<string, { verify: unknown }>;
    expect([typeof jwt.vault?.verify, typeof jwt.idp?.verify]).toEqual(['function', 'function']);
  });

  it('an IdP configured by JWKS URL or by issuer URL loads (keys are fetched when first needed)', () => {
    writeFileSync(
      join(dir, 'idp-url.yaml'),
      [
        'issuers:',
        '  - issuer: "https://idp.example.test/"',
        `    audience: ${AUDIENCE}`,
        '    jwks: "https://idp.example.test/oauth2/v1/keys"',
        '  - issuer: "https://login.example.test/realms/staff"',
        `    audience: ${AUDIENCE}`,
      ].join('\n'),
    );
    expect(loadIdp(join(dir, 'idp-url.yaml')).map((i) => i.config.issuer)).toEqual([
      'https://idp.example.test/',
      'https://login.example.test/realms/staff',
    ]);
  });
});

describe('vault tokens (finding 3)', () => {
  it('production refuses development tokens, with or without the kind claim', async () => {
    for (const claims of [{ kind: 'dev' as const }, {}]) {
      const t = prod.services.jwt.sign({ sub: 'dev', scope: 'tokenize', ns: ['*'], ...claims }, 600);
      const res = await post(prod, '/v1/tokenize', { items: [{ type: 'text', value: 'x' }] }, bearer(t));
      expect(res.statusCode, res.body).toBe(401);
      expect(await lastAuthReason(prod)).toBe('dev_token_in_production');
    }
  });

  it('a client token living longer than the configured TTL is refused', async () => {
    const client = await cliClient(v, 'long-lived', ['tokenize']);
    const ok = prod.services.jwt.sign({ sub: client.id, scope: 'tokenize', ns: ['*'], kind: 'client' }, DEFAULT_ACCESS.tokenTtlSeconds);
    expect((await post(prod, '/v1/tokenize', { items: [{ type: 'text', value: 'ttl' }] }, bearer(ok))).statusCode).toBe(200);
    const long = prod.services.jwt.sign({ sub: client.id, scope: 'tokenize', ns: ['*'], kind: 'client' }, 30 * 86_400);
    const res = await post(prod, '/v1/tokenize', { items: [{ type: 'text', value: 'ttl' }] }, bearer(long));
    expect(res.statusCode, res.body).toBe(401);
    expect(await lastAuthReason(prod)).toBe('lifetime_exceeds_ttl');
  });

  it('a client token whose sub is not an active client is refused (no forged idp: actor)', async () => {
    const forged = prod.services.jwt.sign({ sub: 'idp:alice', scope: 'detokenize:plain:*', ns: ['*'], kind: 'client' }, 600);
    const res = await post(prod, '/v1/detokenize', { tokens: emailTokens, purpose: 'FORGED' }, bearer(forged));
    expect(res.statusCode, res.body).toBe(401);
    expect(await lastAuthReason(prod)).toBe('unknown_client');
    // A development token cannot pose as a staff member either (outside production).
    const dev = v.services.jwt.sign({ sub: 'idp:alice', scope: 'detokenize:plain:*', ns: ['*'], kind: 'dev' }, 600);
    expect((await post(v, '/v1/detokenize', { tokens: emailTokens, purpose: 'FORGED' }, bearer(dev))).statusCode).toBe(401);
    expect(await lastAuthReason(v)).toBe('invalid_claim');
  });

  it('the reveal budget comes from the client row, never from a budget claim', async () => {
    const client = await cliClient(v, 'budget-from-row', ['detokenize:plain:*'], 2);
    const t = prod.services.jwt.sign(
      { sub: client.id, scope: 'detokenize:plain:*', ns: ['*'], kind: 'client', budget: 1_000_000_000 } as never,
      600,
    );
    const res = await post(prod, '/v1/detokenize', { tokens: emailTokens, purpose: 'BUDGET-CLAIM' }, bearer(t));
    expect(res.statusCode, res.body).toBe(429);
    expect(res.json().error.code).toBe('REVEAL_BUDGET_EXCEEDED');
  });
});

describe('granting over HTTP (finding 4)', () => {
  const narrowAdmin = () => bearer(v.token('admin', ['default'], 'narrow-admin'));

  it('an admin grants only what the allowlist holds, within its own namespaces; every refusal is audited', async () => {
    const attempts: [Record<string, unknown>, string][] = [
      [{ scopes: ['detokenize:plain:*'] }, 'scope detokenize:plain:* may not be granted over HTTP'],
      [{ scopes: ['admin'] }, 'scope admin may not be granted over HTTP'],
      [{ scopes: ['erase'] }, 'scope erase may not be granted over HTTP'],
      [{ scopes: ['tokenize'], namespaces: ['*'] }, "namespace * is not among the granting principal's namespaces"],
      [{ scopes: ['tokenize'], revealBudget: 1_000_000 }, 'revealBudget above 5 may not be granted over HTTP'],
    ];
    for (const [i, [extra, message]] of attempts.entries()) {
      const res = await post(v, '/v1/clients', { name: `wide-${i}`, namespaces: ['default'], ...extra }, narrowAdmin());
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toEqual({ code: 'GRANT_NOT_ALLOWED', message: `${message}; use the tokenvault CLI` });
    }
    const denied = await rows<{ outcome: string; details: { scopes: string[] } }>(
      v.handle.db,
      sql`select outcome, details from audit_events where action = 'client.create' and actor = 'narrow-admin' order by id`,
    );
    expect(denied.map((d) => [d.outcome, d.details.scopes])).toEqual(attempts.map(([e]) => ['denied', e.scopes]));
    expect((await v.services.clients.list()).map((c) => c.name)).not.toContain('wide-0');

    const ok = await post(v, '/v1/clients', { name: 'narrow-ok', scopes: ['tokenize'], namespaces: ['default'] }, narrowAdmin());
    expect(ok.statusCode, ok.body).toBe(201);
    const [row] = await rows<{ outcome: string; details: Record<string, unknown> }>(
      v.handle.db,
      sql`select outcome, details from audit_events where action = 'client.create' order by id desc limit 1`,
    );
    expect(row).toEqual({
      outcome: 'success',
      details: { clientId: ok.json().client.id, name: 'narrow-ok', scopes: ['tokenize'], namespaces: ['default'], revealBudget: null },
    });
  });

  it('the policy file widens the allowlist', async () => {
    const wide = await startVault(db, {
      keys: v.keys,
      policy: { grants: { scopes: ['tokenize', 'detokenize:masked:email'], maxRevealBudget: 50 } },
    });
    try {
      const res = await post(
        wide,
        '/v1/clients',
        { name: 'masked-reader', scopes: ['detokenize:masked:email'], namespaces: ['default'], revealBudget: 50 },
        narrowAdmin(),
      );
      expect(res.statusCode, res.body).toBe(201);
      const plain = await post(
        wide,
        '/v1/clients',
        { name: 'plain-reader', scopes: ['detokenize:plain:email'], namespaces: ['default'] },
        narrowAdmin(),
      );
      expect(plain.statusCode, plain.body).toBe(403);
    } finally {
      await wide.close();
    }
  });
});

describe('separation of duties (finding 5)', () => {
  it('a client may not hold tokenize and a detokenize scope (CLI and HTTP)', async () => {
    await expect(cliClient(v, 'oracle', ['tokenize', 'detokenize:masked:*'])).rejects.toMatchObject({
      statusCode: 400,
      code: 'SEPARATION_OF_DUTIES',
    });
    const wide = await startVault(db, { keys: v.keys, policy: { grants: { scopes: ['tokenize', 'detokenize:masked:*'] } } });
    try {
      const res = await post(
        wide,
        '/v1/clients',
        { name: 'oracle-http', scopes: ['tokenize', 'detokenize:masked:*'], namespaces: ['default'] },
        bearer(v.token('admin')),
      );
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('SEPARATION_OF_DUTIES');
    } finally {
      await wide.close();
    }
  });

  it('is enforced at verification: a vault token carrying both is refused in production', async () => {
    const client = await cliClient(v, 'sod-verify', ['tokenize']);
    const t = prod.services.jwt.sign({ sub: client.id, scope: 'tokenize detokenize:masked:*', ns: ['*'], kind: 'client' }, 600);
    expect((await post(prod, '/v1/tokenize', { items: [{ type: 'date', value: '1984-01-01' }] }, bearer(t))).statusCode).toBe(401);
    expect(await lastAuthReason(prod)).toBe('separation_of_duties');
  });

  it('is enforced at the IdP mapping: a staff token mapping to both is refused', async () => {
    const t = await staffToken({ scope: 'tokenize detokenize:masked:*' });
    const res = await post(
      v,
      '/v1/tokenize',
      {
        items: Array.from({ length: 366 }, (_, d) => ({
          type: 'date',
          value: new Date(Date.UTC(1984, 0, 1 + d)).toISOString().slice(0, 10),
        })),
      },
      bearer(t),
    );
    expect(res.statusCode, res.body).toBe(401);
    expect(await lastAuthReason(v)).toBe('separation_of_duties');
  });

  it('an IdP configuration mapping a group to both fails at load', async () => {
    writeFileSync(
      join(dir, 'idp-sod.yaml'),
      [
        `issuer: "${ISSUER}"`,
        `audience: ${AUDIENCE}`,
        'jwks: ./jwks.json',
        'groupScopes:',
        '  ingest: ["tokenize", "detokenize:plain:ssn"]',
      ].join('\n'),
    );
    await expect(Promise.resolve().then(() => loadIdp(join(dir, 'idp-sod.yaml')))).rejects.toThrow(
      /groupScopes.ingest: tokenize together with detokenize/,
    );
  });

  it('dev-token warns when it mints tokenize with a detokenize scope', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tv-devtoken-'));
    const warn = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const out: string[] = [];
      expect(await runCli(['dev-token', '--scope', 'tokenize detokenize:plain:*'], { TOKENVAULT_DATA_DIR: data }, (s) => out.push(s))).toBe(
        0,
      );
      expect(out[0]).toMatch(/^ey/);
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/separation of duties/);
    } finally {
      warn.mockRestore();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('counts created and existing values per principal for alerting on guessing', async () => {
    const t = bearer(v.token('tokenize', ['*'], 'guesser'));
    await post(v, '/v1/tokenize', { items: [{ type: 'ssn', value: '123-45-6789' }] }, t);
    await post(
      v,
      '/v1/tokenize',
      {
        items: [
          { type: 'ssn', value: '123-45-6789' },
          { type: 'ssn', value: '123-45-6780' },
        ],
      },
      t,
    );
    const metrics = (await v.app.inject('/metrics')).body;
    expect(metrics).toContain('tokenvault_principal_values_total{principal="guesser",action="created"} 2');
    expect(metrics).toContain('tokenvault_principal_values_total{principal="guesser",action="existing"} 1');
  });
});

describe('IdP claims and the shared audit commit (finding 8)', () => {
  it('a sub with NUL or a lone surrogate is 401, and the good requests batched with it succeed', async () => {
    for (const sub of ['bad\u0000sub', 'bad\ud800sub']) {
      // One staff member per good request: each stays within its own budget.
      const good = await Promise.all(Array.from({ length: 30 }, (_, i) => staffToken({}, `agent-${sub.length}-${i}`)));
      const bad = await staffToken({}, sub);
      const all = await Promise.all(
        [good[0]!, bad, ...good.slice(1)].map((t) =>
          post(v, '/v1/detokenize', { tokens: [emailTokens[0]], purpose: 'NUL-SUB' }, bearer(t)),
        ),
      );
      expect(all.map((r) => r.statusCode)).toEqual([200, 401, ...Array.from({ length: 29 }, () => 200)]);
    }
    const [row] = await rows<{ details: { reason: string } }>(
      v.handle.db,
      sql`select details from audit_events where action = 'auth' and details->>'reason' = 'invalid_claim' limit 1`,
    );
    expect(row).toBeDefined();
  });

  it('an event the database refuses fails only its own commit', async () => {
    const ok = (i: number) => v.services.vault.audit([{ actor: `ok-${i}`, action: 'test', outcome: 'success' }]);
    const results = await Promise.allSettled([
      ok(0),
      v.services.vault.audit([{ actor: 'nul\u0000actor', action: 'test', outcome: 'success' }]),
      ...Array.from({ length: 10 }, (_, i) => ok(i + 1)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', ...Array.from({ length: 10 }, () => 'fulfilled')]);
  });
});

describe('reveal budgets (finding 9)', () => {
  it('a staff token without groups gets the IdP default (the smallest group budget), not the vault default', async () => {
    const res = await post(
      v,
      '/v1/detokenize',
      { tokens: emailTokens, purpose: 'NO-GROUPS' },
      bearer(await staffToken({ scope: 'detokenize:plain:email' }, 'agent-no-groups')),
    );
    expect(res.statusCode, res.body).toBe(429);
  });

  it('the window slides: a budget spent just before a boundary is still spent just after it', async () => {
    const windowMs = 3_600_000;
    const boundary = Math.ceil(Date.now() / windowMs) * windowMs + 10 * windowMs;
    let t = boundary - 1000;
    const budget = createRevealBudget({
      defaultBudget: 4,
      windowSeconds: 3600,
      counters: createRevealCountersRepository({ db: v.handle.db }),
      now: () => t,
    });
    const p: Principal = { id: `slide-${Math.random()}`, kind: 'client', scopes: new Set(), namespaces: ['*'] };
    const consume = (n: number) => v.handle.db.transaction((tx) => budget.consume(tx, p, n));
    expect(await consume(4)).toEqual({ ok: true });
    t = boundary + 1000;
    const refused = await consume(1);
    expect(refused.ok).toBe(false);
    t = boundary - 1000 + windowMs - 60_000;
    expect((await consume(1)).ok).toBe(false);
    t = boundary - 1000 + windowMs + 60_000;
    expect(await consume(4)).toEqual({ ok: true });
  });

  it.runIf(usingPostgres)('a client-row budget holds across two instances on one database', async () => {
    const client = await cliClient(v, 'two-instances', ['detokenize:plain:*'], 3);
    const a = await startVault(db, { keys: v.keys, production: true } as Parameters<typeof startVault>[1]);
    const b = await startVault(db, { keys: v.keys, production: true } as Parameters<typeof startVault>[1]);
    try {
      const t = a.services.jwt.sign({ sub: client.id, scope: 'detokenize:plain:*', ns: ['*'], kind: 'client' }, 600);
      const statuses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          post(i % 2 ? a : b, '/v1/detokenize', { tokens: [emailTokens[0]], purpose: 'TWO-INSTANCES' }, bearer(t)).then(
            (r) => r.statusCode,
          ),
        ),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('OpenAPI', () => {
  it('declares the oauth2 client credentials scheme and the token endpoint with form, JSON, Basic and RFC 6749 errors', async () => {
    const doc = (await v.app.inject('/openapi.json')).json();
    expect(doc.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl).toBe('/v1/auth/token');
    const token = doc.paths['/v1/auth/token'].post;
    expect(Object.keys(token.requestBody.content)).toEqual(['application/x-www-form-urlencoded', 'application/json']);
    expect(token.security).toEqual([{ clientBasic: [] }, {}]);
    for (const status of ['400', '401', '413', '429']) {
      expect(Object.keys(token.responses[status].content['application/json'].schema.properties)).toEqual([
        'error',
        'error_description',
        'requestId',
      ]);
    }
    expect(doc.paths['/v1/tokenize'].post.security).toEqual([{ bearerAuth: [] }, { oauth2: [] }]);
  });
});
