import { randomUUID } from 'node:crypto';
import type { JWT } from '@fastify/jwt';
import '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Clients } from '../../auth/clients.js';
import type { AccessConfig } from '../../config.js';
import { mapError } from '../../http-errors.js';
import { enforce } from '../../plugins/limits.js';
import type { Vault } from '../../vault/vault.js';

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});
/** RFC 6749 §5.2: this endpoint's errors follow OAuth 2.0, not the vault's error shape. */
const OAuthError = Type.Object(
  {
    error: Type.String({
      description:
        'invalid_request, invalid_client, unsupported_grant_type, invalid_scope; temporarily_unavailable when rate-limited (429, with Retry-After); server_error',
    }),
    error_description: Type.String(),
    requestId: Type.String(),
  },
  { description: 'RFC 6749 §5.2 error' },
);

const Body = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: 64 })),
    client_id: Type.Optional(Type.String({ maxLength: 128 })),
    client_secret: Type.Optional(Type.String({ maxLength: 256 })),
    scope: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  {
    additionalProperties: true,
    examples: [{ grant_type: 'client_credentials', client_id: '00000000-0000-4000-8000-000000000000', client_secret: 'tvs_…' }],
  },
);

class OAuthFailure extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** RFC 6749 §2.3.1: client id and secret in HTTP Basic, each form-urlencoded. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return null;
  }
}

/** Credentials are short: anything larger is refused (413) before it is read, whatever its type. */
export const TOKEN_BODY_LIMIT = 8192;

/** The client id a token request names, normalized (ids are UUIDs: case does not matter). */
function clientIdOf(request: FastifyRequest): string | null {
  const id = basicCredentials(request.headers.authorization)?.id ?? (request.body as Static<typeof Body> | undefined)?.client_id;
  return typeof id === 'string' && id ? id.trim().toLowerCase().slice(0, 128) : null;
}

export const authRoutes: FastifyPluginAsyncTypebox<{ clients: Clients; vault: Vault; access: AccessConfig }> = async (app, opts) => {
  // Signed through @fastify/jwt's `vault` namespace (plugins/bearer-auth.ts): HS256, issuer, audience.
  const vaultJwt = (app.jwt as unknown as Record<'vault', JWT>).vault;

  // Form bodies only here; credentials are short (the route's bodyLimit covers JSON too).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: TOKEN_BODY_LIMIT }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Per IP before the body is read; then per client id and IP together, so 20 wrong secrets
  // from one address neither lock the real client out elsewhere nor get a fresh bucket by
  // changing the id's case.
  const perIp = app.createRateLimit({ max: 60, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `auth-ip:${req.ip}` });
  const perClient = app.createRateLimit({
    max: 20,
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequest) => `auth-client:${clientIdOf(req)}:${req.ip}`,
  });

  app.post(
    '/auth/token',
    {
      config: { rateLimit: false },
      bodyLimit: TOKEN_BODY_LIMIT,
      // A malformed body is answered the OAuth way (invalid_request), not with the vault's error shape.
      attachValidation: true,
      onRequest: (request) => enforce(perIp, request, 'too many token requests'),
      preHandler: async (request) => {
        if (clientIdOf(request) !== null) await enforce(perClient, request, 'too many token requests');
      },
      schema: {
        operationId: 'issueToken',
        summary: 'Get an access token (client credentials)',
        tags: ['auth'],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        // Credentials in HTTP Basic, or client_id and client_secret in the body.
        security: [{ clientBasic: [] }, {}],
        description:
          'OAuth 2.0 client credentials grant (RFC 6749 §4.4). Credentials in HTTP Basic or the body; form-encoded or JSON. An optional space-separated `scope` narrows the grant. Errors follow RFC 6749 §5.2. Limited per IP (60/min, before the body is read) and per client id and IP (20/min); bodies over 8 KiB are refused (413).',
        body: Body,
        response: {
          200: TokenResponse,
          400: OAuthError,
          401: OAuthError,
          413: OAuthError,
          415: OAuthError,
          429: OAuthError,
          500: OAuthError,
          503: OAuthError,
        },
      },
      // Everything this endpoint refuses before its handler (limits, body, content type) is answered
      // in the RFC 6749 §5.2 shape too, as OAuth clients expect.
      errorHandler: (err, request, reply) => {
        const m = mapError(err);
        if (m.status >= 500) request.log.error({ err: { type: err.name, code: (err as { code?: unknown }).code } }, 'token request failed');
        if (m.headers) void reply.headers(m.headers);
        const error =
          m.status === 429 || m.status === 503 ? 'temporarily_unavailable' : m.status >= 500 ? 'server_error' : 'invalid_request';
        return reply
          .code(m.status as 400)
          .header('cache-control', 'no-store')
          .send({ error, error_description: m.message, requestId: request.id });
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      const basic = basicCredentials(request.headers.authorization);
      try {
        if (request.validationError)
          throw new OAuthFailure(
            400,
            'invalid_request',
            'the body must be an object of grant_type, client_id, client_secret and scope strings',
          );
        const body = request.body ?? {};
        if (body.grant_type !== 'client_credentials') {
          throw new OAuthFailure(
            400,
            body.grant_type ? 'unsupported_grant_type' : 'invalid_request',
            'grant_type must be client_credentials',
          );
        }
        if (basic && (body.client_id || body.client_secret))
          throw new OAuthFailure(400, 'invalid_request', 'use one authentication method');
        const id = basic?.id ?? body.client_id;
        const secret = basic?.secret ?? body.client_secret;
        if (!id || !secret) throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
        const client = await opts.clients.authenticate(id, secret);
        if (!client) throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
        let scopes = client.scopes;
        if (body.scope !== undefined) {
          const asked = body.scope.split(' ').filter(Boolean);
          if (!asked.length || asked.some((s) => !client.scopes.includes(s)))
            throw new OAuthFailure(400, 'invalid_scope', 'scope exceeds what the client was granted');
          scopes = asked;
        }
        const ttl = opts.access.tokenTtlSeconds;
        // No budget claim: verification reads the budget from the client row.
        const token = vaultJwt.sign(
          { sub: client.id, scope: scopes.join(' '), ns: client.namespaces, kind: 'client', jti: randomUUID() },
          { expiresIn: ttl },
        );
        await opts.vault.audit([
          { requestId: request.id, actor: client.id, action: 'auth.token', outcome: 'success', details: { scopes } },
        ]);
        return { access_token: token, token_type: 'Bearer' as const, expires_in: ttl, scope: scopes.join(' ') };
      } catch (err) {
        if (!(err instanceof OAuthFailure)) throw err;
        await opts.vault.audit([
          { requestId: request.id, actor: 'anonymous', action: 'auth.token', outcome: 'denied', details: { reason: err.error } },
        ]);
        if (err.status === 401 && basic) void reply.header('www-authenticate', 'Basic realm="tokenvault"');
        return reply.code(err.status).send({ error: err.error, error_description: err.description, requestId: request.id });
      }
    },
  );
};
