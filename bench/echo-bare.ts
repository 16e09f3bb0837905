/**
 * The HTTP ceilings: the project's `fastify` with no plugins and logging off.
 * - POST /echo: one value per request, echoed as a one-result answer (no schema);
 * - POST /echo/batch: the body validated against the tokenize operation's request schema and the
 *   answer serialized with its 200 schema, both read from openapi/openapi.json (the schemas the
 *   routes declare), one result per item.
 * BENCH_ECHO_WITH (comma-separated: log, rate-limit, metrics) adds the vault's per-request pieces
 * one at a time, to measure what each costs (`npm run bench -- --levers`).
 */
import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { createLogger } from '../src/logger.js';
import { metricsPlugin } from '../src/plugins/metrics.js';

type Json = Record<string, unknown>;
const spec = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as Json;
const components = ((spec.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
/** Inlines `#/components/schemas/…` references: the echo compiles the schemas on their own. */
const inline = (s: unknown): unknown => {
  if (Array.isArray(s)) return s.map(inline);
  if (!s || typeof s !== 'object') return s;
  const ref = (s as Json).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/'))
    return inline(components[ref.slice('#/components/schemas/'.length)]);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inline(v)]));
};
const op = ((spec.paths as Json)['/v1/tokenize'] as Json).post as Json;
const jsonSchema = (x: unknown) => inline(((x as Json).content as Json)['application/json'] as Json) as Json;
const bodySchema = jsonSchema(op.requestBody).schema;
const okSchema = jsonSchema((op.responses as Json)['200']).schema;

const withs = new Set((process.env.BENCH_ECHO_WITH ?? '').split(',').filter(Boolean));
const app = Fastify({
  bodyLimit: 16 * 1024 * 1024,
  ...(withs.has('log') ? { loggerInstance: createLogger(process.env.LOG_LEVEL ?? 'info') } : { logger: false }),
});
if (withs.has('rate-limit')) {
  // As the vault registers it (one principal: the bench), limit lifted so nothing is refused.
  await app.register(rateLimit, { global: true, hook: 'preHandler', max: 999_999_999, timeWindow: 60_000, keyGenerator: () => 'p:bench' });
}
if (withs.has('metrics')) await app.register(metricsPlugin);

interface Items {
  items?: { type: string; value: string }[];
  tokens?: string[];
}
const answer = (b: Items) => ({
  results: b.tokens
    ? b.tokens.map((token) => ({ token, status: 'ok', type: 'text', value: token }))
    : (b.items ?? []).map((i) => ({ token: i.value, type: i.type, created: false })),
});
app.get('/readyz', { config: { rateLimit: false } }, async () => ({ status: 'ready' }));
app.post('/echo', async (request) => answer(request.body as Items));
app.post('/echo/batch', { schema: { body: bodySchema, response: { 200: okSchema } } }, async (request) => answer(request.body as Items));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
