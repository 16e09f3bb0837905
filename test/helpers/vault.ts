import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { KeyMaterial } from '../../src/config.js';
import type { DbHandle } from '../../src/db/client.js';
import { createServices, type ServiceOptions, type Services } from '../../src/services.js';
import { buildGrants, buildPolicy } from '../../src/vault/policy.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';

export function testKeys(): KeyMaterial {
  return {
    masterKeys: new Map([[1, randomBytes(32)]]),
    fingerprintKey: randomBytes(32),
    jwtSecret: randomBytes(32),
    signingKey: randomBytes(32),
    auditSigningKey: randomBytes(32),
  };
}

export interface TestVault {
  app: FastifyInstance;
  services: Services;
  handle: DbHandle;
  keys: KeyMaterial;
  /** A vault-signed bearer token with these scopes. */
  token(scope: string, ns?: string[], sub?: string): string;
  close(): Promise<void>;
}

/** Builds the same app the server runs, on a test database. */
export async function startVault(
  db: TestDatabase,
  opts: { keys?: KeyMaterial; policy?: unknown } & Partial<
    Pick<ServiceOptions, 'access' | 'idp' | 'hasher' | 'production' | 'auditSealBoundMs'>
  > = {},
): Promise<TestVault> {
  const keys = opts.keys ?? testKeys();
  const handle = await db.open();
  const services = createServices({
    db: handle,
    keys,
    policy: buildPolicy(opts.policy),
    grants: buildGrants(opts.policy),
    access: opts.access,
    idp: opts.idp,
    hasher: opts.hasher,
    production: opts.production,
    auditSealBoundMs: opts.auditSealBoundMs,
  });
  const app = await buildApp(services);
  await app.ready();
  return {
    app,
    services,
    handle,
    keys,
    token: (scope, ns = ['*'], sub = 'test-user') => services.jwt.sign({ sub, scope, ns }),
    close: () => app.close(),
  };
}

/** Several instances on one database with the same keys, as a horizontally scaled deployment runs. */
export async function startInstances(db: TestDatabase, count: number, opts: Parameters<typeof startVault>[1] = {}): Promise<TestVault[]> {
  const keys = opts.keys ?? testKeys();
  const out: TestVault[] = [];
  for (let i = 0; i < count; i++) out.push(await startVault(db, { ...opts, keys }));
  return out;
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** A database and a vault for one test file, opened before its tests and closed after them. */
export function useTestVault(opts: Parameters<typeof startVault>[1] = {}): { db: TestDatabase; v: TestVault } {
  const ctx = {} as { db: TestDatabase; v: TestVault };
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.v = await startVault(ctx.db, opts);
  });
  afterAll(async () => {
    await ctx.v?.close();
    await ctx.db?.drop();
  });
  return ctx;
}
