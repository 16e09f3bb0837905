import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { proofOf, verifyAuditLog } from '../../audit/audit-reader.js';
import { latestCheckpoint, queryAudit } from '../../audit/audit-log.js';
import type { Db } from '../../db/client.js';
import { AppError, errors } from '../../errors.js';
import { bearerSecurity, errorResponses, NO_NUL } from '../../schemas/common.js';
import type { Vault } from '../../vault/vault.js';

export const MAX_AUDIT_PAGE = 1_000;

const Query = Type.Object(
  {
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
  },
  { additionalProperties: false },
);

const rowFields = {
  id: Type.Integer({ description: 'insertion id (unique; not the order)' }),
  ts: Type.String({ format: 'date-time' }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  action: Type.String(),
  outcome: Type.String(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  erasureId: Type.Union([Type.String(), Type.Null()]),
};

const Event = Type.Object({
  ...rowFields,
  seq: Type.Union([Type.Integer(), Type.Null()], { description: 'position in the sealed log; null until sealed (within the bound)' }),
});

const Checkpoint = Type.Object(
  {
    first: Type.Integer(),
    last: Type.Integer(),
    root: Type.String({ description: 'RFC 6962 Merkle root of the leaves of seqs first..last, hex' }),
    prev: Type.String({ description: "SHA-256 of the previous checkpoint's signed body, hex (zeros for the first)" }),
    ts: Type.String({ format: 'date-time' }),
    kid: Type.String(),
    signature: Type.String({
      description:
        'Ed25519 (base64url) over the canonical JSON of {v: 1, log: "tokenvault-audit", first, last, root, prev, ts, kid}; key at GET /v1/audit/public-key',
    }),
  },
  { $id: 'AuditCheckpoint' },
);

const VerifyQuery = Type.Object(
  {
    anchorLast: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'last seq of a checkpoint kept outside the database' }),
    ),
    anchorRoot: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'its root' })),
  },
  { additionalProperties: false },
);

const Verify = Type.Object({
  ok: Type.Boolean(),
  rowsChecked: Type.Integer(),
  checkpoints: Type.Integer(),
  head: Type.Optional(Type.Union([Type.Ref('AuditCheckpoint'), Type.Null()])),
  unsealed: Type.Optional(Type.Integer({ description: 'rows committed but not yet sealed (all younger than the limit)' })),
  brokenAt: Type.Optional(
    Type.Object({ seq: Type.Union([Type.Integer(), Type.Null()]), eventId: Type.Union([Type.Integer(), Type.Null()]) }),
  ),
  reason: Type.Optional(Type.String()),
});

const Proof = Type.Object({
  v: Type.Literal(1),
  row: Type.Object({
    ...rowFields,
    seq: Type.Integer(),
    verdict: Type.String({ description: "the sealer's check of the row's MAC: ok, forged, replayed or legacy" }),
  }),
  leafIndex: Type.Integer(),
  treeSize: Type.Integer(),
  path: Type.Array(Type.String(), { description: 'RFC 9162 inclusion path, hex, leaf to root' }),
  checkpoint: Type.Ref('AuditCheckpoint'),
});

const notSealed = () => new AppError(409, 'AUDIT_ROW_NOT_SEALED', 'the row is not sealed yet; retry within a second');

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db; vault: Vault; sealBoundMs: number }> = async (app, opts) => {
  const common = { tags: ['audit'], security: bearerSecurity };
  app.addSchema(Checkpoint);
  app.get(
    '/audit',
    {
      onRequest: app.authorize('audit:read'),
      schema: {
        ...common,
        operationId: 'queryAudit',
        summary: 'Query the audit log',
        description:
          'Audit events by id, filtered by actor, action, outcome, namespace, token and time [from, to). Page with nextCursor; at most 1,000 rows a page.',
        querystring: Query,
        response: {
          200: Type.Object({ events: Type.Array(Event), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = Number(q.limit ?? 100);
      const events = await queryAudit(opts.db, {
        actor: q.actor,
        action: q.action,
        outcome: q.outcome,
        namespace: q.namespace,
        token: q.token,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        after: q.cursor ? Number(q.cursor) : undefined,
        limit,
      });
      return {
        events: events.map((e) => ({ ...e, ts: e.ts.toISOString() })),
        nextCursor: events.length === limit ? String(events[events.length - 1]!.id) : null,
      };
    },
  );

  app.get(
    '/audit/verify',
    {
      onRequest: app.authorize('audit:read'),
      schema: {
        ...common,
        operationId: 'verifyAudit',
        summary: 'Verify the sealed audit log',
        description:
          'Verify the sealed log against its signed checkpoints, in seq order: ok with the rows checked and the newest checkpoint, or the first bad position (seq, or the event id of a row left unsealed) and why. With anchorLast and anchorRoot (a checkpoint kept outside the database), also confirms the log still holds that checkpoint.',
        querystring: VerifyQuery,
        response: { 200: Verify, ...errorResponses() },
      },
    },
    async (request) => {
      const { anchorLast, anchorRoot } = request.query;
      if ((anchorLast === undefined) !== (anchorRoot === undefined)) throw errors.validation('anchorLast and anchorRoot go together');
      return verifyAuditLog(opts.db, {
        publicKey: opts.vault.auditPublicKey(),
        boundMs: opts.sealBoundMs,
        anchor: anchorLast && anchorRoot ? { last: Number(anchorLast), root: anchorRoot } : undefined,
      });
    },
  );

  app.get(
    '/audit/head',
    {
      onRequest: app.authorize('audit:read'),
      schema: {
        ...common,
        operationId: 'auditHead',
        summary: 'The newest signed checkpoint',
        description: 'The newest signed checkpoint: keep its last seq and root outside the database as an anchor.',
        response: { 200: Type.Object({ checkpoint: Type.Union([Type.Ref('AuditCheckpoint'), Type.Null()]) }), ...errorResponses() },
      },
    },
    async () => ({ checkpoint: await latestCheckpoint(opts.db) }),
  );

  app.get(
    '/audit/public-key',
    {
      schema: {
        ...common,
        security: [],
        operationId: 'auditPublicKey',
        summary: 'The audit public key',
        description: 'The Ed25519 public key (JWK) that verifies audit checkpoints and proofs.',
        response: {
          200: Type.Object({
            kty: Type.String(),
            crv: Type.String(),
            x: Type.String(),
            kid: Type.String(),
            alg: Type.String(),
            use: Type.String(),
          }),
        },
      },
    },
    async () => opts.vault.auditPublicKey(),
  );

  app.get(
    '/audit/:id/proof',
    {
      onRequest: app.authorize('audit:read'),
      schema: {
        ...common,
        operationId: 'auditProof',
        summary: 'Inclusion proof of one audit row',
        description:
          'The proof that one audit row is in a signed checkpoint: the row, its RFC 9162 inclusion path and the checkpoint. Verify offline with `tokenvault audit verify-proof` and the public key. 409 while the row awaits its seal.',
        params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) }),
        response: { 200: Proof, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      const r = await proofOf(opts.db, Number(request.params.id));
      if (r.status === 'not_found') throw errors.notFound('audit row');
      if (r.status === 'unsealed') throw notSealed();
      return r.proof;
    },
  );
};
