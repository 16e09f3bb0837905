import { createDecoder } from 'fast-jwt';
import type { Principal } from '../vault/principal.js';
import type { Clients } from './clients.js';
import type { IdpVerifier } from './idp.js';
import { VerificationError, type VaultJwt } from './vault-jwt.js';

const decode = createDecoder({ complete: false });

/**
 * Routes a bearer token by its (unverified) issuer to the one verifier for that issuer; the
 * verifier then checks everything, issuer included. Vault tokens are HS256 only, IdP tokens
 * RS256/ES256 only, so neither key can be used to forge the other kind (algorithm confusion).
 */
export function createAuthenticator(deps: { vaultJwt: VaultJwt; vaultIssuer: string; clients: Clients; idp?: IdpVerifier | undefined }) {
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
      const p = deps.vaultJwt.verify(token);
      if (p.kind === 'client' && (await deps.clients.isRevoked(p.id))) throw new VerificationError('client_revoked');
      return p;
    },
  };
}
