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

/** `ui: false` (TOKENVAULT_DOCS=off) serves neither /docs nor /openapi.json: the API's map stays private. */
export const swaggerPlugin = fp(async (app: FastifyInstance, opts: { ui?: boolean }) => {
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  if (opts.ui === false) return;
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
}, { name: 'swagger' });
