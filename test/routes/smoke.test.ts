import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { generateOpenApi, serializeOpenApi } from '../../src/openapi.js';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();

describe('health, docs and metrics', () => {
  it('healthz and readyz answer 200 on a migrated database', async () => {
    expect((await ctx.v.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await ctx.v.app.inject('/readyz');
    expect(ready.statusCode, ready.body).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok', audit: 'ok' } });
  });

  it('serves the Swagger UI and an OpenAPI 3.1 document that a validator accepts', async () => {
    const ui = await ctx.v.app.inject('/docs/');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const doc = (await ctx.v.app.inject('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/tokenize', '/v1/detokenize', '/healthz', '/readyz']));
  });

  it('the committed openapi/openapi.json is current (run `npm run openapi` when this fails)', async () => {
    const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(serializeOpenApi(await generateOpenApi()));
  });

  it('metrics count requests by route template and status', async () => {
    await ctx.v.app.inject('/healthz');
    const m = await ctx.v.app.inject('/metrics');
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/tokenvault_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} [1-9]/);
    expect(m.body).toContain('process_resident_memory_bytes');
  });
});

describe('the one error shape', () => {
  const token = () => ctx.v.token('tokenize');
  const post = (payload: string, headers: Record<string, string> = {}) =>
    ctx.v.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: { ...bearer(token()), 'content-type': 'application/json', ...headers },
      payload,
    });

  it('unknown route → 404 JSON with a request id that matches the header', async () => {
    const res = await ctx.v.app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' }, requestId: res.headers['x-request-id'] });
  });

  it('malformed JSON → 400 MALFORMED_JSON; __proto__ keys are refused', async () => {
    for (const body of ['{"items": [', '{"__proto__": {"x": 1}, "items": []}', '{"constructor": {"prototype": {"x": 1}}}']) {
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('MALFORMED_JSON');
    }
  });

  it('oversized body → 413, wrong content type → 415', async () => {
    const big = await post(JSON.stringify({ items: [{ type: 'text', value: 'x'.repeat(17 * 1024 * 1024) }] }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const xml = await post('<items/>', { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a validation error names the field', async () => {
    const res = await post(JSON.stringify({ items: [{ type: 'email' }] }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'VALIDATION_FAILED', message: "body/items/0 must have required property 'value'" });
  });

  it('keeps a plain caller request id and replaces one that is not plain', async () => {
    const ok = await ctx.v.app.inject({ url: '/healthz', headers: { 'x-request-id': 'req-123' } });
    expect(ok.headers['x-request-id']).toBe('req-123');
    const bad = await ctx.v.app.inject({ url: '/healthz', headers: { 'x-request-id': 'alice@example.com <script>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
