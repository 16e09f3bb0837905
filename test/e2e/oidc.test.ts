import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FETCHES_PER_COOLDOWN } from '../../src/auth/idp-keys.js';
import { loadIdp } from '../../src/auth/idp.js';
import { rows } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/process.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

/**
 * A real OpenID Connect provider (panva's oidc-provider) issuing JWT access tokens through the
 * client credentials grant, RS256 for one client and ES256 for the other. The vault knows only
 * its issuer URL and finds the keys through discovery.
 */
const AUDIENCE = 'tokenvault-staff';
const COOLDOWN_S = 10;
let port: number;
let issuer: string;
let server: Server | undefined;
let jwksFetches = 0;
let clock = Date.now();
let db: TestDatabase;
let v: TestVault;
let dir: string;
let emailToken: string;

async function privateJwks(generation: number) {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  return [
    { ...(await exportJWK(rsa.privateKey)), kid: `rsa-${generation}`, alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.privateKey)), kid: `ec-${generation}`, alg: 'ES256', use: 'sig' },
  ];
}

async function startIdp(generation: number): Promise<void> {
  const provider = new Provider(issuer, {
    clients: ['staff-rs', 'staff-es'].map((id) => ({
      client_id: id,
      client_secret: `${id}-secret`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'detokenize:masked:*',
    })),
    jwks: { keys: await privateJwks(generation) },
    scopes: ['detokenize:masked:*'],
    features: {
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:tokenvault',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, _resource: string, client: { clientId: string }) => ({
          scope: 'detokenize:masked:*',
          audience: AUDIENCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client.clientId === 'staff-es' ? 'ES256' : 'RS256' } },
        }),
      },
    },
  } as never);
  provider.use(async (ctx: { path: string }, next: () => Promise<void>) => {
    if (ctx.path === '/jwks') jwksFetches++;
    await next();
  });
  server = provider.listen(port, '127.0.0.1');
  await new Promise((r) => server!.once('listening', r));
}

async function stopIdp(): Promise<void> {
  await new Promise((r) => server!.close(r));
  server!.closeAllConnections();
  server = undefined;
}

async function staffToken(client: 'staff-rs' | 'staff-es'): Promise<string> {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'detokenize:masked:*', resource: 'urn:tokenvault' }),
  });
  const body = (await res.json()) as { access_token: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.access_token;
}

const reveal = (token: string) =>
  v.app.inject({ method: 'POST', url: '/v1/detokenize', headers: bearer(token), payload: { tokens: [emailToken], purpose: 'OIDC-E2E' } });
const header = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };

beforeAll(async () => {
  port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  await startIdp(1);
  dir = mkdtempSync(join(tmpdir(), 'tv-oidc-'));
  writeFileSync(
    join(dir, 'idp.yaml'),
    [`issuer: "${issuer}"`, `audience: ${AUDIENCE}`, `unknownKidCooldownSeconds: ${COOLDOWN_S}`].join('\n'),
  );
  db = await createTestDatabase();
  v = await startVault(db, { idp: loadIdp(join(dir, 'idp.yaml'), { now: () => clock }) });
  emailToken = (
    await v.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(v.token('tokenize')),
      payload: { items: [{ type: 'email', value: 'oidc-staff@example.com' }] },
    })
  ).json().results[0].token;
});
afterAll(async () => {
  if (server) await stopIdp();
  await v?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('staff tokens from a real OpenID Connect provider, keys by discovery', () => {
  it('accepts its RS256 and ES256 JWT access tokens', async () => {
    for (const [client, alg] of [
      ['staff-rs', 'RS256'],
      ['staff-es', 'ES256'],
    ] as const) {
      const token = await staffToken(client);
      expect(header(token).alg).toBe(alg);
      const res = await reveal(token);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results[0]).toMatchObject({ status: 'ok', reveal: 'masked' });
    }
    const [row] = await rows<{ actor: string }>(
      v.handle.db,
      sql`select actor from audit_events where purpose = 'OIDC-E2E' order by id desc limit 1`,
    );
    expect(row!.actor).toBe('idp:staff-es');
  });

  it('a made-up kid in every request makes no more than a few key fetches per cool-down', async () => {
    clock += COOLDOWN_S * 1000;
    const before = jwksFetches;
    const forger = await generateKeyPair('RS256');
    for (let i = 0; i < 20; i++) {
      const forged = await new SignJWT({ scope: 'detokenize:masked:*' })
        .setProtectedHeader({ alg: 'RS256', kid: `made-up-${i}` })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setSubject('mallory')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(forger.privateKey);
      expect((await reveal(forged)).statusCode).toBe(401);
    }
    expect(jwksFetches - before).toBe(FETCHES_PER_COOLDOWN);
    const [r] = await rows<{ n: number }>(
      v.handle.db,
      sql`select count(*)::int as n from audit_events where action = 'auth' and details->>'reason' = 'unknown_key'`,
    );
    expect(r!.n).toBe(20);
  });

  it('follows a key rotation without a restart of the vault, and keeps working when the IdP is down', async () => {
    await stopIdp();
    await startIdp(2);
    clock += COOLDOWN_S * 1000;
    const rotated = { rs: await staffToken('staff-rs'), es: await staffToken('staff-es') };
    expect(header(rotated.rs).kid).toBe('rsa-2');
    for (const t of [rotated.rs, rotated.es]) {
      const res = await reveal(t);
      expect(res.statusCode, res.body).toBe(200);
    }
    await stopIdp();
    clock += COOLDOWN_S * 1000;
    for (const t of [rotated.rs, rotated.es]) {
      const res = await reveal(t);
      expect(res.statusCode, res.body).toBe(200);
    }
    // A key the vault never saw cannot be fetched while the IdP is down: refused, not hung.
    const unknown = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-3' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject('x')
      .setExpirationTime('5m')
      .sign((await generateKeyPair('ES256')).privateKey);
    expect((await reveal(unknown)).statusCode).toBe(401);
  });
});
