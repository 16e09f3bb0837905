import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { auditHead, queryAudit, verifyAudit } from '../../audit/audit-log.js';
import type { Db } from '../../db/client.js';
import { bearerSecurity, errorResponses, NO_NUL } from '../../schemas/common.js';

export const MAX_AUDIT_PAGE = 1_000;

const Query = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 256, pattern: NO_NUL })),
  action: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL })),
  outcome: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL })),
  namespace: Type.Optional(Type.String({ maxLength: 64, pattern: NO_NUL })),
  token: Type.Optional(Type.String({ maxLength: 512, pattern: NO_NUL, description: 'rows that name this token' })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' })),
  // Query strings are not coerced (bodies stay strictly typed): numbers arrive as digit strings.
  limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1,000 (default 100)' })),
}, { additionalProperties: false });

const Event = Type.Object({
  id: Type.Integer(),
  ts: Type.String({ format: 'date-time' }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  erasureId: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.String({ description: 'hex' }),
  hash: Type.String({ description: 'hex' }),
});

const VerifyQuery = Type.Object({
  anchorId: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,14}$' })),
  anchorHash: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
}, { additionalProperties: false });

const Verify = Type.Object({
  ok: Type.Boolean(),
  rowsChecked: Type.Integer(),
  head: Type.Optional(Type.Union([Type.Object({ id: Type.Integer(), hash: Type.String() }), Type.Null()])),
  brokenAt: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, opts) => {
  const common = { tags: ['audit'], security: bearerSecurity };
  app.get('/audit', {
    onRequest: app.authorize('audit:read'),
    schema: {
      ...common,
      operationId: 'queryAudit', summary: 'Query the audit log',
      description: 'Audit events in chain order, filtered by actor, action, outcome, namespace, token and time [from, to). Page with nextCursor; at most 1,000 rows a page.',
      querystring: Query,
      response: { 200: Type.Object({ events: Type.Array(Event), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() },
    },
  }, async (request) => {
    const q = request.query;
    const limit = Number(q.limit ?? 100);
    const events = await queryAudit(opts.db, {
      actor: q.actor, action: q.action, outcome: q.outcome, namespace: q.namespace, token: q.token,
      from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined,
      after: q.cursor ? Number(q.cursor) : undefined, limit,
    });
    return {
      events: events.map((e) => ({ ...e, ts: e.ts.toISOString(), prevHash: e.prevHash.toString('hex'), hash: e.hash.toString('hex') })),
      nextCursor: events.length === limit ? String(events[events.length - 1]!.id) : null,
    };
  });

  app.get('/audit/verify', {
    onRequest: app.authorize('audit:read'),
    schema: {
      ...common,
      operationId: 'verifyAudit', summary: 'Verify the audit chain',
      description: 'Walk the hash chain from the first row. ok with the rows checked and the head, or the first broken row and why. With anchorId and anchorHash (from `tokenvault audit head`, kept outside the database), also confirms the chain still contains that row unchanged.',
      querystring: VerifyQuery,
      response: { 200: Verify, ...errorResponses() },
    },
  }, async (request) => {
    const { anchorId, anchorHash } = request.query;
    return verifyAudit(opts.db, anchorId !== undefined && anchorHash ? { id: Number(anchorId), hash: anchorHash } : undefined);
  });

  app.get('/audit/head', {
    onRequest: app.authorize('audit:read'),
    schema: { ...common, operationId: 'auditHead', summary: 'The audit chain head', description: 'The newest row id and hash: record them outside the database as an anchor.', response: { 200: Type.Object({ head: Type.Union([Type.Object({ id: Type.Integer(), hash: Type.String() }), Type.Null()]) }), ...errorResponses() } },
  }, async () => ({ head: await auditHead(opts.db) }));
};
