import type { Principal } from '../vault/principal.js';
import type { Clients } from './clients.js';
import { violatesSeparationOfDuties } from './grants.js';
import { staffPrincipal, type IdpIssuer } from './idp.js';
import { MAX_DEV_TTL_SECONDS, principalFromClaims, VerificationError } from './vault-jwt.js';

/** A development token's subject: no ':' so it can never read as `idp:…` or another actor form. */
const DEV_SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * What a verified token's claims make of its bearer. Signatures, algorithms, issuer, audience and
 * time are checked by @fastify/jwt (plugins/auth.ts); this decides what the claims are worth.
 *
 * A vault token signed with the right secret is still only as good as its claims: a client token
 * must name an active client and live no longer than the configured TTL, and takes its budget
 * from the client row; a development token (dev-token) is refused in production.
 */
export function createAuthenticator(deps: {
  jwtSecret: Buffer;
  vaultIssuer: string;
  vaultAudience: string;
  clients: Clients;
  idp: IdpIssuer[];
  production: boolean;
  tokenTtlSeconds: number;
}) {
  const byIssuer = new Map(deps.idp.map((i) => [i.config.issuer, i]));
  return {
    vault: { secret: deps.jwtSecret, issuer: deps.vaultIssuer, audience: deps.vaultAudience },
    issuers: deps.idp,
    issuer: (iss: unknown) => (typeof iss === 'string' ? byIssuer.get(iss) : undefined),

    async vaultPrincipal(claims: Record<string, unknown>): Promise<Principal> {
      const p = principalFromClaims(claims);
      const lifetime = Number(claims.exp) - Number(claims.iat);
      if (claims.kind === 'client') {
        if (lifetime > deps.tokenTtlSeconds) throw new VerificationError('lifetime_exceeds_ttl');
        const status = await deps.clients.status(p.id);
        if (status.state === 'revoked') throw new VerificationError('client_revoked');
        if (status.state !== 'active') throw new VerificationError('unknown_client');
        if (violatesSeparationOfDuties(p.scopes)) throw new VerificationError('separation_of_duties');
        return { ...p, ...(status.revealBudget !== null ? { revealBudget: status.revealBudget } : {}) };
      }
      if (claims.kind !== undefined && claims.kind !== 'dev') throw new VerificationError('invalid_claim');
      // Development tokens are minted by anyone holding the secret on a developer machine.
      if (deps.production) throw new VerificationError('dev_token_in_production');
      if (!DEV_SUBJECT.test(p.id)) throw new VerificationError('invalid_claim');
      if (lifetime > MAX_DEV_TTL_SECONDS) throw new VerificationError('lifetime_exceeds_ttl');
      return p;
    },

    /** A staff token's principal; the audience is checked against this issuer's own. */
    staffPrincipal(claims: Record<string, unknown>): Principal {
      const issuer = byIssuer.get(claims.iss as string);
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!issuer || !aud.includes(issuer.config.audience)) throw new VerificationError('wrong_issuer_or_audience');
      return staffPrincipal(issuer.config, claims);
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
