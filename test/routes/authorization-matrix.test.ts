import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

/** Every route × every scope: allowed → not 401/403, otherwise exactly 403. */
const SCOPES = [
  'tokenize',
  'detokenize:plain:*',
  'detokenize:masked:email',
  'erase',
  'erasures:read',
  'subjects:export',
  'audit:read',
  'admin',
];

let db: TestDatabase;
let v: TestVault;
let token: string;
let erasureId: string;
let clientId: string;

type Route = { name: string; allowed: string[]; request: () => { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object } };
const ROUTES: Route[] = [
  {
    name: 'POST /v1/tokenize',
    allowed: ['tokenize'],
    request: () => ({ method: 'POST', url: '/v1/tokenize', payload: { items: [{ type: 'text', value: 'matrix' }] } }),
  },
  {
    name: 'POST /v1/detokenize',
    allowed: ['detokenize:plain:*', 'detokenize:masked:email'],
    request: () => ({ method: 'POST', url: '/v1/detokenize', payload: { tokens: [token], purpose: 'MATRIX' } }),
  },
  {
    name: 'POST /v1/erasures',
    allowed: ['erase'],
    request: () => ({ method: 'POST', url: '/v1/erasures', payload: { tokens: ['tok_none'] } }),
  },
  { name: 'GET /v1/erasures/{id}', allowed: ['erase', 'audit:read'], request: () => ({ method: 'GET', url: `/v1/erasures/${erasureId}` }) },
  { name: 'GET /v1/erasures', allowed: ['erasures:read'], request: () => ({ method: 'GET', url: '/v1/erasures' }) },
  {
    name: 'POST /v1/subjects/export',
    allowed: ['subjects:export'],
    request: () => ({ method: 'POST', url: '/v1/subjects/export', payload: { subject: 'nobody', purpose: 'MATRIX' } }),
  },
  { name: 'GET /v1/audit', allowed: ['audit:read'], request: () => ({ method: 'GET', url: '/v1/audit?limit=1' }) },
  { name: 'GET /v1/audit/verify', allowed: ['audit:read'], request: () => ({ method: 'GET', url: '/v1/audit/verify' }) },
  { name: 'GET /v1/audit/head', allowed: ['audit:read'], request: () => ({ method: 'GET', url: '/v1/audit/head' }) },
  { name: 'GET /v1/audit/{id}/proof', allowed: ['audit:read'], request: () => ({ method: 'GET', url: '/v1/audit/1/proof' }) },
  { name: 'GET /v1/clients', allowed: ['admin'], request: () => ({ method: 'GET', url: '/v1/clients' }) },
  {
    name: 'POST /v1/clients',
    allowed: ['admin'],
    request: () => ({
      method: 'POST',
      url: '/v1/clients',
      payload: { name: `m-${Math.random().toString(36).slice(2, 10)}`, scopes: ['tokenize'], namespaces: ['default'] },
    }),
  },
  { name: 'POST /v1/clients/{id}/secret', allowed: ['admin'], request: () => ({ method: 'POST', url: `/v1/clients/${clientId}/secret` }) },
  { name: 'DELETE /v1/clients/{id}', allowed: ['admin'], request: () => ({ method: 'DELETE', url: `/v1/clients/${clientId}` }) },
];

beforeAll(async () => {
  db = await createTestDatabase();
  v = await startVault(db);
  const t = await v.app.inject({
    method: 'POST',
    url: '/v1/tokenize',
    headers: bearer(v.token('tokenize')),
    payload: { items: [{ type: 'email', value: 'matrix@example.com' }] },
  });
  token = t.json().results[0].token;
  erasureId = (
    await v.app.inject({ method: 'POST', url: '/v1/erasures', headers: bearer(v.token('erase')), payload: { tokens: ['tok_x'] } })
  ).json().erasureId;
  clientId = (
    await v.app.inject({
      method: 'POST',
      url: '/v1/clients',
      headers: bearer(v.token('admin')),
      payload: { name: 'matrix-client', scopes: ['tokenize'], namespaces: ['default'] },
    })
  ).json().client.id;
});
afterAll(async () => {
  await v.close();
  await db.drop();
});

describe('authorization matrix', () => {
  for (const route of ROUTES) {
    it(`${route.name}: no token → 401; allowed only for ${route.allowed.join(', ')}`, async () => {
      const anonymous = await v.app.inject(route.request());
      expect(anonymous.statusCode, anonymous.body).toBe(401);
      const outcome: Record<string, number> = {};
      for (const scope of SCOPES) outcome[scope] = (await v.app.inject({ ...route.request(), headers: bearer(v.token(scope)) })).statusCode;
      for (const scope of SCOPES) {
        if (route.allowed.includes(scope)) expect([200, 201], `${scope} → ${outcome[scope]}`).toContain(outcome[scope]);
        else expect(outcome[scope], scope).toBe(403);
      }
    });
  }

  it('every route of the OpenAPI document that needs a token is in the matrix', async () => {
    const doc = (await v.app.inject('/openapi.json')).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security?.some((s) => 'bearerAuth' in (s as object)))
        .map(([m]) => `${m.toUpperCase()} ${path}`),
    );
    expect(secured.sort()).toEqual(ROUTES.map((r) => r.name).sort());
  });
});
