import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { createBacklogProbe, registerAuditMetrics } from './audit/audit-metrics.js';
import type { Sealer } from './audit/sealer.js';
import type { Clients } from './auth/clients.js';
import type { GrantPolicy } from './auth/grants.js';
import type { VaultJwt } from './auth/vault-jwt.js';
import type { AccessConfig } from './config.js';
import type { DbHandle } from './db/client.js';
import { AppError } from './errors.js';
import { registerErrorHandlers } from './http-errors.js';
import type { Authenticator } from './auth/authenticator.js';
import { authPlugin } from './plugins/bearer-auth.js';
import { limitsPlugin } from './plugins/limits.js';
import { metricsPlugin } from './plugins/metrics.js';
import type { Registry } from 'prom-client';
import { swaggerPlugin } from './plugins/swagger.js';
import { healthRoutes } from './routes/health.js';
import { auditRoutes } from './routes/v1/audit.js';
import { authRoutes } from './routes/v1/auth.js';
import { clientRoutes } from './routes/v1/clients.js';
import { detokenizeRoutes } from './routes/v1/detokenize.js';
import { erasureRoutes } from './routes/v1/erasures.js';
import { subjectRoutes } from './routes/v1/subjects.js';
import { tokenizeRoutes } from './routes/v1/tokenize.js';
import type { Vault } from './vault/vault.js';

export interface AppDeps {
  db: DbHandle;
  vault: Vault;
  authenticator: Authenticator;
  clients: Clients;
  jwt: VaultJwt;
  access: AccessConfig;
  grants: GrantPolicy;
  /** Serve /docs and /openapi.json (TOKENVAULT_DOCS); on unless turned off. */
  docs?: boolean;
  /** Where the vault's own metrics are registered; /metrics serves it (a fresh one when absent). */
  metricsRegistry?: Registry;
  sealer: Sealer;
}

/** Body limit: 10,000 items of typical PII fit with room; a larger body is a 413. */
export const BODY_LIMIT = 16 * 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function fastifyOptions(
  logger: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance'],
  access?: Pick<AccessConfig, 'trustProxy'>,
): FastifyServerOptions {
  return {
    // request.ip (rate limits, lockout) is the peer unless the proxy in front is trusted.
    trustProxy: (access?.trustProxy ?? false) as FastifyServerOptions['trustProxy'],
    ...(logger && typeof (logger as { child?: unknown }).child === 'function'
      ? { loggerInstance: logger as FastifyServerOptions['loggerInstance'] }
      : { logger: logger as FastifyServerOptions['logger'] }),
    bodyLimit: BODY_LIMIT,
    // A caller's request id is kept only when it is short and plain: it is logged and echoed.
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    // Refusals during shutdown use the vault's own error shape (onRequest hook above).
    return503OnClosing: false,
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    keepAliveTimeout: 72_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  };
}

/** The app as a plugin-assembled instance: no env, no listen, no exit. Tests build this same app. */
export async function buildApp(deps: AppDeps, logger: FastifyServerOptions['logger'] | FastifyServerOptions['loggerInstance'] = false) {
  const app = Fastify(fastifyOptions(logger, deps.access)).withTypeProvider<TypeBoxTypeProvider>();
  // Shutting down: answer what is in flight, refuse what comes after (503 SHUTTING_DOWN), and
  // close each connection after its response, so the server need not wait out keep-alive.
  let closing = false;
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (closing) throw new AppError(503, 'SHUTTING_DOWN', 'the vault is shutting down; retry on another instance');
  });
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  registerErrorHandlers(app);
  // JSON only (the token endpoint adds form bodies): anything else is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  // Per principal (after authentication), per instance. Health, metrics and docs are exempt.
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: deps.access.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => (request.principal ? `p:${request.principal.id}` : `ip:${request.ip}`),
  });
  await app.register(limitsPlugin, { ipRateLimitPerMinute: deps.access.ipRateLimitPerMinute });
  await app.register(swaggerPlugin, { ui: deps.docs !== false });
  await app.register(metricsPlugin, { registry: deps.metricsRegistry });
  const auditBacklog = createBacklogProbe(deps.db.db);
  registerAuditMetrics(app.metricsRegistry, { probe: auditBacklog, sealer: deps.sealer });
  await app.register(authPlugin, {
    authenticator: deps.authenticator,
    onFailure: async (request, reason) => {
      // Audited with the reason code only: never the token or the header.
      await deps.vault.audit([
        {
          requestId: request.id,
          actor: request.principal?.id ?? 'anonymous',
          action: 'auth',
          outcome: 'denied',
          details: { reason, route: request.routeOptions.url ?? null },
        },
      ]);
    },
  });
  await app.register(healthRoutes, { db: deps.db, vault: deps.vault, auditBacklog, sealBoundMs: deps.sealer.boundMs });
  await app.register(v1Routes, { prefix: '/v1', ...deps });
  app.addHook('onReady', async () => {
    await deps.vault.startWatching();
    deps.sealer.start(app.log);
  });
  app.addHook('onClose', async () => {
    deps.vault.stopWatching();
    await deps.sealer.stop();
  });
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

/** The versioned API: one plugin per resource, each typed by its TypeBox schemas. */
const v1Routes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  await app.register(tokenizeRoutes, { vault: deps.vault });
  await app.register(detokenizeRoutes, { vault: deps.vault });
  await app.register(authRoutes, { clients: deps.clients, vault: deps.vault, access: deps.access });
  await app.register(clientRoutes, { clients: deps.clients, grants: deps.grants, defaultBudget: deps.access.revealBudget });
  await app.register(auditRoutes, { db: deps.db.db, vault: deps.vault, sealBoundMs: deps.sealer.boundMs });
  await app.register(erasureRoutes, { vault: deps.vault });
  await app.register(subjectRoutes, { vault: deps.vault });
};
