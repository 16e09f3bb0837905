import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS, loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

let db: TestDatabase;
let v: TestVault;
let clientId: string;
let secret: string;

const tokenRequest = (vault: TestVault, payload: string | object, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  vault.app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    remoteAddress,
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });

beforeAll(async () => {
  db = await createTestDatabase();
  v = await startVault(db);
  ({
    client: { id: clientId },
    secret,
  } = await v.services.clients.create({ name: 'limits-client', scopes: ['tokenize'], namespaces: ['default'] }, 'cli'));
});
afterAll(async () => {
  await v?.close();
  await db?.drop();
});

describe('limits before work (finding 6)', () => {
  it('the token endpoint takes at most 8 KiB whatever the content type', async () => {
    const big = { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'x'.repeat(9000) };
    const json = await tokenRequest(v, big);
    expect(json.statusCode, json.body).toBe(413);
    const form = await tokenRequest(v, new URLSearchParams(big).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.statusCode, form.body).toBe(413);
  });

  it('JSON nested deeper than the cap is refused before it is built', async () => {
    const deep = `{"items":${'['.repeat(100)}${']'.repeat(100)}}`;
    const res = await v.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: { ...bearer(v.token('tokenize')), 'content-type': 'application/json' },
      payload: deep,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toEqual({ code: 'MALFORMED_JSON', message: 'request body is nested more than 16 levels deep' });
  });

  it('the per-IP limit runs before the body is parsed', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await tokenRequest(v, '{not json', {}, '198.51.100.7')).statusCode);
    expect(statuses.slice(0, 60), String(statuses)).toEqual(Array.from({ length: 60 }, () => 400));
    expect(statuses[60]).toBe(429);
  });
});

describe('lockout and bypass on the token endpoint (finding 7)', () => {
  const wrong = (id: string, ip: string) =>
    tokenRequest(v, { grant_type: 'client_credentials', client_id: id, client_secret: 'wrong' }, {}, ip);

  it('wrong secrets from elsewhere do not lock the real client out', async () => {
    for (let i = 0; i < 21; i++) await wrong(clientId, '203.0.113.66');
    expect((await wrong(clientId, '203.0.113.66')).statusCode).toBe(429);
    const real = await tokenRequest(v, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret }, {}, '192.0.2.10');
    expect(real.statusCode, real.body).toBe(200);
  });

  it('the same client id in upper case shares the bucket', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await wrong(clientId, '203.0.113.77')).statusCode);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const upper = await wrong(clientId.toUpperCase(), '203.0.113.77');
    expect(upper.statusCode, upper.body).toBe(429);
  });

  it('behind a trusted proxy each caller gets its own bucket', async () => {
    const proxied = await startVault(db, { keys: v.keys, access: { ...DEFAULT_ACCESS, trustProxy: ['127.0.0.1'] } } as Parameters<
      typeof startVault
    >[1]);
    try {
      const from = (ip: string) => tokenRequest(proxied, { grant_type: 'password' }, { 'x-forwarded-for': ip });
      for (let i = 0; i < 60; i++) expect((await from('203.0.113.1')).statusCode).toBe(400);
      expect((await from('203.0.113.1')).statusCode).toBe(429);
      expect((await from('203.0.113.2')).statusCode).toBe(400);
    } finally {
      await proxied.close();
    }
  });

  it('TOKENVAULT_TRUST_PROXY takes true, a hop count or addresses', () => {
    expect(loadConfig({}).access.trustProxy).toBe(false);
    expect(loadConfig({ TOKENVAULT_TRUST_PROXY: 'true' }).access.trustProxy).toBe(true);
    expect(loadConfig({ TOKENVAULT_TRUST_PROXY: '2' }).access.trustProxy).toBe(2);
    expect(loadConfig({ TOKENVAULT_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).access.trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(() => loadConfig({ TOKENVAULT_TRUST_PROXY: 'not an address' })).toThrow(/TOKENVAULT_TRUST_PROXY/);
  });
});
