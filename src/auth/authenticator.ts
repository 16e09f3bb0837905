import { createDecoder } from 'fast-jwt';
import type { Principal } from '../vault/principal.js';
import type { Clients } from './clients.js';
import { violatesSeparationOfDuties } from './grants.js';
import type { IdpVerifier } from './idp.js';
import { MAX_DEV_TTL_SECONDS, principalFromClaims, VerificationError, type VaultJwt } from './vault-jwt.js';

const decode = createDecoder({ complete: false });
/** A development token's subject: no ':' so it can never read as `idp:…` or another actor form. */
const DEV_SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Routes a bearer token by its (unverified) issuer to the one verifier for that issuer; the
 * verifier then checks everything, issuer included. Vault tokens are HS256 only, IdP tokens
 * RS256/ES256 only, so neither key can be used to forge the other kind (algorithm confusion).
 *
 * A vault token signed with the right secret is still only as good as its claims: a client token
 * must name an active client and live no longer than the configured TTL, and takes its budget
 * from the client row; a development token (dev-token) is refused in production.
 */
export function createAuthenticator(deps: { vaultJwt: VaultJwt; vaultIssuer: string; clients: Clients; idp?: IdpVerifier | undefined; production: boolean; tokenTtlSeconds: number }) {
  async function vaultPrincipal(token: string): Promise<Principal> {
    const claims = deps.vaultJwt.verify(token);
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
  }

  return {
    async verify(token: string): Promise<Principal> {
      let iss: unknown;
      try {
        iss = (decode(token) as { iss?: unknown }).iss;
      } catch {
        throw new VerificationError('malformed');
      }
      if (deps.idp && iss === deps.idp.issuer) return deps.idp.verify(token);
      if (iss !== deps.vaultIssuer) throw new VerificationError('wrong_issuer_or_audience');
      return vaultPrincipal(token);
    },
  };
}
