import { buildApp } from './app.js';
import type { DbHandle, Db } from './db/client.js';
import { createServices } from './services.js';
import { buildPolicy } from './vault/policy.js';

/**
 * The OpenAPI document, generated from the route schemas. No database is opened: route
 * registration never touches it, so an unconnected handle is enough.
 */
export async function generateOpenApi(): Promise<unknown> {
  const db: DbHandle = { db: {} as Db, kind: 'pglite', close: async () => undefined };
  const zero = Buffer.alloc(32);
  const services = createServices({
    db,
    keys: { masterKeys: new Map([[1, zero]]), fingerprintKey: zero, jwtSecret: zero, signingKey: zero, auditSigningKey: zero },
    policy: buildPolicy(undefined),
  });
  const app = await buildApp(services);
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return doc;
}

export function serializeOpenApi(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
