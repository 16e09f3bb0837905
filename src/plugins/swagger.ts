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

/** The scopes a client may be granted (detokenize scopes name a type or `*`). */
const OAUTH_SCOPES = {
  tokenize: 'swap values for tokens',
  'detokenize:plain:*': 'reveal values of every type (or name a type: detokenize:plain:email)',
  'detokenize:masked:*': 'reveal masked values of every type (or name a type)',
  erase: 'erase a subject, a value or tokens',
  'erasures:read': 'read the erasure feed',
  'subjects:export': 'export what the vault holds for a subject',
  'audit:read': 'read and verify the audit trail',
  admin: "manage service clients (over HTTP only within the policy file's grants allowlist)",
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

/** `ui: false` (TOKENVAULT_DOCS=off) serves neither /docs nor /openapi.json: the API's map stays private. */
export const swaggerPlugin = fp(
  async (app: FastifyInstance, opts: { ui?: boolean }) => {
    app.addSchema(ErrorBody);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { ...OPENAPI_INFO, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
        // Relative: the document is served by the vault it describes, so "Try it out" calls that vault.
        servers: [{ url: '/', description: 'this vault' }],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'a vault token from /v1/auth/token, or a staff token from a configured IdP',
            },
            oauth2: {
              type: 'oauth2',
              description: 'OAuth 2.0 client credentials (RFC 6749 §4.4): a service client trades its id and secret for a short-lived JWT',
              flows: { clientCredentials: { tokenUrl: '/v1/auth/token', scopes: OAUTH_SCOPES } },
            },
            clientBasic: { type: 'http', scheme: 'basic', description: 'client id and secret (RFC 6749 §2.3.1), for /v1/auth/token only' },
          },
        },
      },
      transformObject: (o) => refine('openapiObject' in o ? o.openapiObject : o.swaggerObject),
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    if (opts.ui === false) return;
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
    app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () => app.swagger());
  },
  { name: 'swagger' },
);
