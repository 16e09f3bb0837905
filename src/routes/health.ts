import '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DbHandle } from '../db/client.js';
import { migrationsCurrent } from '../db/migrate.js';
import type { Vault } from '../vault/vault.js';

const Status = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.String())) });

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: DbHandle; vault: Vault }> = async (app, opts) => {
  const noLimit = { rateLimit: false };
  app.get('/healthz', {
    config: noLimit,
    schema: { operationId: 'healthz', tags: ['operations'], description: 'Liveness: the process answers.', response: { 200: Status } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config: noLimit,
    schema: { operationId: 'readyz', tags: ['operations'], description: 'Readiness: the database answers and every migration is applied.', response: { 200: Status, 503: Status } },
  }, async (_req, reply) => {
    let database = 'ok';
    let migrations = 'unknown';
    try {
      await opts.vault.ping();
      migrations = (await migrationsCurrent(opts.db)) ? 'ok' : 'pending';
    } catch {
      database = 'unreachable';
    }
    const ok = database === 'ok' && migrations === 'ok';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { database, migrations } });
  });
};
