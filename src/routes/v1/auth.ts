import '@fastify/rate-limit';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Clients } from '../../auth/clients.js';
import type { VaultJwt } from '../../auth/vault-jwt.js';
import type { AccessConfig } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Vault } from '../../vault/vault.js';

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});
/** RFC 6749 §5.2: this endpoint's errors follow OAuth 2.0, not the vault's error shape. */
const OAuthError = Type.Object({ error: Type.String(), error_description: Type.String(), requestId: Type.String() });

const Body = Type.Object({
  grant_type: Type.Optional(Type.String({ maxLength: 64 })),
  client_id: Type.Optional(Type.String({ maxLength: 128 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256 })),
  scope: Type.Optional(Type.String({ maxLength: 2048 })),
}, { additionalProperties: true });

class OAuthFailure extends Error {
  constructor(readonly status: 400 | 401, readonly error: string, readonly description: string) {
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
    return { id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    return null;
  }
}

export const authRoutes: FastifyPluginAsyncTypebox<{ clients: Clients; jwt: VaultJwt; vault: Vault; access: AccessConfig }> = async (app, opts) => {
  // Form bodies only here; a small limit: credentials are short.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Two limits against brute force, both checked (the plugin's own hook runs only one per request).
  const limits = [
    app.createRateLimit({ max: 60, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `auth-ip:${req.ip}` }),
    app.createRateLimit({
      max: 20,
      timeWindow: 60_000,
      keyGenerator: (req: FastifyRequest) => `auth-client:${basicCredentials(req.headers.authorization)?.id ?? (req.body as Static<typeof Body> | undefined)?.client_id ?? 'none'}`,
    }),
  ];
  const limitTokenRequests = async (request: FastifyRequest) => {
    for (const limit of limits) {
      const r = await limit(request);
      if (!r.isAllowed && r.isExceeded) throw new AppError(429, 'RATE_LIMITED', 'too many token requests', undefined, { 'retry-after': String(r.ttlInSeconds) });
    }
  };

  app.post('/auth/token', {
    config: { rateLimit: false },
    // A malformed body is answered the OAuth way (invalid_request), not with the vault's error shape.
    attachValidation: true,
    preHandler: limitTokenRequests,
    schema: {
      operationId: 'issueToken',
      tags: ['auth'],
      description: 'OAuth 2.0 client credentials grant (RFC 6749 §4.4). Credentials in HTTP Basic or the body; form-encoded or JSON. An optional space-separated `scope` narrows the grant. Errors follow RFC 6749 §5.2. Rate-limited per IP (60/min) and per client id (20/min).',
      body: Body,
      response: { 200: TokenResponse, 400: OAuthError, 401: OAuthError, 429: Type.Ref('ErrorBody') },
    },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const basic = basicCredentials(request.headers.authorization);
    try {
      if (request.validationError) throw new OAuthFailure(400, 'invalid_request', 'the body must be an object of grant_type, client_id, client_secret and scope strings');
      const body = request.body ?? {};
      if (body.grant_type !== 'client_credentials') {
        throw new OAuthFailure(400, body.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
      }
      if (basic && (body.client_id || body.client_secret)) throw new OAuthFailure(400, 'invalid_request', 'use one authentication method');
      const id = basic?.id ?? body.client_id;
      const secret = basic?.secret ?? body.client_secret;
      if (!id || !secret) throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
      const client = await opts.clients.authenticate(id, secret);
      if (!client) throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
      let scopes = client.scopes;
      if (body.scope !== undefined) {
        const asked = body.scope.split(' ').filter(Boolean);
        if (!asked.length || asked.some((s) => !client.scopes.includes(s))) throw new OAuthFailure(400, 'invalid_scope', 'scope exceeds what the client was granted');
        scopes = asked;
      }
      const ttl = opts.access.tokenTtlSeconds;
      const token = opts.jwt.sign({ sub: client.id, scope: scopes.join(' '), ns: client.namespaces, kind: 'client', ...(client.revealBudget !== null ? { budget: client.revealBudget } : {}) }, ttl);
      await opts.vault.audit([{ requestId: request.id, actor: client.id, action: 'auth.token', outcome: 'success', details: { scopes } }]);
      return { access_token: token, token_type: 'Bearer' as const, expires_in: ttl, scope: scopes.join(' ') };
    } catch (err) {
      if (!(err instanceof OAuthFailure)) throw err;
      await opts.vault.audit([{ requestId: request.id, actor: 'anonymous', action: 'auth.token', outcome: 'denied', details: { reason: err.error } }]);
      if (err.status === 401 && basic) void reply.header('www-authenticate', 'Basic realm="tokenvault"');
      return reply.code(err.status).send({ error: err.error, error_description: err.description, requestId: request.id });
    }
  });
};
