import fastifyJwt, { type JWT } from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Authenticator } from '../auth/authenticator.js';
import { IDP_ALGORITHMS } from '../auth/idp.js';
import { reasonOf, VerificationError } from '../auth/vault-jwt.js';
import { errors } from '../errors.js';
import { hasScope, type Principal } from '../vault/principal.js';

/** Records a refused credential; never receives the token itself. */
export type AuthFailureSink = (request: FastifyRequest, reason: string) => Promise<void>;

/** The reason code of a token @fastify/jwt (or a key lookup) refused; audited, never shown. */
function refusalReason(err: unknown): string {
  if (err instanceof VerificationError) return err.reason;
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
      return 'expired';
    case 'FAST_JWT_MISSING_SIGNATURE':
      return 'unsigned';
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID': {
      // @fastify/jwt wraps fast-jwt's error and keeps only its message.
      const m = e.message ?? '';
      if (/signature/i.test(m)) return 'bad_signature';
      if (/claim value|not allowed/i.test(m)) return 'wrong_issuer_or_audience';
      if (/required|must be/i.test(m)) return 'missing_claim';
      return 'malformed';
    }
    default:
      return reasonOf(err);
  }
}

/**
 * Bearer-token authentication through @fastify/jwt: the vault's own HS256 tokens (namespace
 * `vault`) and the IdPs' RS256/ES256 tokens (namespace `idp`, keys looked up by issuer and kid).
 * A token is routed by its (unverified) issuer to the one verifier for that issuer, which checks
 * everything, issuer included; as each allows only its own algorithms, neither key can forge the
 * other kind (algorithm confusion).
 *
 * `app.authorize(check)` builds a preHandler: 401 UNAUTHORIZED (generic message, reason only in
 * the audit row) when the token does not verify, 403 FORBIDDEN naming the missing scope when it
 * does but the scope is absent.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { authenticator: Authenticator; onFailure: AuthFailureSink }) => {
    const a = opts.authenticator;
    await app.register(fastifyJwt, {
      namespace: 'vault',
      decoratorName: 'jwtClaims',
      secret: a.vault.secret,
      sign: { algorithm: 'HS256', iss: a.vault.issuer, aud: a.vault.audience },
      verify: {
        algorithms: ['HS256'],
        allowedIss: a.vault.issuer,
        allowedAud: a.vault.audience,
        requiredClaims: ['exp', 'iat', 'sub', 'scope'],
        cache: 10_000,
      },
    });
    if (a.issuers.length) {
      await app.register(fastifyJwt, {
        namespace: 'idp',
        decoratorName: 'jwtClaims',
        decode: { complete: true },
        // Called with the decoded (unverified) header and payload: the key of that issuer and kid.
        secret: async (_request: FastifyRequest, token: { header: { alg?: string; kid?: string }; payload: { iss?: unknown } }) => {
          // Checked before any key lookup, so an HS256 or `none` token never causes a fetch.
          if (!IDP_ALGORITHMS.includes(token.header.alg ?? '')) throw new VerificationError('algorithm_not_allowed');
          const issuer = a.issuer(token.payload.iss);
          if (!issuer) throw new VerificationError('wrong_issuer_or_audience');
          return issuer.keyFor(token.header.kid, token.header.alg);
        },
        verify: {
          algorithms: IDP_ALGORITHMS,
          allowedIss: a.issuers.map((i) => i.config.issuer),
          allowedAud: a.issuers.map((i) => i.config.audience),
          requiredClaims: ['exp', 'sub'],
        },
      } as never);
    }

    // Namespaced decorators are not in @fastify/jwt's types.
    const vaultJwt = (app.jwt as unknown as Record<'vault', JWT>).vault;

    async function verify(request: FastifyRequest, token: string): Promise<Principal> {
      let iss: unknown;
      try {
        iss = (vaultJwt.decode(token) as { iss?: unknown }).iss;
      } catch {
        throw new VerificationError('malformed');
      }
      try {
        if (a.issuer(iss)) return a.staffPrincipal(await request.idpJwtVerify());
        if (iss !== a.vault.issuer) throw new VerificationError('wrong_issuer_or_audience');
        return await a.vaultPrincipal(await request.vaultJwtVerify());
      } catch (err) {
        throw new VerificationError(refusalReason(err));
      }
    }

    app.decorateRequest('principal', null);
    app.decorate('authorize', (scopeCheck: ScopeCheck) => async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      const m = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
      if (!m) {
        await opts.onFailure(request, header ? 'malformed_header' : 'missing');
        throw errors.unauthorized();
      }
      let principal: Principal;
      try {
        principal = await verify(request, m[1]!);
      } catch (err) {
        if (!(err instanceof VerificationError)) throw err;
        await opts.onFailure(request, err.reason);
        throw errors.unauthorized();
      }
      request.principal = principal;
      const missing = typeof scopeCheck === 'string' ? (hasScope(principal, scopeCheck) ? null : scopeCheck) : scopeCheck(principal);
      if (missing) {
        await opts.onFailure(request, `missing_scope:${missing}`);
        throw errors.forbidden(`missing scope ${missing}`);
      }
    });
  },
  { name: 'auth' },
);

/** A scope name, or a function returning the missing scope's name (null when allowed). */
export type ScopeCheck = string | ((p: Principal) => string | null);

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    vaultJwtVerify(): Promise<Record<string, unknown>>;
    idpJwtVerify(): Promise<Record<string, unknown>>;
  }
  interface FastifyInstance {
    authorize(check: ScopeCheck): (request: FastifyRequest) => Promise<void>;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.unauthorized();
  return request.principal;
}
