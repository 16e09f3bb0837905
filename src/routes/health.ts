import '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DbHandle } from '../db/client.js';
import { unavailableReason } from '../db/availability.js';
import { migrationsCurrent } from '../db/migrate.js';
import type { Vault } from '../vault/vault.js';
import { AUDIT_READY_FACTOR, type AuditBacklog } from '../audit/audit-metrics.js';

const Status = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** Why not ready, in fixed words (never the driver's message). */
  reason: Type.Optional(Type.String()),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{
  db: DbHandle;
  vault: Vault;
  auditBacklog: () => Promise<AuditBacklog>;
  sealBoundMs: number;
}> = async (app, opts) => {
  const noLimit = { rateLimit: false };
  app.get(
    '/healthz',
    {
      config: noLimit,
      schema: {
        operationId: 'healthz',
        summary: 'Liveness',
        security: [],
        tags: ['operations'],
        description: 'Liveness: the process answers.',
        response: { 200: Status },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: noLimit,
      schema: {
        operationId: 'readyz',
        summary: 'Readiness',
        security: [],
        tags: ['operations'],
        description:
          'Readiness: the database answers, every migration is applied, and the audit sealer keeps up (no committed row unsealed for 10 times the sealing bound).',
        response: { 200: Status, 503: Status },
      },
    },
    async (_req, reply) => {
      let database = 'ok';
      let migrations = 'unknown';
      let audit = 'unknown';
      let reason: string | undefined;
      try {
        await opts.vault.ping();
        migrations = (await migrationsCurrent(opts.db)) ? 'ok' : 'pending';
        if (migrations === 'pending') reason = 'database migrations are not applied: run `tokenvault migrate`';
        if (migrations === 'ok') {
          const b = await opts.auditBacklog();
          audit =
            b.oldestSeconds * 1000 > AUDIT_READY_FACTOR * opts.sealBoundMs
              ? `behind: ${b.rows} rows unsealed, the oldest for ${Math.round(b.oldestSeconds)} s`
              : 'ok';
        }
      } catch (err) {
        database = 'unreachable';
        reason = `database unavailable: ${unavailableReason(err) ?? 'the query failed'}`;
      }
      const ok = database === 'ok' && migrations === 'ok' && audit === 'ok';
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'unavailable', checks: { database, migrations, audit }, ...(reason ? { reason } : {}) });
    },
  );
};
