import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorBody } from '../schemas/common.js';

export const OPENAPI_INFO = {
  title: 'tokenvault',
  version: '1.0.0',
  description: 'Self-hosted tokenization vault for personal data. Values travel only in request bodies, never in URLs.',
};

type Doc = { paths?: Record<string, Record<string, { responses?: Record<string, Record<string, unknown>> }>> };

const RETRY_AFTER = { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } };

/**
 * What the route schemas cannot say: the Retry-After header every 429 and 503 carries (set by the
 * one error handler), and, for the few routes that answer no 4xx of their own, the framework's
 * client errors in the one error shape.
 */
function refine<T>(doc: T): T {
  for (const ops of Object.values((doc as Doc).paths ?? {})) {
    for (const op of Object.values(ops)) {
      const responses = (op.responses ??= {});
      for (const status of ['429', '503']) if (responses[status]) responses[status].headers = { 'Retry-After': RETRY_AFTER };
      if (!Object.keys(responses).some((s) => s.startsWith('4'))) {
        responses['4XX'] = {
          description: 'a client error (e.g. 413, 415), in the one error shape',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
        };
      }
    }
  }
  return doc;
}

export const swaggerPlugin = fp(async (app: FastifyInstance) => {
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...OPENAPI_INFO, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
      // Relative: the document is served by the vault it describes, so "Try it out" calls that vault.
      servers: [{ url: '/', description: 'this vault' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transformObject: (o) => refine('openapiObject' in o ? o.openapiObject : o.swaggerObject),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
}, { name: 'swagger' });
