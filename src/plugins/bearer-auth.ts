import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { VerificationError } from '../auth/vault-jwt.js';
import { errors } from '../errors.js';
import { hasScope, type Principal } from '../vault/principal.js';

export interface Authenticator {
  /** Verifies a bearer token; throws VerificationError with a reason code. */
  verify(token: string): Promise<Principal>;
}

/** Records a refused credential; never receives the token itself. */
export type AuthFailureSink = (request: FastifyRequest, reason: string) => Promise<void>;

/**
 * Bearer-token authentication. `app.authorize(check)` builds a preHandler: 401 UNAUTHORIZED (generic
 * message, reason only in the audit row) when the token does not verify, 403 FORBIDDEN naming the
 * missing scope when it does but the scope is absent.
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: { authenticator: Authenticator; onFailure: AuthFailureSink }) => {
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
      principal = await opts.authenticator.verify(m[1]!);
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
}, { name: 'auth' });

/** A scope name, or a function returning the missing scope's name (null when allowed). */
export type ScopeCheck = string | ((p: Principal) => string | null);

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    authorize(check: ScopeCheck): (request: FastifyRequest) => Promise<void>;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.unauthorized();
  return request.principal;
}
