import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf } from '../../plugins/bearer-auth.js';
import { bearerSecurity, errorResponses, NO_NUL, Purpose } from '../../schemas/common.js';
import type { Vault } from '../../vault/vault.js';

const Body = Type.Object(
  { subject: Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL }), purpose: Purpose },
  { additionalProperties: false, examples: [{ subject: 'customer-0001', purpose: 'DSR-2026-001 access request' }] },
);

export const subjectRoutes: FastifyPluginAsyncTypebox<{ vault: Vault }> = async (app, opts) => {
  app.post(
    '/subjects/export',
    {
      onRequest: app.authorize('subjects:export'),
      schema: {
        operationId: 'exportSubject',
        summary: 'Export what is held for a subject',
        tags: ['erasure'],
        security: bearerSecurity,
        description:
          'What the vault holds for a data subject (GDPR Art. 15 / portability): the tokens linked to the subject in the namespaces the caller may use, with values only where the caller also holds detokenize:plain:<type> (those count against the reveal budget). Audited with the purpose.',
        body: Body,
        response: {
          200: Type.Object({
            tokens: Type.Array(
              Type.Object({
                namespace: Type.String(),
                type: Type.String(),
                token: Type.String(),
                createdAt: Type.String(),
                value: Type.Optional(Type.String()),
              }),
            ),
          }),
          ...errorResponses(),
        },
      },
    },
    async (request) => ({
      tokens: await opts.vault.exportSubject({
        principal: principalOf(request),
        subject: request.body.subject,
        purpose: request.body.purpose,
        requestId: request.id,
      }),
    }),
  );
};
