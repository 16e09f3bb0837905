import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf } from '../../plugins/bearer-auth.js';
import { bearerSecurity, errorResponses, NamespaceName, NO_NUL, Purpose } from '../../schemas/common.js';
import { hasAnyDetokenizeScope } from '../../vault/principal.js';
import type { Vault } from '../../vault/vault.js';

export const MAX_DETOKENIZE_TOKENS = 1_000;

const Body = Type.Object(
  {
    namespace: Type.Optional(NamespaceName),
    tokens: Type.Array(Type.String({ minLength: 1, maxLength: 512, pattern: NO_NUL }), { minItems: 1, maxItems: MAX_DETOKENIZE_TOKENS }),
    purpose: Purpose,
    reveal: Type.Optional(
      Type.Union([Type.Literal('plain'), Type.Literal('masked')], { description: 'default: the most the caller is allowed per type' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ namespace: 'default', tokens: ['abcdefgh@example.com'], purpose: 'TICKET-1234', reveal: 'masked' }],
  },
);

const Result = Type.Object({
  token: Type.String(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('not_found'), Type.Literal('erased'), Type.Literal('forbidden')]),
  type: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  reveal: Type.Optional(Type.Union([Type.Literal('plain'), Type.Literal('masked')])),
});

export const detokenizeRoutes: FastifyPluginAsyncTypebox<{ vault: Vault }> = async (app, opts) => {
  app.post(
    '/detokenize',
    {
      onRequest: app.authorize((p) => (hasAnyDetokenizeScope(p) ? null : 'detokenize:<level>:<type>')),
      schema: {
        operationId: 'detokenize',
        summary: 'Reveal values for tokens',
        tags: ['tokens'],
        description:
          'Reveal 1 to 1,000 tokens, in request order, for a stated purpose (audited per token). A caller with only detokenize:masked:<type> gets masked values; asking for plain without detokenize:plain:<type> gives status "forbidden".',
        security: bearerSecurity,
        body: Body,
        response: { 200: Type.Object({ results: Type.Array(Result) }), ...errorResponses(404, 413, 415) },
      },
    },
    async (request) => {
      const { namespace, tokens, purpose, reveal } = request.body;
      return {
        results: await opts.vault.detokenize({
          principal: principalOf(request),
          namespace,
          tokens,
          purpose,
          requestId: request.id,
          ...(reveal ? { reveal } : {}),
        }),
      };
    },
  );
};
