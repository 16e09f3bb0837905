import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf } from '../../plugins/bearer-auth.js';
import { errors } from '../../errors.js';
import { bearerSecurity, errorResponses, NamespaceName, NO_NUL, TokenTypeSchema } from '../../schemas/common.js';
import { hasScope } from '../../vault/principal.js';
import type { Vault } from '../../vault/vault.js';

const Reference = Type.String({
  pattern: '^[A-Za-z0-9._:/#-]{1,128}$',
  description: 'your DSR ticket id (letters, digits, ._:/#-): recorded in the receipt and audit, so never put personal data here',
});
const Body = Type.Union(
  [
    Type.Object(
      { subject: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL }), reference: Type.Optional(Reference) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        namespace: Type.Optional(NamespaceName),
        type: TokenTypeSchema,
        value: Type.String({ maxLength: 65_536 }),
        reference: Type.Optional(Reference),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        namespace: Type.Optional(NamespaceName),
        tokens: Type.Array(Type.String({ minLength: 1, maxLength: 512, pattern: NO_NUL }), { minItems: 1, maxItems: 1_000 }),
        reference: Type.Optional(Reference),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description: 'exactly one of: { subject } | { namespace?, type, value } | { namespace?, tokens }',
    examples: [{ subject: 'customer-0001', reference: 'DSR-2026-001' }],
  },
);

const ErasedToken = Type.Object({ namespace: Type.String(), type: Type.String(), token: Type.String() });
const Counts = Type.Object({
  erased: Type.Integer({ description: 'mappings deleted (their tokens are listed in tokens and on the feed)' }),
  retainedShared: Type.Integer({
    description:
      'values other subjects also hold: only unlinked from this subject (its copy and key destroyed), kept for the others, not on the feed',
  }),
  alreadyAbsent: Type.Integer({
    description:
      'by value: 1 when no mapping held it; by tokens: distinct tokens without a mapping (unknown or erased before); by subject: always 0 (nothing identifies a subject once erased)',
  }),
});
const Receipt = Type.Object(
  {
    version: Type.Union([Type.Literal(1), Type.Literal(2)], {
      description: '2 for erasures made now; 1 for receipts stored by earlier versions (without scope, counts and reason)',
    }),
    erasureId: Type.String({ format: 'uuid' }),
    status: Type.Literal('completed'),
    method: Type.Union([Type.Literal('subject'), Type.Literal('value'), Type.Literal('tokens')]),
    scope: Type.Optional(
      Type.Union([Type.Literal('subject'), Type.Literal('everyone')], {
        description:
          "subject: what was this subject's alone was erased, values shared with other subjects only unlinked; everyone: by value or token, the mappings are gone for every subject",
      }),
    ),
    reference: Type.Union([Type.String(), Type.Null()]),
    requestedAt: Type.String({ format: 'date-time' }),
    completedAt: Type.String({ format: 'date-time' }),
    tokensErased: Type.Integer(),
    tokens: Type.Array(ErasedToken),
    counts: Type.Optional(Counts),
    reason: Type.Optional(Type.String({ description: 'present exactly when tokensErased is 0: why nothing was erased' })),
    keyId: Type.String(),
    signature: Type.String({
      description: 'Ed25519 (base64url) over the canonical JSON of every other field; key at GET /v1/erasures/public-key',
    }),
  },
  { $id: 'ErasureReceipt' },
);

const FeedQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,15}$', description: 'cursor: the seq of the last event you processed (default 0)' }),
    ),
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1,000 (default 100)' })),
  },
  { additionalProperties: false },
);

export const erasureRoutes: FastifyPluginAsyncTypebox<{ vault: Vault }> = async (app, opts) => {
  app.addSchema(Receipt);
  const common = { tags: ['erasure'], security: bearerSecurity };

  app.post(
    '/erasures',
    {
      onRequest: app.authorize('erase'),
      schema: {
        ...common,
        operationId: 'erase',
        summary: 'Erase by subject, value or tokens',
        description:
          'Hard-delete by subject (every namespace; destroys the subject key), by value, or by tokens, in one transaction, and return a signed receipt. By subject, what is the subject\'s alone is deleted and a value other subjects also hold is only unlinked from it (counts.retainedShared); by value or tokens, the mappings go for every subject (scope "everyone"). Erased tokens answer "erased" and are never reissued; tokenizing the value again gives a new token. Repeating an erasure is safe: it erases nothing more and returns its own receipt with tokensErased 0 and a reason.',
        body: Body,
        response: { 201: Type.Ref('ErasureReceipt'), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const receipt = await opts.vault.erase({
        principal: principalOf(request),
        request: request.body,
        reference: request.body.reference,
        requestId: request.id,
      });
      return reply.code(201).send(receipt);
    },
  );

  app.get(
    '/erasures/public-key',
    {
      schema: {
        ...common,
        security: [],
        operationId: 'erasurePublicKey',
        summary: 'Receipt verification key',
        description: 'The Ed25519 public key (JWK) that verifies erasure receipts.',
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
    async () => opts.vault.publicKey(),
  );

  app.get(
    '/erasures/:id',
    {
      onRequest: app.authorize((p) => (hasScope(p, 'erase') || hasScope(p, 'audit:read') ? null : 'erase or audit:read')),
      schema: {
        ...common,
        operationId: 'getErasureReceipt',
        summary: 'Get an erasure receipt',
        description: 'A receipt by erasure id.',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Ref('ErasureReceipt'), ...errorResponses(404) },
      },
    },
    async (request) => {
      const r = await opts.vault.receipt(request.params.id);
      if (!r) throw errors.notFound('erasure');
      return r;
    },
  );

  app.get(
    '/erasures',
    {
      onRequest: app.authorize('erasures:read'),
      schema: {
        ...common,
        operationId: 'erasureFeed',
        summary: 'Erasure feed',
        description:
          'Every erasure in commit order with its erased tokens, for downstream systems (Kafka tombstones, warehouse deletes). Poll with after=<nextCursor>; the cursor never skips an event, even when erasures commit concurrently.',
        querystring: FeedQuery,
        response: {
          200: Type.Object({
            events: Type.Array(
              Type.Object({
                seq: Type.Integer(),
                erasureId: Type.String(),
                completedAt: Type.String(),
                reference: Type.Union([Type.String(), Type.Null()]),
                tokens: Type.Array(ErasedToken),
              }),
            ),
            nextCursor: Type.String({ description: 'pass as after= next time (unchanged when there was nothing new)' }),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) => {
      const after = Number(request.query.after ?? 0);
      const feed = await opts.vault.erasureFeed(after, Number(request.query.limit ?? 100));
      return {
        events: feed.map(({ seq, receipt }) => ({
          seq,
          erasureId: receipt.erasureId,
          completedAt: receipt.completedAt,
          reference: receipt.reference,
          tokens: receipt.tokens,
        })),
        nextCursor: String(feed.length ? feed[feed.length - 1]!.seq : after),
      };
    },
  );
};
