/**
 * The HTTP ceiling: the vault's own app (security, rate limit, metrics, docs, JWT auth, error
 * handling, logging at the same level) plus one route that authenticates like /v1/tokenize and
 * echoes a tokenize-shaped answer without any vault logic, crypto or database write.
 */
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { resolveKeys } from '../src/dev-keys.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';
import { loadPolicy } from '../src/vault/policy.js';

const config = loadConfig(process.env);
const log = createLogger(config.logLevel);
const db = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: config.dbPoolSize });
const services = createServices({
  db,
  keys: resolveKeys(config, () => undefined),
  policy: loadPolicy(config.policyPath),
  access: config.access,
});
const app = await buildApp(services, log);
app.post('/bench/echo', { onRequest: app.authorize('tokenize') }, async (request) => {
  const body = request.body as { items?: { type: string; value: string }[]; tokens?: string[] };
  if (body.tokens) return { results: body.tokens.map((token) => ({ token, status: 'ok', type: 'text', value: token, reveal: 'plain' })) };
  return { results: (body.items ?? []).map((i) => ({ token: i.value, type: i.type, created: false })) };
});
await app.listen({ host: config.host, port: config.port });
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => db.close())
      .then(() => process.exit(0)),
);
