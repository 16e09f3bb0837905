import { afterAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { buildPolicy } from '../../src/vault/policy.js';
import { createTestDatabase } from '../helpers/db.js';
import { testKeys } from '../helpers/vault.js';

const db = await createTestDatabase();
afterAll(() => db.drop());

it('TOKENVAULT_DOCS=off: no Swagger UI and no OpenAPI document; the API and health still answer', async () => {
  const services = createServices({ db: await db.open(), keys: testKeys(), policy: buildPolicy(undefined) });
  const app = await buildApp({ ...services, docs: false });
  try {
    for (const url of ['/docs', '/docs/', '/openapi.json']) expect((await app.inject({ url })).statusCode, url).toBe(404);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/tokenize', payload: {} })).statusCode).toBe(401);
  } finally {
    await app.close();
  }
});
