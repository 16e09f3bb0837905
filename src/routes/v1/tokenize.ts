import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf } from '../../plugins/bearer-auth.js';
import { bearerSecurity, errorResponses, NamespaceName, NO_NUL, TokenTypeSchema } from '../../schemas/common.js';
import type { Vault } from '../../vault/vault.js';

export const MAX_TOKENIZE_ITEMS = 10_000;

const Body = Type.Object(
  {
    namespace: Type.Optional(NamespaceName),
    items: Type.Array(
      Type.Object(
        {
          type: TokenTypeSchema,
          value: Type.String({ maxLength: 65_536, description: 'the value to tokenize (never logged)' }),
          subject: Type.Optional(
            Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL, description: 'data subject id; stored only as a keyed HMAC' }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_TOKENIZE_ITEMS },
    ),
    onInvalid: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('skip')], { default: 'reject' })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        namespace: 'default',
        items: [
          { type: 'email', value: 'jane.doe@example.com' },
          { type: 'ipv4', value: '192.0.2.10' },
        ],
      },
    ],
  },
);

/**
 * { token, type, created } for a tokenized item, { index, error } for a skipped one. One object
 * schema with optional fields rather than a union: the serializer would otherwise try each branch
 * for each of up to 10,000 results.
 */
const Result = Type.Object(
  {
    token: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    created: Type.Optional(Type.Boolean()),
    index: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  },
  { description: 'either { token, type, created } or, with onInvalid "skip", { index, error }' },
);

export const tokenizeRoutes: FastifyPluginAsyncTypebox<{ vault: Vault }> = async (app, opts) => {
  app.post(
    '/tokenize',
    {
      onRequest: app.authorize('tokenize'),
      schema: {
        operationId: 'tokenize',
        summary: 'Tokenize values',
        tags: ['tokens'],
        description:
          'Swap 1 to 10,000 values for format-preserving tokens, in request order. The same value in a namespace always gets the same token (unless the namespace is random). With onInvalid "reject" one bad item stores nothing; with "skip" bad items come back as { index, error } in place.',
        security: bearerSecurity,
        body: Body,
        response: { 200: Type.Object({ results: Type.Array(Result) }), ...errorResponses(404, 409, 413, 415) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { namespace, items, onInvalid = 'reject' } = request.body;
      const results = await opts.vault.tokenize({ principal, namespace, items, onInvalid, requestId: request.id });
      return { results };
    },
  );
};
